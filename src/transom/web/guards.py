"""Guards and route options: what decorators such as ``requires`` attach to a route.

A guard is ``async def guard(request) -> Response | None``. The app runs a
route's guards in order before its handler; the first that returns a
response (or raises ``HTTPError``) answers the request instead of the
handler. ``requires(...)``, ``rate_limit(...)`` and user code build on it.

Guards and options are attached to the handler function, not wrapped
around it, so the handler keeps its own signature (the router still sees
which path parameters it takes) and a decorator may sit above or below
``@app.get``: the route reads the same list object the decorators fill.
Decorators apply bottom-up, and each new guard goes first, so the
outermost decorator's guard runs first, as with wrappers.

A guard may also add headers to the response the handler will give
(``add_response_headers``), as rate limits do on every response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from transom.exceptions import ConfigurationError

if TYPE_CHECKING:
    from transom.web.requests import Request
    from transom.web.responses import Response

__all__ = [
    "EXTRA_HEADERS",
    "Guard",
    "add_guard",
    "add_response_headers",
    "guards_of",
    "route_option",
    "set_route_option",
]

Guard = Callable[["Request"], Awaitable["Response | None"]]

#: Scope key: header pairs the app appends to the handler's response.
EXTRA_HEADERS = "transom.extra_headers"

_GUARDS = "__transom_guards__"
_OPTIONS = "__transom_options__"


def _attributes(target: Any, name: str, factory: Callable[[], Any]) -> Any:
    """``target.<name>``, created on first use; the target must hold attributes."""
    if hasattr(target, "guards") and hasattr(target, "routes"):  # a Router
        return target.guards if name == _GUARDS else target.options
    holder = getattr(target, "__func__", target)  # a bound method: its function
    try:
        found = holder.__dict__.get(name)
        if found is None:
            found = factory()
            setattr(holder, name, found)
    except AttributeError:
        raise ConfigurationError(
            f"cannot attach a guard or option to {target!r}: use it on a function or a Router"
        ) from None
    return found


def guards_of(endpoint: Any) -> list[Guard]:
    """The guard list of ``endpoint``, created empty on first use (routes keep this object)."""
    guards: list[Guard] = _attributes(endpoint, _GUARDS, list)
    return guards


def add_guard(target: Any, guard: Guard) -> None:
    """Run ``guard`` before ``target`` (a handler or a ``Router``'s every route), first of all."""
    if not callable(guard):
        raise ConfigurationError(f"guard {guard!r} is not callable")
    guards_of(target).insert(0, guard)


def set_route_option(target: Any, key: str, value: Any) -> None:
    """Set a flag on a handler or a Router (e.g. ``"csrf_exempt"``)."""
    options: dict[str, Any] = _attributes(target, _OPTIONS, dict)
    options[key] = value


def route_option(endpoint: Any, key: str, default: Any = None) -> Any:
    """A flag set with ``set_route_option``, or ``default``."""
    holder = getattr(endpoint, "__func__", endpoint)
    options = getattr(holder, _OPTIONS, None)
    return default if options is None else options.get(key, default)


def add_response_headers(request: Request, headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Headers the app appends to whatever response the handler gives."""
    request.scope.setdefault(EXTRA_HEADERS, []).extend(headers)
