"""What the HTTP adapter needs from the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ingest import IngestBackup
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore
    ingest: IngestBackup
