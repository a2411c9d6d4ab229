"""The console's pages and actions. Each calls the use case the CLI and the admin API call, and asks for
that use case alone; the router's guard has checked the session (and a form's CSRF token) before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from adapters.http.console.auth import CONSOLE_PATH, NO_STORE, Page
from adapters.http.console.views import OrgRow, human_duration, size_chart, system_rows
from adapters.http.download import download
from adapters.http.services import Service
from domain.events import Via
from domain.health import Schedule
from domain.history import History
from domain.keeping import RetentionAdmin
from domain.organizations import OrgAdmin
from domain.registry import Registry
from domain.restore import BackupAccess
from domain.systems import SystemAdmin


def _schedule(schedule: Schedule) -> str:
    return f"expected every {human_duration(schedule.every)}, grace {human_duration(schedule.grace)}"


@get("/")
async def orgs_page(orgs: Service[OrgAdmin], systems: Service[SystemAdmin], page: NamedDependency[Page]) -> Template:
    """Every organization: usage against quota, systems, systems `down` (the state rule, as `stale` and
    /metrics apply it)."""
    stale = await systems.stale()
    rows = [
        OrgRow(org=org, quota=orgs.effective_quota(org.quota_bytes), stale=sum(s.org_id == org.id for s in stale))
        for org in await orgs.list_orgs()
    ]
    context = {"rows": rows, "stale_total": len(stale), "schedule": _schedule(page.schedule)}
    return page.render("orgs.html", context)


@get("/orgs/{org_id:str}")
async def org_page(
    org_id: FromPath[str], orgs: Service[OrgAdmin], systems: Service[SystemAdmin], page: NamedDependency[Page]
) -> Template:
    """One organization's systems, those needing attention first (failing, down, late)."""
    org = await orgs.show(org_id)
    listed = await systems.list_systems(org_id)
    rows = system_rows(listed, page.now)
    context = {
        "org": org,
        "rows": rows,
        "max_count": systems.limits.max_per_system,
        "max_total_size": systems.limits.max_size_per_system,
        "schedule": _schedule(page.schedule),
    }
    return page.render("org.html", context)


async def _system_page(
    page: Page,
    orgs: OrgAdmin,
    systems: SystemAdmin,
    access: BackupAccess,
    history: History,
    retention: RetentionAdmin,
    system_key: str,
    **extra: Any,
) -> Template:
    detail = await systems.show(system_key)
    org = await orgs.show(detail.org_id)
    listing = await access.listing(await systems.identity(system_key))
    (row,) = system_rows([detail], page.now)
    context = {
        "org": org,
        "system": detail,
        "row": row,
        "backups": listing.backups,
        "usage": listing.usage,
        "chart": size_chart(listing.backups),
        "history": await history.recent(system_key),
        "kept_by": {kept.backup.id: kept.kept_by for kept in (await retention.preview(system_key)).backups},
        "schedule": _schedule(Schedule(timedelta(seconds=detail.expected_every), timedelta(seconds=detail.grace))),
        **extra,
    }
    return page.render("system.html", context)


@get("/systems/{system_key:str}")
async def system_page(
    system_key: FromPath[str],
    orgs: Service[OrgAdmin],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
    history: Service[History],
    retention: Service[RetentionAdmin],
    page: NamedDependency[Page],
    deleted: FromQuery[str | None] = None,
) -> Template:
    """One system: its backups newest first with what keeps each, its chart, its history, its actions."""
    return await _system_page(page, orgs, systems, operator_access, history, retention, system_key, deleted=deleted)


@get("/systems/{system_key:str}/backups/{backup_id:str}")
async def download_page(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
) -> Stream:
    """The bytes, exactly as the admin API's download serves them."""
    return await download(operator_access, await systems.identity(system_key), backup_id, request)


@get("/systems/{system_key:str}/backups/{backup_id:str}/delete")
async def confirm_delete_page(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
    page: NamedDependency[Page],
) -> Template:
    """Deleting asks first: this page is the question, its form the answer."""
    backup = await operator_access.get(await systems.identity(system_key), backup_id)
    return page.render("confirm_delete.html", {"system_key": system_key, "backup": backup})


@post("/systems/{system_key:str}/backups/{backup_id:str}/delete", status_code=303)
async def delete_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
) -> Redirect:
    """Delete one backup, as `backup delete` does."""
    deleted = await operator_access.delete(await systems.identity(system_key), backup_id, Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}?deleted={deleted.id}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/suspend", status_code=303)
async def suspend(system_key: FromPath[str], registry: Service[Registry]) -> Redirect:
    """A suspended system gets 401, as after `system suspend`."""
    await registry.set_suspended(system_key, True)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/resume", status_code=303)
async def resume(system_key: FromPath[str], registry: Service[Registry]) -> Redirect:
    """Let the system authenticate again, as `system resume` does."""
    await registry.set_suspended(system_key, False)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/rotate-secret", status_code=200)
async def rotate_secret(
    system_key: FromPath[str],
    registry: Service[Registry],
    orgs: Service[OrgAdmin],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
    history: Service[History],
    retention: Service[RetentionAdmin],
    page: NamedDependency[Page],
) -> Template:
    """The new secret in this answer only (never in a URL, never cached); the old one fails from now on."""
    rotated = await registry.rotate_secret(system_key)
    return await _system_page(page, orgs, systems, operator_access, history, retention, system_key, rotated=rotated)
