"""`serve --tls-cert/--tls-key` and BACKUP_TRUSTED_PROXIES, on real `backup-collect serve` processes."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from tests.integration.certificates import self_signed
from tests.integration.live import provision, serving, settings_for
from tests.unit.fakes import pgp

UPLOAD = "/api/systems/backups"
TOKEN = "admin-token-for-tests-0123456789abcdef"
# A second loopback address stands in for the proxy: Linux answers on all of 127.0.0.0/8.
PROXY = "127.0.0.2"


def environment(data_dir: Path, **backup: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "AWS_", "FORWARDED_"))}
    return env | {"BACKUP_DATA_DIR": str(data_dir)} | {f"BACKUP_{k.upper()}": v for k, v in backup.items()}


def test_serve_with_a_certificate_and_its_key_speaks_https_only(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    (tenant,) = provision(settings_for(tmp_path))
    trust = ssl.create_default_context(cafile=str(cert))
    options = ("--tls-cert", str(cert), "--tls-key", str(key))
    with serving(environment(tmp_path), tmp_path / "serve.log", *options, trust=trust) as served:
        assert served.url.startswith("https://")
        with httpx.Client(base_url=served.url, verify=trust, auth=tenant.auth, timeout=30) as https:
            body = pgp(300_000)
            stored = https.post(UPLOAD, content=body, headers={"X-Filename": "fw.tar.gz.gpg"})
            assert stored.status_code == 201, stored.text
            assert https.get(f"{UPLOAD}/{stored.json()['data']['id']}").content == body
        # A client that does not know the certificate refuses it: it is the one given, not some default.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(served.url + "/api/health", timeout=5)
        # Plain HTTP on the same port gets no HTTP answer.
        plain = served.url.replace("https://", "http://")
        with pytest.raises(httpx.HTTPError):
            httpx.get(plain + "/api/health", timeout=5)


@pytest.mark.parametrize("given", [["--tls-cert", "cert.pem"], ["--tls-key", "key.pem"]])
def test_a_certificate_without_its_key_or_a_key_alone_is_a_usage_error(
    given: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKUP_DATA_DIR", str(tmp_path))
    assert main(["serve", *given]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "backup-collect: serve: --tls-cert and --tls-key go together (HTTPS needs both the certificate and its key)"
    ]


def test_tls_files_that_do_not_load_stop_serve_with_one_line_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("BACKUP_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert, key = self_signed(tmp_path / "a")
    _, other_key = self_signed(tmp_path / "b")
    for cert_file, key_file in [(tmp_path / "missing.pem", key), (cert, other_key), (cert, cert)]:
        assert main(["serve", "--port", "1", "--tls-cert", str(cert_file), "--tls-key", str(key_file)]) == 1
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith(f"backup-collect: --tls-cert {cert_file} / --tls-key {key_file}: ")
    assert list((tmp_path / "data").iterdir()) == []  # stopped before creating anything


def admin_listing(url: str, key: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/admin/systems/{key}/backups", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    listing: list[dict[str, Any]] = answer.json()["data"]
    return listing


def upload_from(url: str, source: str, auth: tuple[str, str], forwarded_for: str | None) -> str:
    """Upload from the loopback address `source`, with an X-Forwarded-For header when given."""
    headers = {"X-Filename": "fw.tar.gz.gpg"} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as http:
        answer = http.post(url + UPLOAD, content=pgp(2000), auth=auth, headers=headers)
    assert answer.status_code == 201, answer.text
    backup_id: str = answer.json()["data"]["id"]
    return backup_id


def test_the_uploader_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy(tmp_path: Path) -> None:
    (tenant,) = provision(settings_for(tmp_path))
    env = environment(tmp_path, admin_token=TOKEN, trusted_proxies=PROXY, rate_limit_per_minute="0")
    # uvicorn alone would believe 127.0.0.1's header: a direct peer there must not be believed either.
    env["FORWARDED_ALLOW_IPS"] = "*"
    with serving(env, tmp_path / "serve.log") as served:
        through_proxy = upload_from(served.url, PROXY, tenant.auth, "203.0.113.9")
        # Whatever the client wrote before the proxy appended its peer is not believed.
        chained = upload_from(served.url, PROXY, tenant.auth, "198.51.100.66, 203.0.113.10")
        spoofed = upload_from(served.url, "127.0.0.1", tenant.auth, "198.51.100.66")
        direct = upload_from(served.url, "127.0.0.1", tenant.auth, None)
        proxy_itself = upload_from(served.url, PROXY, tenant.auth, None)
        seen = {b["id"]: b["uploader_ip"] for b in admin_listing(served.url, tenant.key)}
    assert seen == {
        through_proxy: "203.0.113.9",
        chained: "203.0.113.10",
        spoofed: "127.0.0.1",
        direct: "127.0.0.1",
        proxy_itself: PROXY,
    }


def test_without_trusted_proxies_x_forwarded_for_is_ignored_even_from_loopback(tmp_path: Path) -> None:
    (tenant,) = provision(settings_for(tmp_path))
    env = environment(tmp_path, admin_token=TOKEN) | {"FORWARDED_ALLOW_IPS": "*"}
    with serving(env, tmp_path / "serve.log") as served:
        backup_id = upload_from(served.url, "127.0.0.1", tenant.auth, "203.0.113.9")
        assert [(b["id"], b["uploader_ip"]) for b in admin_listing(served.url, tenant.key)] == [
            (backup_id, "127.0.0.1")
        ]


def test_a_bad_trusted_proxy_stops_serve_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BACKUP_TRUSTED_PROXIES", "10.0.0.1,proxy.internal")
    assert main(["serve", "--port", "1"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("backup-collect: BACKUP_TRUSTED_PROXIES: 'proxy.internal' is not an IP address")
