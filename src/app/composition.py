"""The composition root: the one place that builds every adapter from the settings and wires the use
cases onto them. The server (`app.asgi`), the CLI (`app.cli`) and the unit tests (in-memory overrides,
`tests/unit/fakes.py`) all get their world from `build`.

Adapters are imported where they are built, so a command that needs none of them (`--help`) never pays
for importing SQLAlchemy, alembic, obstore or the Redis client.

To add a service: give `Container` a field, build it in `build` (from an `Overrides` field when tests
must replace it), and name it in the Protocol of the edge that uses it (`adapters/http/services.py`,
`adapters/cli/services.py`): the HTTP edge offers every member of its Protocol, nothing else to edit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from adapters.http.answers import answer_for
from adapters.http.gate import UploadGate
from adapters.http.metrics import Metrics
from adapters.runtime.clock import SystemClock, Uuid7Factory
from app import backends
from app.alerting import Alerting, alerting
from app.eventlog import CHECKPOINT_EVERY, LogSigning, ScrubWorker, log_signing, scrub_every, scrubber
from app.settings import Settings
from app.workers import Leases, SoleReplica, Worker
from domain.attempts import FAILURES_PER_MINUTE, FailedAttempts
from domain.destroy import DestroySystem
from domain.errors import DomainError
from domain.events import Actor
from domain.fsck import Fsck
from domain.history import History
from domain.ingest import HEARTBEAT, IngestBackup
from domain.keeping import RetentionAdmin
from domain.maintenance import GRACE, MaintenanceCatalog
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
    WebhookSender,
)
from domain.reaper import Reaper
from domain.refusals import Refusals
from domain.registry import Registry
from domain.report import Reports
from domain.restore import BackupAccess
from domain.schedules import Schedules
from domain.scrub import Scrubber
from domain.systems import SystemAdmin
from domain.webhook_admin import WebhookAdmin
from domain.webhooks import RetryPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.http.console import ConsoleServices
    from adapters.runtime.logkey import Ed25519Signer
    from adapters.sql.migrate import Migrated

# A console session never outlives this (SessionPolicy.absolute): how long a sign-out is remembered.
SESSION_LONGEST = 8 * 3600
# How often each replica offers to run a reaper pass.
REAPER_INTERVAL = timedelta(minutes=5)
# How often the notifier queues new alerts and sends due deliveries (a first try within seconds).
NOTIFY_EVERY = timedelta(seconds=2)


@dataclass(frozen=True, kw_only=True)
class Overrides:
    """Pieces a test or a demo supplies instead of the ones the settings name."""

    directory: SystemDirectory | None = None
    catalog: BackupCatalog | None = None
    health: SystemHealth | None = None
    objects: ObjectStore | None = None
    limiter: RateLimiter | None = None
    clock: Clock | None = None
    ids: IdFactory | None = None
    engine: AsyncEngine | None = None
    """An engine the overriding adapters use; the container migrates and disposes it."""
    maintenance: MaintenanceCatalog | None = None
    reaper_age: timedelta | None = None
    """How long the reaper lets an intent stay silent (default: the domain's GRACE, 1 h)."""
    reaper_interval: timedelta | None = None
    """How often the server offers a reaper pass (default: REAPER_INTERVAL)."""
    heartbeat: timedelta | None = None
    """How often an upload still receiving marks its intent alive (default: the domain's HEARTBEAT)."""
    events: EventLog | None = None
    """The event log's reader (default: on the engine, or on the in-memory catalog's tables)."""
    log_signer: Ed25519Signer | None = None
    """The log's key (default: BACKUP_LOG_KEY_FILE, or made in the data dir at first use)."""
    checkpoint_every: timedelta | None = None
    """How often the server offers a checkpoint (default: CHECKPOINT_EVERY, 1 min)."""
    notify_every: timedelta | None = None
    """How often the notifier queues and sends (default: NOTIFY_EVERY, 2 s)."""
    webhook_retry: RetryPolicy | None = None
    """When refused deliveries are tried again (default: the domain's RetryPolicy, 24 h)."""
    webhook_sender: WebhookSender | None = None


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


def build(settings: Settings, overrides: Overrides | None = None) -> Container:
    """Raises ValueError with a one-line reason when a URL cannot be served."""
    given = overrides or Overrides()
    engine = given.engine
    read_engine = None
    clock = given.clock or SystemClock()
    if given.directory is None or given.catalog is None:
        from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine, make_read_engine

        engine = engine or make_engine(settings.database_url)
        if given.directory is None:
            read_engine = make_read_engine(engine)
        directory = given.directory or SqlSystemDirectory(engine, clock, reads=read_engine)
        catalog = given.catalog or SqlBackupCatalog(engine, clock)
    else:
        directory, catalog = given.directory, given.catalog
    health = given.health or backends.health(directory, engine)
    maintenance = given.maintenance
    if maintenance is None and engine is not None:
        from adapters.sql.maintenance import SqlMaintenanceCatalog

        maintenance = SqlMaintenanceCatalog(engine)
    objects = given.objects or backends.object_store(settings)
    limiter = given.limiter or backends.rate_limiter(settings, clock)
    failed_secrets = backends.guard_limiter(settings, clock, {60: FAILURES_PER_MINUTE}, "failed-secrets")
    signed_out = backends.guard_limiter(settings, clock, {SESSION_LONGEST: 1}, "signed-out")
    ids = given.ids or Uuid7Factory()
    limits = settings.limits
    events = given.events or backends.event_log(engine, catalog)
    signing = log_signing(settings, engine, catalog, events, clock, given.log_signer)
    metrics = Metrics(rate_limit_failures=backends.failures_of(limiter, failed_secrets, signed_out))
    scrub = scrubber(settings, maintenance, objects, clock, metrics)
    alerts = alerting(
        settings,
        engine,
        directory,
        health,
        events,
        clock,
        ids,
        metrics.delivery,
        retry=given.webhook_retry,
        sender=given.webhook_sender,
    )
    reaper = (
        None
        if maintenance is None
        else Reaper(catalog=maintenance, objects=objects, clock=clock, grace=given.reaper_age or GRACE)
    )
    return Container(
        settings=settings,
        directory=directory,
        catalog=catalog,
        objects=objects,
        limiter=limiter,
        clock=clock,
        ids=ids,
        maintenance=maintenance,
        engine=engine,
        read_engine=read_engine,
        events=events,
        ingest=IngestBackup(
            catalog=catalog,
            objects=objects,
            limiter=limiter,
            clock=clock,
            ids=ids,
            limits=limits,
            heartbeat=given.heartbeat or HEARTBEAT,
            refused=Refusals(health=health, clock=clock, status_of=_status_of),
        ),
        metrics=metrics,
        scrubber=scrub,
        alerting=alerts,
        registry=Registry(directory=directory, ids=ids, clock=clock),
        access=BackupAccess(catalog=catalog, objects=objects, limits=limits, append_only=settings.append_only),
        operator_access=BackupAccess(catalog=catalog, objects=objects, limits=limits, actor=Actor.OPERATOR),
        orgs=OrgAdmin(directory=directory, catalog=catalog, default_quota=limits.max_size_per_org, limits=limits),
        systems=SystemAdmin(directory=directory, health=health, clock=clock, limits=limits, schedule=settings.schedule),
        health=health,
        schedules=Schedules(directory=directory, health=health, default=settings.schedule, clock=clock),
        destroy=DestroySystem(directory=directory, catalog=catalog, objects=objects),
        history=History(events=events, clock=clock),
        retention=RetentionAdmin(directory=directory, catalog=catalog, objects=objects, limits=limits),
        log=signing,
        fsck=None if maintenance is None else Fsck(catalog=maintenance, objects=objects, clock=clock, events=events),
        reaper=reaper,
        attempts=FailedAttempts(limiter=failed_secrets),
        signed_out=signed_out,
        workers=_workers(
            given, reaper, signing, alerts, settings, None if scrub is None else ScrubWorker(scrub, metrics)
        ),
        leases=maintenance or SoleReplica(),
    )


def _workers(
    given: Overrides,
    reaper: Reaper | None,
    signing: LogSigning,
    alerts: Alerting,
    settings: Settings,
    scrub: ScrubWorker | None,
) -> tuple[Worker, ...]:
    """The background workers of a serve process, one line each (those whose ledger is absent are left out)."""
    candidates: list[tuple[str, timedelta, Callable[[], Awaitable[object]] | None]] = [
        ("reaper", given.reaper_interval or REAPER_INTERVAL, reaper),
        ("checkpointer", given.checkpoint_every or CHECKPOINT_EVERY, signing.checkpointer),
        ("schedule-evaluator", settings.check_every, alerts.evaluator),
        ("notifier", given.notify_every or NOTIFY_EVERY, alerts.notifier),
        ("scrubber", scrub_every(settings.verify_every), scrub),
    ]
    return tuple(Worker(name, every, run) for name, every, run in candidates if run is not None)


def _status_of(error: DomainError) -> int | None:
    """The status the HTTP edge's one error table answers `error` with (what a refusal is recorded as)."""
    answer = answer_for(error)
    return None if answer is None else answer.status
