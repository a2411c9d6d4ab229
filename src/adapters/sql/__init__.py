"""SQLAlchemy adapters: the system directory and the backup catalog on SQLite or PostgreSQL."""

from adapters.sql.catalog import SqlBackupCatalog
from adapters.sql.directory import SqlSystemDirectory
from adapters.sql.engine import guarded, make_engine, make_read_engine
from adapters.sql.migrate import Migrated, upgrade

__all__ = [
    "Migrated",
    "SqlBackupCatalog",
    "SqlSystemDirectory",
    "guarded",
    "make_engine",
    "make_read_engine",
    "upgrade",
]
