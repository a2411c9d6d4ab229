"""What the CLI adapter needs from the composition root, and how a command reports its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from adapters.operators import OperatorServices
from domain.fsck import Fsck

if TYPE_CHECKING:  # annotations only: `--help` must not pay for importing them
    from domain.checkpoints import Checkpointer, LogAudit
    from domain.ports import CheckpointStore
    from domain.scrub import Scrubber


class LogSigningServices(Protocol):
    @property
    def store(self) -> CheckpointStore: ...

    @property
    def checkpointer(self) -> Checkpointer: ...

    @property
    def audit(self) -> LogAudit: ...


class CliServices(OperatorServices, Protocol):
    """The use cases the commands call; the composition root's container satisfies it structurally."""

    @property
    def log(self) -> LogSigningServices:
        """The log's checkpoints: `log checkpoint`, `log verify`."""
        ...

    @property
    def scrubber(self) -> Scrubber | None:
        """None when the ledger cannot be seen whole."""
        ...

    @property
    def fsck(self) -> Fsck | None:
        """None when the ledger cannot be seen whole."""
        ...


@dataclass(frozen=True, slots=True)
class Reported:
    """A result printed like any other, whose command then exits 1 when `failed`."""

    value: Any
    failed: bool


@dataclass(frozen=True, slots=True)
class JsonLines:
    """A result printed as one JSON document a line, whatever `--json` says (`log show`)."""

    items: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class Printed:
    """A result printed as this text, whatever `--json` says (`report --format csv`)."""

    text: str


class CliError(Exception):
    """One line for stderr, exit 1."""


class UsageError(CliError):
    """One line for stderr, exit 2: the command line itself is wrong."""
