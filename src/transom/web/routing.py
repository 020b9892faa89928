"""URL routing: routes, routers, mounts, path converters and ``url_for``.

Theory of operation
-------------------
A ``Route`` is a path template (``/users/{user_id:int}``), a handler and a
set of methods. The template is parsed once into literal text and
parameters; each parameter names a *converter*, which brings a regex (what
the segment may look like), ``convert`` (text -> value for the handler)
and ``to_string`` (value -> text for ``url_for``).

Routes are collected by a ``Router``; an ``App`` is a router that also
indexes its routes in a ``RouteTable`` as they are added, so every mistake
(unknown converter, duplicate name, handler missing a path parameter) fails
when the route is added, with a message saying what to change.

The table answers a request in this order:

1. Static paths (no parameters): one dict lookup, ``path -> {method: route}``.
2. Dynamic paths: all templates are joined into one alternation regex,
   ``(t0)|(t1)|...``, matched once with ``fullmatch``; ``m.lastindex`` is
   the index of the outer group that matched, so it names the template
   without trying each one in turn. Templates that compile to the same
   regex share a group and are told apart by method.
3. Mounts (``app.mount("/sub", asgi_app)``), longest prefix first.
4. Only when all of these miss: the slow path tries each template on its
   own, so a method served by a later, overlapping template is still found,
   and collects the methods allowed for a 405; an ``OPTIONS`` request gets
   a 204 with ``Allow``; a path that would match with or without a
   trailing slash is redirected there (308, query string kept); else 404.

A static path beats a dynamic one whatever the order they were added in
(``/users/me`` wins over ``/users/{name}``); among dynamic templates the
first added wins. ``HEAD`` is served by every ``GET`` route.

Mounted apps get ``root_path`` extended by the mount prefix and the full
``path`` unchanged (ASGI 2.4 and Starlette/FastAPI expect this), so a
Starlette or FastAPI app runs under a prefix as it would alone.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

from transom._types import ASGIApp
from transom.exceptions import ConfigurationError, HTTPError
from transom.http.url import quote, urlencode
from transom.web.concurrency import run_sync
from transom.web.requests import Request
from transom.web.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

__all__ = [
    "Converter",
    "FloatConverter",
    "IntConverter",
    "Mount",
    "PathConverter",
    "Route",
    "RouteTable",
    "Router",
    "StringConverter",
    "UUIDConverter",
    "to_response",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class Converter:
    """A path parameter type: ``regex``, ``convert`` and ``to_string``.

    Subclass and register with ``app.add_converter(name, MyConverter)``:

    >>> class SlugConverter(Converter):
    ...     regex = "[a-z0-9]+(?:-[a-z0-9]+)*"
    >>> app.add_converter("slug", SlugConverter)
    >>> @app.get("/posts/{slug:slug}")
    ... async def post(slug: str): ...

    ``convert`` may raise ``ValueError``: the route then does not match.
    """

    regex: ClassVar[str] = "[^/]+"

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


class StringConverter(Converter):
    """``{name}`` or ``{name:str}``: one non-empty path segment."""

    def to_string(self, value: Any) -> str:
        text = str(value)
        if not text or "/" in text:
            raise ValueError(f"{value!r} is not a single non-empty path segment")
        return text


class PathConverter(Converter):
    """``{name:path}``: the rest of the path, slashes included."""

    regex = ".*"


class IntConverter(Converter):
    """``{name:int}``: a non-negative decimal integer."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{value!r} is not a non-negative int")
        return str(value)


class FloatConverter(Converter):
    """``{name:float}``: a non-negative decimal number, ``3`` or ``3.25``."""

    regex = r"[0-9]+(?:\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: Any) -> str:
        number = float(value)
        if not number >= 0 or number == float("inf"):
            raise ValueError(f"{value!r} is not a finite non-negative number")
        return repr(number) if number != int(number) else str(int(number))


class UUIDConverter(Converter):
    """``{name:uuid}``: a UUID in its 8-4-4-4-12 hex form."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


DEFAULT_CONVERTERS: dict[str, Converter] = {
    "str": StringConverter(),
    "path": PathConverter(),
    "int": IntConverter(),
    "float": FloatConverter(),
    "uuid": UUIDConverter(),
}

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
    """What a handler takes: path parameters, and ``request`` (by name or type)."""

    __slots__ = ("_required", "accepts_any", "names", "request_arg")

    def __init__(self, endpoint: Callable[..., Any], route_path: str) -> None:
        try:
            signature = inspect.signature(endpoint, eval_str=True)
        except (NameError, TypeError):
            signature = inspect.signature(endpoint)
        self.request_arg: str | None = None
        self.accepts_any = False
        self.names: set[str] = set()
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                self.accepts_any = True
            elif param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                annotation = param.annotation
                if param.name == "request" or annotation is Request or annotation == "Request":
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


def to_response(value: Any, endpoint: object = None) -> Response:
    """Turn a handler's return value into a Response.

    A Response as is; dict/list -> JSON; str -> HTML; bytes -> octet-stream;
    None -> 204 No Content.
    """
    if isinstance(value, Response):
        return value
    if isinstance(value, (dict, list)):
        return JSONResponse(value)
    if isinstance(value, str):
        return HTMLResponse(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Response(bytes(value), media_type="application/octet-stream")
    if value is None:
        return Response(status_code=204)
    where = f"handler {getattr(endpoint, '__name__', endpoint)!r}" if endpoint else "a handler"
    raise TypeError(
        f"{where} returned a {type(value).__name__}: return a Response, dict, list, "
        "str, bytes or None"
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
        "is_async",
        "max_body_size",
        "methods",
        "name",
        "param_names",
        "parts",
        "path",
        "request_arg",
    )

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        max_body_size: int | None = None,
    ) -> None:
        if not callable(endpoint):
            raise ConfigurationError(f"route {path!r}: handler {endpoint!r} is not callable")
        self.path = path
        self.endpoint = endpoint
        self.parts = _parse_template(path)
        self.param_names = [p[0] for p in self.parts if isinstance(p, tuple)]
        declared = ["GET"] if methods is None else [m.upper() for m in methods]
        for method in declared:
            if _METHOD.fullmatch(method) is None:
                raise ConfigurationError(f"route {path!r}: {method!r} is not an HTTP method")
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
        signature = _HandlerSignature(endpoint, path)
        signature.check(self.param_names, getattr(endpoint, "__name__", repr(endpoint)), path)
        self.request_arg = signature.request_arg

    @property
    def is_static(self) -> bool:
        return not self.param_names

    async def handle(
        self, scope: Any, receive: Any, params: dict[str, Any] | None
    ) -> tuple[Response, Request | None]:
        """Call the handler and turn what it returns into a Response."""
        kwargs = params if params is not None else {}
        request = None
        if self.request_arg is not None:
            request = Request(scope, receive, max_body_size=self.max_body_size)
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
        return f"<Mount {self.path!r} {self.app!r}>"


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
        self._table: RouteTable | None = None

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        max_body_size: int | None = None,
    ) -> Route:
        """Serve ``endpoint`` at ``path`` for ``methods`` (default ``["GET"]``)."""
        route = Route(
            self.prefix + path,
            endpoint,
            methods=methods,
            name=name,
            max_body_size=max_body_size,
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
            self.add_route(
                route.path,
                route.endpoint,
                methods=route.declared_methods,
                name=route.name,
                max_body_size=route.max_body_size,
            )
        for mount in router.mounts:
            self.mount(mount.path, mount.app, name=mount.name)


class _Group:
    """Dynamic routes that compile to one regex, told apart by method."""

    __slots__ = ("by_method", "extractors", "regex")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.by_method: dict[str, Route] = {}
        # route -> [(param name, convert or None for text, group offset)]
        self.extractors: dict[Route, list[tuple[str, Callable[[str], Any] | None, int]]] = {}


def _bind_methods(route: Route, by_method: dict[str, Route]) -> None:
    """Declared methods replace an implied HEAD; an implied HEAD never replaces one."""
    for method in route.methods:
        if method in route.declared_methods:
            by_method[method] = route
        else:
            by_method.setdefault(method, route)


def _extract(
    match: re.Match[str], base: int, spec: list[tuple[str, Callable[[str], Any] | None, int]]
) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for name, convert, offset in spec:
        value = match.group(base + offset)
        if convert is not None:
            try:
                value = convert(value)
            except ValueError:
                return None
        params[name] = value
    return params


class RouteTable:
    """The index an app matches requests against; see the module docstring."""

    def __init__(self) -> None:
        self.converters: dict[str, Converter] = dict(DEFAULT_CONVERTERS)
        self.static: dict[str, dict[str, Route]] = {}
        self.groups: list[_Group] = []
        self._group_by_source: dict[str, _Group] = {}
        self._combined: re.Pattern[str] | None = None
        self._group_at: dict[int, _Group] = {}
        self.mounts: list[Mount] = []
        self.names: dict[str, Route | Mount] = {}

    def add_converter(self, name: str, converter: Converter | type[Converter]) -> None:
        if _IDENTIFIER.fullmatch(name) is None:
            raise ConfigurationError(f"converter name {name!r} must be an identifier")
        instance = converter() if isinstance(converter, type) else converter
        regex = getattr(instance, "regex", None)
        if not isinstance(regex, str) or not callable(getattr(instance, "convert", None)):
            raise ConfigurationError(
                f"converter {name!r} needs a 'regex' string and convert()/to_string() methods; "
                "subclass transom.web.routing.Converter"
            )
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigurationError(
                f"converter {name!r}: invalid regex {regex!r}: {exc}"
            ) from None
        if name in self.converters and self.converters[name] is not instance:
            raise ConfigurationError(f"converter {name!r} is already registered")
        self.converters[name] = instance

    def _register_name(self, name: str | None, target: Route | Mount) -> None:
        if name is None:
            return
        existing = self.names.get(name)
        if existing is None:
            self.names[name] = target
            return
        if (
            isinstance(existing, Route)
            and isinstance(target, Route)
            and existing.path == target.path
        ):
            return  # same URL: url_for stays unambiguous (GET and POST of one form)
        raise ConfigurationError(
            f"route name {name!r} is already used by {existing!r}; pass a distinct "
            f"name=... for {target!r}"
        )

    def add(self, route: Route) -> None:
        """Index ``route``; raises ConfigurationError on any mistake in it."""
        for part in route.parts:
            if isinstance(part, tuple) and part[1] not in self.converters:
                raise ConfigurationError(
                    f"route {route.path!r}: unknown converter {part[1]!r}; known: "
                    f"{', '.join(sorted(self.converters))}. Register it first with "
                    f"app.add_converter({part[1]!r}, MyConverter)"
                )
        if route.is_static:
            by_method = self.static.setdefault(route.path, {})
            self._check_methods_free(route, by_method)
            self._register_name(route.name, route)
            _bind_methods(route, by_method)
            return
        source, spec = self._compile(route)
        group = self._group_by_source.get(source)
        if group is None:
            group = _Group(re.compile(source))
        else:
            self._check_methods_free(route, group.by_method)
        self._register_name(route.name, route)
        if source not in self._group_by_source:
            self._group_by_source[source] = group
            self.groups.append(group)
        _bind_methods(route, group.by_method)
        group.extractors[route] = spec
        self._combine()

    @staticmethod
    def _check_methods_free(route: Route, by_method: dict[str, Route]) -> None:
        for method in route.declared_methods:
            other = by_method.get(method)
            if other is not None and method in other.declared_methods:
                raise ConfigurationError(
                    f"{method} {route.path!r} is already served by {other!r}; "
                    "remove one of the two routes"
                )

    def _compile(
        self, route: Route
    ) -> tuple[str, list[tuple[str, Callable[[str], Any] | None, int]]]:
        source = []
        spec: list[tuple[str, Callable[[str], Any] | None, int]] = []
        offset = 0
        for part in route.parts:
            if isinstance(part, str):
                source.append(re.escape(part))
                continue
            name, converter_name = part
            converter = self.converters[converter_name]
            regex = converter.regex
            source.append(f"({regex})")
            offset += 1
            identity = type(converter).convert is Converter.convert
            spec.append((name, None if identity else converter.convert, offset))
            offset += re.compile(regex).groups
        return "".join(source), spec

    def _combine(self) -> None:
        sources = []
        self._group_at = {}
        index = 1
        for group in self.groups:
            sources.append(f"({group.regex.pattern})")
            self._group_at[index] = group
            index += 1 + group.regex.groups
        self._combined = re.compile("|".join(sources))

    def add_mount(self, mount: Mount) -> None:
        self._register_name(mount.name, mount)
        self.mounts.append(mount)
        self.mounts.sort(key=lambda m: len(m.path), reverse=True)

    def lookup(
        self, scope: Any, path: str, method: str
    ) -> tuple[Route, dict[str, Any] | None] | _MountCall | Response:
        """Find what serves ``method path``; raises HTTPError(404/405) when nothing does."""
        by_method = self.static.get(path)
        if by_method is not None:
            route = by_method.get(method)
            if route is not None:
                return route, None
        elif self._combined is not None:
            match = self._combined.fullmatch(path)
            if match is not None:
                base = match.lastindex or 0
                group = self._group_at[base]
                route = group.by_method.get(method)
                if route is not None:
                    params = _extract(match, base, group.extractors[route])
                    if params is not None:
                        return route, params
        for mount in self.mounts:
            prefix = mount.path
            if path == prefix or (path.startswith(prefix) and path[len(prefix)] == "/"):
                child = dict(scope)
                child["root_path"] = scope.get("root_path", "") + prefix
                return _MountCall(mount.app, child)
        return self._slow_lookup(scope, path, method)

    def _slow_lookup(
        self, scope: Any, path: str, method: str
    ) -> tuple[Route, dict[str, Any] | None] | Response:
        allowed: set[str] = set()
        by_method = self.static.get(path)
        if by_method is not None:
            allowed.update(by_method)
        for group in self.groups:
            match = group.regex.fullmatch(path)
            if match is None:
                continue
            for route, spec in group.extractors.items():
                params = _extract(match, 0, spec)
                if params is None:
                    continue
                if method in route.methods and group.by_method.get(method) is route:
                    return route, params
                allowed.update(m for m, r in group.by_method.items() if r is route)
        if allowed:
            allow = ", ".join(sorted(allowed | {"OPTIONS"}))
            if method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": allow})
            raise HTTPError(405, headers={"Allow": allow})
        redirect = self._trailing_slash_redirect(scope, path)
        if redirect is not None:
            return redirect
        raise HTTPError(404)

    def matches_any(self, path: str) -> bool:
        """Whether some route serves ``path`` for some method."""
        if path in self.static:
            return True
        return self._combined is not None and self._combined.fullmatch(path) is not None

    def _trailing_slash_redirect(self, scope: Any, path: str) -> Response | None:
        if path == "/":
            return None
        other = path[:-1] if path.endswith("/") else path + "/"
        if not self.matches_any(other):
            return None
        raw = scope.get("raw_path")
        if raw:  # the full path as sent, root_path included
            target = raw.decode("latin-1").split("?", 1)[0]
            location = target[:-1] if target.endswith("/") else target + "/"
        else:
            location = scope.get("root_path", "") + quote(other)
        if location.startswith("//"):
            # "//host/..." would be read as another site's URL: an open redirect.
            location = "/" + location.lstrip("/")
        query = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        return RedirectResponse(location, status_code=308)

    def url_path(self, name: str, params: dict[str, Any]) -> str:
        """The path of route ``name``; params it does not use become the query string."""
        target = self.names.get(name)
        if target is None:
            known = ", ".join(sorted(self.names)) or "none"
            raise ConfigurationError(f"url_for: no route named {name!r} (known: {known})")
        if isinstance(target, Mount):
            sub = params.pop("path", "")
            path = target.path + "/" + quote(str(sub).lstrip("/"), safe="/!$&'()*+,;=:@~")
        else:
            missing = [p for p in target.param_names if p not in params]
            if missing:
                raise ConfigurationError(
                    f"url_for({name!r}) needs parameter(s) {', '.join(missing)} for {target.path!r}"
                )
            path = target.url_path(self.converters, params)
            for used in target.param_names:
                params.pop(used)
        if params:
            path += "?" + urlencode(params)
        return path
