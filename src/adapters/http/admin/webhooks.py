"""The admin API's webhook routes: the `webhook` commands over HTTP."""

from __future__ import annotations

import msgspec
from litestar import Response, delete, get, post
from litestar.params import FromPath, JSONBody

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from domain.events import Via
from domain.webhook_admin import AddedWebhook, DeliveryOut, Queued, Removed, WebhookAdmin, WebhookOut


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    org_id: str | None = None
    """Only this organization's events (default: every one)."""
    events: list[str] | None = None
    """Alert types (default: all of them)."""
    format: str = "standard"
    """`standard` (signed JSON), `slack` or `ntfy`."""


@post("/webhooks", status_code=201, operation_class=Documented, responses=errors(400, 401, 404, 413, 503))
async def add_webhook(data: JSONBody[WebhookIn], webhooks: Service[WebhookAdmin]) -> Response[Envelope[AddedWebhook]]:
    """Add a webhook: `{"id", "url", "org_id", "events", "format", "secret"}`; the secret is shown once."""
    added = await webhooks.add(data.url, data.org_id, data.events, data.format, Via.ADMIN)
    return ok(added, "webhook added", 201)


@get("/webhooks", operation_class=Documented, responses=errors(401, 503))
async def list_webhooks(webhooks: Service[WebhookAdmin]) -> Response[Envelope[list[WebhookOut]]]:
    """Every webhook, without its secret."""
    return ok(await webhooks.list_webhooks())


@delete("/webhooks/{webhook_id:str}", status_code=200, operation_class=Documented, responses=errors(400, 401, 404, 503))
async def remove_webhook(webhook_id: FromPath[str], webhooks: Service[WebhookAdmin]) -> Response[Envelope[Removed]]:
    """Remove a webhook and its pending deliveries."""
    return ok(await webhooks.remove(webhook_id, Via.ADMIN), "webhook removed")


@post(
    "/webhooks/{webhook_id:str}/test", status_code=200, operation_class=Documented, responses=errors(400, 401, 404, 503)
)
async def test_webhook(webhook_id: FromPath[str], webhooks: Service[WebhookAdmin]) -> Response[Envelope[Queued]]:
    """Queue a `test` event for this webhook alone (sent at the notifier's next pass). `200`: SPEC's admin
    API answers 201 for creates and 200 for every other success."""
    return ok(await webhooks.test(webhook_id), "test event queued")


@get("/webhooks/{webhook_id:str}/deliveries", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def webhook_deliveries(
    webhook_id: FromPath[str], webhooks: Service[WebhookAdmin]
) -> Response[Envelope[list[DeliveryOut]]]:
    """The webhook's deliveries, newest event first: state, tries, next try, last answer."""
    return ok(await webhooks.deliveries(webhook_id))


ROUTES = [add_webhook, list_webhooks, remove_webhook, test_webhook, webhook_deliveries]
