"""Declarative models of the catalog schema, one module per part: `base` (the declarative base, the UTC
column type), `ledger` (organizations, systems, backups), `log` (the event log and its checkpoints), `alerts`
(webhooks, deliveries, cursors, refusals). Importing any of them loads this package, so `Base.metadata`
always holds every table. Callers import from here.

The Alembic revisions in `migrations/versions` create the same schema by hand; keep both in step.
"""

from adapters.sql.models.alerts import CursorRow, DeliveryRow, RefusalRow, WebhookRow
from adapters.sql.models.base import Base, UtcDateTime, utc
from adapters.sql.models.ledger import (
    BACKUPS,
    ORGANIZATIONS,
    SYSTEMS,
    BackupRow,
    OrganizationRow,
    SystemRow,
    backup_of,
    backup_values,
    policy_of,
    policy_values,
)
from adapters.sql.models.log import (
    CHECKPOINTS,
    EVENT_HEAD,
    EVENTS,
    LEAF_HASHES,
    CheckpointRow,
    EventHeadRow,
    EventRow,
    LeafHashRow,
)

__all__ = [
    "BACKUPS",
    "CHECKPOINTS",
    "EVENTS",
    "EVENT_HEAD",
    "LEAF_HASHES",
    "ORGANIZATIONS",
    "SYSTEMS",
    "BackupRow",
    "Base",
    "CheckpointRow",
    "CursorRow",
    "DeliveryRow",
    "EventHeadRow",
    "EventRow",
    "LeafHashRow",
    "OrganizationRow",
    "RefusalRow",
    "SystemRow",
    "UtcDateTime",
    "WebhookRow",
    "backup_of",
    "backup_values",
    "policy_of",
    "policy_values",
    "utc",
]
