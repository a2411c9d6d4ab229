"""The logs of a real `backup-collect serve`: one line per request with SPEC's fields, JSON or text, request
ids in and out, and never a secret, an `Authorization` value or a token, on success or on any error path."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.integration.live import (
    Tenant,
    provision,
    raw_request,
    rows_by_state,
    serving,
    settings_for,
    wait_until,
)
from tests.integration.test_db_stall_http import TableLock
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
ADMIN_TOKEN = "admin-token-b1e5d0c7f3a9-0123456789abcdef"
METRICS_TOKEN = "metrics-token-6c2f8e4a0d17-0123456789abcdef"


def env_for(data: Path, log_format: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BACKUP_DATA_DIR": str(data),
        "BACKUP_LOG_FORMAT": log_format,
        "BACKUP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKUP_METRICS_TOKEN": METRICS_TOKEN,
        "BACKUP_RATE_LIMIT_PER_MINUTE": "4",
        "BACKUP_MAX_PER_SYSTEM": "1",
        "BACKUP_MAX_UPLOAD_SIZE": "100000",
        **extra,
    }


def exercise(url: str, tenant: Tenant) -> list[httpx.Response]:
    """Every kind of answer an appliance, an operator or a scraper can get, each carrying credentials."""
    good = httpx.BasicAuth(*tenant.auth)
    wrong = httpx.BasicAuth(tenant.key, tenant.secret[::-1])
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        answers = [
            http.post(URL, content=pgp(5000), auth=good, headers={"X-Filename": "a.tar.gz", "X-Request-ID": "up-1"}),
            http.post(URL, content=pgp(6000), auth=good, headers={"X-Filename": "b.tar.gz"}),
            http.post(URL, content=pgp(100), auth=wrong),
            http.post(URL, content=pgp(200_000), auth=good),
            http.post(URL, content=b"not an OpenPGP message", auth=good),
            http.post(URL, content=b"", auth=good),
            http.post(URL, content=pgp(100), auth=good),
            http.post(URL, content=pgp(100), auth=good),
            http.post(URL, content=pgp(100), headers={b"Authorization": b"Basic " + "é".encode() * 3}),
        ]
        listing = http.get(URL, auth=good)
        answers.append(listing)
        (kept,) = listing.json()["data"]["backups"]
        answers += [
            http.get(f"{URL}/{kept['id']}", auth=good),
            http.get(f"{URL}/{kept['id']}", auth=good, headers={"Range": "bytes=0-9"}),
            http.get(f"{URL}/{kept['id']}", auth=good, headers={"Range": "bytes=999999-"}),
            http.get(f"{URL}/0190a0a0-0000-7000-8000-000000000000.bin", auth=good),
            http.get(f"{URL}/not-an-id", auth=good),
            http.get(URL, auth=wrong),
            http.get("/api/admin/orgs", headers=admin),
            http.get("/api/admin/orgs", headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"}),
            http.get(f"/api/admin/systems/{tenant.key}", headers=admin),
            http.post("/api/admin/orgs", headers=admin, content=b'{"name": ' * 50),
            http.post(f"/api/admin/orgs/{tenant.org_id}/systems", headers=admin, json={"system_key": tenant.key}),
            http.post(f"/api/admin/systems/{tenant.key}/rotate-secret", headers=admin),
            http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}),
            http.get("/metrics", headers={"Authorization": "Bearer nope"}),
            http.get("/no/such/route", headers={"X-Request-ID": "bad id with spaces"}),
            http.delete(f"{URL}/{kept['id']}", auth=good),
            http.get("/api/health"),
            http.get("/api/ready"),
        ]
    return answers


def secrets_of(tenant: Tenant, answers: list[httpx.Response]) -> list[str]:
    rotated = [a.json()["data"]["system_secret"] for a in answers if a.url.path.endswith("/rotate-secret")]
    basic = base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    return [tenant.secret, tenant.secret[::-1], basic, ADMIN_TOKEN, METRICS_TOKEN, "Authorization", *rotated]


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "backup_collect.access"]


def test_json_logs_one_line_per_request_with_the_fields_and_no_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tenant = provision(settings_for(data))[0]
    log = tmp_path / "serve.log"
    with serving(env_for(data, "json"), log) as served:
        # A body cut off mid-stream is logged too, once the server gave up on it.
        basic = tenant.basic
        head = f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {basic}\r\nContent-Length: 90000\r\n\r\n"
        raw_request(served.url, head.encode(), [pgp(1000)], close_early=True)
        wait_until(lambda: '"outcome": "aborted"' in log.read_text())
        answers = exercise(served.url, tenant)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every stderr line is one JSON object
    statuses = {a.status_code for a in answers}
    assert {201, 400, 401, 404, 409, 413, 429, 200, 206, 416} <= statuses
    for secret in secrets_of(tenant, answers):
        assert secret not in text

    requests = access_lines(lines)
    # Besides `answers`: `serving`'s readiness probes, and the cut-off upload.
    assert len([r for r in requests if r["path"] != "/api/ready"]) == len(answers) - 1 + 1
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    for line in requests:
        assert {"request_id", "method", "path", "status", "duration_ms"} <= line.keys()
    for answer in answers:
        assert answer.headers["X-Request-ID"]
        (logged,) = [r for r in requests if r["request_id"] == answer.headers["X-Request-ID"]]
        assert (logged["method"], logged["path"], logged["status"]) == (
            answer.request.method,
            answer.request.url.path,
            answer.status_code,
        )

    first = next(r for r in requests if r["request_id"] == "up-1")
    assert first["system_key"] == tenant.key
    assert first["outcome"] == "stored"
    assert first["size"] == 5000
    assert first["backup_id"] == answers[0].json()["data"]["id"]
    assert first["pruned"] == []
    # The second upload took the only slot: retention removed the first, and its line says so.
    (pruner,) = [r for r in requests if r.get("pruned")]
    assert pruner["pruned"] == [first["backup_id"]]
    assert pruner["backup_id"] == answers[1].json()["data"]["id"]
    uploads = [r for r in requests if r["method"] == "POST" and r["path"] == URL]
    assert {u["outcome"] for u in uploads} == {
        "stored",
        "unauthorized",
        "too_large",
        "invalid",
        "rate_limited",
        "aborted",
    }
    assert all({"system_key", "backup_id", "size", "outcome", "pruned"} <= u.keys() for u in uploads)

    replaced = answers[-4].headers["X-Request-ID"]
    assert replaced != "bad id with spaces"
    assert 1 <= len(replaced) <= 128


def test_text_logs_carry_the_same_fields(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tenant = provision(settings_for(data))[0]
    log = tmp_path / "serve.log"
    with serving(env_for(data, "text"), log) as served:
        answer = httpx.post(
            served.url + URL, content=pgp(5000), auth=tenant.auth, headers={"X-Request-ID": "text-1"}, timeout=30
        )
        refused = httpx.post(served.url + URL, content=pgp(100), auth=(tenant.key, "wrong"), timeout=30)
    text = log.read_text()
    assert answer.status_code == 201
    assert refused.status_code == 401
    (line,) = [line for line in text.splitlines() if "request_id=text-1" in line]
    for field in [
        "method=POST",
        f"path={URL}",
        "status=201",
        "duration_ms=",
        f"system_key={tenant.key}",
        f"backup_id={answer.json()['data']['id']}",
        "size=5000",
        "outcome=stored",
        "pruned=[]",
    ]:
        assert field in line
    assert "outcome=unauthorized" in text
    assert tenant.secret not in text
    assert "wrong" not in text
    # uvicorn's own lines (startup) come through the same formatter; its access log is off.
    assert any(" INFO uvicorn.error: " in line for line in text.splitlines())
    assert '"POST /api/systems/backups HTTP/1.1" 201' not in text


def test_an_unavailable_store_is_logged_without_secrets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tenant = provision(settings_for(data))[0]
    log = tmp_path / "serve.log"
    with serving(env_for(data, "json"), log) as served:
        # The store's directory turns into a plain file: every write fails.
        shutil.rmtree(data / "objects")
        (data / "objects").write_text("")
        answer = httpx.post(served.url + URL, content=pgp(1000), auth=tenant.auth, timeout=60)
    assert answer.status_code == 503
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    (upload,) = [r for r in access_lines(lines) if r["path"] == URL]
    assert upload["outcome"] == "unavailable"
    for secret in [tenant.secret, ADMIN_TOKEN, METRICS_TOKEN]:
        assert secret not in text


def test_a_bad_log_format_stops_serve_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "BACKUP_DATA_DIR": str(tmp_path), "BACKUP_LOG_FORMAT": "xml"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "9"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "BACKUP_LOG_FORMAT" in line


def test_a_first_start_in_json_says_so_in_json(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(env_for(tmp_path / "new", "json"), log):
        pass
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert any("creating a new, empty data dir" in line["message"] for line in lines)


def check_logged(text: str, secrets: list[str], answers: list[httpx.Response]) -> list[dict[str, Any]]:
    """No secret anywhere in `text`; each answer has its one access line with SPEC's fields; those lines."""
    for secret in secrets:
        assert secret not in text
    requests = access_lines([json.loads(line) for line in text.splitlines()])
    for line in requests:
        assert {"request_id", "method", "path", "status", "duration_ms"} <= line.keys()
        if line["method"] == "POST" and line["path"] == URL:
            assert {"system_key", "backup_id", "size", "outcome", "pruned"} <= line.keys()
    for answer in answers:
        (logged,) = [r for r in requests if r["request_id"] == answer.headers["X-Request-ID"]]
        assert (logged["method"], logged["path"], logged["status"]) == (
            answer.request.method,
            answer.request.url.path,
            answer.status_code,
        )
    return requests


class HeldUpload:
    """An upload on a raw socket that sent its head and part of its body and then waits: in flight."""

    def __init__(self, base_url: str, tenant: Tenant, request_id: str, *headers: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.body = pgp(90000)
        self.sent = 0
        basic = tenant.basic
        head = [f"POST {URL} HTTP/1.1", "Host: t", f"Authorization: {basic}", f"X-Request-ID: {request_id}"]
        head += [*headers, f"Content-Length: {len(self.body)}", "", ""]
        self.sock = socket.create_connection((host, int(port)), timeout=15)
        self.sock.sendall("\r\n".join(head).encode())
        self.more()

    def more(self) -> None:
        """A few more body bytes: the body is not idle."""
        self.sock.sendall(self.body[self.sent : self.sent + 1000])
        self.sent += 1000

    def answer(self) -> bytes:
        """What the server answers once it gave up on the silent body."""
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = self.sock.recv(65536)
            if not data:
                break
            answer += data
        self.sock.close()
        return answer


def test_refusals_and_an_idle_body_are_logged_with_the_fields_and_no_secret(tmp_path: Path) -> None:
    """403 (append-only delete), 422 (key reused), 409 (key in flight), 429 (system's uploads in flight)
    and 408 (a body gone silent) each log one line with SPEC's fields, and nothing secret."""
    data = tmp_path / "data"
    settings = settings_for(data)
    tenant = provision(settings)[0]
    log = tmp_path / "serve.log"
    env = env_for(
        data,
        "json",
        BACKUP_APPEND_ONLY="true",
        BACKUP_BODY_IDLE_TIMEOUT="3s",
        BACKUP_MAX_UPLOADS_PER_SYSTEM="2",
        BACKUP_RATE_LIMIT_PER_MINUTE="0",
        BACKUP_RATE_LIMIT_PER_HOUR="0",
    )
    with serving(env, log) as served, httpx.Client(base_url=served.url, auth=tenant.auth, timeout=30) as http:
        first = http.post(URL, content=pgp(3000), headers={"Idempotency-Key": '"k-one"'})
        reused = http.post(URL, content=pgp(4000), headers={"Idempotency-Key": '"k-one"'})
        refused = http.delete(f"{URL}/{first.json()['data']['id']}")

        held = [HeldUpload(served.url, tenant, "held-1", 'Idempotency-Key: "k-held"')]
        wait_until(lambda: rows_by_state(settings).get("uploading") == 1)
        held[0].more()
        in_flight = http.post(URL, content=pgp(100), headers={"Idempotency-Key": '"k-held"'})
        held.append(HeldUpload(served.url, tenant, "held-2"))
        wait_until(lambda: rows_by_state(settings).get("uploading") == 2)
        for upload in held:
            upload.more()
        busy = http.post(URL, content=pgp(100))
        # Both held bodies now go silent: each is aborted with 408 after BACKUP_BODY_IDLE_TIMEOUT.
        idle = [upload.answer() for upload in held]
        wait_until(lambda: log.read_text().count('"outcome": "aborted"') == 2)

    answers = [first, reused, refused, in_flight, busy]
    assert [a.status_code for a in answers] == [201, 422, 403, 409, 429]
    assert int(busy.headers["Retry-After"]) >= 1
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in idle)
    basic = base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    secrets = [tenant.secret, basic, ADMIN_TOKEN, METRICS_TOKEN, "Authorization"]
    requests = check_logged(log.read_text(), secrets, answers)
    outcome = {r["request_id"]: r.get("outcome") for r in requests}
    assert [outcome[a.headers["X-Request-ID"]] for a in answers] == [
        "stored",
        "invalid",
        None,
        "invalid",
        "rate_limited",
    ]
    for request_id in ["held-1", "held-2"]:
        (line,) = [r for r in requests if r["request_id"] == request_id]
        assert (line["method"], line["path"], line["status"], line["outcome"]) == ("POST", URL, 408, "aborted")
        assert line["system_key"] == tenant.key


def test_a_stalled_database_is_logged_with_the_fields_and_no_secret(postgres_url: str, tmp_path: Path) -> None:
    """Queries stuck behind a lock: the upload and the listing answer 503 and log so, without secrets."""
    database_url = (
        make_url(postgres_url).update_query_dict({"command_timeout": "2"}).render_as_string(hide_password=False)
    )
    data = tmp_path / "data"
    tenant = provision(settings_for(data, database_url=database_url))[0]
    log = tmp_path / "serve.log"
    env = env_for(data, "json", BACKUP_DATABASE_URL=database_url, BACKUP_RATE_LIMIT_PER_MINUTE="0")
    with (
        serving(env, log) as served,
        httpx.Client(base_url=served.url, auth=tenant.auth, timeout=60) as http,
        TableLock(database_url, "organizations, backups"),
    ):
        upload = http.post(URL, content=pgp(1000))
        listing = http.get(URL)
    assert (upload.status_code, listing.status_code) == (503, 503)
    assert upload.json()["data"]["dependency"] == "database"
    basic = base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    secrets = [tenant.secret, basic, ADMIN_TOKEN, METRICS_TOKEN, "Authorization"]
    password = make_url(postgres_url).password
    requests = check_logged(log.read_text(), [*secrets, *([password] if password else [])], [upload, listing])
    (line,) = [r for r in requests if r["request_id"] == upload.headers["X-Request-ID"]]
    assert line["outcome"] == "unavailable"
