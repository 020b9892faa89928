"""The import direction of ARCHITECTURE.md: a layer never imports a sibling or a layer above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "transom"

# Layer -> the transom packages/modules it must not import.
FORBIDDEN = {
    "http": (
        "transom.server",
        "transom.web",
        "transom.client",
        "transom.testing",
        "transom.demo",
        "transom.cli",
    ),
    "server": ("transom.web", "transom.client", "transom.testing", "transom.demo"),
    "web": ("transom.server", "transom.client", "transom.testing", "transom.demo", "transom.cli"),
    "client": ("transom.server", "transom.web", "transom.testing", "transom.demo"),
}
LEAVES = ("status.py", "exceptions.py", "_types.py")
SANS_IO_FORBIDDEN = ("asyncio", "socket", "ssl", "time", "selectors", "threading")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((SRC / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_no_sibling(layer: str) -> None:
    bad = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules(layer)
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer])
    ]
    assert bad == []


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_no_layer(leaf: str) -> None:
    names = _imports(SRC / leaf)
    layered = [n for n in names if n.startswith("transom.") and n.split(".")[1] in FORBIDDEN]
    assert layered == []


def test_http_core_is_sans_io() -> None:
    bad = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules("http")
        for name in _imports(path)
        if name.split(".")[0] in SANS_IO_FORBIDDEN
    ]
    assert bad == []
