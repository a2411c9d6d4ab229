"""The admin API's organization routes: create, list, show, set the quota."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from domain.errors import InvalidInput
from domain.keeping import TIERS
from domain.model import RetentionPolicy
from domain.organizations import OrgAdmin, OrgDetail, OrgSummary
from domain.registry import NewOrg, Registry
from domain.schedules import Schedules, schedule_override
from domain.sizes import check_quota


class OrgIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    quota_bytes: int | None = None
    """None follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota."""


_TIER = {"type": "integer", "minimum": 0}
RETENTION_SCHEMA = msgspec.Meta(
    extra_json_schema={
        "extra": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"keep_last": {"type": "integer", "minimum": 1}} | dict.fromkeys(TIERS[1:], _TIER),
                    "required": ["keep_last"],
                    "additionalProperties": False,
                },
                {"type": "null"},
            ]
        }
    }
)
"""How the OpenAPI document shows `retention`, which the struct takes as `Any` (see OrgPatch)."""


class OrgPatch(msgspec.Struct, forbid_unknown_fields=True):
    """At least one of the two. `quota_bytes`: null follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota.
    `retention`: `{"keep_last", "keep_daily", "keep_weekly", "keep_monthly"}` (tiers left out are 0), or
    null to follow the default policy again; validated by hand so that every bad policy is key `retention`.
    Typed `Any` on purpose: a type error msgspec found under `retention` would carry the name of a service
    (a Litestar dependency) and Litestar answers those 500, not 400."""

    quota_bytes: int | msgspec.UnsetType | None = msgspec.UNSET
    retention: Annotated[Any, RETENTION_SCHEMA] = msgspec.UNSET
    expected_every: str | int | msgspec.UnsetType | None = msgspec.UNSET
    """A duration (`90m`, `36h`, `2d`) or whole seconds. Naming either schedule field sets the org's own
    schedule to exactly those given (null or absent: BACKUP_EXPECT_EVERY / BACKUP_GRACE)."""
    grace: str | int | msgspec.UnsetType | None = msgspec.UNSET


@post("/orgs", status_code=201, operation_class=Documented, responses=errors(400, 401, 413, 503))
async def create_org(data: JSONBody[OrgIn], registry: Service[Registry]) -> Response[Envelope[NewOrg]]:
    """Create an organization: `{"id", "name", "quota_bytes"}`."""
    return ok(await registry.create_org(data.name, data.quota_bytes), "organization created", 201)


@get("/orgs", operation_class=Documented, responses=errors(401, 503))
async def list_orgs(orgs: Service[OrgAdmin]) -> Response[Envelope[list[OrgSummary]]]:
    """Every organization with its usage and number of systems."""
    return ok(await orgs.list_orgs())


@get("/orgs/{org_id:str}", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def show_org(org_id: FromPath[str], orgs: Service[OrgAdmin]) -> Response[Envelope[OrgDetail]]:
    """One organization with the quota that applies to it."""
    return ok(await orgs.show(org_id))


@patch("/orgs/{org_id:str}", operation_class=Documented, responses=errors(400, 401, 404, 413, 503))
async def set_org_quota(
    org_id: FromPath[str], data: JSONBody[OrgPatch], orgs: Service[OrgAdmin], schedules: Service[Schedules]
) -> Response[Envelope[OrgDetail]]:
    """Set the organization's own quota (`0` none, `null` the default), its own retention policy (`null`
    the default) and/or its schedule. All are checked before any changes."""
    unset = msgspec.UNSET
    fields = (data.quota_bytes, data.retention, data.expected_every, data.grace)
    if all(field is unset for field in fields):
        raise InvalidInput("body", "give quota_bytes, retention, expected_every or grace", "{}")
    policy = None if data.retention is None or data.retention is unset else policy_from(data.retention)
    if data.quota_bytes is not unset:
        check_quota(data.quota_bytes)
    override = None
    if data.expected_every is not unset or data.grace is not unset:
        every = None if data.expected_every is unset else data.expected_every
        override = schedule_override(every, None if data.grace is unset else data.grace)
    if data.retention is not unset:
        await orgs.set_retention(org_id, policy)
    if override is not None:
        await schedules.set_org(org_id, override)
    if data.quota_bytes is not unset:
        return ok(await orgs.set_quota(org_id, data.quota_bytes), "quota set")
    return ok(await orgs.show(org_id), "organization updated")


def policy_from(body: object) -> RetentionPolicy:
    """A policy from its JSON object; anything but whole numbers under the four names is key `retention`."""
    if not isinstance(body, dict):
        raise InvalidInput(
            "retention",
            "must be an object of keep_last, keep_daily, keep_weekly, keep_monthly or null",
            str(body)[:100],
        )
    unknown = sorted(set(body) - set(TIERS))
    if unknown:
        raise InvalidInput("retention", f"unknown field {unknown[0]}", unknown[0])
    for tier, value in body.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput("retention", f"{tier} must be a whole number", str(value)[:100])
    if "keep_last" not in body:
        raise InvalidInput("retention", "keep_last is required", "")
    return RetentionPolicy(**body)


ROUTES = [create_org, list_orgs, show_org, set_org_quota]
