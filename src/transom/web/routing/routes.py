"""Routes, mounts and routers: what an app is built from.

A ``Route`` parses its template once (literal text and ``(name,
converter)`` pairs) and inspects its handler once (which path parameters
it takes, whether it wants the ``Request``), so mistakes fail when the
route is made. A ``Router`` collects routes and mounts under a prefix;
an ``App`` is a router that also indexes them (``table.RouteTable``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from transom._types import ASGIApp
from transom.exceptions import ConfigurationError
from transom.http.url import quote
from transom.web.concurrency import run_sync
from transom.web.guards import Guard, guards_of
from transom.web.requests import MOUNTED_FROM, HTTPConnection, Request
from transom.web.responses import Response, to_response
from transom.web.routing.converters import Converter
from transom.web.websockets import WebSocket

if TYPE_CHECKING:
    from transom.web.routing.table import RouteTable

__all__ = ["WEBSOCKET", "Mount", "Route", "Router", "WebSocketRoute"]

_F = TypeVar("_F", bound=Callable[..., Any])

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_METHOD = re.compile(r"[A-Z]+")


def _parse_template(path: str) -> list[str | tuple[str, str]]:
    """Split a template into literal text and ``(name, converter)`` pairs."""
    if not path.startswith("/"):
        raise ConfigurationError(f"route path {path!r} must start with '/'")
    parts: list[str | tuple[str, str]] = []
    seen: set[str] = set()
    end = 0
    for match in _PARAM.finditer(path):
        literal = path[end : match.start()]
        name, converter = match.group(1), match.group(2) or "str"
        if _IDENTIFIER.fullmatch(name) is None:
            raise ConfigurationError(
                f"route {path!r}: parameter {name!r} must be a Python identifier, "
                "as in '/users/{user_id:int}'"
            )
        if name in seen:
            raise ConfigurationError(f"route {path!r}: parameter {name!r} appears twice")
        seen.add(name)
        parts.extend((literal, (name, converter)) if literal else ((name, converter),))
        end = match.end()
    if end < len(path):
        parts.append(path[end:])
    for part in parts:
        if isinstance(part, str) and ("{" in part or "}" in part):
            raise ConfigurationError(
                f"route {path!r}: unbalanced brace; parameters look like '{{name}}' or "
                "'{name:int}'"
            )
    return parts


class _HandlerSignature:
    """What a handler takes: path parameters, and the connection (by name or type).

    The connection is the ``Request`` of an HTTP route (a parameter named
    ``request`` or annotated ``Request``) or the ``WebSocket`` of a
    WebSocket route (named ``websocket`` or ``ws``, or annotated so).
    """

    __slots__ = ("_required", "accepts_any", "names", "request_arg", "request_class")

    def __init__(
        self,
        endpoint: Callable[..., Any],
        connection_class: type[HTTPConnection] = Request,
        connection_names: tuple[str, ...] = ("request",),
    ) -> None:
        try:
            signature = inspect.signature(endpoint, eval_str=True)
        except Exception:  # an annotation that cannot be evaluated here: read it as text
            signature = inspect.signature(endpoint)
        self.request_arg: str | None = None
        self.request_class: type[Any] = connection_class
        self.accepts_any = False
        self.names: set[str] = set()
        class_name = connection_class.__name__
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                self.accepts_any = True
            elif param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                annotation = param.annotation
                if isinstance(annotation, type) and issubclass(annotation, connection_class):
                    self.request_arg = param.name
                    self.request_class = annotation
                elif param.name in connection_names or annotation == class_name:
                    self.request_arg = param.name
                else:
                    self.names.add(param.name)
        self._required = {
            p.name
            for p in signature.parameters.values()
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }

    def check(self, path_params: Iterable[str], endpoint_name: str, route_path: str) -> None:
        params = set(path_params)
        missing = sorted(params - self.names) if not self.accepts_any else []
        if missing:
            raise ConfigurationError(
                f"handler {endpoint_name}() for {route_path!r} does not take path "
                f"parameter(s) {', '.join(missing)}: add them as arguments"
            )
        unfilled = sorted(self._required - params - {self.request_arg})
        if unfilled:
            raise ConfigurationError(
                f"handler {endpoint_name}() for {route_path!r} requires argument(s) "
                f"{', '.join(unfilled)}, which are not path parameters; give them defaults "
                "or add them to the path"
            )


class Route:
    """One path template served by one handler for a set of methods.

    ``methods`` defaults to ``["GET"]``; a ``GET`` route also serves
    ``HEAD``. ``name`` (for ``url_for``) defaults to the handler's name.
    ``max_body_size`` overrides the app's request body limit for this route.
    """

    __slots__ = (
        "declared_methods",
        "endpoint",
        "guard_lists",
        "is_async",
        "max_body_size",
        "methods",
        "name",
        "option_dicts",
        "param_names",
        "parts",
        "path",
        "request_arg",
        "request_class",
    )

    #: Whether this route serves WebSocket handshakes (``WebSocketRoute``) rather than HTTP.
    is_websocket = False

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        max_body_size: int | None = None,
        guards: Iterable[list[Guard]] = (),
        options: Iterable[dict[str, Any]] = (),
    ) -> None:
        if not callable(endpoint):
            raise ConfigurationError(f"route {path!r}: handler {endpoint!r} is not callable")
        self.path = path
        self.endpoint = endpoint
        self.parts = _parse_template(path)
        self.param_names = [p[0] for p in self.parts if isinstance(p, tuple)]
        declared = self._declared_methods(path, methods)
        self.declared_methods = tuple(declared)
        self.methods = frozenset(declared) | ({"HEAD"} if "GET" in declared else set())
        if name is None:
            # A lambda or a partial gets no name: url_for cannot reach it by accident.
            name = getattr(endpoint, "__name__", None)
            if name is not None and _IDENTIFIER.fullmatch(name) is None:
                name = None
        self.name = name
        if max_body_size is not None and (not isinstance(max_body_size, int) or max_body_size < 0):
            raise ConfigurationError(
                f"route {path!r}: max_body_size must be a non-negative int of bytes"
            )
        self.max_body_size = max_body_size
        self.is_async = inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(
            getattr(endpoint, "__call__", None)  # noqa: B004 - async callable objects
        )
        signature = self._signature(endpoint)
        signature.check(self.param_names, getattr(endpoint, "__name__", repr(endpoint)), path)
        self.request_arg = signature.request_arg
        self.request_class = signature.request_class
        # Live lists and dicts (the routers' and the handler's own), outermost first, so a
        # decorator applied after the route was added still counts (see transom.web.guards).
        try:
            own_guards = guards_of(endpoint)
        except ConfigurationError:  # a callable without attributes: it cannot have guards
            own_guards = []
        self.guard_lists: tuple[list[Guard], ...] = (*guards, own_guards)
        self.option_dicts: tuple[dict[str, Any], ...] = tuple(options)  # the routers'

    @staticmethod
    def _declared_methods(path: str, methods: Iterable[str] | None) -> list[str]:
        declared = ["GET"] if methods is None else [m.upper() for m in methods]
        for method in declared:
            if _METHOD.fullmatch(method) is None:
                raise ConfigurationError(f"route {path!r}: {method!r} is not an HTTP method")
        return declared

    @staticmethod
    def _signature(endpoint: Callable[..., Any]) -> _HandlerSignature:
        return _HandlerSignature(endpoint)

    @property
    def is_static(self) -> bool:
        return not self.param_names

    def guards(self) -> list[Guard]:
        """The guards to run before the handler, outermost first."""
        return [guard for guards in self.guard_lists for guard in guards]

    def option(self, key: str, default: Any = None) -> Any:
        """A route option (``csrf_exempt``...) set on the handler or a router it came from."""
        own = getattr(getattr(self.endpoint, "__func__", self.endpoint), "__transom_options__", {})
        if key in own:
            return own[key]
        for options in reversed(self.option_dicts):
            if key in options:
                return options[key]
        return default

    async def handle(
        self,
        scope: Any,
        receive: Any,
        params: dict[str, Any] | None,
        request: Request | None = None,
    ) -> tuple[Response, Request | None]:
        """Call the handler and turn what it returns into a Response."""
        kwargs = params if params is not None else {}
        if self.request_arg is not None:
            if request is None:
                request = self.request_class(scope, receive, max_body_size=self.max_body_size)
            # A new dict: ``params`` is also scope["path_params"].
            kwargs = {**kwargs, self.request_arg: request}
        try:
            if self.is_async:
                result = await self.endpoint(**kwargs)
            else:
                result = await run_sync(self.endpoint, **kwargs)
        except BaseException:
            if request is not None:
                await request.close()
            raise
        if isinstance(result, Response):
            return result, request
        return to_response(result, self.endpoint), request

    def url_path(self, converters: dict[str, Converter], params: dict[str, Any]) -> str:
        """Build this route's path from ``params`` (every one must be used)."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name, converter_name = part
            converter = converters[converter_name]
            try:
                text = converter.to_string(params[name])
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(
                    f"url_for({self.name!r}): parameter {name!r} is not a valid "
                    f"{converter_name}: {exc}"
                ) from None
            safe = "/" if converter_name == "path" else ""
            out.append(quote(text, safe=safe + "!$&'()*+,;=:@~"))
        return "".join(out)

    def __repr__(self) -> str:
        return f"<Route {self.path!r} {sorted(self.methods)} {self.name!r}>"


#: The method a ``WebSocketRoute`` is indexed under in the route table. Not an
#: HTTP token (RFC 9110 §5.6.2 has no ``<``), so no HTTP request can name it.
WEBSOCKET = "<websocket>"


class WebSocketRoute(Route):
    """One path template served by a WebSocket handler.

    The handler is an ``async def`` that takes the ``WebSocket`` (a
    parameter annotated ``WebSocket``, or named ``websocket`` or ``ws``)
    and the path parameters; it returns nothing. Route guards
    (``requires``, ``rate_limit``) run before it, on the handshake.
    """

    __slots__ = ()

    is_websocket = True

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        guards: Iterable[list[Guard]] = (),
        options: Iterable[dict[str, Any]] = (),
    ) -> None:
        super().__init__(path, endpoint, name=name, guards=guards, options=options)
        handler = getattr(endpoint, "__name__", repr(endpoint))
        if not self.is_async:
            raise ConfigurationError(
                f"WebSocket handler {handler}() for {path!r} must be an async def: it awaits "
                "the messages of a connection that stays open"
            )
        if self.request_arg is None:
            raise ConfigurationError(
                f"WebSocket handler {handler}() for {path!r} does not take the WebSocket; "
                f"add it: async def {handler}(ws: WebSocket, ...)"
            )

    @staticmethod
    def _declared_methods(path: str, methods: Iterable[str] | None) -> list[str]:
        return [WEBSOCKET]

    @staticmethod
    def _signature(endpoint: Callable[..., Any]) -> _HandlerSignature:
        return _HandlerSignature(endpoint, WebSocket, ("websocket", "ws"))

    async def serve(self, websocket: WebSocket, params: dict[str, Any] | None) -> None:
        """Call the handler with the WebSocket and the path parameters."""
        assert self.request_arg is not None  # checked in __init__
        await self.endpoint(**(params or {}), **{self.request_arg: websocket})

    def __repr__(self) -> str:
        return f"<WebSocketRoute {self.path!r} {self.name!r}>"


class Mount:
    """An ASGI app served under a path prefix."""

    __slots__ = ("app", "name", "path")

    def __init__(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        if not path.startswith("/") or path == "/":
            raise ConfigurationError(
                f"mount path {path!r} must start with '/' and not be '/' alone; "
                "to serve a whole app, run it directly"
            )
        if "{" in path:
            raise ConfigurationError(f"mount path {path!r} cannot have parameters")
        self.path = path.rstrip("/")
        self.app = app
        self.name = name

    def __repr__(self) -> str:
        return f"<Mount {self.path!r} {self.app!r} {self.name!r}>"


def mount_scope(scope: Any, prefix: str) -> dict[str, Any]:
    """The scope a mounted app gets: ``root_path`` grows by ``prefix``, ``path`` stays whole."""
    child = dict(scope)
    root = scope.get("root_path", "")
    child["root_path"] = root + prefix
    child[MOUNTED_FROM] = (*scope.get(MOUNTED_FROM, ()), (scope.get("app"), root))
    return child


class _MountCall:
    """Calls a mounted app with its own scope; returned by the table."""

    __slots__ = ("app", "scope")

    def __init__(self, app: ASGIApp, scope: Any) -> None:
        self.app = app
        self.scope = scope

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(self.scope, receive, send)


class Router:
    """A collection of routes and mounts under an optional ``prefix``.

    Build a router beside the handlers it serves, then include it in the
    app; its routes take the prefix, and everything is checked then:

    >>> api = Router(prefix="/api")
    >>> @api.get("/notes/{note_id:int}", name="note")
    ... async def note(note_id: int): ...
    >>> app.include(api)
    """

    def __init__(self, prefix: str = "") -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(
                f"router prefix {prefix!r} must start with '/' and not end with one, as in '/api'"
            )
        self.prefix = prefix
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []
        #: Guards for every route of this router (``rate_limit(...)(router)``), and options.
        self.guards: list[Guard] = []
        self.options: dict[str, Any] = {}
        self._table: RouteTable | None = None

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        max_body_size: int | None = None,
        guards: Iterable[list[Guard]] = (),
        options: Iterable[dict[str, Any]] = (),
    ) -> Route:
        """Serve ``endpoint`` at ``path`` for ``methods`` (default ``["GET"]``)."""
        route = Route(
            self.prefix + path,
            endpoint,
            methods=methods,
            name=name,
            max_body_size=max_body_size,
            guards=(self.guards, *guards),
            options=(self.options, *options),
        )
        if self._table is not None:
            self._table.add(route)
        self.routes.append(route)
        return route

    def route(
        self,
        path: str,
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        max_body_size: int | None = None,
    ) -> Callable[[_F], _F]:
        """Decorator form of ``add_route``.

        >>> @app.route("/items", methods=["GET", "POST"])
        ... async def items(request: Request): ...
        """

        def decorator(endpoint: _F) -> _F:
            self.add_route(path, endpoint, methods=methods, name=name, max_body_size=max_body_size)
            return endpoint

        return decorator

    def get(
        self, path: str, *, name: str | None = None, max_body_size: int | None = None
    ) -> Callable[[_F], _F]:
        """Serve ``GET`` (and ``HEAD``) at ``path``."""
        return self.route(path, methods=["GET"], name=name, max_body_size=max_body_size)

    def post(
        self, path: str, *, name: str | None = None, max_body_size: int | None = None
    ) -> Callable[[_F], _F]:
        """Serve ``POST`` at ``path``."""
        return self.route(path, methods=["POST"], name=name, max_body_size=max_body_size)

    def put(
        self, path: str, *, name: str | None = None, max_body_size: int | None = None
    ) -> Callable[[_F], _F]:
        """Serve ``PUT`` at ``path``."""
        return self.route(path, methods=["PUT"], name=name, max_body_size=max_body_size)

    def patch(
        self, path: str, *, name: str | None = None, max_body_size: int | None = None
    ) -> Callable[[_F], _F]:
        """Serve ``PATCH`` at ``path``."""
        return self.route(path, methods=["PATCH"], name=name, max_body_size=max_body_size)

    def delete(
        self, path: str, *, name: str | None = None, max_body_size: int | None = None
    ) -> Callable[[_F], _F]:
        """Serve ``DELETE`` at ``path``."""
        return self.route(path, methods=["DELETE"], name=name, max_body_size=max_body_size)

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        guards: Iterable[list[Guard]] = (),
        options: Iterable[dict[str, Any]] = (),
    ) -> WebSocketRoute:
        """Serve WebSocket handshakes at ``path`` with ``endpoint`` (see ``websocket``)."""
        route = WebSocketRoute(
            self.prefix + path,
            endpoint,
            name=name,
            guards=(self.guards, *guards),
            options=(self.options, *options),
        )
        if self._table is not None:
            self._table.add(route)
        self.routes.append(route)
        return route

    def websocket(self, path: str, *, name: str | None = None) -> Callable[[_F], _F]:
        """Serve WebSocket connections at ``path``; converters work as for HTTP routes.

        >>> @app.websocket("/ws/{room}", name="room")
        ... async def room(ws: WebSocket, room: str) -> None:
        ...     await ws.accept()
        ...     async for message in ws:
        ...         await ws.send_text(message)

        A path may have both an HTTP route and a WebSocket route: a
        handshake goes to the WebSocket one, any other request to the other.
        """

        def decorator(endpoint: _F) -> _F:
            self.add_websocket_route(path, endpoint, name=name)
            return endpoint

        return decorator

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI app (a Starlette or FastAPI app, StaticFiles...) under ``path``.

        >>> app.mount("/static", StaticFiles("static"), name="static")
        """
        mount = Mount(self.prefix + path, app, name=name)
        if self._table is not None:
            self._table.add_mount(mount)
        self.mounts.append(mount)

    def include(self, router: Router) -> None:
        """Add every route and mount of ``router``, under this router's prefix too."""
        if router is self:
            raise ConfigurationError("a router cannot include itself")
        for route in router.routes:
            if route.is_websocket:
                self.add_websocket_route(
                    route.path,
                    route.endpoint,
                    name=route.name,
                    guards=route.guard_lists[:-1],
                    options=route.option_dicts,
                )
                continue
            self.add_route(
                route.path,
                route.endpoint,
                methods=route.declared_methods,
                name=route.name,
                max_body_size=route.max_body_size,
                guards=route.guard_lists[:-1],  # the included router's, and those it included
                options=route.option_dicts,
            )
        for mount in router.mounts:
            self.mount(mount.path, mount.app, name=mount.name)
