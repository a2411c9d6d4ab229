"""Signing in and out of the console, the session every page needs, the CSRF check every form passes,
and the HTML answers for errors (statuses from the HTTP edge's one error table)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.types import Guard

from adapters.http.client_address import client_address
from adapters.http.console.services import ConsoleServices
from adapters.http.console.session import SESSION_COOKIE, SIGN_IN_COOKIE, Session, new_nonce
from adapters.http.errors import domain_error, internal_error, undecodable
from domain.errors import DomainError
from domain.health import Schedule

CONSOLE_PATH = "/console"
SIGN_IN_PATH = f"{CONSOLE_PATH}/sign-in"
# Where a sign-in may send the operator on: console pages only, never another site.
_NEXT = re.compile(r"/console(/[A-Za-z0-9._~/-]*)?")
NO_STORE = {"Cache-Control": "no-store"}
_SESSION = "console_session"


class SignInRequired(Exception):
    """No session, or it expired: the answer is the sign-in page."""


class CsrfRefused(Exception):
    """A form arrived without the CSRF token of the session (or of the sign-in page) that served it."""


def _cookie(request: Request[Any, Any, Any], key: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _session_cookie(request: Request[Any, Any, Any], console: ConsoleServices, session: Session) -> Cookie:
    lifetime = console.sessions.lifetime(session, console.clock.now())
    return _cookie(request, SESSION_COOKIE, console.sessions.encode(session), lifetime)


def guard(console: ConsoleServices) -> Guard:
    """The console's one guard: every route but the public ones (`opt={"public": True}`: sign-in, the
    stylesheet) needs a live session, and every form it receives the CSRF token of that session."""

    async def check(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        # OPTIONS tells only which methods a path serves (Litestar's own handler, no page).
        if handler.opt.get("public") or (isinstance(connection, Request) and connection.method == "OPTIONS"):
            return
        now = console.clock.now()
        session = console.sessions.decode(connection.cookies.get(SESSION_COOKIE), now)
        if session is None or await console.sign_outs.signed_out(session):
            raise SignInRequired()
        connection.state[_SESSION] = console.sessions.renew(session, now)
        # Every method that may change something carries the form's token (the console only POSTs today).
        if isinstance(connection, Request) and connection.method not in {"GET", "HEAD"}:
            given = (await connection.form()).get("csrf")
            token = given if isinstance(given, str) else None
            if not console.sessions.check(console.sessions.csrf_token(session), token):
                raise CsrfRefused()

    return check


def current_session(request: Request[Any, Any, Any]) -> Session:
    """The session the guard checked and renewed."""
    session = request.state.get(_SESSION)
    if not isinstance(session, Session):
        raise SignInRequired()
    return session


@dataclass(frozen=True, slots=True)
class Page:
    """Renders a signed-in page: the session's CSRF token for its forms, the renewed session cookie."""

    request: Request[Any, Any, Any]
    console: ConsoleServices
    session: Session

    @property
    def now(self) -> datetime:
        return self.console.clock.now()

    @property
    def schedule(self) -> Schedule:
        """The default schedule."""
        return self.console.schedule

    def render(self, template: str, context: dict[str, Any]) -> Template:
        cookie = _session_cookie(self.request, self.console, self.session)
        sessions = self.console.sessions
        context = {**context, "csrf": sessions.csrf_token(self.session), "signed_in": True, "now": self.now}
        return Template(template, context=context, headers=NO_STORE, cookies=[cookie])


def page_for(
    request: Request[Any, Any, Any], console: NamedDependency[ConsoleServices], session: NamedDependency[Session]
) -> Page:
    return Page(request, console, session)


def _sign_in_page(
    request: Request[Any, Any, Any], console: ConsoleServices, next_path: str, message: str = "", status: int = 200
) -> Template:
    nonce = new_nonce()
    context = {"csrf": console.sessions.sign_in_token(nonce), "next_path": next_path, "message": message}
    cookie = _cookie(request, SIGN_IN_COOKIE, nonce, 3600)
    return Template("sign_in.html", context=context, status_code=status, headers=NO_STORE, cookies=[cookie])


def _next_path(value: str | None) -> str:
    return value if value and _NEXT.fullmatch(value) and "/." not in value else CONSOLE_PATH


@get("/sign-in", opt={"public": True})
async def sign_in_form(
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    next_path: FromQuery[str | None] = None,
    signed_out: FromQuery[bool] = False,
) -> Template:
    """The sign-in page."""
    return _sign_in_page(request, console, _next_path(next_path), "signed out" if signed_out else "")


@post("/sign-in", status_code=303, opt={"public": True})
async def sign_in(request: Request[Any, Any, Any], console: NamedDependency[ConsoleServices]) -> Response[Any]:
    """Check the admin token (constant time) and start a session; too many failures from one client
    address answer 429 for the rest of the minute, whatever the token."""
    client = client_address(request)
    await console.attempts.admit(client)
    fields = {key: str(value) for key, value in (await request.form()).items()}
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if not nonce or not console.sessions.check(console.sessions.sign_in_token(nonce), fields.get("csrf")):
        raise CsrfRefused()
    next_path = _next_path(fields.get("next_path"))
    if not console.sessions.matches_admin_token(fields.get("token", "")):
        await console.attempts.failed(client)
        return _sign_in_page(request, console, next_path, "wrong admin token", 401)
    session = console.sessions.start(console.clock.now())
    redirect = Redirect(next_path, status_code=303, headers=NO_STORE)
    redirect.set_cookie(_session_cookie(request, console, session))
    redirect.delete_cookie(SIGN_IN_COOKIE, path=CONSOLE_PATH)
    return redirect


@post("/sign-out", status_code=303)
async def sign_out(console: NamedDependency[ConsoleServices], session: NamedDependency[Session]) -> Redirect:
    """End the session: on the server (a copy of the cookie no longer works) and in this browser."""
    await console.sign_outs.sign_out(session)
    redirect = Redirect(f"{SIGN_IN_PATH}?signed_out=true", status_code=303, headers=NO_STORE)
    redirect.delete_cookie(SESSION_COOKIE, path=CONSOLE_PATH)
    return redirect


def to_sign_in(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    wanted = request.url.path if request.method == "GET" else CONSOLE_PATH
    target = SIGN_IN_PATH if wanted == CONSOLE_PATH else f"{SIGN_IN_PATH}?next_path={quote(wanted)}"
    return Redirect(target, status_code=303, headers=NO_STORE)


def csrf_refused(_: Request[Any, Any, Any], __: Exception) -> Response[Any]:
    message = "this form was refused: it did not carry the token of the page that served it. Reload and retry."
    return Template("error.html", context={"status": 403, "message": message}, status_code=403, headers=NO_STORE)


def domain_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The status and message the API would answer, as a page."""
    answer = domain_error(request, exc)
    status = answer.status_code or 500
    context = {"status": status, "message": answer.content.message}
    return Template("error.html", context=context, status_code=status, headers={**answer.headers, **NO_STORE})


def http_error_page(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    context = {"status": exc.status_code, "message": exc.detail}
    return Template("error.html", context=context, status_code=exc.status_code, headers=NO_STORE)


def undecodable_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A form the framework could not decode (bytes not in its charset, an unknown charset) is 400."""
    reason = undecodable(exc)
    if reason is None:
        return internal_error(request, exc)
    context = {"status": 400, "message": f"this form was refused: {reason}."}
    return Template("error.html", context=context, status_code=400, headers=NO_STORE)


EXCEPTION_HANDLERS = {
    SignInRequired: to_sign_in,
    CsrfRefused: csrf_refused,
    DomainError: domain_error_page,
    HTTPException: http_error_page,
    UnicodeError: undecodable_page,
    LookupError: undecodable_page,
}
