"""Cross-Origin Resource Sharing (the Fetch standard, "CORS protocol").

A browser asks before a non-simple cross-origin request with a *preflight*:
``OPTIONS`` carrying ``Origin`` and ``Access-Control-Request-Method``. This
middleware answers that itself, 200 with the permissions when the origin,
method and headers are all allowed and 400 naming what is not, without
calling the app. Any other request with an allowed ``Origin`` goes to the app
and gets ``Access-Control-Allow-Origin`` (and the credentials and exposed
headers) added to its response. A disallowed origin gets no permission: the
browser then hides the response from the page, which is the protection.

Caches (Fetch standard, "CORS protocol and HTTP caches"): with
``allow_origins=["*"]`` and no credentials every response says
``Access-Control-Allow-Origin: *``, the same for everyone; otherwise every
response, with an ``Origin`` or without, carries ``Vary: Origin``, so a cache
never hands one origin's answer to another.

With ``allow_credentials=True`` the wildcard ``*`` is never sent (browsers
reject it with credentials): the request's origin is echoed instead, with
``Vary: Origin`` so that caches keep one copy per origin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from transom._types import ASGIApp, Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.http.headers import Headers

__all__ = ["CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Fetch standard: CORS-safelisted request headers need no permission.
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})


def _sequence(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigurationError(f"CORSMiddleware: {name} must be a list of strings, not a str")
    return tuple(value)


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to cross-origin responses.

    >>> app = CORSMiddleware(app, allow_origins=["https://example.com"],
    ...                      allow_methods=["GET", "POST"], allow_credentials=True)
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
        allow_origin_regex: str | None = None,
    ) -> None:
        self.app = app
        origins = _sequence("allow_origins", allow_origins)
        self.any_origin = "*" in origins
        self.origins = frozenset(o.rstrip("/").lower() for o in origins if o != "*")
        self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        methods = _sequence("allow_methods", allow_methods)
        self.methods = ALL_METHODS if "*" in methods else tuple(m.upper() for m in methods)
        headers = _sequence("allow_headers", allow_headers)
        self.any_header = "*" in headers
        self.headers = frozenset(h.lower() for h in headers if h != "*") | _SAFELISTED
        self.credentials = allow_credentials
        self.expose = ", ".join(_sequence("expose_headers", expose_headers))
        if not isinstance(max_age, int) or max_age < 0:
            raise ConfigurationError(
                f"CORSMiddleware: max_age must be an int >= 0, not {max_age!r}"
            )
        self.max_age = max_age
        # "*" whatever the request: the one answer that does not depend on Origin.
        self.static_star = self.any_origin and not allow_credentials and self.origin_regex is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(raw=scope["headers"])
        origin = request.get("origin")
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in request
        if origin is not None and preflight:
            await self._preflight(origin, request, send)
            return
        allowed = origin is not None and self.origin_allowed(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=list(message.get("headers", [])))
                if allowed:
                    assert origin is not None
                    self._add_origin(headers, origin)
                    if self.expose:
                        headers["access-control-expose-headers"] = self.expose
                elif self.static_star:
                    headers["access-control-allow-origin"] = "*"
                else:
                    _add_vary_origin(headers)
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def origin_allowed(self, origin: str) -> bool:
        """Whether ``origin`` may read responses (exact, case-insensitive, or the regex)."""
        if self.any_origin:
            return True
        if origin.lower() in self.origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None

    def _add_origin(self, headers: Headers, origin: str) -> None:
        if self.static_star:
            headers["access-control-allow-origin"] = "*"
            return
        headers["access-control-allow-origin"] = origin
        _add_vary_origin(headers)
        if self.credentials:
            headers["access-control-allow-credentials"] = "true"

    async def _preflight(self, origin: str, request: Headers, send: Send) -> None:
        problems = []
        if not self.origin_allowed(origin):
            problems.append("origin")
        method = request.get("access-control-request-method", "").strip()
        if method.upper() not in self.methods:
            problems.append("method")
        asked = request.get("access-control-request-headers", "")
        names = [h.strip().lower() for h in asked.split(",") if h.strip()]
        if not self.any_header and any(name not in self.headers for name in names):
            problems.append("headers")
        headers = Headers()
        if problems:
            body = f"Disallowed CORS {', '.join(problems)}".encode()
            headers["content-type"] = "text/plain; charset=utf-8"
            status = 400
        else:
            body = b"OK"
            self._add_origin(headers, origin)
            headers["vary"] = "Origin"
            headers["access-control-allow-methods"] = ", ".join(self.methods)
            allowed = asked if self.any_header else ", ".join(sorted(self.headers))
            if allowed:
                headers["access-control-allow-headers"] = allowed
            headers["access-control-max-age"] = str(self.max_age)
            headers["content-type"] = "text/plain; charset=utf-8"
            status = 200
        headers["content-length"] = str(len(body))
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})


def _add_vary_origin(headers: Headers) -> None:
    # The answer depends on Origin, so caches must key on it, for requests
    # with and without one alike (Fetch standard, "CORS protocol and HTTP caches").
    vary = headers.get("vary")
    if vary is None:
        headers["vary"] = "Origin"
    elif "origin" not in {v.strip().lower() for v in vary.split(",")}:
        headers["vary"] = f"{vary}, Origin"
