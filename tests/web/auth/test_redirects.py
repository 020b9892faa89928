"""safe_next: only same-origin paths survive; a long table of open-redirect attacks."""

from __future__ import annotations

import pytest

from transom.web.auth import safe_next

ATTACKS = [
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "https:evil.example",
    "//evil.example@testserver",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "evil.example",
    "notes/1",
    "?next=//evil",
    "#frag",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "\x01//evil.example",
    "/%2F%2Fevil.example",
    "/%2f%2fevil.example",
    "/%2Fevil.example",
    "%2F%2Fevil.example",
    "%2F",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%252F%252Fevil.example",
    "/%25252Fevil.example",
    "/%25252525252Fevil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%00/evil.example",
    "/%20/evil.example",
    "/%E3%80%80/evil.example",
    "/%EF%BC%8Fevil.example",
    "/\uff0fevil.example",
    "/\uff3cevil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/\u202e/evil.example",
    "/\u2028/evil.example",
    "/%E2%80%8B/evil.example",
    "/a\\b",
    "",
    "/" + "a" * 3000,
]

ALLOWED = [
    "/",
    "/notes",
    "/notes/3?tab=edit",
    "/notes/3?tab=edit&x=1#part",
    "/search?q=//not-a-host",
    "/search?q=a%20b",
    "/my%20notes",
    "/caf%C3%A9",
    "/caf\u00e9",
    "/a/b/../c",
    "/a//b",
    "/%41",
    "/100%",
    "/100%zz",
]


@pytest.mark.parametrize("target", ATTACKS, ids=[repr(a)[:40] for a in ATTACKS])
def test_safe_next_refuses(target: str) -> None:
    assert safe_next(None, target) == "/"


@pytest.mark.parametrize("target", ALLOWED, ids=ALLOWED)
def test_safe_next_allows_same_origin_paths(target: str) -> None:
    assert safe_next(None, target) == target


@pytest.mark.parametrize("target", [None, 3, b"/notes"], ids=["none", "int", "bytes"])
def test_safe_next_non_strings_get_the_default(target: object) -> None:
    assert safe_next(None, target, default="/home") == "/home"  # type: ignore[arg-type]


def test_safe_next_default_is_settable() -> None:
    assert safe_next(None, "//evil.example", default="/dashboard") == "/dashboard"
