"""The event log's values: what happened to what the service holds, recorded once (SPEC "The event log").

A change's use case (or the catalog/directory on its behalf) describes what happened as `NewEvent`s; the
adapter that makes the change appends them in the same transaction, where they get their `seq`. Nothing
else writes the log. The constructors here (the commit's) and in `domain.entries` (every other change's) are
the one place each type's fields and detail are decided.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from domain.ledger import Committed, Outcome
from domain.model import Backup

Detail = Mapping[str, str | int | bool | None]
_EMPTY: Detail = MappingProxyType({})


class WallClock:
    """The real time, for adapters built without a Clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class EventType(enum.StrEnum):
    """Every type SPEC names. New types are appended here (and nowhere else needs to change)."""

    BACKUP_STORED = "backup.stored"
    BACKUP_DUPLICATE = "backup.duplicate"
    BACKUP_REPLAYED = "backup.replayed"
    BACKUP_PRUNED = "backup.pruned"
    BACKUP_DELETED = "backup.deleted"
    BACKUP_PROTECTED = "backup.protected"
    BACKUP_UNPROTECTED = "backup.unprotected"
    BACKUP_VERIFIED = "backup.verified"
    BACKUP_QUARANTINED = "backup.quarantined"
    SYSTEM_CREATED = "system.created"
    SYSTEM_SUSPENDED = "system.suspended"
    SYSTEM_RESUMED = "system.resumed"
    SYSTEM_SECRET_ROTATED = "system.secret_rotated"  # noqa: S105 (an event's name, not a secret)
    SYSTEM_SCHEDULE_CHANGED = "system.schedule_changed"
    SYSTEM_DESTROYED = "system.destroyed"
    ORG_CREATED = "org.created"
    ORG_QUOTA_CHANGED = "org.quota_changed"
    ORG_RETENTION_CHANGED = "org.retention_changed"
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_REMOVED = "webhook.removed"
    # The alerts webhooks deliver (SPEC "Knowing when something is wrong"); written by the schedule
    # evaluator (system.*), the commit (backup.size_anomaly, org.quota_near), `webhook test` (test).
    SYSTEM_DOWN = "system.down"
    SYSTEM_FAILING = "system.failing"
    SYSTEM_RECOVERED = "system.recovered"
    BACKUP_SIZE_ANOMALY = "backup.size_anomaly"
    ORG_QUOTA_NEAR = "org.quota_near"
    BACKUP_VERIFY_FAILED = "backup.verify_failed"
    TEST = "test"


class Actor(enum.StrEnum):
    """Who caused an entry: the appliance itself, an operator (detail `via` names the surface), or the
    service on its own (retention, the scrubber, fsck)."""

    APPLIANCE = "appliance"
    OPERATOR = "operator"
    SERVICE = "service"


class Via(enum.StrEnum):
    """The operator surface an action came through."""

    CLI = "cli"
    ADMIN = "admin"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An entry not yet appended: the writer gives it the next `seq`."""

    at: datetime
    type: EventType
    org_id: str | None
    system_key: str | None = None
    backup_id: str | None = None
    actor: Actor = Actor.SERVICE
    detail: Detail = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an event's time must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One entry of the log. `seq` counts from 0 without gaps, in commit order."""

    seq: int
    at: datetime
    type: EventType
    org_id: str | None
    system_key: str | None
    backup_id: str | None
    actor: Actor
    detail: Detail

    @classmethod
    def of(cls, seq: int, new: NewEvent) -> Event:
        return cls(
            seq=seq,
            at=new.at,
            type=new.type,
            org_id=new.org_id,
            system_key=new.system_key,
            backup_id=new.backup_id,
            actor=new.actor,
            detail=new.detail,
        )


def format_at(at: datetime) -> str:
    """The stored and canonical form of a time: RFC 3339 UTC with microseconds, fixed width (so text
    order is time order)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def encode_detail(detail: Detail) -> str:
    """The stored and canonical form of a detail: JSON, keys sorted, no spaces."""
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode_detail(text: str) -> Detail:
    decoded = json.loads(text)
    if not isinstance(decoded, dict):
        raise ValueError("an event detail must be a JSON object")
    return MappingProxyType(decoded)


def system_key_of(backup: Backup) -> str:
    """Object keys are `{org_id}/{system_key}/{id}`: the system key of a backup without a lookup."""
    return backup.object_key.split("/")[1]


def backup_event(
    kind: EventType, backup: Backup, at: datetime, actor: Actor = Actor.SERVICE, detail: Detail = _EMPTY
) -> NewEvent:
    return NewEvent(
        at=at,
        type=kind,
        org_id=backup.org_id,
        system_key=system_key_of(backup),
        backup_id=backup.id,
        actor=actor,
        detail=MappingProxyType(dict(detail)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """A reader's filter: entries after `after` (a seq; -1 from the start), of one system, at or after
    `since`, of one type; at most `limit`, in seq order."""

    after: int = -1
    system_key: str | None = None
    since: datetime | None = None
    type: EventType | None = None
    limit: int = 100
    backup_id: str | None = None
    newest_first: bool = False
    """The `limit` newest matching entries, newest first (a console's history), instead of the oldest."""

    def matches(self, event: Event) -> bool:
        return (
            event.seq > self.after
            and (self.system_key is None or event.system_key == self.system_key)
            and (self.since is None or event.at >= self.since)
            and (self.type is None or event.type is self.type)
            and (self.backup_id is None or event.backup_id == self.backup_id)
        )


def commit_events(committed: Committed, at: datetime) -> list[NewEvent]:
    """What one upload's commit did: `backup.stored` and a `backup.pruned` per victim (detail `rule`: the
    rule that dropped it, `superseded` for the upload itself), or one `backup.duplicate`/`backup.replayed`
    naming the stored backup that answered."""
    if committed.outcome is not Outcome.STORED:
        kind = EventType.BACKUP_DUPLICATE if committed.outcome is Outcome.DUPLICATE else EventType.BACKUP_REPLAYED
        return [backup_event(kind, committed.backup, at, Actor.APPLIANCE)]
    stored = backup_event(
        EventType.BACKUP_STORED,
        committed.backup,
        at,
        Actor.APPLIANCE,
        {"sha256": committed.backup.sha256, "size": committed.backup.size},
    )
    pruned = [
        backup_event(
            EventType.BACKUP_PRUNED,
            victim,
            at,
            detail={"rule": _rule(committed, victim)},
        )
        for victim in committed.pruned
    ]
    return [stored, *pruned]


def _rule(committed: Committed, victim: Backup) -> str:
    rule = committed.rules.get(victim.id)
    if rule is not None:
        return rule.value
    return "superseded" if victim.id == committed.backup.id else "last"


def leaf_bytes(
    seq: int,
    at: str,
    type: str,
    org_id: str | None,
    system_key: str | None,
    backup_id: str | None,
    actor: str,
    detail: str,
) -> bytes:
    """The canonical bytes of entry `seq` (leaf `seq` of the Merkle tree), from its stored text columns:
    one JSON object, keys sorted, no spaces, UTF-8, with the stored detail (already canonical JSON) in
    place. For a well-formed entry this equals `json.dumps(entry, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` of SPEC's entry shape."""
    fields = {"actor": actor, "at": at, "backup_id": backup_id, "org_id": org_id, "system_key": system_key}
    text = {name: json.dumps(value, ensure_ascii=False) for name, value in fields.items()}
    return (
        f'{{"actor":{text["actor"]},"at":{text["at"]},"backup_id":{text["backup_id"]},"detail":{detail},'
        f'"org_id":{text["org_id"]},"seq":{seq},"system_key":{text["system_key"]},'
        f'"type":{json.dumps(type, ensure_ascii=False)}}}'
    ).encode()
