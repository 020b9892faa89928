"""The incoming request, as handlers see it.

``Request`` is a thin, lazy view over the ASGI scope and ``receive``:
nothing is parsed until it is asked for. ``headers`` wraps the scope's
header list without copying it; ``query_params``, ``cookies`` and ``url``
are parsed on first use and kept. A handler that never looks at the query
string never pays for parsing it. What is not about the body (URL,
headers, cookies, session, user, ``url_for``) lives in ``HTTPConnection``,
which ``transom.web.websockets.WebSocket`` shares.

The body is read through ``stream()`` (``body()``, ``json()`` and
``form()`` all use it), which enforces the body limit: the app's
``max_body_size`` (10 MiB by default), or the route's own. A request whose
``Content-Length`` is over the limit is refused before a byte of the body
is read; a chunked body is counted as it arrives and refused (413) the
moment it passes the limit, so a client cannot make the app buffer more
than the limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from transom._types import Message, Receive, Scope
from transom.exceptions import ConfigurationError, HTTPError, InvalidURL, StreamConsumed
from transom.http.cookies import parse_cookie_header
from transom.http.headers import Headers
from transom.http.url import URL, QueryParams, quote

if TYPE_CHECKING:
    from transom.web.forms import FormData
    from transom.web.sessions import Session

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "MOUNTED_FROM",
    "AwaitableOrContextManager",
    "HTTPConnection",
    "Request",
    "State",
]

#: The default limit on a request body, in bytes (``App(max_body_size=...)``).
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024

#: Scope key: the transom apps a request passed through before reaching a
#: mounted app, outermost first, as ``(app, root_path)`` pairs (set by mounts,
#: see ``transom.web.routing``). ``Request.url_for`` looks there for names the
#: app serving the request does not know.
MOUNTED_FROM = "transom.mounted_from"


class State:
    """Attribute access over a dict: ``request.state.user = ...``, ``app.state.db``."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_data", {} if data is None else data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._data[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def __repr__(self) -> str:
        return f"State({self._data!r})"


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class _Closeable(Protocol):
    async def close(self) -> None: ...


_C = TypeVar("_C", bound=_Closeable)


class AwaitableOrContextManager(Generic[_C]):
    """What ``request.form()`` returns: await it, or enter it with ``async with``.

    ``await handle`` gives the value; ``async with handle as value`` gives the
    same value and closes it when the block ends, whether it ends normally or
    by an exception (which goes on propagating). The work starts only when the
    handle is awaited or entered, so a handle never used leaves no coroutine
    behind un-awaited.
    """

    __slots__ = ("_entered", "_start")

    def __init__(self, start: Callable[[], Coroutine[Any, Any, _C]]) -> None:
        self._start = start
        self._entered: _C | None = None

    def __await__(self) -> Generator[Any, None, _C]:
        return self._start().__await__()

    async def __aenter__(self) -> _C:
        self._entered = await self._start()
        return self._entered

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # __aexit__ follows only a successful __aenter__, which set it.
        assert self._entered is not None
        entered, self._entered = self._entered, None
        await entered.close()


class HTTPConnection:
    """What a request and a WebSocket share: URL, headers, cookies, session, user, state.

    ``Request`` and ``transom.web.websockets.WebSocket`` are both
    ``HTTPConnection`` objects, so these attributes mean the same on both,
    and a guard or helper that serves either annotates ``HTTPConnection``.
    """

    __slots__ = ("_base_text", "_cookies", "_headers", "_query_params", "_state", "_url", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._base_text: str | None = None
        self._state: State | None = None

    @property
    def headers(self) -> Headers:
        """The request's (or handshake's) headers, read-only by convention; no copy is made."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def url(self) -> URL:
        """The full URL: scheme, host (from ``Host``), port, path and query.

        A WebSocket's URL has the ``ws`` or ``wss`` scheme.
        """
        if self._url is None:
            scope = self.scope
            raw_path = scope.get("raw_path")
            path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
            text = self._origin() + path.split("?", 1)[0]
            query = scope.get("query_string", b"")
            if query:
                text += "?" + query.decode("latin-1")
            self._url = _parse_url(text)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the app's root: scheme, host and ``root_path``, ending in ``/``."""
        return self._base_for(self.scope.get("root_path", ""))

    def _base_for(self, root_path: str) -> URL:
        return _parse_url(self._origin() + quote(root_path).rstrip("/") + "/")

    def _origin(self) -> str:
        scope = self.scope
        scheme = scope.get("scheme")
        if scheme is None:  # optional in ASGI: "http", or "ws" for a websocket scope
            scheme = "ws" if scope.get("type") == "websocket" else "http"
        host = self.headers.get("host")
        if not host:
            server = scope.get("server")
            if server is None:
                host = "localhost"
            else:
                host_name, port = server[0], server[1]
                if ":" in host_name:
                    host_name = f"[{host_name}]"
                host = host_name if port is None else f"{host_name}:{port}"
        return f"{scheme}://{host}"

    @property
    def query_params(self) -> QueryParams:
        """The query string's parameters; ``request.query_params["page"]`` is the first value."""
        if self._query_params is None:
            self._query_params = QueryParams(self.scope.get("query_string", b""))
        return self._query_params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies the client sent (the ``Cookie`` header, RFC 6265 §5.4)."""
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.headers.get("cookie", ""))
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)``, when the server knows it."""
        client = self.scope.get("client")
        return None if client is None else (client[0], client[1])

    @property
    def path_params(self) -> dict[str, Any]:
        """The converted path parameters of the matched route."""
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def state(self) -> State:
        """Per-request attributes (``request.state.user = ...``), over ``scope["state"]``."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    @property
    def session(self) -> Session:
        """The session: a dict kept across requests (``App(secret_key=...)`` turns it on).

        >>> request.session["theme"] = "dark"
        """
        session: Session | None = self.scope.get("session")
        if session is None:
            raise ConfigurationError(
                "request.session needs sessions: App(secret_key=...), with an optional "
                "session_store=SQLiteStore('app.db') or RedisStore(url)"
            )
        return session

    @property
    def user(self) -> Any:
        """Who made the request: a ``User``, or an anonymous user (``is_authenticated`` False)."""
        user = self.scope.get("user")
        if user is None:
            from transom.web.auth import AnonymousUser

            user = AnonymousUser()
        return user

    @property
    def auth(self) -> str | None:
        """How ``user`` was authenticated: ``"session"``, ``"bearer"``, ``"basic"`` or None."""
        how: str | None = self.scope.get("auth")
        return how

    @property
    def app(self) -> Any:
        """The app serving this request or WebSocket."""
        return self.scope.get("app")

    def url_for(self, name: str, /, **params: Any) -> URL:
        """The absolute URL of route ``name``; unused params become the query string.

        >>> request.url_for("note", note_id=3, tab="edit")
        URL('http://testserver/notes/3?tab=edit')

        The app serving the request resolves the name, under its ``root_path``
        (so inside a mounted app, its own routes get the mount's prefix). A
        name it does not know is looked up in the transom apps it is mounted
        in, innermost first: ``request.url_for("admin:dashboard")`` works in
        the outer app and in the admin app alike.

        A WebSocket route's URL has the ``ws`` (``wss`` over TLS) scheme and
        an HTTP route's ``http`` (``https``), whichever of the two asks:

        >>> request.url_for("chat", room="lobby")
        URL('ws://testserver/chat/lobby')
        """
        scope = self.scope
        app = scope.get("app")
        if app is None or not hasattr(app, "url_for"):
            raise ConfigurationError("request.url_for() needs a request served by a transom App")
        mounted_from = scope.get(MOUNTED_FROM)
        if not mounted_from:  # not inside a mount: the common case, one lookup
            path: str = app.url_for(name, **params)
            base = self._base_text
            if base is None:  # parsed once per request: a page may call url_for many times
                base = self._base_text = str(self.base_url).rstrip("/")
            return URL(with_route_scheme(base + path, app, name))
        return self._url_for_mounted(name, params, app, mounted_from)

    def _url_for_mounted(
        self,
        name: str,
        params: dict[str, Any],
        app: Any,
        mounted_from: tuple[tuple[Any, str], ...],
    ) -> URL:
        from transom.web.routing.table import UnknownRouteName

        frames = list(reversed(mounted_from))
        if frames[0][0] is not app:
            # A transom App mounted inside answers first. When scope["app"] is
            # still the app that mounted, the mounted app is not a transom App
            # and names resolve from the mounting app's root, not the mount's.
            frames.insert(0, (app, self.scope.get("root_path", "")))
        misses = []
        for frame_app, root_path in frames:  # each a transom App (mounts record only those)
            try:
                path: str = frame_app.url_for(name, **params)
            except UnknownRouteName as exc:
                misses.append(f"in the app at {root_path or '/'!r}: {exc}")
                continue
            text = str(self._base_for(root_path)).rstrip("/") + path
            return URL(with_route_scheme(text, frame_app, name))
        raise UnknownRouteName(
            f"url_for: no route named {name!r} in the app serving this request or the apps "
            f"it is mounted in; {'; '.join(misses)}"
        )


class Request(HTTPConnection):
    """One HTTP request: method, URL, headers, cookies, body.

    >>> @app.post("/notes/{note_id:int}")
    ... async def update(request: Request, note_id: int):
    ...     data = await request.json()
    ...     return {"id": note_id, "title": data["title"], "by": request.client}
    """

    __slots__ = (
        "_body",
        "_disconnected",
        "_form",
        "_json",
        "_limit",
        "_max_body_size",
        "_pending",
        "_receive",
        "_received",
        "_stream_consumed",
    )

    def __init__(
        self, scope: Scope, receive: Receive | None = None, *, max_body_size: int | None = None
    ) -> None:
        HTTPConnection.__init__(self, scope)
        self._receive = receive if receive is not None else _no_body
        self._max_body_size = max_body_size
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._stream_consumed = False
        self._disconnected = False
        self._pending: asyncio.Future[Message] | None = None

    # -- the request line ----------------------------------------------------

    @property
    def method(self) -> str:
        """``GET``, ``POST``... (upper case, as sent)."""
        method: str = self.scope["method"]
        return method

    @property
    def max_body_size(self) -> int | None:
        """The body limit in force: the route's, else the app's, else 10 MiB."""
        if self._max_body_size is not None:
            return self._max_body_size
        app = self.scope.get("app")
        return getattr(app, "max_body_size", DEFAULT_MAX_BODY_SIZE)

    # -- the body ------------------------------------------------------------

    async def _next_message(self) -> Message:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return await pending
        return await self._receive()

    def _check_declared_length(self, limit: int | None) -> None:
        declared = self.headers.get("content-length")
        if declared is None or limit is None:
            return
        try:
            length = int(declared)
        except ValueError:
            raise HTTPError(400, f"invalid Content-Length {declared!r}") from None
        if length > limit:
            raise HTTPError(413, _too_large(limit, length))

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk, counted against the limit.

        >>> async for chunk in request.stream():
        ...     out.write(chunk)
        """
        if self._body is not None:
            if self._body:
                yield self._body
            return
        self._begin_body()
        more = True
        while more:
            chunk, more = await self._read_chunk()
            if chunk:
                yield chunk

    async def body(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            self._begin_body()
            chunk, more = await self._read_chunk()
            if more:  # most bodies arrive in one message: no list, no join
                chunks = [chunk]
                while more:
                    chunk, more = await self._read_chunk()
                    chunks.append(chunk)
                chunk = b"".join(chunks)
            self._body = chunk
        return self._body

    def _begin_body(self) -> None:
        if self._stream_consumed:
            raise StreamConsumed("the request body was already read with stream()")
        self._stream_consumed = True
        self._limit = self.max_body_size
        self._received = 0
        self._check_declared_length(self._limit)

    async def _read_chunk(self) -> tuple[bytes, bool]:
        """The next piece of the body and whether more follows; holds the limit."""
        # _next_message(), inlined for the common case: one await less per chunk.
        message = await (self._receive() if self._pending is None else self._next_message())
        if message["type"] == "http.disconnect":
            self._disconnected = True
            raise HTTPError(400, "the client disconnected before sending the whole body")
        chunk: bytes = message.get("body", b"")
        if chunk:
            self._received += len(chunk)
            if self._limit is not None and self._received > self._limit:
                raise HTTPError(413, _too_large(self._limit))
        return chunk, bool(message.get("more_body", False))

    async def json(self) -> Any:
        """The body parsed as JSON.

        415 when the ``Content-Type`` is not JSON (``application/json`` or
        ``*/*+json``; a missing one is accepted), 400 when the body is not
        valid JSON (the message says where).
        """
        if self._json is _UNSET:
            content_type = self.headers.get("content-type")
            if content_type is not None and not _is_json(content_type):
                raise HTTPError(
                    415,
                    f"expected a JSON body (Content-Type: application/json), got {content_type!r}",
                )
            body = await self.body()
            try:
                self._json = json.loads(body)
            except UnicodeDecodeError:
                raise HTTPError(400, "invalid JSON body: not UTF-8 text") from None
            except RecursionError:
                raise HTTPError(400, "invalid JSON body: nested too deeply") from None
            except ValueError as exc:
                raise HTTPError(400, f"invalid JSON body: {exc}") from None
        return self._json

    def form(
        self,
        *,
        max_files: int | None = None,
        max_fields: int | None = None,
        max_part_size: int | None = None,
    ) -> AwaitableOrContextManager[FormData]:
        """The body as a form: ``application/x-www-form-urlencoded`` or ``multipart/form-data``.

        Files arrive as ``UploadFile`` objects, closed once the response is
        sent. Limits default to the app's ``form_limits``; 415 for another
        content type, 413 past a limit, 400 for a malformed body.

        >>> form = await request.form()
        >>> title, photo = form["title"], form["photo"]   # str, UploadFile

        Used with ``async with``, the files are closed (temporary files
        deleted) as soon as the block ends, error or not:

        >>> async with request.form() as form:
        ...     await form["photo"].save("uploads/")
        """
        return AwaitableOrContextManager(
            lambda: self._read_form(max_files, max_fields, max_part_size)
        )

    async def _read_form(
        self, max_files: int | None, max_fields: int | None, max_part_size: int | None
    ) -> FormData:
        if self._form is None:
            from transom.web.forms import parse_form

            self._form = await parse_form(
                self, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
            )
        return self._form

    async def close(self) -> None:
        """Close the uploaded files of the form, if one was read (the app does this)."""
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone; never waits, and loses no body data."""
        if self._disconnected:
            return True
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._receive())
        await asyncio.sleep(0)
        if self._pending.done():
            message = self._pending.result()
            if message["type"] == "http.disconnect":
                self._disconnected = True
                self._pending = None
            else:  # a body message: keep it for stream(), already resolved
                pass
        return self._disconnected

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('path')!r}>"


_UNSET: Any = object()


def with_route_scheme(text: str, app: Any, name: str) -> str:
    """The absolute URL ``text`` of route ``name`` with the scheme of the route's kind.

    A WebSocket route is reached with ``ws``/``wss`` (RFC 6455 §3), any
    other with ``http``/``https``; the TLS half of the pair is kept.
    """
    table = getattr(app, "_table", None)
    if table is not None and table.is_websocket(name):
        return "ws" + text[4:] if text.startswith("http") else text
    return "http" + text[2:] if text.startswith("ws") else text


def _parse_url(text: str) -> URL:
    """The request's URL; a ``Host`` header that makes no URL is the client's error."""
    try:
        return URL(text)
    except InvalidURL as exc:
        raise HTTPError(400, f"invalid request URL or Host header: {exc}") from None


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _too_large(limit: int, length: int | None = None) -> str:
    size = f"is {length} bytes" if length is not None else "is larger"
    return f"request body {size}; this endpoint accepts at most {limit} bytes"
