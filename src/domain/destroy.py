"""The destroy use case: erase a system, every object under its prefix first, then its rows."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import DomainError, NotFound, Protected
from domain.events import Via
from domain.ledger import check_unprotected
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory


@dataclass(frozen=True, slots=True)
class Destroyed:
    """What `system destroy` reports: the objects it erased."""

    system_key: str
    deleted_objects: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DestroySystem:
    """Erases a system for good: suspend it, uncount its bytes, erase its objects, then its rows.

    Stops at the first store error: rows whose objects are erased go, the others stay (*deleting*,
    uncounted) with the suspended system, so running it again finishes the job.
    """

    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore

    async def __call__(self, system_key: str, via: Via | None = None, include_protected: bool = False) -> Destroyed:
        """Each stored backup is logged `backup.deleted` by an operator through `via`, the system
        `system.destroyed` once its row goes. Raises NotFound for an unknown key, Protected (nothing
        changed) while a backup of the system is protected unless `include_protected`, StoreUnavailable
        when the store fails midway."""
        record = await self.directory.get_system(system_key)
        if record is None:
            raise NotFound(f"system {system_key} not found")
        who = record.identity
        check_unprotected(await self.catalog.stored_backups(who.system_id), include_protected)
        # No upload may start while its objects go; a suspended system fails authentication.
        await self.directory.set_suspended(system_key, True)
        try:
            rows = await self.catalog.begin_system_deletion(who.system_id, via, include_protected)
        except Protected:
            # Protected between the check and the lock: leave the system as it was.
            await self.directory.set_suspended(system_key, record.suspended)
            raise
        prefix = f"{who.org_id}/{who.system_key}/"
        listed = {o.key async for o in self.objects.list(prefix)}
        # Rows' objects too: a row whose key lies outside the prefix must not survive its system.
        row_ids: dict[str, list[str]] = {}
        for row in rows:
            row_ids.setdefault(row.object_key, []).append(row.id)
        deleted = 0
        erased: list[str] = []
        try:
            for key in sorted(listed | set(row_ids)):
                await self.objects.delete(key)
                # A row key under the prefix that the listing lacks had no object to erase.
                deleted += key in listed or not key.startswith(prefix)
                erased.extend(row_ids.get(key, []))
        except DomainError:
            await self.catalog.finish_deletion(erased)
            raise
        await self.catalog.finish_deletion([row.id for row in rows])
        await self.directory.delete_system(system_key)
        return Destroyed(system_key=system_key, deleted_objects=deleted)
