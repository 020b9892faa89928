"""What every connection of one server shares: settings, the app, the clock.

``default_headers`` (``Date``, and ``Server`` when enabled) and ``clock`` are
refreshed by the server's tick, not per request: formatting a date costs more
than the rest of a small response, and it only changes once a second.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from transom._types import ASGIApp
from transom.server.config import ServerConfig
from transom.server.eager import EagerStarter
from transom.server.proxy import ProxyTrust

__all__ = ["ServedConnection", "ServerState"]


class ServedConnection(Protocol):
    """What the server asks of a connection's protocol (HTTP, or a WebSocket
    after the switch): its deadlines, checked by the tick, and shutdown."""

    closing: bool
    deadline: float  # 0.0: none
    write_deadline: float  # 0.0: none

    def check_deadline(self, now: float) -> None: ...

    def shutdown(self) -> None: ...

    def abort(self) -> None: ...


class ServerState:
    """Shared by the protocols of one server; mutated only by the server."""

    __slots__ = (
        "access_log",
        "app",
        "body_timeout",
        "clock",
        "config",
        "connections",
        "default_headers",
        "header_timeout",
        "keep_alive_timeout",
        "lifespan_state",
        "loop",
        "proxy_trust",
        "read_high_water",
        "root_path",
        "root_path_bytes",
        "starter",
        "write_timeout",
    )

    def __init__(self, config: ServerConfig, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.app = app
        self.loop = loop
        self.connections: set[ServedConnection] = set()
        self.starter = EagerStarter(loop)
        self.lifespan_state: dict[str, Any] = {}
        self.default_headers: list[tuple[bytes, bytes]] = []
        self.clock = loop.time()
        self.access_log = config.access_log
        self.proxy_trust = ProxyTrust(config.forwarded_allow_ips) if config.proxy_headers else None
        self.root_path = config.root_path
        self.root_path_bytes = config.root_path.encode("utf-8")
        self.header_timeout = config.header_timeout
        self.body_timeout = config.body_timeout
        self.keep_alive_timeout = config.keep_alive_timeout
        self.read_high_water = config.read_high_water
        self.write_timeout = config.write_timeout
