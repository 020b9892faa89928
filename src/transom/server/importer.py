"""Import the app named by ``"module:attribute"``, the way ``transom run`` does.

The application's directory (``app_dir``, default the current directory) goes
first on ``sys.path``. Any failure becomes a ``ConfigurationError`` with a
one-line message naming what could not be found, so the command line can
print it without a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import cast

from transom._types import ASGIApp
from transom.exceptions import ConfigurationError

__all__ = ["import_app"]


def import_app(spec: str, *, factory: bool = False, app_dir: str | None = None) -> ASGIApp:
    """``import_app("main:app")`` -> the object ``app`` of module ``main``.

    ``attribute`` may be dotted (``"pkg.mod:holder.app"``); with ``factory``
    it is called without arguments and its result is the app.
    """
    directory = os.path.abspath(app_dir or os.getcwd())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ConfigurationError(
                f"cannot import {spec!r}: no module named {exc.name!r} (in {directory})"
            ) from None
        raise ConfigurationError(f"cannot import {spec!r}: {_where(exc)}") from None
    except Exception as exc:
        raise ConfigurationError(f"cannot import {spec!r}: {_where(exc)}") from None
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(
                f"cannot import {spec!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if factory:
        try:
            obj = cast("object", obj())  # type: ignore[operator]
        except Exception as exc:
            raise ConfigurationError(f"the app factory {spec!r} failed: {_where(exc)}") from None
    if not callable(obj):
        raise ConfigurationError(
            f"{spec!r} is not callable: an ASGI app takes (scope, receive, send)"
        )
    return cast(ASGIApp, obj)


def _where(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero (main.py, line 3)``"""
    frames = traceback.extract_tb(exc.__traceback__)
    place = (
        f" ({os.path.basename(frames[-1].filename)}, line {frames[-1].lineno})" if frames else ""
    )
    return f"{type(exc).__name__}: {exc}{place}"
