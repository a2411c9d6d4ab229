"""What the CLI adapter needs from the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.destroy import DestroySystem
from domain.fsck import Fsck
from domain.organizations import OrgAdmin
from domain.registry import Registry
from domain.restore import BackupAccess
from domain.systems import SystemAdmin


@dataclass(frozen=True, slots=True, kw_only=True)
class CliServices:
    registry: Registry
    orgs: OrgAdmin
    systems: SystemAdmin
    destroy: DestroySystem
    access: BackupAccess
    """The operator's access to backups: append-only mode binds appliances, not operators."""
    fsck: Fsck | None = None


@dataclass(frozen=True, slots=True)
class Reported:
    """A result printed like any other, whose command then exits 1 when `failed`."""

    value: Any
    failed: bool


class CliError(Exception):
    """One line for stderr, exit 1."""


class UsageError(CliError):
    """One line for stderr, exit 2: the command line itself is wrong."""
