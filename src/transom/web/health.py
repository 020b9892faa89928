"""Health checks: what an app depends on (Redis, PostgreSQL...), reported at a route.

>>> app.add_health_check("sessions", session_store)          # an object with ping()
>>> app.add_health_check("users", lambda: users.get_by_username("healthz"))
>>> app.add_route("/healthz", health_endpoint(), name="healthz")

``GET /healthz`` then answers ``200`` with
``{"status": "ok", "checks": {"sessions": "ok", "users": "ok"}}``, or ``503``
with ``"status": "unavailable"`` and each failed check marked
``"unavailable"``. A check passes when it returns (its value is ignored) and
fails when it raises or outlasts its timeout (2 s by default). The checks run
concurrently, so the route answers within the longest timeout. Why a check
failed goes to the ``transom.error`` log, never into the public response.
A load balancer should probe this route and take an instance whose answer is
not 200 out of rotation.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from transom.exceptions import ConfigurationError
from transom.web.concurrency import run_sync
from transom.web.requests import Request
from transom.web.responses import JSONResponse, Response

__all__ = ["DEFAULT_TIMEOUT", "HealthChecks", "health_endpoint"]

logger = logging.getLogger("transom.error")

#: Seconds a check may take before it counts as failed.
DEFAULT_TIMEOUT = 2.0


class HealthChecks:
    """Named checks, each bounded by its own timeout (``App.health_checks``)."""

    __slots__ = ("_checks",)

    def __init__(self) -> None:
        self._checks: dict[str, tuple[Callable[[], Any], float]] = {}

    def __len__(self) -> int:
        return len(self._checks)

    def add(self, name: str, check: Any, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Add ``check``: a callable (async or not) or an object with ``ping()``."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError("a health check needs a non-empty name")
        if name in self._checks:
            raise ConfigurationError(f"health check {name!r} is already registered")
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError(f"health check timeout must be positive, got {timeout!r}")
        if not callable(check):
            ping = getattr(check, "ping", None)
            if not callable(ping):
                raise ConfigurationError(
                    f"health check {name!r} must be callable or have a ping() method"
                )
            check = ping
        self._checks[name] = (check, float(timeout))

    async def run(self) -> dict[str, str]:
        """Every check's result, ``"ok"`` or ``"unavailable"``, by name."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _run_one(self, name: str) -> str:
        check, timeout = self._checks[name]
        try:
            await asyncio.wait_for(_call(check), timeout)
        except Exception as exc:  # any failure marks the check; the log says which
            if isinstance(exc, TimeoutError):
                logger.warning("health check %r gave no answer within %gs", name, timeout)
            else:
                logger.warning("health check %r failed: %r", name, exc)
            return "unavailable"
        return "ok"


async def _call(check: Callable[[], Any]) -> None:
    """An ``async def`` is awaited; anything else runs in the thread pool (a
    blocking check cannot stall the loop, and its timeout still holds), and
    an awaitable it returns (``lambda: store.get(...)``) is awaited here."""
    if inspect.iscoroutinefunction(check):
        await check()
        return
    result = await run_sync(check)
    if inspect.isawaitable(result):
        await result


def health_endpoint(
    *, key: str = "checks", headers: dict[str, str] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """A route handler that runs the app's health checks.

    >>> app.add_route("/healthz", health_endpoint(), name="healthz")

    ``key`` names the JSON member holding the results (``"checks"``).
    The response is never cached (``Cache-Control: no-store``).
    """
    extra = {"Cache-Control": "no-store", **(headers or {})}

    async def health(request: Request) -> Response:
        checks: HealthChecks = request.app.health_checks
        results = await checks.run()
        healthy = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", key: results},
            status_code=200 if healthy else 503,
            headers=extra,
        )

    return health
