"""How an upload ends early at the HTTP edge: the client hung up or went silent, or the server is shutting
down. Each is the domain's `UploadAborted`, so the use case discards what it wrote whichever it was; or it is
refused before its body is read because its system has too many uploads in flight."""

from __future__ import annotations

from domain.errors import RateLimited, UploadAborted


class ClientGone(UploadAborted):
    """The client disconnected before the body was complete."""


class BodyIdle(ClientGone):
    """The client sent no byte of its body for `seconds`; the upload is abandoned as if it hung up."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no body received for {seconds:g} s")
        self.seconds = seconds


class ShuttingDown(UploadAborted):
    """The server is draining: a new upload is refused, or one still streaming at the end was cancelled."""

    dependency = "server"
    """What the 503's `data.dependency` names."""


class TooManyInFlight(RateLimited):
    """The system has `BACKUP_MAX_UPLOADS_PER_SYSTEM` uploads in flight already: `429` with `Retry-After`,
    message `too many uploads in flight` (SPEC: not the rate limit's), and no rate-limit slot spent."""
