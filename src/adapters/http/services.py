"""What the HTTP adapter needs from the composition root.

The composition root's container satisfies `ApiServices` structurally. `create_litestar` offers each of
its members (`API_SERVICES`) as a Litestar dependency of the same name, so a handler declares only the few
it uses (for example `ingest: Service[IngestBackup]`), never the whole set. To offer a new service: a
field on the container, and its property here (or in `adapters/operators.py`, for both operator edges).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from adapters.http.gate import UploadGate
from adapters.http.metrics import Metrics
from adapters.operators import OperatorServices
from domain.attempts import FailedAttempts
from domain.ingest import IngestBackup
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory
from domain.receipts import BackupProofs, Receipts
from domain.restore import BackupAccess

if TYPE_CHECKING:
    # The console's pages take their services through `Service` from here: no import cycle at run time.
    from adapters.http.console.services import ConsoleServices

T = TypeVar("T")
Service: TypeAlias = NamedDependency[SkipValidation[T]]
"""A handler parameter naming one service, e.g. `ingest: Service[IngestBackup]`. Not validated per
request: the value is the composition root's own, and ports are Protocols, which isinstance cannot check."""


class LogPublic(Protocol):
    """What anyone may read of the log's signing: a count and hashes, and the key to check them."""

    async def latest_note(self) -> str | None: ...

    def public_key(self) -> str: ...

    @property
    def receipts(self) -> Receipts: ...

    @property
    def proofs(self) -> BackupProofs: ...


class ApiServices(OperatorServices, Protocol):
    @property
    def directory(self) -> SystemDirectory: ...

    @property
    def catalog(self) -> BackupCatalog: ...

    @property
    def objects(self) -> ObjectStore: ...

    @property
    def ingest(self) -> IngestBackup: ...

    @property
    def access(self) -> BackupAccess:
        """An appliance's access to its own backups (append-only mode applies)."""
        ...

    @property
    def log(self) -> LogPublic:
        """The latest signed checkpoint and the verifier key (no credentials needed)."""
        ...

    @property
    def metrics(self) -> Metrics:
        """This service's Prometheus registry."""
        ...

    @property
    def system_states(self) -> Callable[[], Awaitable[Mapping[str, int]]]:
        """Counts the systems in each state (the state rule of `domain.health`)."""
        ...

    @property
    def gate(self) -> UploadGate:
        """The bounds on uploads in flight per system and on silent bodies."""
        ...

    @property
    def attempts(self) -> FailedAttempts:
        """Failed admin bearer tokens (and console sign-ins), limited per client address."""
        ...

    @property
    def console(self) -> ConsoleServices | None:
        """The operator console's services; None leaves /console out (404)."""
        ...


API_SERVICES = tuple(
    dict.fromkeys(
        name for kind in ApiServices.__mro__ for name, member in vars(kind).items() if isinstance(member, property)
    )
)
"""The names `create_litestar` offers as dependencies: every member of `ApiServices`, inherited ones too."""
