"""The index an app matches requests against (see the package docstring)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from transom.exceptions import ConfigurationError, HTTPError
from transom.http.url import quote, urlencode
from transom.web.responses import RedirectResponse, Response
from transom.web.routing.converters import DEFAULT_CONVERTERS, Converter
from transom.web.routing.routes import (
    _IDENTIFIER,
    WEBSOCKET,
    Mount,
    Route,
    Router,
    _MountCall,
    mount_scope,
)

__all__ = ["RouteTable", "UnknownRouteName"]


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
        #: How many WebSocket routes there are: ``is_websocket`` asks nothing when none.
        self.websocket_routes = 0

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
            and existing.is_websocket == target.is_websocket
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
            self.websocket_routes += route.is_websocket
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
        self.websocket_routes += route.is_websocket
        self._combine()

    @staticmethod
    def _check_methods_free(route: Route, by_method: dict[str, Route]) -> None:
        for method in route.declared_methods:
            other = by_method.get(method)
            if other is not None and method in other.declared_methods:
                what = "WebSocket" if method == WEBSOCKET else method
                raise ConfigurationError(
                    f"{what} {route.path!r} is already served by {other!r}; "
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
                return _MountCall(mount.app, mount_scope(scope, prefix))
        return self._slow_lookup(scope, path, method)

    def _slow_lookup(
        self, scope: Any, path: str, method: str
    ) -> tuple[Route, dict[str, Any] | None] | Response:
        """Try each template in turn; then the 405, OPTIONS, redirect, 426 or 404 answer.

        A WebSocket handshake that finds no WebSocket route gets a 404: the
        HTTP routes' methods, redirects and OPTIONS mean nothing to it.
        """
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
        if method == WEBSOCKET:
            raise HTTPError(404, "no WebSocket route serves this path")
        if WEBSOCKET in allowed:
            allowed.discard(WEBSOCKET)
            if not allowed:
                # RFC 9110 §15.5.22: a server sending 426 MUST send Upgrade, and a sender
                # of Upgrade MUST list it in Connection (§7.8).
                raise HTTPError(
                    426,
                    "this URL serves a WebSocket: open it with a WebSocket client",
                    headers={"Upgrade": "websocket", "Connection": "Upgrade"},
                )
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
        """The path of route ``name``; params it does not use become the query string.

        ``"admin:dashboard"`` is the route ``dashboard`` of the transom App
        mounted under the name ``admin``, behind that mount's path; names
        chain through nested mounts (``"a:b:c"``).
        """
        prefix, table, target = self._find(name, name, "")
        if isinstance(target, Mount):
            sub = params.pop("path", "")
            path = target.path + "/" + quote(str(sub).lstrip("/"), safe="/!$&'()*+,;=:@~")
        else:
            missing = [p for p in target.param_names if p not in params]
            if missing:
                raise ConfigurationError(
                    f"url_for({name!r}) needs parameter(s) {', '.join(missing)} for {target.path!r}"
                )
            path = target.url_path(table.converters, params)
            for used in target.param_names:
                params.pop(used)
        path = prefix + path
        if params:
            path += "?" + urlencode(params)
        return path

    def is_websocket(self, name: str) -> bool:
        """Whether ``name`` (as ``url_path`` takes it) names a WebSocket route."""
        if not self.websocket_routes and ":" not in name:
            return False
        try:
            target = self._find(name, name, "")[2]
        except UnknownRouteName:
            return False
        return isinstance(target, Route) and target.is_websocket

    def knows(self, name: str) -> bool:
        """Whether ``url_path(name, ...)`` finds a route or mount (its params aside)."""
        try:
            self._find(name, name, "")
        except UnknownRouteName:
            return False
        return True

    def _find(
        self, name: str, full_name: str, qualifier: str
    ) -> tuple[str, RouteTable, Route | Mount]:
        """``(mount prefixes, owning table, target)`` for ``name``; ``qualifier`` is the
        ``"mount:"`` text already followed, for the error message."""
        target = self.names.get(name)
        if target is not None:
            return "", self, target
        head, colon, rest = name.partition(":")
        mount = self.names.get(head) if colon else None
        if isinstance(mount, Mount):
            inner = mount.app._table if isinstance(mount.app, Router) else None
            if inner is None:
                raise UnknownRouteName(
                    f"url_for({full_name!r}): the app mounted as {qualifier + head!r} is "
                    f"{mount.app!r}, not a transom App, so it has no route names; "
                    f"url_for({qualifier + head!r}, path=...) builds a path under it"
                )
            prefix, table, target = inner._find(rest, full_name, qualifier + head + ":")
            return mount.path + prefix, table, target
        known = ", ".join(sorted(qualifier + known for known in self.names)) or "none"
        raise UnknownRouteName(
            f"url_for: no route named {full_name!r} (known: {known}){self._hint(name, qualifier)}"
        )

    def _hint(self, name: str, qualifier: str) -> str:
        """Where ``name`` is when it belongs to an app mounted here."""
        for mount in self.mounts:
            app = mount.app
            if isinstance(app, Router) and app._table is not None and app._table.knows(name):
                if mount.name is not None:
                    return f"; did you mean {qualifier + mount.name + ':' + name!r}?"
                return (
                    f"; the app mounted at {mount.path!r} has it: mount it with a name, "
                    f"mount({mount.path!r}, app, name='sub'), and ask for 'sub:{name}'"
                )
        return ""


class UnknownRouteName(ConfigurationError):
    """``url_for`` was given a name no route or mount has; the message lists those known."""
