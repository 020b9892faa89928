"""Build script: the package metadata is in pyproject.toml; this adds the
optional compiled hot path.

The modules listed in ``src/transom/_build.py`` are compiled with mypyc into
one extension, ``transom._compiled__mypyc`` (plus one small module per source
file that loads its part), and its ``C_MODULES`` are built from their C
sources. When that is not possible (no C compiler or no
Python headers, mypyc missing, not CPython), or ``TRANSOM_PURE_PYTHON=1`` is
set, the package installs as pure Python, which behaves the same, only more
slowly; one line on standard error says so (``pip install -v`` shows it), and
``transom --version`` says which build runs.
"""

from __future__ import annotations

import importlib.machinery
import os
import platform
import runpy
import sys
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
_build = runpy.run_path(os.path.join(SRC, "transom", "_build.py"))
MODULES: tuple[str, ...] = _build["COMPILED_MODULES"]
C_MODULES: tuple[str, ...] = _build["C_MODULES"]
PURE_ENV: str = _build["PURE_ENV"]
GROUP = "transom._compiled"


def notice(text: str) -> None:
    print(f"transom: {text}", file=sys.stderr, flush=True)


def remove_compiled_leftovers() -> None:
    """Extension modules an earlier build left in the source tree (an editable
    install builds in place): Python would import them before the .py files.
    transom has no extension modules but these, so every one built for this
    interpreter goes, including those of modules no longer compiled."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for folder, _dirs, files in os.walk(os.path.join(SRC, "transom")):
        for name in files:
            if name.endswith(suffixes):
                os.remove(os.path.join(folder, name))


def in_place() -> bool:
    """Whether this build writes into the source tree (an editable install,
    ``build_ext --inplace``): only then are the tree's extension modules ours
    to replace. Building a wheel from a tree leaves them alone."""
    argv = sys.argv[1:]
    return bool({"editable_wheel", "develop", "--inplace", "-i"}.intersection(argv))


def pure(reason: str) -> list[Any]:
    notice(f"{reason}: installing the pure-Python build (same behaviour, slower)")
    if in_place():
        remove_compiled_leftovers()
    return []


# The commands that build; pip also runs this file for metadata only (egg_info,
# dist_info), where translating the modules would only cost time.
BUILD_COMMANDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"}


def compiled_extensions() -> list[Any]:
    if not BUILD_COMMANDS.intersection(sys.argv[1:]):
        return []
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return pure(f"{PURE_ENV} is set")
    if platform.python_implementation() != "CPython":
        return pure("not CPython")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return pure("mypyc is not available")
    paths = [os.path.join("src", *name.split(".")) + ".py" for name in MODULES]
    # mypy reads pyproject.toml's [tool.mypy] otherwise, which type-checks the whole package
    # with every dependency installed; the build environment has none of them. The compiled
    # modules are checked by the project's own type check; here types only guide the compiler,
    # and errors in the modules they import (not compiled) are not ours to report.
    options = [
        "--config-file", os.devnull, "--ignore-missing-imports", "--follow-imports", "silent"
    ]  # fmt: skip
    if in_place():
        remove_compiled_leftovers()  # a module dropped from the list must not linger
    try:
        extensions = list(mypycify([*options, *paths], opt_level="3", group_name=GROUP))
    except (Exception, SystemExit) as exc:  # mypy reports errors by exiting
        return pure(f"mypyc could not translate the hot path ({exc!r})")
    # The modules written in C, built with the others (and, like them, all or none).
    for name in C_MODULES:
        source = os.path.join("src", *name.split(".")) + ".c"
        extensions.append(Extension(name, [source]))
    return extensions


class OptionalBuildExt(build_ext):
    """Builds the compiled modules, or none of them: a failure (no compiler,
    no headers) removes what was built and leaves the pure-Python package."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # CompileError, LinkError, PlatformError...
            for path in self.get_outputs():
                if os.path.exists(path):
                    os.remove(path)
            reason = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
            pure(f"could not compile the hot path ({reason[0]})")


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": OptionalBuildExt})
