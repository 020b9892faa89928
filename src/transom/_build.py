"""Which build of transom is running: compiled hot path, or pure Python.

Theory of operation
-------------------
The modules named in ``COMPILED_MODULES`` are ordinary typed Python, and
they are the reference. Where a C compiler and the Python headers exist,
``pip install`` (editable included) also compiles them with mypyc
(``setup.py``): each becomes an extension module beside its ``.py`` file, and
Python's import system prefers an extension module to a source file of the
same name, so nothing imports them differently. Where compilation is not
possible, or ``TRANSOM_PURE_PYTHON=1`` is set at install time, the source
files are what runs, with the same behaviour and the same tests.

``build()`` tells which modules are compiled by asking the import system
where each one came from, never by trusting a flag written at build time:
``transom --version`` prints it, and the test suite asserts it.

A compiled module next to a source file edited after it was built would run
the old code. ``stale()`` lists such modules (the source is newer than the
compiled file); ``transom --version`` and the server's start-up line warn
about them, and ``pip install -e .`` again rebuilds them.

This file is also read by ``setup.py`` (with ``runpy``), so it imports the
standard library only.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import platform
import sys
from typing import Final

__all__ = [
    "COMPILED_MODULES",
    "C_MODULES",
    "PURE_ENV",
    "Build",
    "build",
    "describe",
    "stale",
    "version_line",
]

#: The hot path, compiled together into one extension (``transom._compiled``):
#: the server's per-request path and the HTTP/1.1 core under it.
COMPILED_MODULES: Final = (
    "transom.http.events",
    "transom.http.headers",
    "transom.http.writer",
    "transom.http.parser",
    "transom.http._llhttp",
    "transom.http.connection",
    "transom.server.state",
    "transom.server.cycle",
    "transom.server.protocol",
    "transom.http.websocket.events",
    "transom.http.websocket.frames",
    "transom.http.websocket.deflate",
    "transom.http.websocket.connection",
    "transom.server.websocket",
    "transom.server.driven",
)
#: Written in C, built with the modules above (``setup.py``): the WebSocket
#: masking that ``transom.http.websocket.frames`` uses where it exists.
C_MODULES: Final = ("transom.http.websocket._mask",)
#: Set to ``1`` when installing to skip compilation (the pure-Python build).
PURE_ENV: Final = "TRANSOM_PURE_PYTHON"
_TOLERANCE: Final = 2.0  # seconds
_EXTENSIONS: Final = tuple(importlib.machinery.EXTENSION_SUFFIXES)


class Build:
    """What ``build()`` found: the compiled modules among ``COMPILED_MODULES``."""

    __slots__ = ("compiled", "pure")

    def __init__(self, compiled: tuple[str, ...], pure: tuple[str, ...]) -> None:
        self.compiled = compiled
        self.pure = pure

    @property
    def kind(self) -> str:
        """``"compiled"``, ``"pure"`` or ``"mixed"`` (a broken install)."""
        if not self.pure:
            return "compiled"
        return "pure" if not self.compiled else "mixed"


def _origin(name: str) -> str | None:
    """Where module ``name`` comes (or would come) from, without importing it."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    spec = importlib.util.find_spec(name)
    return spec.origin if spec is not None else None


def _is_extension(path: str | None) -> bool:
    return path is not None and path.endswith(_EXTENSIONS)


def build() -> Build:
    """Which of ``COMPILED_MODULES`` and ``C_MODULES`` are compiled in this installation."""
    names = COMPILED_MODULES + C_MODULES
    compiled = tuple(name for name in names if _is_extension(_origin(name)))
    pure = tuple(name for name in names if name not in compiled)
    return Build(compiled, pure)


def stale() -> list[str]:
    """Compiled modules whose source file was changed after they were built."""
    found = []
    for name in COMPILED_MODULES + C_MODULES:
        path = _origin(name)
        if not _is_extension(path):
            continue
        assert path is not None  # narrowed by _is_extension
        suffix = ".c" if name in C_MODULES else ".py"
        source = os.path.join(os.path.dirname(path), name.rpartition(".")[2] + suffix)
        try:
            # The tolerance: installing a wheel writes both files in one go, in
            # any order; an edit comes later than that.
            if os.stat(source).st_mtime > os.stat(path).st_mtime + _TOLERANCE:
                found.append(name)
        except OSError:
            continue  # an installation without sources: nothing to compare
    return found


def describe() -> str:
    """One line for ``--version`` and the server's start-up log."""
    found = build()
    if found.kind == "compiled":
        text = (
            f"compiled hot path (mypyc, {len(COMPILED_MODULES)} modules; "
            f"C, {len(C_MODULES)} module)"
        )
    elif found.kind == "pure":
        text = "pure Python"
    else:
        text = (
            f"mixed build: {len(found.compiled)} of {len(found.compiled) + len(found.pure)} "
            "hot modules "
            "compiled; reinstall transom"
        )
    old = stale()
    if old:
        text += (
            f"; WARNING: {', '.join(old)} changed after compilation and run the old code: "
            f"run 'pip install -e .' again, or reinstall with {PURE_ENV}=1"
        )
    return text


def version_line() -> str:
    """What ``transom --version`` prints: version, build and interpreter."""
    from transom._version import __version__

    implementation = platform.python_implementation()
    return f"transom {__version__} ({describe()}; {implementation} {platform.python_version()})"
