"""Importing ``module:attr`` for ``transom run``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from transom.exceptions import ConfigurationError
from transom.server.importer import import_app


@pytest.fixture
def app_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "importme.py").write_text(
        "async def app(scope, receive, send):\n    pass\n"
        "def make():\n    return app\n"
        "class Holder:\n    app = app\n"
        "value = 3\n"
    )
    yield tmp_path
    sys.modules.pop("importme", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_importer_finds_attribute(app_dir: Path) -> None:
    assert callable(import_app("importme:app", app_dir=str(app_dir)))


def test_importer_dotted_attribute(app_dir: Path) -> None:
    assert import_app("importme:Holder.app", app_dir=str(app_dir)).__name__ == "app"


def test_importer_factory(app_dir: Path) -> None:
    assert import_app("importme:make", factory=True, app_dir=str(app_dir)).__name__ == "app"


def test_importer_not_callable(app_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="not callable"):
        import_app("importme:value", app_dir=str(app_dir))
