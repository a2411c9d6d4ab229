"""What the OpenAPI document says beyond the handlers' signatures: every status a route can answer, in
the envelope's real shape, with the headers that come with it; the upload's streamed body and headers;
the download's bytes. The docs page loads Swagger UI from this service (the `swagger-ui-bundle-v2`
package ships its files), so it works on a closed network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from litestar import HttpMethod, route
from litestar.enums import ParamType
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.response import Redirect
from litestar.router import Router
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from adapters.http.dto import Empty, Envelope, RetryAfter, UnavailableData, ValidationData

SCHEMA_PATH: Final = "/api/schema"
ASSETS_PATH: Final = f"{SCHEMA_PATH}/assets"
BASIC: Final[list[dict[str, list[str]]]] = [{"basic": []}]
ADMIN: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
METRICS: Final[list[dict[str, list[str]]]] = [{"metrics": []}]
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
_TEXT = Schema(type=OpenAPIType.STRING)
_SECONDS = Schema(type=OpenAPIType.INTEGER, minimum=1)

# status → (the envelope's data, what it means)
_ERRORS: dict[int, tuple[Any, str]] = {
    400: (ValidationData, "Malformed input; `data.errors[].key` names the field"),
    401: (Empty, "Missing or wrong credentials"),
    403: (None, "Not allowed (BACKUP_APPEND_ONLY)"),
    404: (None, "No such thing visible to the caller"),
    408: (None, "The body stalled for BACKUP_BODY_IDLE_TIMEOUT; nothing was kept"),
    409: (ValidationData | None, "Conflicts with what exists or is in flight"),
    413: (ValidationData, "Past a size cap (`Content-Length`, `body`) or the organization's quota (`org_quota`)"),
    416: (None, "No byte of the range lies inside the backup; `Content-Range: bytes */<size>`"),
    422: (ValidationData, "The `Idempotency-Key` was used for another body"),
    429: (RetryAfter, "Rate limit or uploads in flight; retry after `Retry-After` seconds"),
    500: (None, "The stored bytes do not match their checksum"),
    501: (None, "A transfer coding other than `chunked` (e.g. `gzip, chunked`); nothing was stored"),
    503: (UnavailableData, "The database or the object store failed, or the server is shutting down"),
}
_HEADERS: dict[str, dict[str, OpenAPIHeader]] = {
    "401": {"WWW-Authenticate": OpenAPIHeader(schema=_TEXT, required=True)},
    "416": {"Content-Range": OpenAPIHeader(schema=_TEXT, required=True)},
    "429": {"Retry-After": OpenAPIHeader(schema=_SECONDS, required=True)},
    "503": {"Retry-After": OpenAPIHeader(schema=_SECONDS, required=True)},
}


# Subscripted with a runtime value (the data type of each status), which is no static type expression.
_ENVELOPE: Any = Envelope


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers of a route, each in the envelope with its own `data`."""
    return {
        status: ResponseSpec(
            _ENVELOPE[_ERRORS[status][0]],
            description=_ERRORS[status][1],
            generate_examples=False,
        )
        for status in statuses
    }


def answer(data: Any, description: str) -> ResponseSpec:
    """A success answer other than the route's main one (a duplicate upload's 200)."""
    return ResponseSpec(_ENVELOPE[data], description=description, generate_examples=False)


def _header(name: str, description: str) -> Parameter:
    return Parameter(name=name, param_in=ParamType.HEADER, required=False, schema=_TEXT, description=description)


@dataclass
class Documented(Operation):
    """Adds each answer's headers (Retry-After, WWW-Authenticate, Content-Range) by status."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if isinstance(response, OpenAPIResponse) and status in _HEADERS:
                response.headers = {**(response.headers or {}), **_HEADERS[status]}


@dataclass
class UploadOperation(Documented):
    """The upload: the ciphertext streamed as `application/octet-stream`, and its optional headers."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            content={"application/octet-stream": OpenAPIMediaType(schema=_BINARY)},
            description="The OpenPGP message, streamed (Content-Length or chunked); never held whole in memory",
            required=True,
        )
        self.parameters = [
            *(self.parameters or []),
            _header("X-Filename", "The user-facing name; `.gpg`/`.pgp`/`.asc` is dropped, the rest names the type"),
            _header("Idempotency-Key", 'An sf-string such as `"8e03978e-…"` (a bare token is accepted); 24 h'),
            _header("Content-Digest", "`sha-256=:<base64>:` and/or `sha-512=…` of the body, checked before commit"),
            _header("Repr-Digest", "As Content-Digest, for the representation"),
        ]
        stored = {
            "Location": OpenAPIHeader(schema=_TEXT, required=True),
            "Repr-Digest": OpenAPIHeader(schema=_TEXT, required=True, description="`sha-256=:<base64>:`"),
            "Backup-Receipt": OpenAPIHeader(
                schema=_TEXT,
                required=True,
                description="base64 of a C2SP signed note by the event log's key: origin, leaf index, system key, "
                "backup id, sha256, size, uploaded_at (docs/audit.md)",
            ),
        }
        for status in ("200", "201"):
            response = (self.responses or {}).get(status)
            if isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), **stored}


def _bytes(description: str, headers: dict[str, OpenAPIHeader | Reference]) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={"application/octet-stream": OpenAPIMediaType(schema=_BINARY)},
        headers=headers,
    )


@dataclass
class DownloadOperation(Documented):
    """The download: the stored bytes, whole (200) or a range (206)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        common: dict[str, OpenAPIHeader | Reference] = {
            "Content-Disposition": OpenAPIHeader(schema=_TEXT, required=True),
            "Content-Length": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER), required=True),
            "ETag": OpenAPIHeader(schema=_TEXT, required=True),
        }
        responses = dict(self.responses or {})
        responses["200"] = _bytes("The whole backup", common)
        responses["206"] = _bytes(
            "The requested range", {**common, "Content-Range": OpenAPIHeader(schema=_TEXT, required=True)}
        )
        self.responses = responses
        self.parameters = [
            *(self.parameters or []),
            _header("Range", "One range, `bytes=<first>-[<last>]` or `bytes=-<suffix>`; others get the whole backup"),
            _header("If-Range", "The ETag of the backup: the range is served only if it still matches"),
        ]


def openapi_config(metrics_token: bool) -> OpenAPIConfig:
    schemes = {
        "basic": SecurityScheme(type="http", scheme="basic", description="system_key:system_secret"),
        "bearer": SecurityScheme(type="http", scheme="bearer", description="BACKUP_ADMIN_TOKEN"),
    }
    if metrics_token:
        schemes["metrics"] = SecurityScheme(type="http", scheme="bearer", description="BACKUP_METRICS_TOKEN")
    swagger = SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        path=["/", "/swagger"],
    )
    return OpenAPIConfig(
        title="backup-collect",
        version="0.1.0",
        path=SCHEMA_PATH,
        components=Components(security_schemes=schemes),  # type: ignore[arg-type]
        render_plugins=[swagger],
    )


def docs_assets() -> Router:
    """Swagger UI's files, from the package that ships them."""
    return create_static_files_router(
        ASSETS_PATH, directories=[Path(swagger_ui_path)], include_in_schema=False, send_as_attachment=False
    )


@route("/docs", http_method=[HttpMethod.GET, HttpMethod.HEAD], include_in_schema=False, status_code=302)
async def docs_redirect() -> Redirect:
    """Where a newcomer looks first: the docs page lives at SCHEMA_PATH."""
    return Redirect(SCHEMA_PATH, status_code=302)
