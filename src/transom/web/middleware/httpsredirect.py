"""Redirect plain ``http``/``ws`` requests to ``https``/``wss``.

The target keeps the host, path and query. Its port is ``https_port``
(left out when it is 443): a plain-HTTP port never carries TLS, so keeping
it would send the client to a port that cannot answer. The default status,
307, keeps the method and body; 308 makes the move permanent. A WebSocket
handshake is answered with the redirect when the server offers the
``websocket.http.response`` extension, and is refused otherwise.
"""

from __future__ import annotations

from urllib.parse import quote

from transom._types import ASGIApp, Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.http.headers import Headers
from transom.web.middleware.trustedhost import respond, split_host

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Send every insecure request to the same URL over TLS.

    >>> app = HTTPSRedirectMiddleware(app, status_code=308)
    """

    def __init__(self, app: ASGIApp, status_code: int = 307, https_port: int = 443) -> None:
        if status_code not in (301, 302, 307, 308):
            raise ConfigurationError(f"status_code must be 301, 302, 307 or 308, not {status_code}")
        if not 0 < https_port < 65536:
            raise ConfigurationError(f"https_port must be 1-65535, not {https_port}")
        self.app = app
        self.status_code = status_code
        self.port = "" if https_port == 443 else f":{https_port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scheme = scope.get("scheme")
        if scope["type"] not in ("http", "websocket") or scheme not in _SECURE:
            await self.app(scope, receive, send)
            return
        location = self.location(scope)
        if location is None:
            await respond(scope, send, 400, [(b"content-type", b"text/plain")], b"Bad host")
            return
        await respond(scope, send, self.status_code, [(b"location", location)], b"")

    def location(self, scope: Scope) -> bytes | None:
        """The secure URL of this request; ``None`` when its ``Host`` is unusable."""
        host = Headers(raw=scope["headers"]).get("host")
        if host is None:
            server = scope.get("server")
            host = server[0] if server else None
        parts = split_host(host) if host else None
        if parts is None:
            return None
        path: bytes = scope.get("raw_path") or quote(scope["path"]).encode("latin-1")
        query: bytes = scope.get("query_string", b"")
        url = f"{_SECURE[scope['scheme']]}://{parts[0]}{self.port}".encode("latin-1") + path
        return url + b"?" + query if query else url
