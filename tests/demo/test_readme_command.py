"""The README's first command: ``python3 -m venv .venv && .venv/bin/pip install -q -e . &&
.venv/bin/transom demo`` answers ``GET /get`` as httpbin does.

How much of it runs here, and why:

- The first two steps are not repeated. The suite itself is run by the README's test command
  (``.ci/run`` runs it verbatim on a fresh checkout): ``python3 -m venv .venv && .venv/bin/pip
  install -q -e '.[dev]'``, which is the first command's two steps with the dev extra added. A
  test that made yet another venv and installed the project into it would download the build
  back-end and the dependencies from PyPI (the build is isolated, and this venv has no ``wheel``
  for a build without isolation): minutes, and a test that fails when the network does. So the
  suite stays offline and fast, and the README's first command is covered in three parts:
  1. its text: the first ``sh`` block of README.md has exactly that shape (no extra needed);
  2. the install: the ``transom`` console script of the venv running this suite, which is the
     ``.venv/bin/transom`` the command made;
  3. what the dev extra adds and ``pip install -e .`` would not: hidden from the demo. The child
     gets a ``sitecustomize`` that refuses every module of an installed distribution outside
     transom's own runtime dependencies (followed transitively), so an import of pytest, redis,
     brotli, ... anywhere on the demo's path fails here as it would for a user.
- The demo runs in an empty temp directory (not the checkout), so its default data directory
  ``.transom-demo/`` is made there, as on a user's first run.
"""

from __future__ import annotations

import json
import re
import shlex
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import clean_env, http_get, running_demo

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXPECTED = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/transom demo"
# A fresh ``python3 -m venv`` has these; they are never hidden.
BOOTSTRAP = {"pip", "setuptools", "pkg_resources", "_distutils_hack", "wheel"}

BLOCKER = """\
import importlib.abc
import sys

HIDDEN = frozenset({hidden!r})


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(
                f"No module named {{name!r}} (not installed by 'pip install -e .')", name=name
            )
        return None


sys.meta_path.insert(0, _NotInstalled())
"""


def first_sh_block(text: str) -> str:
    match = re.search(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no ```sh block"
    return match.group(1).strip()


def demo_argv(command: str) -> list[str]:
    """The arguments after ``.venv/bin/transom`` in the README's first command, checked."""
    assert "\n" not in command, f"the first command is one line: {command!r}"
    steps = [shlex.split(step) for step in command.split("&&")]
    assert len(steps) == 3, f"venv && install && run, not {command!r}"
    venv, install, run = steps
    assert venv == ["python3", "-m", "venv", ".venv"], command
    assert [arg for arg in install if arg != "-q"] == [".venv/bin/pip", "install", "-e", "."], (
        f"the first command installs the project without extras: {command!r}"
    )
    assert run[:2] == [".venv/bin/transom", "demo"], command
    return run[1:]


def runtime_distributions() -> set[str]:
    """transom and what ``pip install -e .`` installs with it (no extras), transitively."""
    seen: set[str] = set()
    todo = ["transom"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform (a marker said so), or not installed at all
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def hidden_modules() -> set[str]:
    """Top-level modules of installed distributions that the first command would not install."""
    runtime = runtime_distributions()
    hidden = set()
    for module, dists in metadata.packages_distributions().items():
        if module in BOOTSTRAP or not module.isidentifier():
            continue
        if not any(canonicalize_name(dist) in runtime for dist in dists):
            hidden.add(module)
    return hidden


def test_readme_first_command_has_the_expected_shape() -> None:
    command = first_sh_block(README.read_text(encoding="utf-8"))
    assert command == EXPECTED
    assert demo_argv(command) == ["demo"]


def test_hidden_modules_are_the_dev_extra_only() -> None:
    """The blocker hides test tools and optional extras, never a runtime dependency."""
    hidden = hidden_modules()
    assert {"pytest", "hypothesis", "redis", "psycopg"} <= hidden
    assert not {"jinja2", "markupsafe", "argon2", "transom"} & hidden


def test_readme_first_command_answers_get(tmp_path: Path) -> None:
    argv = demo_argv(first_sh_block(README.read_text(encoding="utf-8")))
    transom = Path(sysconfig.get_path("scripts")) / "transom"
    assert transom.is_file(), f"{transom} is missing: the suite runs in the venv the README makes"

    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER.format(hidden=sorted(hidden_modules())))
    env = {**clean_env(tmp_path / "home"), "PYTHONPATH": str(blocker)}
    cwd = tmp_path / "fresh"
    cwd.mkdir()
    with running_demo([str(transom), *argv, "--port", "0"], cwd=cwd, env=env) as demo:
        port = demo.port
        status, headers, body = http_get(port, "/get?answer=42")
        assert status == 200
        assert headers["content-type"] == "application/json"
        data = json.loads(body)
        assert data["args"] == {"answer": "42"}
        assert data["origin"] == "127.0.0.1"
        assert data["url"] == f"http://127.0.0.1:{port}/get?answer=42"
        assert data["headers"]["Host"] == f"127.0.0.1:{port}"
        assert data["headers"]["Accept"] == "application/json"

        status, _, _ = http_get(port, "/site/")
        assert status == 200
        assert "Three things to try" in demo.output()
    assert demo.process.returncode == 0, f"Ctrl-C is a clean exit:\n{demo.output()}"
    assert (cwd / ".transom-demo").is_dir(), "the default data directory is made in the cwd"
    assert "Traceback" not in demo.output(), demo.output()
