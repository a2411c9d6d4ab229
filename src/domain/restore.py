"""The restore use case: a system lists, downloads and deletes its own backups."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from domain.errors import ChecksumMismatch, Forbidden, InvalidInput, NotFound, ObjectMissing, StoreUnavailable
from domain.events import Actor, Via
from domain.ingest import prune
from domain.model import Backup, Limits, SystemIdentity, SystemUsage
from domain.naming import is_backup_id
from domain.ports import BackupCatalog, ObjectStore
from domain.ranges import ByteSpan, RangeRequest, resolve


@dataclass(frozen=True, slots=True)
class BackupListing:
    """A system's stored backups, newest first, and its usage against its caps."""

    backups: list[Backup]
    usage: SystemUsage


@dataclass(frozen=True, slots=True)
class Download:
    """One backup being read: which bytes (`span`) and the stream of exactly those bytes."""

    backup: Backup
    span: ByteSpan
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupAccess:
    """What a system (or an operator acting for it) may do with its stored backups.

    Another system's backup is indistinguishable from an unknown one: both are NotFound, never
    Forbidden, so an id tells a caller nothing about other tenants. Ids are checked against the
    `<uuidv7><ext>` shape before they come near a query or an object key.
    """

    catalog: BackupCatalog
    objects: ObjectStore
    limits: Limits
    append_only: bool = False
    """True refuses deletes (Forbidden); retention pruning goes on regardless."""
    actor: Actor = Actor.APPLIANCE
    """Who deletes through this access, as the event log records it."""

    async def listing(self, who: SystemIdentity) -> BackupListing:
        stored = await self.catalog.stored_backups(who.system_id)
        usage = SystemUsage(
            count=len(stored),
            total_size=sum(b.size for b in stored),
            max_count=self.limits.max_per_system,
            max_total_size=self.limits.max_size_per_system,
        )
        return BackupListing(backups=sorted(stored, key=lambda b: b.id, reverse=True), usage=usage)

    async def get(self, who: SystemIdentity, backup_id: str) -> Backup:
        """The system's stored backup.

        Raises:
            InvalidInput: `backup_id` is not a backup id.
            NotFound: No such stored backup of this system.
        """
        check_backup_id(backup_id)
        backup = await self.catalog.get_backup(who.system_id, backup_id)
        if backup is None:
            raise NotFound(f"backup {backup_id} not found")
        return backup

    async def open(self, backup: Backup, wanted: RangeRequest | None = None) -> Download:
        """Open the backup for streaming, the whole of it or the range asked for.

        Raises:
            NotFound: The object is gone (deleted meanwhile, or lost: fsck reports it).
            RangeNotSatisfiable: The range lies outside the backup.
        """
        span = resolve(wanted, backup.size)
        try:
            read = await self.objects.get(backup.object_key, span.start, span.end)
        except ObjectMissing:
            raise NotFound(f"backup {backup.id} not found") from None
        if read.size != backup.size:
            raise StoreUnavailable(f"object {backup.object_key} has {read.size} bytes, the catalog {backup.size}")
        return Download(backup=backup, span=span, chunks=read.chunks)

    async def peek(self, backup: Backup, wanted: RangeRequest | None = None) -> ByteSpan:
        """What `open` would send, without reading a byte (an HTTP `HEAD`).

        Raises:
            NotFound: The object is gone.
            RangeNotSatisfiable: The range lies outside the backup.
        """
        opened = await self.open(backup, wanted)
        close = getattr(opened.chunks, "aclose", None)
        if close is not None:
            await close()
        return opened.span

    async def fetch(self, who: SystemIdentity, backup_id: str, wanted: RangeRequest | None = None) -> Download:
        """`get` then `open`."""
        return await self.open(await self.get(who, backup_id), wanted)

    async def delete(self, who: SystemIdentity, backup_id: str, via: Via | None = None) -> Backup:
        """Uncount the backup at once (logging `backup.deleted` by this access's actor, through `via` for
        an operator), then erase its object and its row. A store failure leaves the row *deleting* for
        the reaper; it counts nowhere any more.

        Raises:
            Forbidden: Append-only mode.
            InvalidInput: `backup_id` is not a backup id.
            NotFound: No such stored backup of this system.
        """
        if self.append_only:
            raise Forbidden("append-only mode: backups cannot be deleted")
        check_backup_id(backup_id)
        backup = await self.catalog.begin_deletion(who.system_id, backup_id, self.actor, via)
        if backup is None:
            raise NotFound(f"backup {backup_id} not found")
        await prune(self.catalog, self.objects, [backup])
        return backup


def check_backup_id(backup_id: str) -> None:
    if not is_backup_id(backup_id):
        raise InvalidInput("id", "not a backup id (a UUIDv7 with an allowlisted extension)", backup_id[:100])


async def verified(download: Download) -> AsyncIterator[bytes]:
    """The download's chunks, hashed on the way; raises ChecksumMismatch after the last one unless
    they hash to the stored sha256. Only meaningful for a whole-backup download."""
    hasher = hashlib.sha256()
    async for chunk in download.chunks:
        hasher.update(chunk)
        yield chunk
    got, stored = hasher.hexdigest(), download.backup.sha256
    if got != stored:
        raise ChecksumMismatch(f"backup {download.backup.id}: sha256 {got} does not match the stored {stored}")
