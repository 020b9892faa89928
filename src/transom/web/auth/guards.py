"""``requires(...)``: who may call a route.

``requires`` attaches a guard (``transom.web.guards.add_guard``) to a
handler or to every route of a ``Router``; the app runs it after it has
resolved ``request.user`` and before the handler.

- Nobody logged in: a browser (a request that prefers HTML, by
  ``Accept``) is sent to the log-in page with ``303 See Other`` and
  ``?next=<the path and query it asked for>``; an API client (prefers
  JSON, or sent an ``Authorization`` header) gets ``401`` with a
  ``WWW-Authenticate`` challenge (RFC 9110 §15.5.2 requires one). An app
  with no route of the log-in page's name answers 401 to both.
- Logged in without the role or permission asked for: ``403`` (RFC 9110
  §15.5.4), its body JSON or HTML by ``Accept``.
- On a WebSocket route, nobody logged in is refused with ``403`` too: a
  WebSocket client does not follow redirects to a log-in page.

The log-in page is the route named ``login_route``: the argument, else
``app.state.login_route``, else ``"login"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from transom.exceptions import ConfigurationError, HTTPError
from transom.web.auth.backends import Authenticator
from transom.web.errors import error_response, wants_json
from transom.web.guards import add_guard
from transom.web.responses import RedirectResponse, Response

if TYPE_CHECKING:
    from transom.web.requests import Request

__all__ = ["DEFAULT_LOGIN_ROUTE", "requires"]

DEFAULT_LOGIN_ROUTE = "login"

_T = TypeVar("_T")


def _names(value: str | Iterable[str] | None, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = frozenset([value] if isinstance(value, str) else value)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ConfigurationError(f"requires({what}=...) needs one or more non-empty names")
    return names


def _login_url(request: Request, route: str | None) -> str | None:
    """The log-in page's URL, or ``None`` when the app has no such route."""
    if route is None:
        state = getattr(request.app, "state", None)
        route = getattr(state, "login_route", None) or DEFAULT_LOGIN_ROUTE
    try:
        url = request.url_for(route)
    except ConfigurationError:  # no route of that name (UnknownRouteName), or no App
        return None
    text = str(url)
    here = request.url.target
    return f"{text}{'&' if '?' in text else '?'}next={quote(here, safe='/')}"


def _not_logged_in(request: Request, login_route: str | None) -> Response:
    is_api = wants_json(request.scope) or "authorization" in request.headers
    url = None if is_api else _login_url(request, login_route)
    if url is not None:
        return RedirectResponse(url, status_code=303)
    authenticator = getattr(request.app, "authenticator", None)
    challenge = (
        authenticator.challenges()
        if isinstance(authenticator, Authenticator)
        else 'Bearer realm="transom"'
    )
    raise HTTPError(401, "log in to see this page", headers={"WWW-Authenticate": challenge})


def requires(
    *conditions: str,
    role: str | Iterable[str] | None = None,
    permission: str | Iterable[str] | None = None,
    login_route: str | None = None,
) -> Callable[[_T], _T]:
    """Let only logged-in users (with a role or permission) call a route.

    >>> @app.get("/admin")
    ... @requires(role="admin")                 # or role=("admin", "editor"): any of them
    ... async def admin(request): ...
    >>> @requires("login")                      # any logged-in user
    >>> @requires(permission="notes.delete")    # a permission of one of the user's roles
    >>> admin_api = Router(prefix="/admin"); requires(role="admin")(admin_api)

    Several names in one ``requires`` mean any of them; stack ``requires``
    for all of them. ``login_route`` names the log-in page's route.
    """
    if any(condition != "login" for condition in conditions):
        raise ConfigurationError(
            f"requires{conditions!r}: the only positional condition is 'login'; "
            "use role=... or permission=..."
        )
    roles, permissions = _names(role, "role"), _names(permission, "permission")

    async def guard(request: Request) -> Response | None:
        user: Any = request.user
        if not user.is_authenticated:
            if request.scope["type"] == "websocket":
                return error_response(request.scope, 403, "log in to open this WebSocket")
            return _not_logged_in(request, login_route)
        if roles and not any(user.has_role(name) for name in roles):
            return error_response(request.scope, 403, "you do not have the role this page needs")
        if permissions and not any(user.has_permission(name) for name in permissions):
            return error_response(
                request.scope, 403, "you do not have the permission this page needs"
            )
        return None

    def decorate(target: _T) -> _T:
        add_guard(target, guard)
        return target

    return decorate
