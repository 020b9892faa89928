"""``Retry``: an opt-in policy for retrying failed requests.

Off by default: the client retries nothing silently, except one thing the
pool does by itself (an idempotent request that failed on a kept-alive
connection the server had closed is resent once on a fresh one).

With ``Client(retries=Retry(...))`` an idempotent request (RFC 9110 §9.2.2:
GET, HEAD, OPTIONS, TRACE, PUT, DELETE) is retried when connecting fails or
the response status is in ``status_forcelist``. The wait before attempt *n*
is ``backoff_factor * 2**(n-1)``, with up to ``jitter`` random seconds added,
capped at ``backoff_max``; a ``Retry-After`` header (seconds or an HTTP-date,
RFC 9110 §10.2.3) on a 429/503 is honoured, up to the same cap.

>>> Retry(3, status_forcelist={502, 503, 504}, backoff_factor=0.2)
Retry(total=3, status_forcelist=[502, 503, 504], backoff_factor=0.2)
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from transom.client._content import BodyStream
from transom.client.models import Request, Response
from transom.exceptions import ConfigurationError, ConnectError, ConnectTimeout
from transom.http.dates import parse_http_date

if TYPE_CHECKING:
    from transom.client._backend import Backend
    from transom.client.transports import BaseTransport

__all__ = ["IDEMPOTENT_METHODS", "Retry"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


class Retry:
    """How often and when to retry (see the module docstring)."""

    def __init__(
        self,
        total: int = 3,
        *,
        status_forcelist: Iterable[int] = (429, 502, 503, 504),
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        jitter: float = 0.1,
        methods: Iterable[str] = IDEMPOTENT_METHODS,
        respect_retry_after: bool = True,
    ) -> None:
        if total < 0:
            raise ConfigurationError("Retry(total=...) must be 0 or more")
        self.total = total
        self.status_forcelist = frozenset(status_forcelist)
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.methods = frozenset(m.upper() for m in methods)
        self.respect_retry_after = respect_retry_after

    def __repr__(self) -> str:
        return (
            f"Retry(total={self.total}, status_forcelist={sorted(self.status_forcelist)}, "
            f"backoff_factor={self.backoff_factor})"
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        base = self.backoff_factor * (2 ** (attempt - 1))
        return float(min(self.backoff_max, base + random.uniform(0, self.jitter)))  # noqa: S311

    def retry_after(self, response: Response) -> float | None:
        """The wait a ``Retry-After`` header asks for, capped; None when absent or bad."""
        value = response.headers.get("retry-after")
        if not value or not self.respect_retry_after:
            return None
        value = value.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            when = parse_http_date(value)
            if when is None:
                return None
            seconds = max(0.0, when - time.time())
        return min(seconds, self.backoff_max)

    def _may_retry(self, request: Request) -> bool:
        body = request.body
        return request.method in self.methods and (
            not isinstance(body, BodyStream) or body.rewindable
        )

    async def send(self, transport: BaseTransport, request: Request, backend: Backend) -> Response:
        """Send through ``transport``, retrying as this policy allows."""
        attempt = 0
        while True:
            try:
                response = await transport.handle_request(request)
            except (ConnectError, ConnectTimeout):
                if attempt >= self.total or not self._may_retry(request):
                    raise
                attempt += 1
                await backend.sleep(self.backoff(attempt))
                continue
            if (
                response.status_code not in self.status_forcelist
                or attempt >= self.total
                or not self._may_retry(request)
            ):
                return response
            attempt += 1
            wait = self.retry_after(response)
            await response.aread()
            await response.aclose()
            if isinstance(request.body, BodyStream):
                request.body.rewind()
            await backend.sleep(self.backoff(attempt) if wait is None else wait)
