"""The WebhookSender port on httpx: one POST, 10 s at most, no redirect followed, never raising."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from domain.ports import SentAnswer

TIMEOUT = 10.0


class HttpxWebhookSender:
    """One connection pool for every delivery; `timeout` bounds the whole exchange (connect, send, wait,
    read), so a receiver that hangs holds one try for at most that long."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, headers={"user-agent": "backup-collect"}
        )

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._client.post(url, content=body, headers=dict(headers))
        except TimeoutError:
            return SentAnswer(None, f"no answer within {self._timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError) as exc:
            # A receiver's failure, or a URL only the HTTP client finds wrong (an IDNA host): an answer
            # without a status, retried and finally failed, never a pass that stops on it.
            return SentAnswer(None, f"{type(exc).__name__}: {exc}"[:300])
        error = None if answer.is_success else f"HTTP {answer.status_code}"
        return SentAnswer(answer.status_code, error)

    async def aclose(self) -> None:
        await self._client.aclose()
