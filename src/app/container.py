"""What `app.composition.build` makes: every service of one process, in one `Container`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from adapters.http.gate import UploadGate
from adapters.http.metrics import Metrics
from app.alerting import Alerting
from app.eventlog import LogSigning
from app.settings import Settings
from app.workers import Leases, SoleReplica, Worker
from domain.attempts import FailedAttempts
from domain.destroy import DestroySystem
from domain.fsck import Fsck
from domain.history import History
from domain.ingest import IngestBackup
from domain.keeping import RetentionAdmin
from domain.maintenance import MaintenanceCatalog
from domain.organizations import OrgAdmin
from domain.ports import (
    BackupCatalog,
    Clock,
    EventLog,
    IdFactory,
    ObjectStore,
    RateLimiter,
    SystemDirectory,
    SystemHealth,
)
from domain.reaper import Reaper
from domain.registry import Registry
from domain.report import Reports
from domain.restore import BackupAccess
from domain.schedules import Schedules
from domain.scrub import Scrubber
from domain.systems import SystemAdmin
from domain.webhook_admin import WebhookAdmin

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.http.console import ConsoleServices
    from adapters.sql.migrate import Migrated


@dataclass(frozen=True, kw_only=True)
class Container:
    """Every service of one process. The edges take what they need through their own Protocols."""

    settings: Settings
    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore
    limiter: RateLimiter
    clock: Clock
    ids: IdFactory
    maintenance: MaintenanceCatalog | None
    """The whole ledger for fsck and the reaper; None when the ledger cannot be seen whole."""
    events: EventLog
    """The event log, for its readers (log show, the admin API, the console, the checkpointer)."""
    ingest: IngestBackup
    metrics: Metrics
    """This service's Prometheus registry (one per container: tests build many in one process)."""
    registry: Registry
    access: BackupAccess
    """Appliances' access to their own backups; BACKUP_APPEND_ONLY refuses their deletes."""
    operator_access: BackupAccess
    """Operators' access (CLI, admin API): append-only mode binds appliances only."""
    orgs: OrgAdmin
    systems: SystemAdmin
    health: SystemHealth
    schedules: Schedules
    alerting: Alerting
    """Webhooks, the schedule evaluator and the notifier (`app.alerting`)."""
    destroy: DestroySystem
    history: History
    retention: RetentionAdmin
    log: LogSigning
    """The log's key, checkpoints, checkpointer and audit."""
    fsck: Fsck | None
    scrubber: Scrubber | None
    """Re-reads stored objects (BACKUP_VERIFY_EVERY, BACKUP_VERIFY_RATE); None without the whole ledger."""
    reaper: Reaper | None
    attempts: FailedAttempts
    """Failed console sign-ins and admin bearer tokens, limited per client address."""
    signed_out: RateLimiter
    """Console sessions signed out before they expire: one hit per session id, remembered for a session's
    longest life (on Redis, by every replica)."""
    workers: tuple[Worker, ...] = ()
    """The serve process's background workers (`app.workers`)."""
    leases: Leases = field(default_factory=SoleReplica)
    """What holds each worker's lease: the shared ledger, so one replica at a time does the work."""
    engine: AsyncEngine | None = None
    read_engine: AsyncEngine | None = None
    """Authentication's reads (on SQLite, connections beside the writer's); disposed with the engine."""

    @cached_property
    def gate(self) -> UploadGate:
        """The HTTP edge's bounds on uploads in flight per system and on silent bodies."""
        return UploadGate(self.settings.body_idle_timeout.total_seconds(), self.settings.max_uploads_per_system)

    @cached_property
    def console(self) -> ConsoleServices | None:
        """The operator console's services, when an admin token turns it on. Built on first use: its
        templates and Litestar would cost every CLI command half a second."""
        if self.settings.admin_token is None:
            return None
        from adapters.http.console import ConsoleServices

        return ConsoleServices(
            clock=self.clock,
            schedule=self.settings.schedule,
            admin_token=self.settings.admin_token,
            attempts=self.attempts,
            signed_out=self.signed_out,
        )

    async def system_states(self) -> dict[str, int]:
        """How many systems are in each state, for /metrics."""
        return {state.value: count for state, count in (await self.systems.count_states()).items()}

    async def start(self) -> Migrated | None:
        """Bring the schema up to date (idempotent; serialised across replicas on PostgreSQL); what was
        done, or None when no database is in use."""
        if self.engine is None:
            return None
        from adapters.sql.migrate import upgrade

        return await upgrade(self.engine)

    @property
    def webhooks(self) -> WebhookAdmin:
        return self.alerting.webhooks

    @property
    def reports(self) -> Reports:
        return Reports(systems=self.systems, orgs=self.orgs, health=self.health, log=self.events, clock=self.clock)

    async def close(self) -> None:
        close_sender = getattr(self.alerting.sender, "aclose", None)
        if close_sender is not None:
            await close_sender()
        if self.read_engine is not None and self.read_engine is not self.engine:
            await self.read_engine.dispose()
        if self.engine is not None:
            await self.engine.dispose()
        for limiter in (self.limiter, self.attempts.limiter, self.signed_out):
            close = getattr(limiter, "aclose", None)
            if close is not None:
                await close()
