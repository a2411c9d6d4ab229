"""The admin API's organization routes: create, list, show, set the quota."""

from __future__ import annotations

import msgspec
from litestar import Response, get, patch, post
from litestar.params import FromPath, JSONBody

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from domain.model import Organization
from domain.organizations import OrgAdmin, OrgDetail, OrgSummary
from domain.registry import Registry


class OrgIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    quota_bytes: int | None = None
    """None follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota."""


class QuotaIn(msgspec.Struct, forbid_unknown_fields=True):
    quota_bytes: int | None
    """Required; null follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota."""


@post("/orgs", status_code=201, operation_class=Documented, responses=errors(400, 401, 413, 503))
async def create_org(data: JSONBody[OrgIn], registry: Service[Registry]) -> Response[Envelope[Organization]]:
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
    org_id: FromPath[str], data: JSONBody[QuotaIn], orgs: Service[OrgAdmin]
) -> Response[Envelope[OrgDetail]]:
    """Set the organization's own quota (`0` none, `null` the default)."""
    return ok(await orgs.set_quota(org_id, data.quota_bytes), "quota set")


ROUTES = [create_org, list_orgs, show_org, set_org_quota]
