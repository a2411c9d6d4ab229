"""Ports: what the domain needs from the outside world, one module per role. Adapters satisfy them
structurally. Callers import from here."""

from domain.ports.alerts import SentAnswer, SystemHealth, WebhookSender, WebhookStore
from domain.ports.clock import Clock, IdFactory
from domain.ports.ledger import BackupCatalog, OrgUsage, Standing, SystemDirectory
from domain.ports.log import CheckpointStore, EventLog, StoredCheckpoint
from domain.ports.objects import ObjectRead, ObjectStore, StoredObject
from domain.ports.ratelimit import Allowed, Denied, RateLimiter

__all__ = [
    "Allowed",
    "BackupCatalog",
    "CheckpointStore",
    "Clock",
    "Denied",
    "EventLog",
    "IdFactory",
    "ObjectRead",
    "ObjectStore",
    "OrgUsage",
    "RateLimiter",
    "SentAnswer",
    "Standing",
    "StoredCheckpoint",
    "StoredObject",
    "SystemDirectory",
    "SystemHealth",
    "WebhookSender",
    "WebhookStore",
]
