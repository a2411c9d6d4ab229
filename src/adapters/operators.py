"""The operator use cases both operator edges call: the CLI (`adapters/cli`) and the admin API and console
(`adapters/http`). Each edge's own Protocol extends this one and adds only what is its own."""

from __future__ import annotations

from typing import Protocol

from domain.destroy import DestroySystem
from domain.history import History
from domain.keeping import RetentionAdmin
from domain.organizations import OrgAdmin
from domain.registry import Registry
from domain.report import Reports
from domain.restore import BackupAccess
from domain.schedules import Schedules
from domain.systems import SystemAdmin
from domain.webhook_admin import WebhookAdmin


class OperatorServices(Protocol):
    """Satisfied structurally by the composition root's container."""

    @property
    def registry(self) -> Registry: ...

    @property
    def orgs(self) -> OrgAdmin: ...

    @property
    def systems(self) -> SystemAdmin: ...

    @property
    def schedules(self) -> Schedules: ...

    @property
    def webhooks(self) -> WebhookAdmin: ...

    @property
    def reports(self) -> Reports: ...

    @property
    def destroy(self) -> DestroySystem: ...

    @property
    def retention(self) -> RetentionAdmin: ...

    @property
    def operator_access(self) -> BackupAccess:
        """The operator's access to any system's backups: append-only mode binds appliances, not operators."""
        ...

    @property
    def history(self) -> History:
        """The event log: `log show`, the admin API, the console."""
        ...
