"""``App``: the router, the middleware stack, error handling and lifespan in one ASGI app.

Theory of operation
-------------------
``App`` is a ``Router`` whose routes are indexed as they are added (see
``transom.web.routing``). The ASGI entry point is built on the first call
and then fixed (adding middleware after that is an error):

- with no user middleware, ``__call__`` goes straight to the request path:
  route lookup, the handler, the response. Both error layers (see
  ``transom.web.errors``) are plain ``try`` blocks around the handler
  there, so a request costs no extra ASGI layer and no wrapped ``send``;
- with user middleware, the stack is
  ``ServerErrorMiddleware(mw1(mw2(... the request path)))``, where the
  request path handles ``HTTPError`` and registered exceptions.

Middleware is pure ASGI: ``Middleware(Cls, **options)`` builds
``Cls(app, **options)`` once, when the stack is built.

Sessions, users and CSRF (``secret_key``, ``user_store``, ``auth_backends``):
for a request to a route, the app loads the session (only a request
carrying a session cookie costs a store read), resolves ``request.user``
(only a session naming a user, or an ``Authorization`` header, costs a
store read), checks CSRF on unsafe methods, runs the route's guards
(``requires``, ``rate_limit``), calls the handler, then saves the session
into the response. These are steps of the request path, not middleware
layers: an app without them pays one attribute test per request. A store
whose backend is down (``StoreUnavailable``) makes a 503, logged.

WebSockets (``@app.websocket``): a ``websocket`` scope takes its own
path, ``_websocket``: route lookup (WebSocket routes sit in the same table
under a method no HTTP request can name), the origin check
(``websocket_origins``, against cross-site WebSocket hijacking), the
session and user from the handshake, the route's guards, then the
handler. A handshake for a mounted app of another framework gets the origin
check, then goes to that app as it came. Any refusal or error before ``accept()`` is an HTTP denial
response (404, 403, 401, 429, 500...); after it, an error closes with
1011. CSRF does not apply. A session changed before ``accept()`` is saved
with the 101's ``Set-Cookie``; one changed after is saved when the handler
ends if its cookie need not change (a server-side store), else the change
is lost and logged.

Lifespan: ``on_startup`` hooks run, then the ``lifespan`` context manager
is entered; at shutdown it is exited, then ``on_shutdown`` hooks run. If
the context manager yields a mapping, it becomes the ASGI lifespan state:
servers copy it into every request's ``scope["state"]`` (``request.state``).
A failure is reported to the server as ``lifespan.startup.failed`` (or
``shutdown.failed``) with the traceback, and logged.
"""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from transom._types import ASGIApp, Receive, Scope, Send
from transom.exceptions import ConfigurationError, HTTPError, StoreUnavailable, WebSocketDisconnect
from transom.web.errors import (
    ExceptionHandlers,
    ServerErrorMiddleware,
    error_response,
    handle_request_error,
    logger,
    server_error_response,
    should_reraise,
)
from transom.web.guards import EXTRA_HEADERS
from transom.web.health import DEFAULT_TIMEOUT, HealthChecks
from transom.web.requests import DEFAULT_MAX_BODY_SIZE, Request, State
from transom.web.responses import Response
from transom.web.routing import Converter, Router, RouteTable
from transom.web.routing.routes import (
    WEBSOCKET,
    Route,
    WebSocketRoute,
    _MountCall,
    mount_scope,
)
from transom.web.sessions import (
    CookieStore,
    MemoryStore,
    Session,
    SessionConfig,
    SessionManager,
    SessionStore,
)
from transom.web.signing import SecretKey, Signer
from transom.web.websockets import OriginCheck, WebSocket

__all__ = ["App", "Middleware"]

_F = TypeVar("_F", bound=Callable[..., Any])
Lifespan = Callable[["App"], contextlib.AbstractAsyncContextManager[Any]]


class Middleware:
    """A middleware class and its options, built into the stack later.

    >>> App(middleware=[Middleware(GZipMiddleware, minimum_size=500)])
    """

    __slots__ = ("cls", "options")

    def __init__(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        if not callable(cls):
            raise ConfigurationError(f"middleware {cls!r} is not callable")
        self.cls = cls
        self.options = options

    def __repr__(self) -> str:
        args = [getattr(self.cls, "__name__", repr(self.cls))]
        args += [f"{k}={v!r}" for k, v in self.options.items()]
        return f"Middleware({', '.join(args)})"


def _route_path(scope: Scope) -> str:
    """The path relative to ``root_path`` (full paths per ASGI 2.4; bare ones still work)."""
    path: str = scope["path"]
    root = scope.get("root_path")
    if root and path.startswith(root):
        rest = path[len(root) :]
        if not rest or rest[0] == "/":
            return rest
    return path


class App(Router):
    """An ASGI application.

    >>> app = App()
    >>> @app.get("/users/{user_id:int}", name="user")
    ... async def user(user_id: int):
    ...     return {"id": user_id}

    ``max_body_size`` limits request bodies (bytes, default 10 MiB; a route
    may set its own); ``form_limits`` bounds form parsing (see
    ``transom.web.forms.FormLimits``).

    ``secret_key`` (one key, or a list: the first signs, all verify) turns
    on sessions (``session_store``, default ``CookieStore()``;
    ``session_config`` for the cookie) and CSRF protection (``csrf=False``
    turns it off, a ``CSRFConfig`` tunes it). ``templates`` is a directory,
    a list of them, a jinja2 loader or a ``Templates``. ``user_store`` gives
    ``request.user`` from the session; ``auth_backends`` (``BearerAuth``,
    ``BasicAuth``) from the ``Authorization`` header.

    ``websocket_origins`` lists the pages (``"https://app.example"``) that
    may open the app's WebSockets besides its own origin; ``["*"]`` lets any
    (see ``transom.web.websockets.OriginCheck``). The check covers the
    WebSockets of mounted apps of other frameworks too (a mounted ``App``
    applies its own).
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[int | type[BaseException], Callable[..., Any]] | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Iterable[Callable[[], Any]] | None = None,
        on_shutdown: Iterable[Callable[[], Any]] | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        form_limits: Any = None,
        secret_key: SecretKey | None = None,
        templates: Any = None,
        session_store: SessionStore | None = None,
        session_config: SessionConfig | None = None,
        user_store: Any = None,
        auth_backends: Sequence[Any] | None = None,
        csrf: Any = True,
        websocket_origins: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self._table = RouteTable()
        if max_body_size is not None and (not isinstance(max_body_size, int) or max_body_size < 0):
            raise ConfigurationError("max_body_size must be a non-negative int of bytes, or None")
        if lifespan is not None and not callable(lifespan):
            raise ConfigurationError(
                "lifespan must be a function of the app returning an async context manager, "
                "e.g. an @contextlib.asynccontextmanager"
            )
        self.debug = debug
        self.max_body_size = max_body_size
        self.form_limits = form_limits
        self.secret_key = secret_key
        self._signers: dict[str, Signer] = {}
        self.sessions: SessionManager | None = None
        if secret_key is not None:
            self.sessions = SessionManager(
                CookieStore() if session_store is None else session_store,
                self.signer("session"),
                SessionConfig() if session_config is None else session_config,
            )
        elif session_store is not None or session_config is not None:
            raise ConfigurationError(
                "sessions need a secret key: App(secret_key=..., session_store=...); make one "
                'with python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        #: Where rate limits and log-in throttling count: the session store's backend.
        self.counters: SessionStore = (
            MemoryStore() if self.sessions is None else self.sessions.store
        )
        self.user_store = user_store
        self.authenticator: Any = None
        if user_store is not None or auth_backends:
            from transom.web.auth import Authenticator

            self.authenticator = Authenticator(user_store, list(auth_backends or ()))
        self.csrf_config: Any = None
        if csrf is not False and csrf is not None and self.sessions is not None:
            from transom.web.csrf import CSRFConfig

            self.csrf_config = CSRFConfig() if csrf is True else csrf
        #: Which pages may open the app's WebSockets (``websocket_origins``).
        self.websocket_origins = OriginCheck(websocket_origins)
        self.templates: Any = None
        if templates is not None:
            from transom.web.templates import Templates

            self.templates = Templates.coerce(templates, debug=debug)
        # Whether a request to a route takes the full path (sessions, users, CSRF, guards).
        self._secured = self.sessions is not None or self.authenticator is not None
        self.state = State()
        #: What ``health_endpoint()`` reports (``add_health_check``).
        self.health_checks = HealthChecks()
        self.lifespan_context = lifespan
        self.on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.exception_handlers = ExceptionHandlers()
        for key, handler in (exception_handlers or {}).items():
            self.exception_handlers.add(key, handler)
        self._entry: Callable[[Scope, Receive, Send], Any] = self._first_call
        self._direct = False  # no user middleware: HTTP goes straight to _http

    # -- configuration -------------------------------------------------------

    def add_converter(self, name: str, converter: Converter | type[Converter]) -> None:
        """Register a path converter for ``{param:name}`` in routes added after this."""
        assert self._table is not None
        self._table.add_converter(name, converter)

    def add_middleware(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        """Wrap the app in ``cls(app, **options)``; the last added is the outermost
        (it sees a request first), as in Starlette."""
        if self._entry != self._first_call:
            raise ConfigurationError(
                "cannot add middleware after the app has started serving; add it at start-up"
            )
        self.user_middleware.insert(0, Middleware(cls, **options))

    def add_exception_handler(
        self, key: int | type[BaseException], handler: Callable[..., Any]
    ) -> None:
        """Answer ``HTTPError(key)`` or exceptions of class ``key`` with ``handler(request, exc)``.

        Handlers for ``500`` or ``Exception`` answer unhandled errors (after logging).
        """
        self.exception_handlers.add(key, handler)

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[_F], _F]:
        """Decorator form of ``add_exception_handler``.

        >>> @app.exception_handler(404)
        ... async def not_found(request, exc):
        ...     return HTMLResponse("<h1>Nothing here</h1>", status_code=404)
        """

        def decorator(handler: _F) -> _F:
            self.add_exception_handler(key, handler)
            return handler

        return decorator

    def add_health_check(self, name: str, check: Any, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Report ``check`` under ``name`` at the app's health route.

        ``check`` is a callable, ``async`` or not, that returns when the
        dependency is reachable and raises when it is not, or an object with
        a ``ping()`` method (the session stores, for one); it fails after
        ``timeout`` seconds too. Serve the report with
        ``transom.web.health.health_endpoint()``:

        >>> app.add_health_check("sessions", session_store)
        >>> app.add_health_check("users", lambda: users.get_by_username("healthz"))
        >>> app.add_route("/healthz", health_endpoint(), name="healthz")
        """
        self.health_checks.add(name, check, timeout=timeout)

    def signer(self, salt: str) -> Signer:
        """A ``Signer`` over the app's ``secret_key`` for one purpose (``salt``).

        >>> token = app.signer("password-reset").sign(b"user:42")
        """
        signer = self._signers.get(salt)
        if signer is None:
            if self.secret_key is None:
                raise ConfigurationError("signing needs App(secret_key=...)")
            signer = self._signers[salt] = Signer(self.secret_key, salt=salt)
        return signer

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of route ``name``, relative to the app's root; extras become the query.

        >>> app.url_for("user", user_id=3, tab="posts")
        '/users/3?tab=posts'

        ``"admin:dashboard"`` names route ``dashboard`` of the App mounted with
        ``name="admin"``; a mount's own name with ``path=`` gives a path under it:

        >>> app.url_for("admin:dashboard")
        '/admin/dashboard'
        >>> app.url_for("static", path="css/site.css")
        '/static/css/site.css'

        An unknown name raises ``ConfigurationError`` listing the names known.
        """
        assert self._table is not None
        return self._table.url_path(name, dict(params))

    # -- ASGI ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self._direct and scope["type"] == "http":
            await self._http(scope, receive, send, True)
        else:
            await self._entry(scope, receive, send)

    async def _first_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._entry = self._build_stack()
        await self._entry(scope, receive, send)

    def _build_stack(self) -> Callable[[Scope, Receive, Send], Any]:
        if not self.user_middleware:
            self._direct = True
            return self._outermost
        app: ASGIApp = self._inner
        for middleware in reversed(self.user_middleware):
            app = middleware.cls(app, **middleware.options)
        return ServerErrorMiddleware(app, self.exception_handlers, self.debug)

    async def _outermost(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send, True)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self._other(scope, receive, send)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send, False)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self._other(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, outermost: bool) -> None:
        request = None
        session = None
        unhandled: Exception | None = None
        response: ASGIApp  # a Response, or the call of a mounted app
        try:
            assert self._table is not None
            found = self._table.lookup(scope, _route_path(scope), scope["method"])
            if isinstance(found, tuple):
                route, params = found
                if params is not None:
                    scope["path_params"] = params
                if not self._secured and not any(route.guard_lists):
                    response, request = await route.handle(scope, receive, params)
                else:
                    request = route.request_class(scope, receive, max_body_size=route.max_body_size)
                    sessions = self.sessions
                    if sessions is not None and "session" not in scope:
                        session = scope["session"] = await sessions.load(scope)
                    if self.authenticator is None and self.csrf_config is None:
                        denied = (
                            await self._guard(route, request) if any(route.guard_lists) else None
                        )
                    else:
                        denied = await self._secure(route, request)
                    if denied is None:
                        response, _ = await route.handle(scope, receive, params, request)
                    else:
                        response = denied
            else:
                response = found
        except Exception as exc:
            if isinstance(exc, StoreUnavailable):  # Redis, PostgreSQL or a locked SQLite file
                exc = _unavailable(exc)
            try:
                handled = await handle_request_error(self.exception_handlers, scope, receive, exc)
                if handled is None:
                    raise
                response = handled
            except Exception as error:
                if not outermost:
                    raise
                unhandled = error
                response = await server_error_response(
                    self.exception_handlers, scope, receive, error, self.debug
                )
        if isinstance(response, Response):
            if session is not None and unhandled is None:
                try:
                    await self.sessions.commit(session, scope, response.raw_headers)  # type: ignore[union-attr]  # session implies sessions
                except StoreUnavailable as exc:
                    refusal = _unavailable(exc)
                    response = error_response(scope, 503, refusal.detail, refusal.headers)
            extra = scope.get(EXTRA_HEADERS)
            if extra:
                response.raw_headers.extend(extra)
        try:
            await response(scope, receive, send)
        finally:
            if request is not None and request._form is not None:
                await request.close()
        if unhandled is not None and should_reraise(scope):
            raise unhandled

    async def _secure(self, route: Route, request: Request) -> Response | None:
        """Users, CSRF, then the guards (see the module docstring); a response refuses."""
        scope = request.scope
        if self.authenticator is not None and "user" not in scope:
            scope["user"], scope["auth"] = await self.authenticator.resolve(request)
        if (
            self.csrf_config is not None
            and request.method not in _SAFE_METHODS
            and not route.option("csrf_exempt", False)
        ):
            from transom.web.csrf import check_request

            denied = await check_request(request)
            if denied is not None:
                return denied
        return await self._guard(route, request)

    async def _guard(self, route: Route, request: Request) -> Response | None:
        for guard in route.guards():
            denied = await guard(request)
            if denied is not None:
                return denied
        return None

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        assert self._table is not None
        path = _route_path(scope)
        for mount in self._table.mounts:
            if path == mount.path or path.startswith(mount.path + "/"):
                await mount.app(mount_scope(scope, mount.path), receive, send)
                return

    # -- WebSockets ----------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A handshake: route, origin, session, user, guards, then the handler.

        Every refusal before the handler is an HTTP denial (``WebSocket.deny``).
        CSRF does not apply: the origin check is the defence for WebSockets.
        """
        handshake = self._handshake_headers if self.sessions is not None else None
        ws = WebSocket(scope, receive, send, handshake)
        session: Session | None = None
        try:
            assert self._table is not None
            found = self._table.lookup(scope, _route_path(scope), WEBSOCKET)
            if not isinstance(found, tuple):  # a mounted app: it answers for itself
                if isinstance(found, _MountCall) and not isinstance(found.app, App):
                    # Another framework's app may trust the browser's cookies with no
                    # origin check of its own: the App is the site's boundary.
                    refusal = self.websocket_origins.refusal(ws)
                    if refusal is not None:
                        raise HTTPError(403, refusal)
                await found(scope, receive, send)
                return
            route, params = found
            if params is not None:
                scope["path_params"] = params
            refusal = self.websocket_origins.refusal(ws)
            if refusal is not None:
                raise HTTPError(403, refusal)
            if self.sessions is not None and "session" not in scope:
                session = scope["session"] = await self.sessions.load(scope)
            if self.authenticator is not None and "user" not in scope:
                # The backends read only what a WebSocket shares with a Request.
                scope["user"], scope["auth"] = await self.authenticator.resolve(ws)
            for guard in route.guards():
                denied = await guard(ws)  # type: ignore[arg-type]  # guards get the WebSocket
                if denied is not None:
                    await ws.deny(denied)
                    return
            assert isinstance(route, WebSocketRoute)  # the table keeps WEBSOCKET for them
            await route.serve(ws, params)
        except WebSocketDisconnect as exc:
            if ws.close_code is None:  # raised by the handler, not by a peer that left
                await self._websocket_failed(ws, exc)
                return
        except Exception as exc:
            await self._websocket_failed(ws, exc)
            return
        await ws.close()  # refuses a handshake never accepted; ends an open connection
        if session is not None and session.modified and ws.accepted:
            await self._save_late_session(session, scope)

    async def _handshake_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The ``Set-Cookie`` of a session changed before the handshake's answer.

        The session is saved then, as for an HTTP response; changes made
        after the 101 are saved when the handler ends (``_save_late_session``).
        """
        session: Session | None = scope.get("session")
        if session is None or self.sessions is None:
            return []
        headers: list[tuple[bytes, bytes]] = []
        await self.sessions.commit(session, scope, headers)
        session.modified = session.regenerated = False
        # Vary means nothing on a 101 or on a denial nobody caches: only the cookie goes.
        return [(name, value) for name, value in headers if name == b"set-cookie"]

    async def _save_late_session(self, session: Session, scope: Scope) -> None:
        """Save a session changed after ``accept()``: possible in a server-side store only.

        The client's cookie cannot change after the 101, so a change that
        needs a new cookie (the CookieStore, a new session, ``regenerate()``)
        is lost, and logged as a warning.
        """
        assert self.sessions is not None
        headers: list[tuple[bytes, bytes]] = []
        try:
            await self.sessions.commit(session, scope, headers)
        except StoreUnavailable as exc:
            logger.error("Could not save the session of WebSocket %s: %s", scope.get("path"), exc)
            return
        cookie = any(name == b"set-cookie" for name, _ in headers)
        if cookie and (not self.sessions.store.server_side or session.to_dict()):
            logger.warning(
                "WebSocket %s changed the session after accept(), which needs a new cookie the "
                "client can no longer get: change it before accept(), or keep sessions in a "
                "server-side store (SQLiteStore, RedisStore)",
                scope.get("path"),
            )

    async def _websocket_failed(self, ws: WebSocket, exc: Exception) -> None:
        """Before ``accept()``: a denial (the error's status, else 500); after: close 1011."""
        scope = ws.scope
        unhandled: Exception | None = exc
        if ws.application_state != "connecting":
            logger.error("Unhandled exception in WebSocket %s", scope.get("path"), exc_info=exc)
            await ws.close(1011)  # RFC 6455 §7.4.1: an unexpected condition
        else:
            if isinstance(exc, StoreUnavailable):
                exc = _unavailable(exc)
            if isinstance(exc, HTTPError):
                unhandled = None
                response = error_response(scope, exc.status_code, exc.detail, exc.headers)
            else:
                logger.error("Unhandled exception in WebSocket %s", scope.get("path"), exc_info=exc)
                response = error_response(scope, 500, "Internal Server Error")
            with contextlib.suppress(OSError):  # the client left during the handshake
                await ws._deny(response)  # no session saved, as after an HTTP 500
        if unhandled is not None and should_reraise(scope):
            raise unhandled

    # -- lifespan ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan_cycle(self) -> AsyncIterator[Any]:
        for hook in self.on_startup:
            await _call_hook(hook)
        state = None
        if self.lifespan_context is not None:
            async with self.lifespan_context(self) as state:
                yield state
        else:
            yield None
        for hook in self.on_shutdown:
            await _call_hook(hook)
        await self.close()

    async def close(self) -> None:
        """Close the stores the app was given (the lifespan's shutdown does this)."""
        if self.sessions is not None:
            await self.sessions.store.close()
        close = getattr(self.user_store, "close", None)
        if close is not None:
            await _call_hook(close)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        await receive()  # lifespan.startup
        try:
            async with self._lifespan_cycle() as state:
                if state is not None:
                    if not isinstance(state, Mapping):
                        raise ConfigurationError(
                            "the lifespan context may yield a mapping (the lifespan state) "
                            f"or nothing, not a {type(state).__name__}"
                        )
                    if "state" not in scope:
                        raise ConfigurationError(
                            "this server does not support lifespan state; yield nothing and "
                            "use app.state"
                        )
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            text = "".join(traceback.format_exception(exc))
            phase = "shutdown" if started else "startup"
            logger.error("Application %s failed", phase, exc_info=exc)
            await send({"type": f"lifespan.{phase}.failed", "message": text})
            if not isinstance(exc, Exception):
                raise
            return
        await send({"type": "lifespan.shutdown.complete"})


_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE"))  # RFC 9110 §9.2.1


def _unavailable(exc: StoreUnavailable) -> HTTPError:
    logger.error("A store is unavailable: %s", exc)
    return HTTPError(
        503,
        "a store this service depends on is unavailable; try again shortly",
        headers={"Retry-After": "1"},
    )


async def _call_hook(hook: Callable[[], Any]) -> None:
    result = hook()
    if inspect.isawaitable(result):
        await result
