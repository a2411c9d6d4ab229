"""The log entries of changes other than an upload's commit: an operator's (delete, protect, system and
organization changes) and the service's own (retention apply, fsck, the scrubber). The commit's entries and
the shared `backup_event` stay in `domain.events`, with the values they are made of."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from domain.events import Actor, Detail, EventType, NewEvent, Via, backup_event
from domain.ledger import Pruned
from domain.model import Backup, Organization, SystemIdentity

_EMPTY: Detail = MappingProxyType({})


def deleted(backup: Backup, at: datetime, actor: Actor, via: Via | None) -> NewEvent:
    """`backup.deleted` by the appliance, or by an operator through `via`."""
    detail: Detail = {} if via is None else {"via": via.value}
    return backup_event(EventType.BACKUP_DELETED, backup, at, actor, detail)


def system_event(
    kind: EventType, who: SystemIdentity, at: datetime, actor: Actor = Actor.OPERATOR, detail: Detail = _EMPTY
) -> NewEvent:
    return NewEvent(
        at=at,
        type=kind,
        org_id=who.org_id,
        system_key=who.system_key,
        actor=actor,
        detail=MappingProxyType(dict(detail)),
    )


def org_event(kind: EventType, org: Organization, at: datetime) -> NewEvent:
    """`org.created`, `org.quota_changed` or `org.retention_changed`, with the org's settings after it."""
    return NewEvent(at=at, type=kind, org_id=org.id, actor=Actor.OPERATOR, detail=org_settings(org))


def org_settings(org: Organization) -> Detail:
    """An organization's quota and retention override (null: the defaults), as a detail."""
    policy = org.retention
    detail: dict[str, str | int | bool | None] = {"quota_bytes": org.quota_bytes}
    for tier in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
        detail[tier] = None if policy is None else getattr(policy, tier)
    return MappingProxyType(detail)


def protection(backup: Backup, at: datetime, via: Via | None) -> NewEvent:
    """`backup.protected` (detail `note`) or `backup.unprotected`, by an operator through `via`: `backup`
    as it is after the change."""
    detail: dict[str, str | int | bool | None] = {} if via is None else {"via": via.value}
    if backup.protected:
        detail["note"] = backup.protected_note
    kind = EventType.BACKUP_PROTECTED if backup.protected else EventType.BACKUP_UNPROTECTED
    return backup_event(kind, backup, at, Actor.OPERATOR, detail)


def pruned_by_policy(pruned: Pruned, at: datetime) -> list[NewEvent]:
    """`retention apply`: a `backup.pruned` per backup, detail `rule`, by the service."""
    return [
        backup_event(EventType.BACKUP_PRUNED, victim, at, detail={"rule": pruned.rules[victim.id].value})
        for victim in pruned.pruned
    ]


def quarantined(backup: Backup, at: datetime, reason: str, moved_to: str | None) -> NewEvent:
    """`backup.quarantined`: fsck removed a stored backup's row (`reason`: its problem kind), its bytes kept
    under `moved_to` (None: there were none)."""
    return backup_event(EventType.BACKUP_QUARANTINED, backup, at, detail={"reason": reason, "moved_to": moved_to})


def verified(backup: Backup, at: datetime, result: str) -> NewEvent:
    """`backup.verified`: the scrubber re-read the object; `result` `ok`, `mismatch` or `missing`."""
    return backup_event(EventType.BACKUP_VERIFIED, backup, at, detail={"result": result})
