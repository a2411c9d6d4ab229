"""The ingest use case: stream one backup into the store and account for it, or leave no trace."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from domain import openpgp
from domain.errors import DomainError, InvalidInput, RateLimited, StoreUnavailable, TooLarge
from domain.ledger import Committed, Outcome, plan_commit
from domain.metering import MeteredBody
from domain.model import Backup, BackupState, ExpectedDigest, Limits, SystemIdentity, Upload
from domain.naming import derive_name, object_key
from domain.ports import BackupCatalog, Clock, Denied, IdFactory, ObjectStore, RateLimiter, Standing

log = logging.getLogger(__name__)
# How often an upload still streaming tells the catalog it is alive (the reaper waits an hour).
HEARTBEAT = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """How an upload ended. `backup`: what the answer shows — the new backup (STORED), or the stored
    backup the body equals (DUPLICATE: `200`) or whose Idempotency-Key it retried (REPLAYED: `201` with
    `Idempotent-Replayed`). `pruned`: ids of the backups retention removed because of this upload (the
    upload's own id when a racing newer upload superseded it); their objects are erased, or left to the
    reaper when the store failed."""

    backup: Backup
    outcome: Outcome
    pruned: tuple[str, ...]
    seq: int | None = None
    """The event log entry recording this answer (its receipt's leaf index)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestBackup:
    """The ingest protocol (step by step in docs/architecture.md): header checks, rate limit, advisory quota,
    intent row (a key in flight is refused here, before the body is read), sniff, stream, digest
    check, one atomic commit that also settles duplicates and replays, then erase what it dropped."""

    catalog: BackupCatalog
    objects: ObjectStore
    limiter: RateLimiter
    clock: Clock
    ids: IdFactory
    limits: Limits
    heartbeat: timedelta = HEARTBEAT
    """How often an upload still receiving marks its intent alive."""
    refused: Callable[[SystemIdentity, InvalidInput], Awaitable[None]] | None = None
    """Told of each refusal (bad input, too large, key reused) before it propagates: the state rule's
    `failing`. Only refusals pay for it; a stored upload never calls it."""

    async def __call__(self, standing: Standing, upload: Upload) -> IngestResult:
        """`standing`: the uploader and what `SystemDirectory.authenticate_upload` read with it (its org's
        usage, its stored backups), so the advisory checks cost no further read."""
        try:
            return await self._ingest(standing, upload)
        except InvalidInput as error:
            if self.refused is not None:
                await self.refused(standing.identity, error)
            raise

    async def _ingest(self, standing: Standing, upload: Upload) -> IngestResult:
        who = standing.identity
        cap = self.limits.effective_upload_cap
        check_declared_size(upload.declared_size, cap)
        decision = await self.limiter.acquire(who.system_key)
        if isinstance(decision, Denied):
            raise RateLimited(decision.retry_after)
        await self._advisory_quota(standing, upload.declared_size or 0)

        uuid = self.ids.new_id()
        name = derive_name(upload.filename_header, uuid)
        backup_id = name.backup_id(uuid)
        intent = Backup(
            id=backup_id,
            system_id=who.system_id,
            org_id=who.org_id,
            object_key=object_key(who.org_id, who.system_key, backup_id),
            filename=name.filename,
            envelope=name.envelope,
            size=0,
            sha256="",
            mimetype=name.mimetype,
            uploaded_at=self.clock.now(),
            state=BackupState.UPLOADING,
            uploader_ip=upload.uploader_ip,
            idempotency_key=upload.idempotency_key,
        )
        await self.catalog.begin_upload(intent)
        commit: asyncio.Future[Committed] | None = None
        streamed = False
        try:
            body = aiter(upload.body)
            head = await self._sniff(body)
            streamed = True
            stored = await self._store(intent, head, body, cap, upload.digests)
            # Shielded: a shutdown that cancels this upload must not cut a commit in half.
            commit = asyncio.ensure_future(self.catalog.commit_upload(stored, self.limits, self.clock.now()))
            committed = await asyncio.shield(commit)
        except BaseException:
            if commit is not None and await _succeeded(commit):
                await _erase(self.catalog, self.objects, commit.result())  # committed after all: keep it
            else:
                await self._discard(intent, streamed)
            raise
        await _erase(self.catalog, self.objects, committed)
        return IngestResult(committed.backup, committed.outcome, tuple(b.id for b in committed.pruned), committed.seq)

    async def _advisory_quota(self, standing: Standing, declared: int) -> None:
        """Reject early from committed usage; the commit re-checks authoritatively."""
        usage, stored = standing.usage, standing.stored
        if declared and any(backup.size == declared for backup in stored):
            # Possibly a retry of a backup already stored: only the commit can tell (it settles duplicates
            # before it checks the quota), so a retry at an org near its quota answers 200, not 413.
            return
        plan_commit(
            stored=stored,
            incoming_size=declared,
            used_bytes=usage.used_bytes,
            quota_override=usage.quota_override,
            limits=self.limits,
            incoming_at=self.clock.now(),
            policy=usage.retention,
        )

    async def _sniff(self, body: AsyncIterator[bytes]) -> bytes:
        head = b""
        async for chunk in body:
            head += chunk
            if not openpgp.needed(head):
                break
        if not head:
            raise InvalidInput("body", "empty body")
        if self.limits.require_openpgp and not openpgp.looks_encrypted(head):
            raise InvalidInput("body", "not an encrypted OpenPGP message", head[:16].hex())
        return head

    async def _store(
        self, intent: Backup, head: bytes, body: AsyncIterator[bytes], cap: int, digests: Sequence[ExpectedDigest]
    ) -> Backup:
        metered = MeteredBody(head, self._heartbeat(intent.id, body), cap, also={d.algorithm for d in digests})
        written = await self.objects.put(intent.object_key, aiter(metered))
        if written != metered.size or not metered.sha256:
            raise StoreUnavailable(f"store reports {written} bytes written, {metered.size} were sent")
        for expected in digests:
            if metered.digest(expected.algorithm) != expected.value:
                sent = base64.b64encode(expected.value).decode()
                raise InvalidInput(expected.header, f"{expected.algorithm} does not match the body received", sent)
        return replace(intent, size=metered.size, sha256=metered.sha256, state=BackupState.STORED)

    async def _heartbeat(self, backup_id: str, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass the body on, marking the intent alive every `heartbeat` while it keeps arriving, so the
        reaper never takes an upload that is still receiving (a silent one ends at the HTTP edge)."""
        beaten = self.clock.now()
        async for chunk in body:
            now = self.clock.now()
            if now - beaten >= self.heartbeat:
                beaten = now
                try:
                    await self.catalog.keep_alive(backup_id, now)
                except DomainError:
                    log.warning("could not mark upload %s alive; the commit decides", backup_id)
            yield chunk

    async def _discard(self, intent: Backup, streamed: bool) -> None:
        """Erase the object (if any byte went to the store), then the intent row. If the store cannot
        erase it, the intent row stays so the reaper and fsck find the object; it never counts as stored."""
        if streamed:
            try:
                await self.objects.delete(intent.object_key)
            except DomainError:
                log.warning("could not discard %s; left for the reaper", intent.object_key)
                return
        try:
            await self.catalog.abort_upload(intent.id)
        except DomainError:
            log.warning("could not forget intent %s; left for the reaper", intent.id)


async def _erase(catalog: BackupCatalog, objects: ObjectStore, committed: Committed) -> None:
    """After the commit: the retention victims' objects and, for a duplicate or replay, the upload's own."""
    dropped = [] if committed.dropped is None else [committed.dropped]
    await prune(catalog, objects, [*committed.pruned, *dropped])


async def _succeeded(commit: asyncio.Future[Committed]) -> bool:
    """Let a commit that was under way when the upload was cancelled finish, and tell how it ended."""
    if not commit.done():
        await asyncio.wait({commit})
    return not commit.cancelled() and commit.exception() is None


def check_declared_size(declared: int | None, cap: int) -> None:
    """The cheap header checks, before any rate-limit slot is spent."""
    if declared is None:
        return
    if declared > cap:
        raise TooLarge("Content-Length", f"exceeds the upload cap of {cap} bytes", str(declared), {"limit_bytes": cap})
    if declared == 0:
        raise InvalidInput("body", "empty body", "0")


async def prune(catalog: BackupCatalog, objects: ObjectStore, victims: list[Backup]) -> None:
    """Erase victims' objects, then their rows. A failure leaves rows *deleting* for the reaper;
    they already count nowhere."""
    done: list[str] = []
    for victim in victims:
        try:
            await objects.delete(victim.object_key)
        except DomainError:
            log.warning("could not erase pruned %s; left for the reaper", victim.object_key)
            continue
        done.append(victim.id)
    if done:
        try:
            await catalog.finish_deletion(done)
        except DomainError:
            log.warning("could not finish deletion of %s; left for the reaper", done)
