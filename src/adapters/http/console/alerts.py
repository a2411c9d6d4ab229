"""The console's alerts pages: webhooks (add, test, remove, their deliveries), the report with its CSV
download, and a system's schedule form. Each calls the use case the CLI and the admin API call."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from adapters.http.console.auth import CONSOLE_PATH, NO_STORE, Page
from adapters.http.services import Service
from adapters.shapes import report_csv
from domain.durations import parse_duration
from domain.errors import InvalidInput
from domain.events import Via
from domain.health import ScheduleOverride
from domain.report import Reports
from domain.schedules import Schedules
from domain.webhook_admin import AddedWebhook, WebhookAdmin


async def _webhooks_page(webhooks: WebhookAdmin, page: Page, added: AddedWebhook | None = None) -> Template:
    hooks = await webhooks.list_webhooks()
    deliveries = {hook.id: await webhooks.deliveries(hook.id, 10) for hook in hooks}
    return page.render("webhooks.html", {"hooks": hooks, "deliveries": deliveries, "added": added})


@get("/webhooks")
async def webhooks_page(webhooks: Service[WebhookAdmin], page: NamedDependency[Page]) -> Template:
    """Every webhook with its last deliveries, and the form to add one."""
    return await _webhooks_page(webhooks, page)


@post("/webhooks", status_code=200)
async def add_webhook(
    request: Request[Any, Any, Any], webhooks: Service[WebhookAdmin], page: NamedDependency[Page]
) -> Template:
    """Add a webhook as `webhook add` does; the page shows its signing secret this once."""
    form = await request.form()
    events = [e for e in str(form.get("events", "")).split(",") if e.strip()] or None
    org = str(form.get("org_id", "")).strip() or None
    fmt = str(form.get("format", "standard"))
    added = await webhooks.add(str(form.get("url", "")), org, events, fmt, Via.CONSOLE)
    return await _webhooks_page(webhooks, page, added)


@post("/webhooks/{webhook_id:str}/test", status_code=303)
async def test_webhook(webhook_id: FromPath[str], webhooks: Service[WebhookAdmin]) -> Redirect:
    await webhooks.test(webhook_id)
    return Redirect(f"{CONSOLE_PATH}/webhooks", status_code=303, headers=NO_STORE)


@post("/webhooks/{webhook_id:str}/remove", status_code=303)
async def remove_webhook(webhook_id: FromPath[str], webhooks: Service[WebhookAdmin]) -> Redirect:
    await webhooks.remove(webhook_id, Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/webhooks", status_code=303, headers=NO_STORE)


def _window(since: str | None) -> Any:
    try:
        return parse_duration(since or "24h")
    except ValueError as error:
        raise InvalidInput("since", str(error), (since or "")[:100]) from None


@get("/report")
async def report_page(
    reports: Service[Reports], page: NamedDependency[Page], since: FromQuery[str | None] = None
) -> Template:
    """The report over the window (`since`, default 24 h), with its CSV download."""
    made = await reports(None, _window(since))
    return page.render("report.html", {"report": made, "since": since or "24h"})


@get("/report.csv")
async def report_download(reports: Service[Reports], since: FromQuery[str | None] = None) -> Response[str]:
    made = await reports(None, _window(since))
    headers = {"Content-Disposition": 'attachment; filename="backup-collect-report.csv"', **NO_STORE}
    return Response(report_csv(made), media_type="text/csv", headers=headers)


@post("/systems/{system_key:str}/schedule", status_code=303)
async def set_schedule(
    system_key: FromPath[str], request: Request[Any, Any, Any], schedules: Service[Schedules]
) -> Redirect:
    """The system's own schedule from the form (a blank field follows its org), or, with the `default`
    button, its organization's again: `system set-schedule` does the same."""
    form = await request.form()
    if form.get("default"):
        await schedules.set_system(system_key, ScheduleOverride(), Via.CONSOLE)
    else:
        every = _span("expected_every", str(form.get("every", "")).strip())
        grace = _span("grace", str(form.get("grace", "")).strip())
        if every is not None and not every:
            raise InvalidInput("expected_every", "must be longer than 0", "0")
        await schedules.set_system(system_key, ScheduleOverride(every=every, grace=grace), Via.CONSOLE)
    return Redirect(f"{CONSOLE_PATH}/systems/{system_key}", status_code=303, headers=NO_STORE)


@post("/orgs/{org_id:str}/schedule", status_code=303)
async def set_org_schedule(
    org_id: FromPath[str], request: Request[Any, Any, Any], schedules: Service[Schedules]
) -> Redirect:
    """The organization's own schedule (a blank field follows the default), or the default again: as
    `org set-schedule` does."""
    form = await request.form()
    if form.get("default"):
        await schedules.set_org(org_id, ScheduleOverride())
    else:
        every = _span("expected_every", str(form.get("every", "")).strip())
        if every is not None and not every:
            raise InvalidInput("expected_every", "must be longer than 0", "0")
        await schedules.set_org(
            org_id, ScheduleOverride(every=every, grace=_span("grace", str(form.get("grace", "")).strip()))
        )
    return Redirect(f"{CONSOLE_PATH}/orgs/{org_id}", status_code=303, headers=NO_STORE)


def _span(key: str, text: str) -> Any:
    if not text:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise InvalidInput(key, str(error), text[:100]) from None


ROUTES = [
    webhooks_page,
    add_webhook,
    test_webhook,
    remove_webhook,
    report_page,
    report_download,
    set_schedule,
    set_org_schedule,
]
