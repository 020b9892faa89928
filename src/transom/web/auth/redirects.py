"""``safe_next``: where to send the browser after log-in, without an open redirect.

A ``next`` parameter is attacker-controlled: a link to
``/login?next=https://evil.example`` must not send the user, freshly
logged in and trusting the address bar, to another site (OWASP
Unvalidated Redirects and Forwards Cheat Sheet; CWE-601). The rule here
is an allow-list: the target must be a path on this site, and anything
else becomes the default.

A target is accepted only when it starts with exactly one ``/``, has no
``\\``, no control, format or white-space character (of any script) and
no look-alike of ``/`` or ``\\``; and its path, percent-decoded (again and
again, so ``%252F`` is caught too), still starts with exactly one ``/``
and holds no control character. This refuses what browsers would read as another host: ``//evil``
(scheme-relative), ``/\\evil`` and ``\\\\evil`` (browsers treat ``\\`` as
``/``, WHATWG URL §4.4 "special authority slashes"), ``/\\t/evil`` (tabs and
newlines are stripped by browsers, WHATWG URL "basic URL parser"),
``https://evil`` and ``javascript:...`` (not starting with ``/``), and
their encoded forms.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from transom.web.requests import Request

__all__ = ["safe_next"]

_MAX_LENGTH = 2048
_MAX_DECODES = 4


def _bad_char(c: str) -> bool:
    if c.isascii():
        return not 33 <= ord(c) <= 126 or c == "\\"
    # Controls, format characters and white space of any script; and look-alikes
    # of "/" and "\\" (U+FF0F, U+FF3C) that a normalising proxy would turn into them.
    if unicodedata.category(c)[0] in "CZ":
        return True
    folded = unicodedata.normalize("NFKC", c)
    return "/" in folded or "\\" in folded


def _plain_path(text: str) -> bool:
    """Whether ``text``, as sent, is a path that can only mean this origin."""
    if not text.startswith("/") or text[1:2] in ("/", "\\"):
        return False
    return not any(_bad_char(c) for c in text)


def _plain_decoded(path: str) -> bool:
    """Whether a percent-decoded path still starts with exactly one slash.

    White space is allowed inside (``/my%20notes``), but not where it could
    hide a second slash once a proxy or browser drops it.
    """
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in path):
        return False
    folded = "".join(unicodedata.normalize("NFKC", path).split())
    return folded.startswith("/") and folded[1:2] not in ("/", "\\")


def safe_next(request: Request | None, target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``.

    >>> safe_next(request, "/notes/3?tab=edit")
    '/notes/3?tab=edit'
    >>> safe_next(request, "//evil.example/")
    '/'

    ``request`` is the request being answered (for future same-origin
    rules; it may be ``None``). The query and fragment may hold anything
    printable; only the path is decoded and checked again.
    """
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return default
    if not _plain_path(target):
        return default
    path = target.partition("?")[0].partition("#")[0]
    for _ in range(_MAX_DECODES):
        if "%" not in path:
            return target
        decoded = unquote(path, errors="replace")
        if decoded == path:
            return target
        if not _plain_decoded(decoded):
            return default
        path = decoded
    return default  # still changing after several decodings: nobody needs that
