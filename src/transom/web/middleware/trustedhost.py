"""Refuse requests whose ``Host`` is not one of ours (DNS rebinding, host header attacks).

An app that builds absolute URLs from ``Host`` (password-reset links,
redirects) trusts it; this middleware makes that trust safe by answering 400
to any host not listed. ``"*.example.com"`` allows every subdomain (not
``example.com`` itself); ``"*"`` allows all. With ``www_redirect`` a request
for ``example.com`` when only ``www.example.com`` is allowed is redirected
there (308, so the method and body are kept).

A WebSocket handshake to a host not listed is refused the same way, with
the 400 as a denial response when the server offers the ASGI
``websocket.http.response`` extension, else with ``websocket.close``
(which servers answer with 403); it is never redirected, since WebSocket
clients do not follow redirects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from transom._types import ASGIApp, Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.http.headers import Headers

__all__ = ["TrustedHostMiddleware", "respond"]

# host[:port] (RFC 9110 §7.2): host is a bracketed IPv6 literal or an RFC 3986
# §3.2.2 reg-name (unreserved, pct-encoded and sub-delims characters).
_HOST = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::(?P<port>[0-9]{0,5}))?"
)


def split_host(value: str) -> tuple[str, str] | None:
    """``(host lower-cased, ":port" or "")`` of a ``Host`` value; ``None`` if malformed.

    >>> split_host("Example.com:8000")
    ('example.com', ':8000')
    """
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    port = match["port"]
    return match["host"].lower().rstrip("."), (f":{port}" if port else "")


class TrustedHostMiddleware:
    """400 for requests to hosts not in ``allowed_hosts``.

    >>> app = TrustedHostMiddleware(app, allowed_hosts=["example.com", "*.example.com"])
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError("allowed_hosts must be a list of host names, not a str")
        for pattern in allowed_hosts:
            if "*" in pattern and pattern != "*" and not pattern.startswith("*."):
                raise ConfigurationError(
                    f"allowed host {pattern!r}: a wildcard may only lead, as in '*.example.com'"
                )
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.exact = frozenset(h.lower() for h in allowed_hosts if not h.startswith("*"))
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))
        self.www_redirect = www_redirect

    def allows(self, host: str) -> bool:
        """Whether the (port-less, lower-cased) ``host`` is allowed."""
        return self.allow_any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parts = split_host(Headers(raw=scope["headers"]).get("host", ""))
        if parts is not None and self.allows(parts[0]):
            await self.app(scope, receive, send)
            return
        redirect = parts is not None and self.www_redirect and f"www.{parts[0]}" in self.exact
        if redirect and scope["type"] == "http":
            assert parts is not None
            await self._redirect(scope, send, f"www.{parts[0]}{parts[1]}")
            return
        text_plain = [(b"content-type", b"text/plain; charset=utf-8")]
        await respond(scope, send, 400, text_plain, b"Invalid host header")

    async def _redirect(self, scope: Scope, send: Send, netloc: str) -> None:
        path = scope.get("raw_path") or quote(scope["path"]).encode("latin-1")
        query = scope.get("query_string", b"")
        target = f"{scope.get('scheme', 'http')}://{netloc}".encode("latin-1") + path
        if query:
            target += b"?" + query
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", target), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def respond(
    scope: Scope, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Answer an HTTP request, or refuse a WebSocket handshake, with a small response.

    A handshake gets it through the ``websocket.http.response`` extension when
    the server offers it, else ``websocket.close`` (servers answer that with 403).
    """
    headers = [*headers, (b"content-length", str(len(body)).encode("latin-1"))]
    if scope["type"] == "http":
        prefix = "http.response"
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        prefix = "websocket.http.response"
    else:
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": f"{prefix}.start", "status": status, "headers": headers})
    await send({"type": f"{prefix}.body", "body": body})
