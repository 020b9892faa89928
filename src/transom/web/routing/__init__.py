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
Starlette or FastAPI app runs under a prefix as it would alone. The scope
also records the transom apps the request came through
(``requests.MOUNTED_FROM``), so ``request.url_for`` inside a mounted App can
reach the routes of the apps around it.

WebSocket routes (``WebSocketRoute``, ``router.websocket(path)``) are
indexed in the same table under the pseudo-method ``WEBSOCKET``, which is
not an HTTP token, so a path may have both an HTTP route and a WebSocket
route and no HTTP request reaches the WebSocket one. A handshake that
finds no WebSocket route is a 404 (no 405, OPTIONS or redirect); a plain
HTTP request to a path only a WebSocket route serves gets 426 Upgrade
Required (RFC 9110 §15.5.22). ``url_for`` builds their paths like any
other; ``request.url_for`` gives them the ``ws``/``wss`` scheme.

``url_for`` names: a route's name; a mount's name (with ``path=``, a path
under the mount); ``"mount:route"`` for a route of a transom App mounted
under that name, chaining through nested mounts (``"a:b:c"``). Each route's
path is built with the converters of the app that owns it.
"""

from __future__ import annotations

from transom.web.responses import to_response
from transom.web.routing.converters import (
    DEFAULT_CONVERTERS,
    Converter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from transom.web.routing.routes import WEBSOCKET, Mount, Route, Router, WebSocketRoute
from transom.web.routing.table import RouteTable

__all__ = [
    "DEFAULT_CONVERTERS",
    "WEBSOCKET",
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
    "WebSocketRoute",
    "to_response",
]
