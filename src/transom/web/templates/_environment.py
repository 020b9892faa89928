"""The Jinja2 side of ``Templates``: environment, loaders, context and errors.

This is the one module of the package that imports ``jinja2``; ``Templates``
imports it when the first ``Templates`` is made, so an app without
templates never loads Jinja2.

- ``build_environment`` makes the one shared ``jinja2.Environment``:
  autoescape by file extension (HTML, XML, SVG; OWASP XSS Prevention Cheat
  Sheet, rule 1: escape by default), ``auto_reload`` in debug (templates are
  re-read when their file changes), ``TemplateContext`` as its context
  class and, in debug, ``DebugUndefined`` so a typo fails loudly.
- ``SearchPathLoader`` wraps the real loader so that a missing template
  raises ``TemplateNotFound`` saying where it looked and, for an
  ``{% include %}`` or ``{% extends %}``, which template asked for it and
  on which line.
- ``DebugUndefined`` adds the template name and line to the message of an
  undefined variable, found from the template frame on the stack (Jinja2
  keeps the template in its module globals as ``__jinja_template__``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.utils import missing

from transom.web.requests import Request
from transom.web.templates._functions import LAZY_NAMES, make_globals

__all__ = [
    "DebugUndefined",
    "SearchPathLoader",
    "TemplateContext",
    "build_environment",
    "make_loader",
]

#: File extensions whose templates are autoescaped.
AUTOESCAPE_EXTENSIONS = ("html", "htm", "xml", "svg")


def template_location(skip: int = 1) -> tuple[str, int] | None:
    """``(template name, line)`` of the innermost template being rendered, if any."""
    frame = sys._getframe(skip)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if isinstance(template, Template):
            name = template.name or template.filename or "<string>"
            return name, template.get_corresponding_lineno(frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return None


class DebugUndefined(StrictUndefined):
    """``StrictUndefined`` whose error names the template and line (debug mode)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        message: str = super()._undefined_message
        location = template_location(2)
        if location is None:
            return message
        return f"{message} (template {location[0]!r}, line {location[1]})"


class TemplateContext(Context):
    """A render's variables, plus ``session`` and ``user`` computed on first use.

    ``url_base`` keeps the app's absolute root URL for ``url_for`` during
    one render (see ``_functions``).
    """

    url_base: str | None = None

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            return self.vars[key]
        parent = self.parent
        if key in parent:
            return parent[key]
        lazy = LAZY_NAMES.get(key)
        if lazy is not None:
            request = parent.get("request")
            if isinstance(request, Request):
                return lazy(request)
        return missing


def describe(loader: BaseLoader) -> str:
    """Where ``loader`` looks for templates, for an error message."""
    if isinstance(loader, SearchPathLoader):
        return describe(loader.inner)
    if isinstance(loader, FileSystemLoader):
        return ", ".join(os.path.abspath(path) for path in loader.searchpath)
    if isinstance(loader, PackageLoader):
        root = getattr(loader, "_template_root", None) or "?"
        return f"package {loader.package_name!r}, folder {loader.package_path!r} ({root})"
    if isinstance(loader, ChoiceLoader):
        return "; ".join(describe(inner) for inner in loader.loaders)
    if isinstance(loader, PrefixLoader):
        return "; ".join(
            f"{prefix}/ -> {describe(inner)}" for prefix, inner in loader.mapping.items()
        )
    if isinstance(loader, DictLoader):
        return f"a DictLoader of {len(loader.mapping)} template(s)"
    return repr(loader)


class SearchPathLoader(BaseLoader):
    """Delegates to ``inner``; a missing template's error says where it was looked for."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner
        self.has_source_access = inner.has_source_access

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        try:
            return self.inner.get_source(environment, template)
        except TemplateNotFound as exc:
            raise self._not_found(template, exc) from None

    def load(
        self,
        environment: Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        try:
            return self.inner.load(environment, name, globals)
        except TemplateNotFound as exc:
            raise self._not_found(name, exc) from None

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()

    def _not_found(self, name: str, exc: TemplateNotFound) -> TemplateNotFound:
        if exc.name != name or "looked in:" in (exc.message or ""):
            return exc  # about another template, or already explained
        location = template_location(3)
        asked = "" if location is None else f" (asked for by {location[0]!r}, line {location[1]})"
        return TemplateNotFound(
            name, f"template {name!r} not found{asked}; looked in: {describe(self.inner)}"
        )


def make_loader(sources: Iterable[str | os.PathLike[str]], package: str | None) -> BaseLoader:
    """A loader over directories (each must exist) and a package's ``templates`` folder."""
    from transom.exceptions import ConfigurationError

    loaders: list[BaseLoader] = []
    directories = [os.fspath(source) for source in sources]
    for directory in directories:
        if not os.path.isdir(directory):
            raise ConfigurationError(
                f"Templates: directory {directory!r} does not exist (resolved to "
                f"{os.path.abspath(directory)!r}); create it or fix the path"
            )
    if directories:
        loaders.append(FileSystemLoader(directories))
    if package is not None:
        try:
            loaders.append(PackageLoader(package, "templates"))
        except (ImportError, ValueError) as exc:
            raise ConfigurationError(
                f"Templates: package {package!r} has no importable 'templates' folder: {exc}"
            ) from None
    if not loaders:
        raise ConfigurationError(
            "Templates needs a directory, a list of them, a jinja2 loader or package='mypkg'"
        )
    return loaders[0] if len(loaders) == 1 else ChoiceLoader(loaders)


def build_environment(
    loader: BaseLoader,
    *,
    debug: bool,
    enable_async: bool,
    extensions: Iterable[Any],
    globals: Mapping[str, Any] | None,
    filters: Mapping[str, Callable[..., Any]] | None,
) -> Environment:
    """The shared environment; per-request values come in each render's context."""
    options: dict[str, Any] = {}
    if debug:
        options["undefined"] = DebugUndefined
    environment = Environment(
        loader=SearchPathLoader(loader),
        autoescape=select_autoescape(AUTOESCAPE_EXTENSIONS),
        auto_reload=debug,
        enable_async=enable_async,
        extensions=list(extensions),
        **options,
    )
    environment.context_class = TemplateContext
    environment.globals.update(make_globals(debug))
    if globals:
        environment.globals.update(globals)
    if filters:
        environment.filters.update(filters)
    return environment
