"""The bare baseline: a Litestar handler that reads the body and answers the upload's JSON, nothing else.
Served by uvicorn exactly as `backup-collect serve` is (same loop, parser and log level)."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response, get, post

ANSWER: dict[str, Any] = {
    "code": 201,
    "message": "backup stored",
    "data": {
        "id": "0196b6a4-6f4e-7d3c-9b1a-2f4e5d6c7b8a.bin",
        "filename": "bench.bin",
        "size": 4096,
        "sha256": "0" * 64,
        "mimetype": "application/octet-stream",
        "uploaded_at": "2026-04-12T00:00:00Z",
    },
}


@post("/api/systems/backups", status_code=201, request_max_body_size=None)
async def upload(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    async for _ in request.stream():
        pass
    return Response(ANSWER, status_code=201, headers={"Location": "/api/systems/backups/" + ANSWER["data"]["id"]})


@get("/api/health")
async def health() -> dict[str, Any]:
    return {"code": 200, "message": "ok", "data": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = Litestar(route_handlers=[upload, health])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info", proxy_headers=False)


if __name__ == "__main__":
    main()
