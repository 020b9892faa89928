"""Client settings: ``Timeout`` and ``Limits``.

Timeouts are on by default (5 seconds each): a peer that stops answering
never hangs a caller. ``None`` disables one explicitly.

>>> Timeout(10.0)                       # every phase 10 s
Timeout(connect=10.0, read=10.0, write=10.0, pool=10.0, expect=1.0)
>>> Timeout(5.0, read=None)              # wait for a slow body forever
Timeout(connect=5.0, read=None, write=5.0, pool=5.0, expect=1.0)
"""

from __future__ import annotations

from typing import Any

from transom.exceptions import ConfigurationError

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "Limits", "Timeout", "TimeoutTypes"]

_UNSET: Any = object()


class Timeout:
    """Seconds allowed for each phase of a request (``None``: no limit).

    ``connect``: TCP + TLS handshake; ``read``: between two received pieces;
    ``write``: for the peer to take a piece we send; ``pool``: to get a
    connection from the pool when it is at its limits.

    ``expect``: how long a request sent with ``Expect: 100-continue`` waits for
    the server's ``100 Continue`` before its body goes out anyway (RFC 9110
    §10.1.1; 1 second by default, and not set by the positional value, which
    is about failing, not waiting). ``None``: wait for the server's answer,
    bounded by ``read``.
    """

    __slots__ = ("connect", "expect", "pool", "read", "write")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    expect: float | None

    def __init__(
        self,
        timeout: float | Timeout | None = _UNSET,
        *,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
        expect: float | None = _UNSET,
    ) -> None:
        if isinstance(timeout, Timeout):
            base: tuple[float | None, ...] = (
                timeout.connect,
                timeout.read,
                timeout.write,
                timeout.pool,
                timeout.expect,
            )
        elif timeout is _UNSET:
            base = (5.0, 5.0, 5.0, 5.0, 1.0)
        else:
            base = (timeout, timeout, timeout, timeout, 1.0)
        given = (connect, read, write, pool, expect)
        values = [b if g is _UNSET else g for b, g in zip(base, given, strict=True)]
        for name, value in zip(_PHASES, values, strict=True):
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ConfigurationError(
                    f"Timeout {name}={value!r}: give a positive number of seconds, or None"
                )
        self.connect, self.read, self.write, self.pool, self.expect = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and all(
            getattr(self, name) == getattr(other, name) for name in _PHASES
        )

    __hash__ = None  # type: ignore[assignment]  # mutable settings object

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)}" for name in _PHASES)
        return f"Timeout({fields})"


_PHASES = ("connect", "read", "write", "pool", "expect")


TimeoutTypes = Timeout | float | None


class Limits:
    """Connection pool bounds.

    ``max_connections``: open connections in total; ``max_connections_per_host``:
    per origin (scheme, host, port); ``max_keepalive``: idle connections kept;
    ``keepalive_expiry``: seconds an idle connection is kept before it is closed.
    """

    __slots__ = ("keepalive_expiry", "max_connections", "max_connections_per_host", "max_keepalive")

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_connections_per_host: int | None = None,
        max_keepalive: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        if max_connections < 1:
            raise ConfigurationError("Limits(max_connections=...) must be at least 1")
        per_host = max_connections if max_connections_per_host is None else max_connections_per_host
        if per_host < 1:
            raise ConfigurationError("Limits(max_connections_per_host=...) must be at least 1")
        self.max_connections = max_connections
        self.max_connections_per_host = per_host
        self.max_keepalive = max_keepalive
        self.keepalive_expiry = keepalive_expiry

    def __repr__(self) -> str:
        return (
            f"Limits(max_connections={self.max_connections}, "
            f"max_connections_per_host={self.max_connections_per_host}, "
            f"max_keepalive={self.max_keepalive}, keepalive_expiry={self.keepalive_expiry})"
        )


DEFAULT_TIMEOUT = Timeout()
DEFAULT_LIMITS = Limits()
