"""The colour styles of ``transom http --style``: small palettes of our own.

HTTPie takes any Pygments style; we ship no Pygments, so each style here is
eight colours named after the Pygments (or editor) theme it follows, one per
role: header name, JSON key, string, number and literal (true, false, null),
and the status line of a 2xx, a 3xx and a 4xx/5xx response. ``auto`` uses the
terminal's own 16 colours (so its theme decides); the others use the xterm
256-colour palette, as HTTPie's 256-colour output does.
"""

from __future__ import annotations

__all__ = ["ROLES", "STYLES"]

ROLES = ("name", "key", "str", "num", "lit", "ok", "redirect", "error")

_BOLD = "\x1b[1m"


def _ansi(*codes: int) -> dict[str, str]:
    return dict(zip(ROLES, (f"\x1b[{n}m" for n in codes), strict=True))


def _c256(*numbers: int) -> dict[str, str]:
    return dict(zip(ROLES, (f"\x1b[38;5;{n}m" for n in numbers), strict=True))


# Roles:           name key  str  num  lit   ok  3xx  err
_AUTO = _ansi(36, 34, 32, 33, 35, 32, 33, 31)
_SOLARIZED = _c256(33, 33, 37, 125, 166, 64, 136, 160)
_PARAISO = _c256(39, 203, 72, 214, 97, 72, 220, 203)

STYLES: dict[str, dict[str, str]] = {
    "auto": _AUTO,
    "default": _AUTO,
    "pie": _AUTO,
    "pie-dark": _c256(68, 213, 185, 117, 135, 114, 215, 203),
    "pie-light": _c256(26, 133, 100, 31, 91, 28, 166, 160),
    "bw": dict.fromkeys(ROLES, "") | {"name": _BOLD, "key": _BOLD},
    "dracula": _c256(117, 212, 228, 141, 141, 84, 215, 203),
    "emacs": _c256(28, 28, 131, 241, 129, 28, 136, 160),
    "friendly": _c256(61, 17, 61, 72, 22, 22, 130, 124),
    "fruity": _c256(32, 32, 33, 201, 202, 34, 214, 196),
    "github-dark": _c256(111, 114, 153, 111, 111, 114, 214, 203),
    "gruvbox-dark": _c256(108, 109, 142, 175, 208, 142, 214, 167),
    "gruvbox-light": _c256(65, 24, 100, 96, 130, 100, 136, 88),
    "material": _c256(111, 204, 150, 209, 117, 150, 221, 204),
    "monokai": _c256(81, 197, 186, 141, 81, 148, 208, 197),
    "native": _c256(250, 70, 214, 67, 70, 70, 214, 124),
    "nord": _c256(110, 109, 144, 139, 67, 144, 222, 131),
    "one-dark": _c256(75, 168, 114, 173, 176, 114, 180, 168),
    "paraiso-dark": _PARAISO,
    "paraiso-light": _c256(25, 160, 29, 166, 91, 29, 136, 160),
    "rrt": _c256(122, 196, 117, 201, 213, 46, 226, 196),
    "solarized": _SOLARIZED,
    "solarized-dark": _SOLARIZED,
    "solarized-light": _SOLARIZED,  # Solarized's accents are the same on either background
    "tango": _c256(178, 24, 64, 20, 24, 64, 172, 160),
    "vim": _c256(37, 164, 160, 164, 184, 40, 184, 160),
    "vs": _c256(31, 21, 124, 28, 21, 28, 130, 124),
    "zenburn": _c256(228, 223, 174, 116, 181, 108, 223, 167),
}
