"""The event log's signing side, wired: the key (loaded, or made at first start on the embedded default),
the checkpoint store, the checkpointer (a worker, and `log checkpoint`) and the audit (`log verify`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.http.metrics import Metrics
from app.settings import Settings
from domain.checkpoints import Checkpointer, LogAudit
from domain.maintenance import VerificationLedger
from domain.notes import NoteSigner
from domain.ports import BackupCatalog, CheckpointStore, Clock, EventLog, ObjectStore
from domain.receipts import BackupProofs, Receipts
from domain.scrub import Scrubber, ScrubPass

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.runtime.logkey import Ed25519Signer, Ed25519Verifier

# SPEC: a checkpoint at least once a minute while entries arrive.
CHECKPOINT_EVERY = timedelta(minutes=1)


@dataclass
class LogKey:
    """The log's signer, read from BACKUP_LOG_KEY_FILE (or `log.key` in the data dir, made there at first
    use when absent) the first time it is needed. A NoteSigner itself, so the checkpointer can hold it."""

    settings: Settings
    given: Ed25519Signer | None = None
    _loaded: Ed25519Signer | None = field(default=None, init=False)

    def load(self) -> Ed25519Signer:
        """Raises ValueError (one line naming BACKUP_LOG_KEY_FILE) when the key cannot be read."""
        if self._loaded is None:
            self._loaded = self.given or _read_or_make(self.settings)
        return self._loaded

    @property
    def name(self) -> str:
        return self.load().name

    @property
    def key_id(self) -> bytes:
        return self.load().key_id

    def sign(self, message: bytes) -> bytes:
        return self.load().sign(message)

    def verifier(self) -> Ed25519Verifier:
        return self.load().verifier()


def _read_or_make(settings: Settings) -> Ed25519Signer:
    from adapters.runtime.logkey import Ed25519Signer, load_signer, write_signer

    path = settings.log_key_path
    if settings.log_key_file is None and not path.exists():
        # Another process on this data dir may make it first: then its key is the one.
        with contextlib.suppress(FileExistsError):
            write_signer(path, Ed25519Signer.generate(settings.log_origin))
    return load_signer(path)


@dataclass(frozen=True, kw_only=True)
class LogSigning:
    key: LogKey
    store: CheckpointStore
    checkpointer: Checkpointer
    audit: LogAudit
    origin: str
    receipts: Receipts
    proofs: BackupProofs

    async def latest_note(self) -> str | None:
        """The latest signed checkpoint, or None before the first one."""
        latest = await self.store.latest()
        return None if latest is None else latest.note

    def public_key(self) -> str:
        """The verifier key, C2SP's `<name>+<key ID>+<base64 key>`."""
        return self.key.verifier().text()


def log_signing(
    settings: Settings,
    engine: AsyncEngine | None,
    catalog: BackupCatalog,
    events: EventLog,
    clock: Clock,
    signer: Ed25519Signer | None = None,
) -> LogSigning:
    key = LogKey(settings, signer)
    store = _store(engine, catalog)
    signing: NoteSigner = key
    return LogSigning(
        key=key,
        store=store,
        checkpointer=Checkpointer(events=events, store=store, signer=signing, origin=settings.log_origin, clock=clock),
        audit=LogAudit(events=events, store=store, verifier=_LazyVerifier(key)),
        origin=settings.log_origin,
        receipts=Receipts(signing, settings.log_origin),
        proofs=BackupProofs(events=events, store=store),
    )


@dataclass(frozen=True)
class _LazyVerifier:
    key: LogKey

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def key_id(self) -> bytes:
        return self.key.key_id

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self.key.verifier().verify(message, signature)


def _store(engine: AsyncEngine | None, catalog: BackupCatalog) -> CheckpointStore:
    if engine is not None:
        from adapters.sql.checkpoints import SqlCheckpointStore

        return SqlCheckpointStore(engine)
    from adapters.memory.catalog import InMemoryBackupCatalog
    from adapters.memory.checkpoints import InMemoryCheckpointStore

    if not isinstance(catalog, InMemoryBackupCatalog):
        raise ValueError("an in-memory checkpoint store needs the in-memory catalog's tables")
    return InMemoryCheckpointStore(catalog.tables)


SCRUB_EVERY = timedelta(minutes=1)
"""How often the serve process offers a scrubbing pass (each pass reads for at most its time budget)."""


def scrub_every(verify_every: timedelta) -> timedelta:
    """The scrubber's interval: SCRUB_EVERY, or BACKUP_VERIFY_EVERY when that is shorter (at least 1 s), so
    that every object is re-read once per period even with a period under a minute."""
    if not verify_every:
        return SCRUB_EVERY
    return max(timedelta(seconds=1), min(SCRUB_EVERY, verify_every))


def scrubber(
    settings: Settings, ledger: VerificationLedger | None, objects: ObjectStore, clock: Clock, metrics: Metrics
) -> Scrubber | None:
    """The scrubber on the whole ledger; None when the ledger cannot be seen whole."""
    if ledger is None:
        return None
    return Scrubber(
        ledger=ledger,
        objects=objects,
        clock=clock,
        every=settings.verify_every,
        rate=settings.verify_rate,
        on_failure=lambda _finding: metrics.verify_failure(),
    )


@dataclass(frozen=True)
class ScrubWorker:
    """A scheduled scrubbing pass, then the unverified-backups gauge."""

    scrubber: Scrubber
    metrics: Metrics

    async def __call__(self) -> ScrubPass:
        done = await self.scrubber()
        if self.scrubber.every:
            cutoff = self.scrubber.clock.now() - self.scrubber.every
            self.metrics.set_unverified(await self.scrubber.ledger.count_unverified(cutoff))
        return done
