"""Conditional requests: validators, preconditions and 304s (RFC 9110 §8.8, §13).

Theory of operation
-------------------
A response's validators are its ``ETag`` (an opaque tag, ``"abc"`` or weak
``W/"abc"``) and its ``Last-Modified`` date. ``evaluate_preconditions`` checks a
request's precondition fields against them in the order RFC 9110 §13.2.2
fixes, and answers with the status to send instead of the normal response:

1. ``If-Match`` (strong comparison; ``*`` matches any current representation)
   false -> 412.
2. Otherwise ``If-Unmodified-Since`` false -> 412.
3. ``If-None-Match`` (weak comparison) true for a listed tag -> 304 for
   GET/HEAD, 412 for other methods.
4. Otherwise, for GET/HEAD only, ``If-Modified-Since`` not modified -> 304.
   It is ignored whenever ``If-None-Match`` is present: an ETag is the more
   precise validator (§13.1.3).

``None`` means "no precondition failed: send the normal response". Dates are
compared at one-second resolution, the resolution of an HTTP-date; a date that
does not parse makes its field ignored (§13.1.3, §13.1.4), and so does a date
field when the resource has no modification date.

``if_range_matches`` decides whether a ``Range`` request may be honoured
(§13.1.5): only an exact strong ETag or exact ``Last-Modified`` date will do.

Dynamic responses get validators from ``conditional_response(request,
response)`` in a handler, or from ``ConditionalGetMiddleware`` for a whole
app. The helper hashes the body of a fully built response into a strong
ETag (unless it has one) and returns a 304 (or 412) in its place when the
request's preconditions say so. The middleware does the same: for a
GET whose 200 response has no ``ETag`` and arrives in a single body message,
it computes a strong ETag from a hash of the body, and it answers 304 when the
request's ``If-None-Match`` (or ``If-Modified-Since``, against the response's
``Last-Modified``) shows the client already has it. A streamed body (more than
one message) passes through untouched unless the app set its own ``ETag``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from transom._types import ASGIApp, Message, Receive, Scope, Send
from transom.http.dates import parse_http_date
from transom.http.headers import Headers
from transom.web.responses import Response

__all__ = [
    "ConditionalGetMiddleware",
    "body_etag",
    "conditional_response",
    "evaluate_preconditions",
    "if_range_matches",
    "not_modified_headers",
    "parse_etags",
]

# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE.
_ETAG = re.compile(r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"')
# RFC 9110 §15.4.5: a 304 carries these if the 200 would have; other
# representation metadata (Content-Type, Content-Length...) is left out.
_KEPT_ON_304 = frozenset(
    {
        b"cache-control",
        b"content-location",
        b"date",
        b"etag",
        b"expires",
        b"last-modified",
        b"vary",
        b"set-cookie",
    }
)


def parse_etags(value: str) -> list[str]:
    """The entity-tags of an ``If-Match``/``If-None-Match`` value; ``["*"]`` for ``*``.

    Anything that is not a quoted entity-tag is skipped, so a malformed list
    matches nothing.

    >>> parse_etags('"a", W/"b", junk')
    ['"a"', 'W/"b"']
    """
    if value.strip() == "*":
        return ["*"]
    return [m.group(0) for m in _ETAG.finditer(value)]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _strong_match(etag: str, candidates: list[str]) -> bool:
    # RFC 9110 §8.8.3.2: strong comparison: both strong and identical.
    if etag.startswith("W/"):
        return False
    return any(c == "*" or c == etag for c in candidates)


def _weak_match(etag: str, candidates: list[str]) -> bool:
    # RFC 9110 §8.8.3.2: weak comparison: opaque-tags equal, W/ ignored.
    ours = _opaque(etag)
    return any(c == "*" or _opaque(c) == ours for c in candidates)


def _date(value: str | None) -> int | None:
    if value is None:
        return None
    parsed = parse_http_date(value)
    return None if parsed is None else int(parsed)


def evaluate_preconditions(
    method: str,
    headers: Headers,
    *,
    etag: str | None,
    last_modified: float | None,
) -> int | None:
    """304 or 412 when a precondition of the request fails, else ``None``.

    ``headers`` are the request's; ``etag`` (quoted, maybe ``W/``) and
    ``last_modified`` (a POSIX timestamp) describe the current representation.

    >>> h = Headers({"If-None-Match": 'W/"v1", "v2"'})
    >>> evaluate_preconditions("GET", h, etag='"v2"', last_modified=None)
    304
    >>> evaluate_preconditions("PUT", h, etag='"v2"', last_modified=None)
    412
    """
    modified = None if last_modified is None else int(last_modified)
    if_match = headers.get("if-match")
    if if_match is not None:
        if etag is None or not _strong_match(etag, parse_etags(if_match)):
            return 412
    elif modified is not None:
        since = _date(headers.get("if-unmodified-since"))
        if since is not None and modified > since:
            return 412
    safe = method in ("GET", "HEAD")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if etag is not None and _weak_match(etag, parse_etags(if_none_match)):
            return 304 if safe else 412
    elif safe and modified is not None:
        since = _date(headers.get("if-modified-since"))
        if since is not None and modified <= since:
            return 304
    return None


def if_range_matches(value: str, *, etag: str | None, last_modified: float | None) -> bool:
    """Whether an ``If-Range`` value lets the ``Range`` be honoured (RFC 9110 §13.1.5).

    An entity-tag must match strongly; a date must equal ``Last-Modified``
    exactly. Otherwise the whole representation is sent with 200.

    >>> if_range_matches('"v1"', etag='"v1"', last_modified=None)
    True
    >>> if_range_matches('W/"v1"', etag='W/"v1"', last_modified=None)
    False
    """
    value = value.strip()
    if value.startswith(('"', "W/")):
        return etag is not None and _strong_match(etag, [value])
    date = _date(value)
    return date is not None and last_modified is not None and int(last_modified) == date


def not_modified_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The fields of a 200 response's head that its 304 keeps (RFC 9110 §15.4.5)."""
    return [(k, v) for k, v in raw if k.lower() in _KEPT_ON_304]


def body_etag(body: bytes) -> str:
    """A strong ETag for ``body``: a 128-bit BLAKE2b digest, quoted.

    >>> len(body_etag(b"hello"))
    34
    """
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def conditional_response(request: Any, response: Response) -> Response:
    """``response`` with an ETag, or the 304/412 the request's preconditions call for.

    ``request`` is a ``Request`` or an ASGI scope. A response without an
    ``ETag`` gets a hash of its body as one; a streamed or file response
    (whose body is not in memory) without one is returned unchanged, and
    only 200 responses take part. The 304 keeps the headers RFC 9110
    §15.4.5 lists, and the response's background task still runs.

    >>> @app.get("/notes/{note_id:int}")
    ... async def note(request, note_id):
    ...     return conditional_response(request, JSONResponse(await load(note_id)))
    """
    if response.status_code != 200:
        return response
    headers = response.headers
    etag = headers.get("etag")
    if etag is None:
        kind = type(response)
        if kind.__call__ is not Response.__call__ or kind.send_body is not Response.send_body:
            return response  # the body is produced while sending: nothing to hash
        etag = body_etag(response.body)
        headers["etag"] = etag
    scope: Scope = request.scope if hasattr(request, "scope") else request
    status = evaluate_preconditions(
        scope["method"],
        Headers(raw=list(scope["headers"])),
        etag=etag,
        last_modified=_date(headers.get("last-modified")),
    )
    if status is None:
        return response
    answer = Response(None, status_code=status, background=response.background)
    if status == 304:
        answer.raw_headers = not_modified_headers(response.raw_headers)
    return answer


class ConditionalGetMiddleware:
    """ETags and 304s for dynamic GET responses, as a pure ASGI middleware.

    >>> app = ConditionalGetMiddleware(app)  # doctest: +SKIP

    A 200 answer to GET with a single body message gets ``ETag: "<hash>"``
    unless it has one; then, if the request's validators show the client's
    copy is current, a 304 with no body is sent instead (the app's body is
    dropped). Responses that set their own ``ETag`` are checked as they start,
    streamed or not. HEAD responses are only checked against an ``ETag`` the
    app set, since their (empty) body says nothing about the GET body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        cycle = _ConditionalCycle(scope, send)
        await self.app(scope, receive, cycle.on_send)


class _ConditionalCycle:
    """One response passing through ``ConditionalGetMiddleware``."""

    __slots__ = ("method", "request", "send", "start", "state")

    def __init__(self, scope: Scope, send: Send) -> None:
        self.method: str = scope["method"]
        self.request = Headers(raw=list(scope["headers"]))
        self.send = send
        self.start: Message | None = None
        # "pass": forward everything; "hold": start withheld; "drop": 304/412 sent.
        self.state = "pass"

    async def on_send(self, message: Message) -> None:
        if self.state == "drop":
            return
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif self.state == "hold" and message["type"] == "http.response.body":
            await self._on_first_body(message)
        elif self.state == "hold":
            # Not a body (e.g. http.response.pathsend): nothing to hash, pass it all on.
            assert self.start is not None
            self.state = "pass"
            await self.send(self.start)
            await self.send(message)
        else:
            await self.send(message)

    async def _on_start(self, message: Message) -> None:
        headers = Headers(raw=list(message.get("headers", [])))
        if message["status"] != 200:
            await self.send(message)
            return
        etag = headers.get("etag")
        if etag is None and self.method == "GET":
            self.start, self.state = message, "hold"
            return
        await self._answer(message, headers, etag)

    async def _on_first_body(self, message: Message) -> None:
        assert self.start is not None
        self.state = "pass"
        headers = Headers(raw=list(self.start.get("headers", [])))
        if message.get("more_body", False):
            await self.send(self.start)
            await self.send(message)
            return
        etag = body_etag(message.get("body", b""))
        headers.add("etag", etag)
        self.start["headers"] = headers.raw
        if await self._answer(self.start, headers, etag):
            await self.send(message)

    async def _answer(self, start: Message, headers: Headers, etag: str | None) -> bool:
        """Send ``start`` or its 304/412 replacement; whether the body should follow."""
        last_modified = _date(headers.get("last-modified"))
        status = evaluate_preconditions(
            self.method, self.request, etag=etag, last_modified=last_modified
        )
        if status is None:
            await self.send(start)
            return True
        self.state = "drop"
        kept = not_modified_headers(headers.raw) if status == 304 else []
        await self.send({"type": "http.response.start", "status": status, "headers": kept})
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        return False
