"""The names every template sees besides its own context.

Globals are set once on the shared environment; what depends on the
request is read from the render context (``request`` is put there by
``render``), so nothing per request is ever stored on the environment and
one environment serves every request, in every thread, at once.

- functions marked ``pass_context`` (``url_for``, ``static_url``,
  ``csrf_token``, ``csrf_input``, ``get_flashed_messages``) get the
  template's context and take ``request`` from it;
- ``session`` and ``user`` are values, not functions: ``TemplateContext``
  (see ``_environment``) computes them the first time a template names
  them (``LAZY_NAMES``), so a template that never mentions them costs
  nothing, and an app without sessions never touches ``request.session``.

``url_for`` is on the hot path (a row of a table often links somewhere):
the absolute URL of the app's root is computed once per render and kept on
the context, and each call adds the route's path to it, which is what
``request.url_for`` answers, without parsing a URL per call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jinja2 import pass_context

from transom.exceptions import ConfigurationError
from transom.web.requests import MOUNTED_FROM, Request, with_route_scheme

if TYPE_CHECKING:
    from jinja2.runtime import Context
    from markupsafe import Markup

    from transom.web.staticfiles import StaticFiles

__all__ = ["LAZY_NAMES", "make_globals"]

#: The mount name ``static_url`` looks for by default:
#: ``app.mount("/static", StaticFiles("static"), name="static")``.
DEFAULT_STATIC_MOUNT = "static"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _request(context: Context) -> Request:
    request = context.get("request")
    if not isinstance(request, Request):
        raise ConfigurationError(
            "this template function needs the request: render the template with "
            "transom.render(request, name, ...), which puts it in the context"
        )
    return request


def _session(request: Request) -> Any:
    session = request.scope.get("session")  # put there by an app with sessions
    return _EMPTY if session is None else session


def _user(request: Request) -> Any:
    user = request.scope.get("user")  # set by an app that authenticates
    return request.user if user is None else user


#: Context names computed on first use from the request: ``name -> f(request)``.
LAZY_NAMES: dict[str, Callable[[Request], Any]] = {"session": _session, "user": _user}


def _url_base(context: Context, request: Request) -> str:
    """``str(request.base_url)`` without its last ``/``, once per context."""
    base: str | None = getattr(context, "url_base", None)
    if base is None:
        base = str(request.base_url).rstrip("/")
        context.url_base = base  # type: ignore[attr-defined]  # a TemplateContext
    return base


def absolute_url(context: Context, name: str, params: dict[str, Any]) -> str:
    """``str(request.url_for(name, **params))``, the base computed once per render."""
    request = _request(context)
    scope = request.scope
    app = scope.get("app")
    if scope.get(MOUNTED_FROM) or app is None or not hasattr(app, "url_for"):
        return str(request.url_for(name, **params))  # the general case: mounts, chains
    path: str = app.url_for(name, **params)
    return with_route_scheme(_url_base(context, request) + path, app, name)


@pass_context
def url_for(context: Context, name: str, /, **params: Any) -> str:
    """The absolute URL of route ``name`` (``request.url_for``), as text.

    ``{{ url_for("note", note_id=note.id) }}``
    """
    return absolute_url(context, name, params)


def _static_files(app: Any, mount: str) -> StaticFiles:
    from transom.web.staticfiles import StaticFiles

    for candidate in getattr(app, "mounts", ()):
        if candidate.name == mount and isinstance(candidate.app, StaticFiles):
            return candidate.app
    raise ConfigurationError(
        f"static_url() found no StaticFiles mounted with name={mount!r} on the app; mount "
        f"one: app.mount('/static', StaticFiles('static'), name={mount!r})"
    )


def make_static_url(debug: bool) -> Callable[..., str]:
    """The ``static_url`` global; ``debug`` re-stats files so edits show at once."""

    @pass_context
    def static_url(context: Context, path: str, /, *, mount: str = DEFAULT_STATIC_MOUNT) -> str:
        """The URL of a static file with its content hash: cacheable for a year.

        ``{{ static_url("css/site.css") }}`` -> ``http://host/static/css/site.css?v=3f2a9c0b1d4e``
        """
        request = _request(context)
        files = _static_files(request.app, mount)
        digest = files.file_hash(path, recheck=debug)
        if digest is None:
            raise ConfigurationError(
                f"static_url({path!r}): no such file in {files.directory!r}; check the "
                "path, relative to the static directory"
            )
        return absolute_url(context, mount, {"path": path}) + "?v=" + digest

    return static_url


@pass_context
def csrf_token(context: Context) -> str:
    """The CSRF token of this request's session, masked (``transom.web.csrf``)."""
    from transom.web.csrf import csrf_token as token  # type: ignore[import-not-found,unused-ignore]

    value: str = token(_request(context))
    return value


@pass_context
def csrf_input(context: Context) -> Markup:
    """A hidden ``<input name="csrf_token">`` holding the token, for forms."""
    from transom.web.csrf import csrf_input as field  # type: ignore[import-not-found,unused-ignore]

    markup: Markup = field(_request(context))
    return markup


@pass_context
def get_flashed_messages(
    context: Context, with_categories: bool = False, category_filter: Any = ()
) -> list[Any]:
    """The messages flashed for this user (shown once); ``[]`` in an app without sessions,
    so one layout serves apps with and without them."""
    # The module, by its full name: ``transom.web.flash`` is also the function's public name.
    from transom.web.flash import get_flashed_messages as take_flashed

    request = _request(context)
    if request.scope.get("session") is None:
        return []
    return take_flashed(request, with_categories=with_categories, category_filter=category_filter)


def make_globals(debug: bool) -> dict[str, Any]:
    """The functions set on every environment's globals."""
    return {
        "url_for": url_for,
        "static_url": make_static_url(debug),
        "csrf_token": csrf_token,
        "csrf_input": csrf_input,
        "get_flashed_messages": get_flashed_messages,
    }
