"""The console's pages and actions. Each calls the use case the CLI and the admin API call."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from adapters.http.console.auth import CONSOLE_PATH, NO_STORE, page
from adapters.http.console.services import ConsoleServices
from adapters.http.console.session import Session
from adapters.http.console.views import OrgRow, human_duration, size_chart, system_rows
from adapters.http.download import download
from domain import quota
from domain.events import Via


async def _stale_keys(console: ConsoleServices) -> list[str]:
    """The `stale` use case decides what is stale, as `backup-collect stale` and /metrics do."""
    return [s.system_key for s in await console.systems.stale(console.stale_after)]


@get("/")
async def orgs_page(
    request: Request[Any, Any, Any], console: NamedDependency[ConsoleServices], session: NamedDependency[Session]
) -> Template:
    """Every organization: usage against quota, systems, stale systems."""
    stale = await console.systems.stale(console.stale_after)
    rows = [
        OrgRow(
            org=org,
            quota=quota.effective_quota(org.quota_bytes, console.orgs.default_quota),
            stale=sum(s.org_id == org.id for s in stale),
        )
        for org in await console.orgs.list_orgs()
    ]
    context = {"rows": rows, "stale_total": len(stale), "stale_after": human_duration(console.stale_after)}
    return page(request, console, session, "orgs.html", context)


@get("/orgs/{org_id:str}")
async def org_page(
    org_id: FromPath[str],
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    session: NamedDependency[Session],
) -> Template:
    """One organization's systems, stale ones first."""
    org = await console.orgs.show(org_id)
    systems = await console.systems.list_systems(org_id)
    rows = system_rows(systems, await _stale_keys(console), console.clock.now())
    limits = console.systems.limits
    context = {
        "org": org,
        "rows": rows,
        "max_count": limits.max_per_system,
        "max_total_size": limits.max_size_per_system,
        "stale_after": human_duration(console.stale_after),
    }
    return page(request, console, session, "org.html", context)


async def _system_page(
    request: Request[Any, Any, Any],
    console: ConsoleServices,
    session: Session,
    system_key: str,
    template: str = "system.html",
    **extra: Any,
) -> Template:
    detail = await console.systems.show(system_key)
    org = await console.orgs.show(detail.org_id)
    listing = await console.access.listing(await console.systems.identity(system_key))
    (row,) = system_rows([detail], await _stale_keys(console), console.clock.now())
    context = {
        "org": org,
        "system": detail,
        "row": row,
        "backups": listing.backups,
        "usage": listing.usage,
        "chart": size_chart(listing.backups),
        "history": await console.history.recent(system_key),
        "stale_after": human_duration(console.stale_after),
        **extra,
    }
    return page(request, console, session, template, context)


@get("/systems/{system_key:str}")
async def system_page(
    system_key: FromPath[str],
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    session: NamedDependency[Session],
    deleted: FromQuery[str | None] = None,
) -> Template:
    """One system: its backups newest first, its chart, its actions."""
    return await _system_page(request, console, session, system_key, deleted=deleted)


@get("/systems/{system_key:str}/backups/{backup_id:str}")
async def download_page(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    session: NamedDependency[Session],
) -> Stream:
    """The bytes, exactly as the admin API's download serves them."""
    del session
    return await download(console.access, await console.systems.identity(system_key), backup_id, request)


@get("/systems/{system_key:str}/backups/{backup_id:str}/delete")
async def confirm_delete_page(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    session: NamedDependency[Session],
) -> Template:
    """Deleting asks first: this page is the question, its form the answer."""
    backup = await console.access.get(await console.systems.identity(system_key), backup_id)
    return page(request, console, session, "confirm_delete.html", {"system_key": system_key, "backup": backup})


@post("/systems/{system_key:str}/backups/{backup_id:str}/delete", status_code=303)
async def delete_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    console: NamedDependency[ConsoleServices],
    form: NamedDependency[dict[str, str]],
) -> Redirect:
    """Delete one backup, as `backup delete` does."""
    del form
    deleted = await console.access.delete(await console.systems.identity(system_key), backup_id, Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}?deleted={deleted.id}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/suspend", status_code=303)
async def suspend(
    system_key: FromPath[str], console: NamedDependency[ConsoleServices], form: NamedDependency[dict[str, str]]
) -> Redirect:
    """A suspended system gets 401, as after `system suspend`."""
    del form
    await console.registry.set_suspended(system_key, True)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/resume", status_code=303)
async def resume(
    system_key: FromPath[str], console: NamedDependency[ConsoleServices], form: NamedDependency[dict[str, str]]
) -> Redirect:
    """Let the system authenticate again, as `system resume` does."""
    del form
    await console.registry.set_suspended(system_key, False)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/rotate-secret", status_code=200)
async def rotate_secret(
    system_key: FromPath[str],
    request: Request[Any, Any, Any],
    console: NamedDependency[ConsoleServices],
    session: NamedDependency[Session],
    form: NamedDependency[dict[str, str]],
) -> Template:
    """The new secret in this answer only (never in a URL, never cached); the old one fails from now on."""
    del form
    rotated = await console.registry.rotate_secret(system_key)
    return await _system_page(request, console, session, system_key, rotated=rotated)
