"""The compiled hot path: which build runs, and how setup.py falls back.

``TRANSOM_EXPECT_BUILD`` (``compiled`` or ``pure``), set by the CI script
for each of its passes, says which build the run must be testing: a compiled
run whose modules quietly came from the ``.py`` files would test the pure
build twice.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import tarfile
import time
import types
from pathlib import Path

import pytest

from transom import _build
from transom.cli import main

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def test_build_is_the_one_the_run_expects() -> None:
    expected = os.environ.get("TRANSOM_EXPECT_BUILD")
    found = _build.build()
    assert found.kind != "mixed", f"a broken install: only {found.compiled} are compiled"
    assert not _build.stale(), "compiled modules older than their sources: reinstall"
    if expected is None:
        return
    assert found.kind == expected, _build.describe()


def test_build_compiled_modules_are_the_ones_imported() -> None:
    found = _build.build()
    if found.kind != "compiled":
        pytest.skip("the pure-Python build runs")  # the test above says whether that is right
    for name in _build.COMPILED_MODULES:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        assert module.__file__ is not None and module.__file__.endswith(SUFFIXES), name
    for name in _build.C_MODULES:  # the modules written in C, used where they exist
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        assert module.__file__ is not None and module.__file__.endswith(SUFFIXES), name
    from transom.http.websocket import frames

    assert frames.unmask is not frames.py_unmask and frames.apply_mask is not frames.py_apply_mask
    # The code itself lives in the one shared library, which is loaded.
    assert "transom._compiled__mypyc" in sys.modules
    from transom.http.connection import Connection
    from transom.server.protocol import HttpProtocol

    # Compiled methods are C functions, not Python functions with bytecode.
    for method in (HttpProtocol.data_received, Connection.next_event):
        assert not isinstance(method, types.FunctionType), method


def test_build_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("transom ")
    word = "compiled hot path" if _build.build().kind == "compiled" else "pure Python"
    assert word in out


def test_build_version_of_transom_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == _build.version_line()


def test_build_stale_finds_a_source_edited_after_compilation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _build.COMPILED_MODULES[0]
    leaf = name.rpartition(".")[2]
    compiled = tmp_path / f"{leaf}{SUFFIXES[0]}"
    source = tmp_path / f"{leaf}.py"
    compiled.write_bytes(b"")
    source.write_text("")
    now = time.time()
    os.utime(compiled, (now - 60, now - 60))
    os.utime(source, (now, now))
    origins = {name: str(compiled)}
    monkeypatch.setattr(_build, "_origin", lambda module: origins.get(module))
    assert _build.stale() == [name]
    assert "WARNING" in _build.describe() and "pip install -e ." in _build.describe()
    os.utime(source, (now - 59, now - 59))  # written together, as a wheel install does
    assert _build.stale() == []


def _tree_copy(tmp_path: Path) -> Path:
    """setup.py, pyproject.toml and the sources, in a folder of their own."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "src",
        tree / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.egg-info"),
    )
    return tree


def _setup(tree: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "setup.py", "-q", *args],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_build_pure_env_removes_compiled_leftovers(tmp_path: Path) -> None:
    tree = _tree_copy(tmp_path)
    leftover = tree / "src" / "transom" / "server" / f"protocol{SUFFIXES[0]}"
    leftover.write_bytes(b"")  # as an earlier compiled editable install left it
    result = _setup(tree, "build_ext", "--inplace", TRANSOM_PURE_PYTHON="1")
    assert result.returncode == 0, result.stderr
    assert "TRANSOM_PURE_PYTHON is set: installing the pure-Python build" in result.stderr
    assert not leftover.exists()


def test_build_without_a_compiler_installs_pure_python(tmp_path: Path) -> None:
    tree = _tree_copy(tmp_path)
    # No C compiler: the translation succeeds, the compilation fails.
    result = _setup(
        tree, "build_ext", "--inplace", CC="false", PYTHONWARNINGS="ignore", TRANSOM_PURE_PYTHON=""
    )
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if line.startswith("transom:")]
    assert len(notices) == 1 and "could not compile the hot path" in notices[0], notices
    assert "installing the pure-Python build" in notices[0]
    built = [p for p in (tree / "src").rglob("*") if p.name.endswith(SUFFIXES)]
    assert built == []


def test_build_sdist_carries_the_c_sources(tmp_path: Path) -> None:
    """A build from the sdist compiles the C modules too: their sources are in it."""
    tree = _tree_copy(tmp_path)
    result = _setup(tree, "sdist", "-d", str(tmp_path / "dist"), PYTHONWARNINGS="ignore")
    assert result.returncode == 0, result.stderr
    (archive,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as sdist:
        names = {name.partition("/")[2] for name in sdist.getnames()}
    for module in _build.C_MODULES:
        assert "src/" + module.replace(".", "/") + ".c" in names, module
