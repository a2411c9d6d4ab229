"""The OpenAPI document a real server serves tells the truth, and its docs page needs no internet."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.live import live_server, settings_for

SCHEMA = "/api/schema/openapi.json"
UPLOAD = "/api/systems/backups"
DOWNLOAD = "/api/systems/backups/{backup_id}"


def served_document(tmp_path: Path, **env: str) -> dict[str, Any]:
    with live_server(settings_for(tmp_path, **env)) as server:
        answer = httpx.get(server + SCHEMA)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_document(tmp_path_factory.mktemp("openapi"), admin_token="t0ken" * 8, metrics_token="m3trics" * 5)


def schema_of(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response["content"]["application/json"]["schema"]["$ref"]
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def test_every_route_is_documented_with_every_status_it_answers(document: dict[str, Any]) -> None:
    statuses = {
        (method.upper(), path): set(map(int, operation["responses"]))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert statuses[("POST", UPLOAD)] >= {200, 201, 400, 401, 408, 409, 413, 422, 429, 501, 503}
    assert statuses[("GET", UPLOAD)] >= {200, 401, 503}
    assert statuses[("GET", DOWNLOAD)] >= {200, 206, 400, 401, 404, 416, 503}
    assert statuses[("DELETE", DOWNLOAD)] >= {200, 400, 401, 403, 404, 503}
    assert statuses[("GET", "/api/ready")] == {200, 503}
    assert statuses[("GET", "/metrics")] == {200, 401}
    assert statuses[("POST", "/api/admin/orgs/{org_id}/systems")] >= {201, 400, 401, 404, 409, 503}
    # + /log, retention's preview, protect and unprotect, and /webhooks (4 paths) and /report
    assert len([path for path in document["paths"] if path.startswith("/api/admin/")]) == 11 + 1 + 3 + 5
    assert statuses[("POST", "/api/admin/webhooks")] >= {201, 400, 401, 404, 503}
    assert statuses[("POST", "/api/admin/webhooks/{webhook_id}/test")] >= {200, 401, 404}
    assert statuses[("GET", "/api/admin/report")] >= {200, 400, 401, 404, 503}
    assert statuses[("PATCH", "/api/admin/systems/{system_key}")] >= {200, 400, 401, 404}
    assert statuses[("GET", "/api/systems/status")] >= {200, 401, 503}
    assert statuses[("GET", "/api/admin/log")] >= {200, 400, 401, 503}
    assert statuses[("DELETE", "/api/admin/systems/{system_key}")] >= {200, 400, 401, 404, 409, 503}
    assert statuses[("POST", "/api/admin/systems/{system_key}/backups/{backup_id}/protect")] >= {200, 404, 409}


def test_every_json_answer_is_the_envelope_with_its_real_data(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert '"status_code"' not in text  # Litestar's own error shape appears nowhere
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if "application/json" not in response.get("content", {}):
                    continue
                envelope = schema_of(document, response)
                assert set(envelope["required"]) == {"code", "message", "data"}, (method, path, status)
                assert envelope["properties"]["data"] != {}, f"{method} {path} {status}: untyped data"
    created = schema_of(document, document["paths"][UPLOAD]["post"]["responses"]["201"])
    backup = document["components"]["schemas"][created["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert set(backup["required"]) == {"id", "filename", "size", "sha256", "mimetype", "uploaded_at"}
    refused = schema_of(document, document["paths"][UPLOAD]["post"]["responses"]["429"])
    assert refused["properties"]["data"]["$ref"].endswith("/RetryAfter")
    headers = document["paths"][UPLOAD]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in headers


def test_the_upload_is_a_streamed_octet_stream_with_its_headers(document: dict[str, Any]) -> None:
    upload = document["paths"][UPLOAD]["post"]
    body = upload["requestBody"]
    assert body["required"] is True
    assert body["content"] == {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    headers = {p["name"] for p in upload["parameters"] if p["in"] == "header"}
    assert headers >= {"X-Filename", "Idempotency-Key", "Content-Digest", "Repr-Digest"}
    assert {"Location", "Repr-Digest", "Backup-Receipt"} <= upload["responses"]["201"]["headers"].keys()
    assert "Backup-Receipt" in upload["responses"]["200"]["headers"]


def test_the_download_is_an_octet_stream_with_ranges(document: dict[str, Any]) -> None:
    download = document["paths"][DOWNLOAD]["get"]
    for status in ("200", "206"):
        assert list(download["responses"][status]["content"]) == ["application/octet-stream"]
    assert "Content-Range" in download["responses"]["206"]["headers"]
    assert "Content-Range" in download["responses"]["416"]["headers"]
    assert "Range" in {p["name"] for p in download["parameters"]}


def test_each_route_names_the_security_scheme_it_needs(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic", "description": "system_key:system_secret"}
    assert schemes["bearer"]["scheme"] == schemes["metrics"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected: list[dict[str, list[str]]] | None
            if path.startswith("/api/systems/"):
                expected = [{"basic": []}]
            elif path.startswith("/api/admin/"):
                expected = [{"bearer": []}]
            elif path == "/metrics":
                expected = [{"metrics": []}]
            else:
                expected = None
            assert operation.get("security") == expected, (method, path)


def test_admin_routes_and_the_metrics_scheme_appear_only_when_configured(tmp_path: Path) -> None:
    document = served_document(tmp_path)
    assert not [path for path in document["paths"] if path.startswith("/api/admin")]
    assert set(document["components"]["securitySchemes"]) == {"basic", "bearer"}
    assert document["paths"]["/metrics"]["get"].get("security") is None
    assert set(document["paths"]["/metrics"]["get"]["responses"]) == {"200"}


def test_the_docs_page_loads_only_what_the_service_serves(tmp_path: Path) -> None:
    with live_server(settings_for(tmp_path)) as server, httpx.Client(base_url=server) as http:
        page = http.get("/api/schema")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
        assert len(references) >= 3
        assert not re.search(r"(https?:)?//", page.text.replace("http://www.w3.org", "")), "an external host"
        for reference in references:
            assert reference.startswith("/api/schema/assets/"), reference
            asset = http.get(reference)
            assert asset.status_code == 200, reference
            assert len(asset.content) > 100
