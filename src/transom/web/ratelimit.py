"""Rate limits per route or per router: ``@rate_limit("100/minute")``.

Theory of operation
-------------------
``rate_limit(spec, key)`` attaches a guard (``transom.web.guards``) to a
handler or a ``Router``. For every request it counts one hit on a counter
named after the policy and the client's key (by default the client
address; ``key=`` gives per-user or per-token limits) in
``request.app.counters``: the app's session store, so memory, SQLite and
Redis deployments keep counters where they keep sessions, and several
instances share them. Counters are fixed windows: the store answers the
count in the current window and the seconds until it ends.

Under the limit the handler runs and its response gets the headers of the
IETF draft "RateLimit header fields for HTTP"
(draft-ietf-httpapi-ratelimit-headers-11, §3 and §4), as Structured Field
lists (RFC 9651)::

    RateLimit-Policy: "100-per-minute";q=100;w=60
    RateLimit: "100-per-minute";r=57;t=23

``q`` is the quota and ``w`` the window in seconds; ``r`` is what is left
of the quota and ``t`` the seconds until the window starts again. Over the
limit the handler does not run: the answer is 429 (RFC 6585 §4) with the
same headers and ``Retry-After`` equal to ``t`` (the draft, §6: never
earlier than the end of the window), its body JSON or HTML by ``Accept``.

On a WebSocket route the count is of handshakes (connections opened):
the headers go out with the ``101`` and a refusal is the 429 as a denial
response (a server without the ``websocket.http.response`` extension
turns any refusal into 403).

A store that cannot be reached raises ``StoreUnavailable``, which the app
answers with 503: a limit that cannot be counted is not silently lifted.

Counter keys are ``"rl:" + policy identity + ":" + key``; one longer than
the stores accept (200 characters) or not printable ASCII is replaced by
its SHA-256, so a client cannot grow keys without bound.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from transom.exceptions import ConfigurationError
from transom.web.guards import add_guard, add_response_headers

if TYPE_CHECKING:
    from transom.web.requests import Request
    from transom.web.responses import Response

__all__ = ["Rate", "RateLimit", "parse_rate", "rate_limit"]

KeyFunction = Callable[["Request"], "str | Awaitable[str | None] | None"]

_T = TypeVar("_T")

_SECOND, _MINUTE, _HOUR, _DAY = 1, 60, 3600, 86400
_UNITS = {
    **dict.fromkeys(("second", "seconds", "sec", "secs", "s"), _SECOND),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "m"), _MINUTE),
    **dict.fromkeys(("hour", "hours", "h"), _HOUR),
    **dict.fromkeys(("day", "days", "d"), _DAY),
}
_SPEC = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d*)\s*([a-z]+)\s*", re.IGNORECASE)
_MAX_KEY = 200
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: int

    def __str__(self) -> str:
        """The default policy name: ``100-per-minute``, ``20-per-5minutes``."""
        for unit, size in (("day", _DAY), ("hour", _HOUR), ("minute", _MINUTE)):
            if self.window % size == 0:
                return self._per(self.window // size, unit)
        return self._per(self.window, "second")

    def _per(self, count: int, unit: str) -> str:
        return f"{self.limit}-per-{unit}" if count == 1 else f"{self.limit}-per-{count}{unit}s"


def parse_rate(spec: str) -> Rate:
    """``"100/minute"``, ``"10/second"``, ``"1000/hour"``, ``"5000/day"``, ``"20/5minutes"``.

    Units may be plural or short (``s``, ``m``, ``h``, ``d``); ``per``
    may stand for ``/``. Anything else raises ``ConfigurationError``.
    """
    match = _SPEC.fullmatch(spec) if isinstance(spec, str) else None
    size = _UNITS.get(match.group(3).lower()) if match else None
    if match is None or size is None:
        raise ConfigurationError(
            f"rate {spec!r} is not a rate: write a count, '/', and a window, as in "
            "'100/minute', '10/second', '1000/hour', '5000/day' or '20/5minutes'"
        )
    limit, count = int(match.group(1)), int(match.group(2) or 1)
    if limit < 1 or count < 1:
        raise ConfigurationError(
            f"rate {spec!r}: the count and the window must be at least 1, as in '100/minute'"
        )
    return Rate(limit, count * size)


def _sf_string(text: str) -> str:
    """``text`` as a Structured Field String (RFC 9651 §3.3.3)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _counter_key(identity: str, who: str) -> str:
    key = f"rl:{identity}:{who}"
    if len(key) > _MAX_KEY or _PRINTABLE.fullmatch(key) is None:
        key = "rl:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def _client_address(request: Request) -> str:
    client = request.client
    return "unknown" if client is None else client[0]


class RateLimit:
    """One policy: a rate, a name, a key function; applied with ``rate_limit``.

    Calling it on a handler or a Router attaches a guard that counts that
    target's requests; it returns the target unchanged.
    """

    __slots__ = ("key", "methods", "name", "rate")

    def __init__(
        self,
        rate: Rate,
        key: KeyFunction | None = None,
        *,
        name: str | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        if key is not None and not callable(key):
            raise ConfigurationError(f"rate_limit key={key!r} must be a function of the request")
        if name is not None and (not name or not all(" " <= c <= "~" for c in name)):
            raise ConfigurationError(
                f"rate_limit name={name!r} must be non-empty printable ASCII (a header value)"
            )
        self.rate = rate
        self.key = key
        self.name = name
        self.methods = _methods(methods)

    def __call__(self, target: _T) -> _T:
        identity = self.name or f"{_identity(target)}:{self.rate}"
        add_guard(target, _Guard(self, identity))
        return target

    def policy_header(self) -> bytes:
        """The ``RateLimit-Policy`` value (draft §3.1)."""
        name = _sf_string(self.name or str(self.rate))
        return f"{name};q={self.rate.limit};w={self.rate.window}".encode("ascii")


def _methods(methods: Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        raise ConfigurationError(f"rate_limit methods={methods!r}: give a list, as ['POST']")
    found = {method.upper() for method in methods}
    if not found:
        raise ConfigurationError("rate_limit methods=[] limits nothing; leave it out for all")
    if "GET" in found:
        found.add("HEAD")  # HEAD is answered by GET routes (RFC 9110 §9.3.2)
    return frozenset(found)


def _identity(target: Any) -> str:
    """A name for ``target`` that is the same in every process (counters are shared)."""
    if hasattr(target, "routes") and hasattr(target, "prefix"):
        return f"router{target.prefix or '/'}"
    function = getattr(target, "__func__", target)
    module = getattr(function, "__module__", None) or "?"
    qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{qualname}"


class _Guard:
    """The guard one ``RateLimit`` attaches to one target."""

    __slots__ = ("identity", "policy")

    def __init__(self, policy: RateLimit, identity: str) -> None:
        self.policy = policy
        self.identity = identity

    async def __call__(self, request: Request) -> Response | None:
        policy = self.policy
        # A WebSocket handshake is a GET (RFC 6455 §4.1); its scope has no method.
        method = request.scope.get("method", "GET")
        if policy.methods is not None and method not in policy.methods:
            return None
        who = await self._key(request)
        if who is None:
            return None
        counters = getattr(request.app, "counters", None)
        if counters is None:
            raise ConfigurationError(
                "rate_limit needs an App with counters (transom.App); this app has none"
            )
        rate = policy.rate
        count, left = await counters.hit(_counter_key(self.identity, who), rate.window)
        reset = max(1, math.ceil(left))
        remaining = max(0, rate.limit - count)
        name = _sf_string(policy.name or str(rate))
        state = f"{name};r={remaining};t={reset}".encode("ascii")
        if count <= rate.limit:
            add_response_headers(
                request, [(b"ratelimit-policy", policy.policy_header()), (b"ratelimit", state)]
            )
            return None
        from transom.web.errors import error_response

        detail = f"rate limit {rate} exceeded: retry in {reset} seconds"
        headers = {
            "Retry-After": str(reset),
            "RateLimit-Policy": policy.policy_header().decode("ascii"),
            "RateLimit": state.decode("ascii"),
        }
        return error_response(request.scope, 429, detail, headers=headers)

    async def _key(self, request: Request) -> str | None:
        key = self.policy.key
        if key is None:
            return _client_address(request)
        value = key(request)
        if inspect.isawaitable(value):
            value = await value
        if value is not None and not isinstance(value, str):
            raise TypeError(f"rate_limit key function returned {value!r}; it must return a str")
        return value


def rate_limit(
    spec: str,
    key: KeyFunction | None = None,
    *,
    name: str | None = None,
    methods: Iterable[str] | None = None,
) -> RateLimit:
    """Limit a handler, or every route of a Router together, to ``spec`` per key.

    >>> @app.post("/search")
    ... @rate_limit("10/second")                      # per client address
    ... async def search(request: Request): ...

    >>> @app.get("/api/feed")
    ... @rate_limit("1000/hour", key=lambda request: request.user.id)
    ... async def feed(request: Request): ...

    >>> rate_limit("100/minute")(api_router)         # one budget for all its routes

    ``key(request)`` (sync or async) names whose budget a request spends;
    returning ``None`` lets the request through uncounted (e.g. staff).
    ``name`` is the policy name in the headers; policies with the same name
    share one counter, wherever they are applied. ``methods`` limits only
    those methods (``["POST"]``). A bad ``spec`` raises
    ``ConfigurationError`` at once.
    """
    return RateLimit(parse_rate(spec), key, name=name, methods=methods)
