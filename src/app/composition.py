"""The composition root: the one place that builds every adapter from the settings and wires the use
cases onto them. The server (`app.asgi`), the CLI (`app.cli`) and the unit tests (in-memory overrides,
`tests/unit/fakes.py`) all get their world from `build`.

Adapters are imported where they are built, so a command that needs none of them (`--help`) never pays
for importing SQLAlchemy, alembic, obstore or the Redis client.

To add a service: give `Container` (`app/container.py`) a field, build it in `build` (from an `Overrides`
field when tests must replace it), and name it in the Protocol of the edge that uses it
(`adapters/http/services.py`, `adapters/cli/services.py`): the HTTP edge offers every member of its
Protocol, nothing else to edit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.http.answers import answer_for
from adapters.http.metrics import Metrics
from adapters.runtime.clock import SystemClock, Uuid7Factory
from app import backends
from app.alerting import Alerting, alerting
from app.container import Container
from app.eventlog import CHECKPOINT_EVERY, LogSigning, ScrubWorker, log_signing, scrub_every, scrubber
from app.settings import Settings
from app.workers import SoleReplica, Worker
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
from domain.restore import BackupAccess
from domain.schedules import Schedules
from domain.systems import SystemAdmin
from domain.webhooks import RetryPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.runtime.logkey import Ed25519Signer

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
