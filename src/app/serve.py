"""`backup-collect serve`: uvicorn with a graceful drain on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from types import FrameType

import uvicorn

from adapters.http.drain import Drain
from app.asgi import create_app
from app.guard import server_config
from app.settings import Settings

log = logging.getLogger(__name__)
# In-flight uploads get this long to finish after SIGTERM (inside a 30 s orchestrator grace period);
# what is still streaming then is cancelled and discarded, leaving no object and no row.
DRAIN_SECONDS = 25.0
# Cancelled uploads get this long to erase their objects and intent rows.
ABORT_SECONDS = 5.0
# The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


class DrainingServer(uvicorn.Server):
    """On the first signal, keep listening but answer new uploads 503 (with Retry-After) while those
    in flight finish, then stop. Uploads still streaming when the drain time is over, or at a second
    signal, are cancelled and discarded before the server stops."""

    def __init__(self, config: uvicorn.Config, drain: Drain, grace: float = DRAIN_SECONDS) -> None:
        super().__init__(config)
        self._drain = drain
        self._grace = grace
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finishing: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is None or (self._finishing is not None and self._finishing.done()):
            super().handle_exit(sig, frame)
        elif self._drain.accepting:
            self._drain.close()
            log.info("draining: %d upload(s) in flight get %.0f s to finish", self._drain.inflight, self._grace)
            self._finishing = self._loop.create_task(self._finish(sig, frame))
        else:
            self._hurry.set()

    async def _finish(self, sig: int, frame: FrameType | None) -> None:
        waiting = {asyncio.ensure_future(self._drain.idle(self._grace)), asyncio.ensure_future(self._hurry.wait())}
        _, pending = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if self._drain.inflight:
            log.warning("stopping: cancelling %d upload(s) still in flight", self._drain.inflight)
            await self._drain.abort(ABORT_SECONDS)
        super().handle_exit(sig, frame)


@dataclass(frozen=True, slots=True)
class Tls:
    """`serve --tls-cert/--tls-key`: PEM files, checked before anything starts."""

    cert: str
    key: str

    def check(self) -> None:
        """Raises OSError naming both files when they do not load as a certificate and its key."""
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            raise OSError(f"--tls-cert {self.cert} / --tls-key {self.key}: {exc}") from None


def trusted_proxies(settings: Settings) -> list[str] | None:
    """The peers whose X-Forwarded-For uvicorn believes (BACKUP_TRUSTED_PROXIES): from such a peer the
    client address becomes the rightmost one in the header that is not itself a trusted proxy. None: the
    header is ignored everywhere (uvicorn alone would believe 127.0.0.1, or FORWARDED_ALLOW_IPS)."""
    return list(settings.trusted_proxies) or None


def serve(settings: Settings, host: str, port: int, tls: Tls | None = None) -> int:
    """Run until stopped. The caller (`app.cli`) has checked `tls` and configured logging."""
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    # uvicorn logs through the root handler (log_config=None); the HTTP edge writes the access lines.
    proxies = trusted_proxies(settings)
    config = server_config(
        app,
        host,
        port,
        settings.max_connections,
        log_level="info",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
    )
    try:
        DrainingServer(config, app.state.drain).run()
    except KeyboardInterrupt:
        # uvicorn re-raises the SIGINT it drained on once it has stopped, and asyncio turns that into
        # KeyboardInterrupt: the shutdown is over and clean, so one line and the shell's code for Ctrl-C.
        log.info("stopped by SIGINT")
        return INTERRUPTED
    return 0
