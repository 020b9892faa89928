"""Jinja2 templates: ``Templates``, ``render()`` and ``render_async()``.

>>> app = App(templates="templates")
>>> @app.get("/")
... async def index(request: Request):
...     return render(request, "index.html", notes=await load_notes())

Theory of operation
-------------------
One ``Templates`` holds one ``jinja2.Environment``, shared by every request
and thread (Jinja2 environments are safe to share once configured). It is
configured once, when it is made: loaders, autoescape for ``.html``,
``.htm``, ``.xml`` and ``.svg`` templates, and the globals every template
sees (``url_for``, ``static_url``, ``csrf_token``, ``csrf_input``,
``get_flashed_messages``; see ``_functions``). Nothing per request is ever
put on the environment: ``render`` passes the request in the context, the
global functions read it from there, and ``session`` and ``user`` are
computed from it the first time a template names them.

Compiled templates are cached. Outside debug, a template is looked up in a
plain dict by name after its first load; in debug (``auto_reload``) every
render goes through Jinja2, which re-reads a template whose file changed.
Also in debug, an undefined variable raises instead of rendering as empty
text, and its message names the template and line; a missing template's
message says where it was looked for and who asked for it.

``render`` works from ``async def`` handlers (the event loop renders) and
``def`` handlers (the thread pool renders). With ``enable_async=True`` the
environment renders with ``await`` (templates may call async functions and
iterate async generators): use ``await render_async(...)`` in ``async def``
handlers, where ``render`` cannot run it and says so.

Jinja2 itself is imported when the first ``Templates`` is made, so
``import transom`` does not pay for it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from transom.exceptions import ConfigurationError
from transom.web.responses import HTMLResponse

if TYPE_CHECKING:
    from jinja2 import BaseLoader, Environment, Template

    from transom.web.requests import Request

__all__ = ["Templates", "render", "render_async"]


class Templates:
    """A Jinja2 environment over template directories, a package or a loader.

    >>> templates = Templates("templates", debug=True)
    >>> App(templates=templates)          # or just App(templates="templates")

    ``directory`` is a directory, a list of them (searched in order) or a
    ``jinja2`` loader; ``package="mypkg"`` adds the ``templates`` folder of
    an installed package (after the directories). ``debug`` reloads edited
    templates and makes undefined variables errors. ``globals`` and
    ``filters`` are added to the environment (``env``) for every template.
    """

    __slots__ = ("_cache", "debug", "enable_async", "env")

    def __init__(
        self,
        directory: str
        | os.PathLike[str]
        | Sequence[str | os.PathLike[str]]
        | BaseLoader
        | None = None,
        *,
        debug: bool = False,
        enable_async: bool = False,
        extensions: Iterable[Any] = (),
        globals: Mapping[str, Any] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        package: str | None = None,
    ) -> None:
        from jinja2 import BaseLoader

        from transom.web.templates._environment import build_environment, make_loader

        if isinstance(directory, BaseLoader):
            if package is not None:
                raise ConfigurationError(
                    "Templates: pass a loader or package=..., not both; combine loaders "
                    "with jinja2.ChoiceLoader"
                )
            loader = directory
        else:
            loader = make_loader(_directories(directory), package)
        self.debug = debug
        self.enable_async = enable_async
        self.env: Environment = build_environment(
            loader,
            debug=debug,
            enable_async=enable_async,
            extensions=extensions,
            globals=globals,
            filters=filters,
        )
        self._cache: dict[str, Template] = {}

    @classmethod
    def coerce(cls, value: Any, *, debug: bool) -> Templates:
        """What ``App(templates=...)`` accepts, as a ``Templates``.

        A ``Templates`` is used as it is; a directory (``str`` or ``Path``),
        a list of them or a ``jinja2`` loader is made into one with ``debug``.
        """
        if isinstance(value, Templates):
            return value
        if isinstance(value, (str, os.PathLike, list, tuple)):
            return cls(value, debug=debug)
        from jinja2 import BaseLoader

        if isinstance(value, BaseLoader):
            return cls(value, debug=debug)
        raise ConfigurationError(
            f"templates must be a directory, a list of directories, a jinja2 loader or a "
            f"Templates, not {type(value).__name__}"
        )

    def get_template(self, name: str) -> Template:
        """The compiled template ``name`` (cached; re-read in debug when its file changed)."""
        template = self._cache.get(name)
        if template is None:
            template = self.env.get_template(name)
            if not self.debug:  # in debug, Jinja2 checks the file on every call
                self._cache[name] = template
        return template

    def render_to_string(self, request: Request, name: str, context: dict[str, Any]) -> str:
        """Render ``name`` with ``context`` and ``request`` (synchronously)."""
        context["request"] = request
        return self.get_template(name).render(context)

    async def render_to_string_async(
        self, request: Request, name: str, context: dict[str, Any]
    ) -> str:
        """Render ``name`` in async mode (``enable_async=True``), else as ``render_to_string``."""
        if not self.enable_async:
            return self.render_to_string(request, name, context)
        context["request"] = request
        return await self.get_template(name).render_async(context)

    def __repr__(self) -> str:
        return f"<Templates debug={self.debug} async={self.enable_async}>"


def _directories(
    directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
) -> list[str | os.PathLike[str]]:
    if directory is None:
        return []
    if isinstance(directory, (str, os.PathLike)):
        return [directory]
    if isinstance(directory, (list, tuple)):
        for item in directory:
            if not isinstance(item, (str, os.PathLike)):
                raise ConfigurationError(
                    f"Templates: {item!r} in the list of directories is not a path"
                )
        return list(directory)
    raise ConfigurationError(
        f"Templates takes a directory, a list of them or a jinja2 loader, not "
        f"{type(directory).__name__}"
    )


def _templates_of(request: Request) -> Templates:
    templates = getattr(request.app, "templates", None)
    if isinstance(templates, Templates):
        return templates
    if templates is None:
        raise ConfigurationError(
            "render() needs the app's templates: pass App(templates='templates') "
            "(a directory of Jinja2 templates)"
        )
    raise ConfigurationError(
        f"app.templates is a {type(templates).__name__}, not a Templates; pass "
        "App(templates='templates') or App(templates=Templates(...))"
    )


def render(
    request: Request,
    name: str,
    /,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "text/html",
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` of the app's templates into an HTML response.

    >>> return render(request, "note.html", note=note)
    >>> return render(request, "login.html", status_code=400, username=form["username"])

    The template sees ``context`` and ``request``, and the globals (``url_for``,
    ``static_url``, ``session``, ``user``, ``csrf_input()``...). Call it from
    ``async def`` or ``def`` handlers; with ``Templates(enable_async=True)``
    use ``await render_async(...)`` in ``async def`` handlers.
    """
    templates = _templates_of(request)
    if templates.enable_async and _in_event_loop():
        raise ConfigurationError(
            f"render({name!r}): these templates render asynchronously "
            "(Templates(enable_async=True)); in an async def handler use "
            "'await render_async(request, ...)'"
        )
    body = templates.render_to_string(request, name, context)
    return HTMLResponse(body, status_code, headers, media_type)


async def render_async(
    request: Request,
    name: str,
    /,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "text/html",
    **context: Any,
) -> HTMLResponse:
    """``render`` for ``async def`` handlers; renders with ``await`` when the templates
    were made with ``enable_async=True`` (they may then call async functions).

    >>> return await render_async(request, "feed.html", items=fetch_items())
    """
    templates = _templates_of(request)
    body = await templates.render_to_string_async(request, name, context)
    return HTMLResponse(body, status_code, headers, media_type)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
