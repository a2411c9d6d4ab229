"""The console's retention forms: an organization's policy, protecting and unprotecting a backup. Each
calls the use case `org set-retention` and `backup protect`/`unprotect` call."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Redirect

from adapters.http.console.auth import CONSOLE_PATH, NO_STORE
from adapters.http.services import Service
from domain.errors import InvalidInput
from domain.events import Via
from domain.keeping import TIERS, RetentionAdmin
from domain.model import RetentionPolicy
from domain.organizations import OrgAdmin


@post("/orgs/{org_id:str}/retention", status_code=303)
async def set_retention(org_id: FromPath[str], request: Request[Any, Any, Any], orgs: Service[OrgAdmin]) -> Redirect:
    """The organization's own policy from the form's four numbers (blank: 0), or, with the `default`
    button, the default policy again. A bad policy is refused (400) and changes nothing."""
    form = await request.form()
    if form.get("default"):
        await orgs.set_retention(org_id, None)
    else:
        values = {}
        for tier in TIERS:
            text = str(form.get(tier, "")).strip() or "0"
            if not text.isdigit():
                raise InvalidInput("retention", f"{tier} must be a whole number ≥ 0", text[:100])
            values[tier] = int(text)
        await orgs.set_retention(org_id, RetentionPolicy(**values))
    return Redirect(f"{CONSOLE_PATH}/orgs/{org_id}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/backups/{backup_id:str}/protect", status_code=303)
async def protect(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    retention: Service[RetentionAdmin],
) -> Redirect:
    """Never prune nor delete the backup, with the form's note, as `backup protect` does."""
    note = str((await request.form()).get("note", "")).strip() or None
    await retention.protect(system_key, backup_id, note, Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/systems/{system_key:str}/backups/{backup_id:str}/unprotect", status_code=303)
async def unprotect(
    system_key: FromPath[str], backup_id: FromPath[str], retention: Service[RetentionAdmin]
) -> Redirect:
    """Let retention and deletes take the backup again, as `backup unprotect` does."""
    await retention.unprotect(system_key, backup_id, Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


ROUTES = [set_retention, protect, unprotect]
