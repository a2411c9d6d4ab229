"""The console's session cookie is `Secure` when the browser's request came over TLS: to `serve --tls-cert`
directly, or through a trusted proxy that says so (`X-Forwarded-Proto: https`, as deploy/'s nginx sends)."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import httpx

from tests.integration.certificates import self_signed
from tests.integration.live import serving
from tests.integration.test_serve_tls_and_proxies import PROXY, environment

TOKEN = "console-tls-token-7d2e-0123456789abcdef"


def session_cookie(http: httpx.Client, headers: dict[str, str] | None = None) -> str:
    """Sign in; the Set-Cookie header of the session, lower case. The sign-in form's cookie is sent back
    by hand: a client's jar keeps a `Secure` cookie away from a plain-HTTP hop, as a browser would."""
    form = http.get("/console/sign-in", headers=headers)
    assert form.status_code == 200, form.text
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found
    nonce = form.cookies["backup_console_sign_in"]
    sent = (headers or {}) | {"Cookie": f"backup_console_sign_in={nonce}"}
    http.cookies.clear()
    answer = http.post("/console/sign-in", data={"token": TOKEN, "csrf": found.group(1)}, headers=sent)
    assert answer.status_code == 303, answer.text
    (cookie,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith("backup_console=")]
    return cookie.lower()


def test_the_session_cookie_is_secure_over_serve_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    options = ("--tls-cert", str(cert), "--tls-key", str(key))
    env = environment(tmp_path, admin_token=TOKEN)
    with (
        serving(env, tmp_path / "serve.log", *options, trust=trust) as served,
        httpx.Client(base_url=served.url, verify=trust, timeout=30) as https,
    ):
        cookie = session_cookie(https)
        assert "secure" in cookie.split("; ")
        assert "httponly" in cookie.split("; ")
        assert "samesite=strict" in cookie.split("; ")
        assert https.get("/console").status_code == 200, "the jar sends a Secure cookie back over TLS"


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure_and_over_plain_http_it_is_not(tmp_path: Path) -> None:
    env = environment(tmp_path, admin_token=TOKEN, trusted_proxies=PROXY)
    with serving(env, tmp_path / "serve.log") as served:
        proxy = httpx.HTTPTransport(local_address=PROXY)
        with httpx.Client(base_url=served.url, transport=proxy, timeout=30) as via_proxy:
            assert "secure" in session_cookie(via_proxy, {"X-Forwarded-Proto": "https"}).split("; ")
        with httpx.Client(base_url=served.url, timeout=30) as direct:
            assert "secure" not in session_cookie(direct).split("; ")
        with httpx.Client(base_url=served.url, timeout=30) as liar:
            # An untrusted peer claiming TLS is not believed.
            assert "secure" not in session_cookie(liar, {"X-Forwarded-Proto": "https"}).split("; ")
