"""``transom http --style``: our own palettes under the Pygments style names HTTPie users know."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from transom.client._cli_output import Printer
from transom.client._cli_styles import ROLES, STYLES
from transom.client.models import Response

from .servers import ServerThread

POPULAR = (
    "auto", "default", "pie", "pie-dark", "pie-light", "monokai", "solarized",
    "solarized-dark", "solarized-light", "fruity", "native", "paraiso-dark",
    "paraiso-light", "dracula", "gruvbox-dark", "gruvbox-light", "nord", "one-dark",
    "material", "zenburn", "vim", "vs", "emacs", "friendly", "tango", "github-dark", "bw",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSOM_CONFIG_DIR", str(tmp_path / "config"))


def http(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def _painted(style: str) -> str:
    out = io.BytesIO()
    printer = Printer(out, colors=True, format=True, terminal=True, style=style)
    response = Response(
        404,
        headers={"Content-Type": "application/json"},
        content=b'{"k": "v", "n": 1, "t": true}',
    )
    printer.response_head(response)
    printer.response_body(response)
    return out.getvalue().decode()


def test_cli_styles_cover_the_popular_names() -> None:
    assert set(POPULAR) <= set(STYLES)
    for name, palette in STYLES.items():
        assert tuple(palette) == ROLES, name


@pytest.mark.parametrize("style", sorted(set(STYLES) - {"bw"}))
def test_cli_styles_paint_every_role(style: str) -> None:
    palette = STYLES[style]
    text = _painted(style)
    for role, token in [
        ("name", "Content-Type"), ("key", '"k"'), ("str", '"v"'), ("num", "1"),
        ("lit", "true"), ("error", "404 Not Found"),
    ]:  # fmt: skip
        assert f"{palette[role]}{token}\x1b[0m" in text, role


def test_cli_styles_bw_is_bold_only() -> None:
    text = _painted("bw")
    assert "\x1b[1mContent-Type\x1b[0m" in text and '\x1b[1m"k"\x1b[0m' in text
    assert "\x1b[3" not in text  # no foreground colour at all


def test_cli_styles_distinct_palettes() -> None:
    """Aliases aside, no two styles are the same colours under different names."""
    aliases = {"default": "auto", "pie": "auto", "solarized": "solarized-dark"}
    aliases["solarized-light"] = "solarized-dark"  # Solarized's accents do not change
    palettes = {name: tuple(p.values()) for name, p in STYLES.items() if name not in aliases}
    assert len(set(palettes.values())) == len(palettes)
    for alias, target in aliases.items():
        assert STYLES[alias] == STYLES[target]


def test_cli_styles_chosen_on_the_command_line(transom_server: ServerThread) -> None:
    result = http("--pretty", "all", "--style", "dracula", f":{transom_server.port}/echo")
    assert result.returncode == 0, result.stderr
    assert '\x1b[38;5;212m"body"\x1b[0m' in result.stdout  # dracula's JSON key colour


def test_cli_styles_unknown_name_lists_the_choices() -> None:
    result = http("--style", "no-such-style", ":1/x")
    assert result.returncode == 2
    assert "--style: choose one of " in result.stderr
    for name in ("auto", "monokai", "solarized-light", "paraiso-dark", "zenburn"):
        assert name in result.stderr
