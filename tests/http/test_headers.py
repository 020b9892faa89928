"""Headers and parse_options_header."""

from __future__ import annotations

import pytest

from transom.http.headers import Headers, parse_options_header


def test_headers_raw_is_adopted_without_copy() -> None:
    raw = [(b"host", b"example.com")]
    headers = Headers(raw=raw)
    assert headers.raw is raw
    headers.add("X-A", "1")
    assert raw == [(b"host", b"example.com"), (b"x-a", b"1")]


def test_headers_source_and_raw_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        Headers({"a": "b"}, raw=[])


@pytest.mark.parametrize(
    "source",
    [
        {"Content-Type": "text/html"},
        {b"Content-Type": b"text/html"},
        [("CONTENT-TYPE", "text/html")],
        [(b"content-type", b"text/html")],
        Headers({"content-type": "text/html"}),
    ],
    ids=["str-mapping", "bytes-mapping", "str-pairs", "bytes-pairs", "headers"],
)
def test_headers_built_from_any_source_lower_cases_names(source: object) -> None:
    headers = Headers(source)  # type: ignore[arg-type]
    assert headers.raw == [(b"content-type", b"text/html")]


def test_headers_getitem_is_case_insensitive_first_value() -> None:
    headers = Headers([("Accept", "a"), ("accept", "b")])
    assert headers["ACCEPT"] == "a"


def test_headers_getitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        Headers()["x"]


def test_headers_get_returns_default_when_missing() -> None:
    headers = Headers({"a": "1"})
    assert headers.get("a") == "1"
    assert headers.get("b") is None
    assert headers.get("b", "z") == "z"


def test_headers_get_list_keeps_every_value_unsplit() -> None:
    headers = Headers([("set-cookie", "a=1; Expires=Wed, 21 Oct 2015"), ("Set-Cookie", "b=2")])
    assert headers.get_list("SET-COOKIE") == ["a=1; Expires=Wed, 21 Oct 2015", "b=2"]
    assert headers.get_list("missing") == []


def test_headers_values_are_latin1_both_ways() -> None:
    headers = Headers()
    headers["x-name"] = "café"
    assert headers.raw == [(b"x-name", b"caf\xe9")]
    assert Headers(raw=[(b"x", b"\xff")])["x"] == "\xff"


def test_headers_value_outside_latin1_names_the_header() -> None:
    with pytest.raises(ValueError, match=r"'x-name'.*not latin-1"):
        Headers().add("X-Name", "€")


@pytest.mark.parametrize(
    "bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"], ids=["crlf", "lf", "cr", "nul"]
)
def test_headers_value_with_crlf_or_nul_is_rejected(bad: str) -> None:
    headers = Headers()
    with pytest.raises(ValueError, match=r"'x-evil'.*CR, LF or NUL"):
        headers["X-Evil"] = bad
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        headers.add("x-evil", bad)
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Headers({"x-evil": bad})
    assert headers.raw == []


@pytest.mark.parametrize(
    "bad", ["", "a b", "a:b", "a\r\nb", "ä"], ids=["empty", "space", "colon", "crlf", "non-ascii"]
)
def test_headers_invalid_name_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        Headers().add(bad, "v")


def test_headers_add_appends_duplicates() -> None:
    headers = Headers({"a": "1"})
    headers.add("A", "2")
    assert headers.raw == [(b"a", b"1"), (b"a", b"2")]


def test_headers_setitem_replaces_all_at_first_position() -> None:
    headers = Headers([("a", "1"), ("b", "2"), ("a", "3")])
    headers["A"] = "9"
    assert headers.raw == [(b"a", b"9"), (b"b", b"2")]


def test_headers_setitem_appends_new_name() -> None:
    headers = Headers({"a": "1"})
    headers["b"] = "2"
    assert headers.raw == [(b"a", b"1"), (b"b", b"2")]


def test_headers_delitem_removes_every_field() -> None:
    headers = Headers([("a", "1"), ("b", "2"), ("A", "3")])
    del headers["a"]
    assert headers.raw == [(b"b", b"2")]


def test_headers_delitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        del Headers()["a"]


def test_headers_discard_missing_is_quiet() -> None:
    headers = Headers({"a": "1"})
    headers.discard("b")
    assert headers.raw == [(b"a", b"1")]


def test_headers_setdefault_adds_only_when_missing() -> None:
    headers = Headers({"a": "1"})
    assert headers.setdefault("a", "2") == "1"
    assert headers.setdefault("b", "3") == "3"
    assert headers.raw == [(b"a", b"1"), (b"b", b"3")]


def test_headers_contains_is_case_insensitive() -> None:
    headers = Headers({"Content-Length": "1"})
    assert "content-length" in headers
    assert "CONTENT-LENGTH" in headers
    assert "host" not in headers
    assert b"content-length" not in headers


def test_headers_iter_and_keys_give_unique_names_in_order() -> None:
    headers = Headers([("b", "1"), ("a", "2"), ("B", "3")])
    assert list(headers) == ["b", "a"]
    assert headers.keys() == ["b", "a"]


def test_headers_items_and_values_include_duplicates() -> None:
    headers = Headers([("b", "1"), ("a", "2"), ("B", "3")])
    assert headers.items() == [("b", "1"), ("a", "2"), ("b", "3")]
    assert headers.multi_items() == headers.items()
    assert headers.values() == ["1", "2", "3"]
    assert len(headers) == 3


def test_headers_items_round_trip_keeps_duplicates() -> None:
    headers = Headers([("set-cookie", "a=1"), ("set-cookie", "b=2")])
    assert Headers(headers.items()).raw == headers.raw


def test_headers_copy_is_independent() -> None:
    headers = Headers({"a": "1"})
    copy = headers.copy()
    copy["a"] = "2"
    assert headers["a"] == "1"
    assert copy["a"] == "2"


def test_headers_update_replaces_named_fields_with_all_values() -> None:
    headers = Headers([("a", "1"), ("b", "2"), ("a", "3")])
    headers.update([("A", "x"), ("a", "y"), ("c", "z")])
    assert headers.raw == [(b"b", b"2"), (b"a", b"x"), (b"a", b"y"), (b"c", b"z")]


def test_headers_update_validates() -> None:
    headers = Headers({"a": "1"})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        headers.update({"a": "x\r\ny"})
    assert headers.raw == [(b"a", b"1")]


def test_headers_equality_ignores_order_between_names() -> None:
    assert Headers([("a", "1"), ("b", "2")]) == Headers([("B", "2"), ("a", "1")])
    assert Headers([("a", "1"), ("a", "2")]) != Headers([("a", "2"), ("a", "1")])
    assert Headers({"a": "1"}) == {"A": "1"}
    assert Headers({"a": "1"}) == [("a", "1")]
    assert Headers({"a": "1"}) != {"a": "2"}
    assert Headers({"a": "1"}) != [("a b", "1")]
    assert Headers({"a": "1"}) != 1


def test_headers_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Headers())


def test_headers_repr_masks_credentials() -> None:
    headers = Headers(
        [
            ("Authorization", "Bearer secret"),
            ("Proxy-Authorization", "Basic secret"),
            ("Cookie", "sid=secret"),
            ("Set-Cookie", "sid=secret"),
            ("Accept", "*/*"),
        ]
    )
    text = repr(headers)
    assert "secret" not in text
    assert "('accept', '*/*')" in text
    assert text.count("[secure]") == 4


# -- parse_options_header --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/html", ("text/html", {})),
        ("Text/HTML; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ('form-data; name="a b"', ("form-data", {"name": "a b"})),
        ('form-data; name="a;b"; x=1', ("form-data", {"name": "a;b", "x": "1"})),
        (r'a; f="q\"uote\\d"', ("a", {"f": 'q"uote\\d'})),
        (r'a; f="C:\dir\x.txt"', ("a", {"f": r"C:\dir\x.txt"})),
        ('a; f="unterminated', ("a", {"f": "unterminated"})),
        ("a; novalue; b=2", ("a", {"novalue": "", "b": "2"})),
        ("a;;; b = 2 ;", ("a", {"b": "2"})),
        ("a; b=1; b=2", ("a", {"b": "1"})),
        (
            "attachment; filename=\"eur.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
            ("attachment", {"filename": "€ rates.txt"}),
        ),
        (
            "attachment; filename*=utf-8'en'%E2%82%AC; filename=\"eur.txt\"",
            ("attachment", {"filename": "€"}),
        ),
        ("a; title*=iso-8859-1'en'%A3", ("a", {"title": "£"})),
        ("a; f*=UTF-8''%FF; f=plain", ("a", {"f": "plain"})),
        ("a; f*=nonsense", ("a", {})),
        ("a; f*=bogus-charset''x", ("a", {})),
        (b"text/plain; charset=latin-1", ("text/plain", {"charset": "latin-1"})),
        ("", ("", {})),
        (None, ("", {})),
        ("; a=1", ("", {"a": "1"})),
        ('a; ="x"; =', ("a", {})),
    ],
    ids=[
        "bare",
        "lowercase-main-and-keys",
        "quoted",
        "quoted-semicolon",
        "escapes",
        "windows-path",
        "unterminated-quote",
        "no-value",
        "junk-separators",
        "first-duplicate-wins",
        "rfc5987-wins",
        "rfc5987-wins-any-order",
        "rfc5987-latin1",
        "rfc5987-bad-bytes-ignored",
        "rfc5987-malformed-ignored",
        "rfc5987-unknown-charset-ignored",
        "bytes-input",
        "empty",
        "none",
        "no-main-value",
        "no-key",
    ],
)
def test_parse_options_header(
    value: str | bytes | None, expected: tuple[str, dict[str, str]]
) -> None:
    assert parse_options_header(value) == expected
