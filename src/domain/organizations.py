"""Operator use cases on organizations: list them, show one, set its quota."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from domain import quota
from domain.errors import NotFound
from domain.model import Limits, Organization, RetentionPolicy
from domain.ports import BackupCatalog, SystemDirectory
from domain.retention import check_policy
from domain.sizes import check_quota


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgSummary:
    """One row of `org list`. Field names are the JSON keys of SPEC."""

    id: str
    name: str
    quota_bytes: int | None
    used_bytes: int
    systems: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgDetail:
    """`org show`: `effective_quota_bytes` is the quota that applies, 0 when none does; `retention` the
    policy in force, `retention_override` the organization's own (None: it follows the default)."""

    id: str
    name: str
    quota_bytes: int | None
    effective_quota_bytes: int
    used_bytes: int
    systems: int
    retention: RetentionPolicy
    retention_override: RetentionPolicy | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgAdmin:
    """Lets an operator watch organizations' usage and change their quotas."""

    directory: SystemDirectory
    catalog: BackupCatalog
    default_quota: int
    """BACKUP_MAX_SIZE_PER_ORG, what an organization without its own quota follows (0: none)."""
    limits: Limits = field(
        default_factory=lambda: Limits(max_upload_size=1, max_per_system=10, max_size_per_system=1, max_size_per_org=0)
    )
    """The default retention policy (and BACKUP_MAX_PER_SYSTEM, what any policy's sum must stay within)."""

    def effective_quota(self, quota_bytes: int | None) -> int:
        """The quota that applies to an organization whose own is `quota_bytes` (None: the default); 0 when
        none does."""
        return quota.effective_quota(quota_bytes, self.default_quota)

    async def list_orgs(self) -> list[OrgSummary]:
        orgs = await self.directory.list_orgs()
        systems = Counter(s.identity.org_id for s in await self.directory.list_systems())
        summaries = []
        for org in orgs:
            usage = await self.catalog.org_usage(org.id)
            summaries.append(
                OrgSummary(
                    id=org.id,
                    name=org.name,
                    quota_bytes=org.quota_bytes,
                    used_bytes=usage.used_bytes,
                    systems=systems[org.id],
                )
            )
        return summaries

    async def show(self, org_id: str) -> OrgDetail:
        """Raises NotFound for an unknown organization."""
        org = await self.directory.get_org(org_id)
        if org is None:
            raise NotFound(f"organization {org_id} not found")
        return await self._detail(org)

    async def set_quota(self, org_id: str, quota_bytes: int | None) -> OrgDetail:
        """`quota_bytes` None follows the default, 0 means no quota.

        Raises:
            InvalidInput: A negative quota.
            NotFound: An unknown organization.
        """
        check_quota(quota_bytes)
        org = await self.directory.set_org_quota(org_id, quota_bytes)
        return await self._detail(org)

    async def set_retention(self, org_id: str, policy: RetentionPolicy | None) -> OrgDetail:
        """Give the organization its own policy, or (None) let it follow the default again. It applies at
        each system's next commit, or at once through `retention apply`.

        Raises:
            InvalidInput: key `retention`, a policy the service cannot hold; nothing changed.
            NotFound: An unknown organization.
        """
        if policy is not None:
            check_policy(policy, self.limits.max_per_system)
        org = await self.directory.set_org_retention(org_id, policy)
        return await self._detail(org)

    async def _detail(self, org: Organization) -> OrgDetail:
        usage = await self.catalog.org_usage(org.id)
        return OrgDetail(
            id=org.id,
            name=org.name,
            quota_bytes=org.quota_bytes,
            effective_quota_bytes=self.effective_quota(org.quota_bytes),
            used_bytes=usage.used_bytes,
            systems=len(await self.directory.list_systems(org.id)),
            retention=self.limits.policy_for(org.retention),
            retention_override=org.retention,
        )
