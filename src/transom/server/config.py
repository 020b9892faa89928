"""Server settings: one frozen ``ServerConfig``, validated when it is built.

Every bound on what a peer may do has a finite default: the request line,
header block and body sizes (enforced by ``transom.http.connection``), the
time to send a request head, the gap between body chunks and the pace of a
body, keep-alive idle time, the number of open connections and the listen backlog;
for WebSockets the message size, the bytes queued for a slow app, the
keep-alive pings and the close handshake. A value that
makes no sense raises ``ConfigurationError`` naming the setting and what to
change, so mistakes surface at start-up rather than under load.

>>> config = ServerConfig(app="myapp:app", port=8080, workers=2)
>>> config.bind_description
'http://127.0.0.1:8080'
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass, field

from transom._types import ASGIApp
from transom.exceptions import ConfigurationError
from transom.http.connection import Limits
from transom.http.websocket import SERVER_DEFLATE, DeflateOptions, WebSocketLimits

__all__ = ["LIFESPAN_MODES", "LOG_LEVELS", "LOOPS", "PARSERS", "ServerConfig"]

LOOPS = ("auto", "asyncio", "uvloop")
PARSERS = ("auto", "llhttp", "python")
LIFESPAN_MODES = ("auto", "on", "off")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything a server needs to start. ``app`` is an ASGI callable or a
    ``"module:attr"`` import string (required for ``workers > 1`` on platforms
    without ``fork`` and for ``reload``)."""

    app: ASGIApp | str
    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    workers: int = 1
    factory: bool = False
    app_dir: str | None = None
    root_path: str = ""
    loop: str = "auto"
    http_parser: str = "auto"
    lifespan: str = "auto"
    # TLS
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_keyfile_password: str | None = None
    # Proxies: X-Forwarded-* and Forwarded are believed only from these peers.
    proxy_headers: bool = True
    forwarded_allow_ips: str = "127.0.0.1"
    # Logging: log_level None leaves logging to the embedding program.
    log_level: str | None = None
    access_log: bool = True
    server_header: bool = False
    date_header: bool = True
    # Sizes (-> transom.http.connection.Limits)
    max_request_line: int = 8190
    max_header_bytes: int = 65536
    max_header_count: int = 256
    max_body_size: int | None = 100 * 1024 * 1024
    # Time, in seconds
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # Bytes per second a request body must average while the app waits for it,
    # after body_timeout seconds of grace; 0 turns the check off.
    body_min_rate: float = 256.0
    keep_alive_timeout: float = 5.0
    write_timeout: float = 60.0  # a client that takes none of our data this long is dropped
    shutdown_timeout: float = 30.0
    # Connections
    max_connections: int = 10_000
    backlog: int = 2048
    read_high_water: int = 64 * 1024
    # WebSocket (RFC 6455; see websocket.py). ws=False serves upgrade requests as plain HTTP.
    ws: bool = True
    ws_max_size: int = 16 * 1024 * 1024  # bytes of one message (reassembled, inflated) -> 1009
    ws_max_queue: int = 1024 * 1024  # bytes of messages the app has not taken: reading pauses
    ws_ping_interval: float | None = 20.0  # a ping this often; None: no pings
    ws_ping_timeout: float | None = 20.0  # no pong this long after a ping: close 1011
    ws_close_timeout: float = 5.0  # our close frame unanswered this long: drop the TCP connection
    # Accept permessage-deflate (RFC 7692) when offered, with SERVER_DEFLATE's small windows;
    # a DeflateOptions tunes it (compression level, smallest message compressed, window bits,
    # memLevel and context takeover: the memory each connection holds).
    ws_per_message_deflate: bool | DeflateOptions = True
    # Development
    reload: bool = False
    reload_dirs: tuple[str, ...] = ()
    reload_delay: float = 0.25
    # Derived in __post_init__.
    _limits: Limits = field(init=False, repr=False, compare=False)
    _ws_limits: WebSocketLimits = field(init=False, repr=False, compare=False)
    _ws_deflate: DeflateOptions | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._validate()
        limits = Limits(
            max_request_line=self.max_request_line,
            max_header_bytes=self.max_header_bytes,
            max_header_count=self.max_header_count,
            max_body_size=self.max_body_size,
        )
        object.__setattr__(self, "_limits", limits)
        ws_limits = WebSocketLimits(
            max_frame_size=self.ws_max_size,
            max_message_size=self.ws_max_size,
            max_queue=self.ws_max_queue,
        )
        object.__setattr__(self, "_ws_limits", ws_limits)
        chosen = self.ws_per_message_deflate
        deflate: DeflateOptions | None = chosen if isinstance(chosen, DeflateOptions) else None
        if chosen is True:
            deflate = SERVER_DEFLATE
        object.__setattr__(self, "_ws_deflate", deflate)

    # --- derived values ----------------------------------------------------
    @property
    def limits(self) -> Limits:
        """The size limits for ``transom.http.connection.Connection``."""
        return self._limits

    @property
    def ws_limits(self) -> WebSocketLimits:
        """The limits of every accepted WebSocket connection."""
        return self._ws_limits

    @property
    def ws_deflate(self) -> DeflateOptions | None:
        """What the server accepts of permessage-deflate, or None (never)."""
        return self._ws_deflate

    @property
    def parser_backend(self) -> str | None:
        """The ``Connection(backend=...)`` value: ``None`` lets the core pick."""
        return None if self.http_parser == "auto" else self.http_parser

    @property
    def is_ssl(self) -> bool:
        return self.ssl_certfile is not None

    @property
    def bind_description(self) -> str:
        """Where the server listens, as shown in the start-up log line."""
        scheme = "https" if self.is_ssl else "http"
        if self.uds:
            return f"{scheme}+unix://{self.uds}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A server-side TLS context from the certificate settings, or None."""
        if self.ssl_certfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(
                self.ssl_certfile, self.ssl_keyfile, password=self.ssl_keyfile_password
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"cannot load the TLS certificate {self.ssl_certfile!r}"
                f" / key {self.ssl_keyfile!r}: {exc}"
            ) from None
        context.set_alpn_protocols(["http/1.1"])
        return context

    # --- validation --------------------------------------------------------
    def _validate(self) -> None:
        if isinstance(self.app, str):
            module, _, attr = self.app.partition(":")
            if not module or not attr:
                raise ConfigurationError(
                    f"app {self.app!r} must be an import string 'module:attribute', e.g. 'main:app'"
                )
        elif not callable(self.app):
            raise ConfigurationError("app must be an ASGI callable or a 'module:attribute' string")
        self._choice("loop", self.loop, LOOPS)
        self._choice("http_parser", self.http_parser, PARSERS)
        self._choice("lifespan", self.lifespan, LIFESPAN_MODES)
        if self.log_level is not None:
            self._choice("log_level", self.log_level, LOG_LEVELS)
        if self.uds is None and not 0 <= self.port <= 65535:
            raise ConfigurationError(f"port must be between 0 and 65535, not {self.port}")
        if self.workers < 1:
            raise ConfigurationError(f"workers must be at least 1, not {self.workers}")
        if self.root_path and (not self.root_path.startswith("/") or self.root_path.endswith("/")):
            raise ConfigurationError(
                f"root_path {self.root_path!r} must start with '/' and not end with one, "
                "e.g. '/api'"
            )
        for name in ("max_request_line", "max_header_bytes", "max_header_count", "read_high_water"):
            self._positive(name, getattr(self, name))
        if self.max_body_size is not None:
            self._positive("max_body_size", self.max_body_size)
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout", "write_timeout"):
            self._positive(name, getattr(self, name))
        if not self.body_min_rate >= 0:
            raise ConfigurationError(
                f"body_min_rate must be zero (off) or more bytes per second, "
                f"not {self.body_min_rate!r}"
            )
        if self.shutdown_timeout < 0:
            raise ConfigurationError("shutdown_timeout must be zero or more seconds")
        self._positive("max_connections", self.max_connections)
        self._validate_ws()
        self._positive("backlog", self.backlog)
        self._validate_tls()
        self._validate_forwarded()

    def _validate_ws(self) -> None:
        for name in ("ws_max_size", "ws_max_queue"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(
                    f"{name} must be a whole number of bytes >= 1, not {value!r}"
                )
        for name in ("ws_ping_interval", "ws_ping_timeout"):
            value = getattr(self, name)
            if value is not None and (
                type(value) is bool or not isinstance(value, int | float) or not value > 0
            ):
                raise ConfigurationError(
                    f"{name} must be greater than zero seconds, or None (off), not {value!r}"
                )
        self._positive("ws_close_timeout", self.ws_close_timeout)
        if not isinstance(self.ws_per_message_deflate, bool | DeflateOptions):
            raise ConfigurationError(
                "ws_per_message_deflate must be True, False or a DeflateOptions(...), "
                f"not {self.ws_per_message_deflate!r}"
            )

    def _validate_tls(self) -> None:
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ConfigurationError("ssl_keyfile needs ssl_certfile as well")
        for name in ("ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not os.path.isfile(path):
                raise ConfigurationError(f"{name} {path!r} is not a file")

    def _validate_forwarded(self) -> None:
        for item in self.forwarded_allow_ips.split(","):
            item = item.strip()
            if item in ("*", "") or item.startswith("unix:"):
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigurationError(
                    f"forwarded_allow_ips: {item!r} is not an IP address, a CIDR network or '*'"
                ) from None

    @staticmethod
    def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")

    @staticmethod
    def _positive(name: str, value: float) -> None:
        if not value > 0:
            raise ConfigurationError(f"{name} must be greater than zero, not {value!r}")
