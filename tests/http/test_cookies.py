"""parse_cookie_header, SetCookie and the RFC 6265 cookie-date parser."""

from __future__ import annotations

import datetime
import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import transom.http.cookies
from transom.http.cookies import SetCookie, parse_cookie_date, parse_cookie_header

UTC = datetime.UTC


def test_cookies_module_examples_run() -> None:
    assert doctest.testmod(transom.http.cookies).failed == 0


# -- Cookie request header ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2", {"a": "1", "b": "2"}),
        (" a = 1 ; b=2 ", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "1"}),
        ('a="quoted value"', {"a": "quoted value"}),
        ('a="', {"a": '"'}),
        ('a=""', {"a": ""}),
        ("a=b=c", {"a": "b=c"}),
        ("a=", {"a": ""}),
        ("junk; a=1; =x; ;", {"a": "1"}),
        ("a=%20x", {"a": "%20x"}),
        ("", {}),
    ],
    ids=[
        "two",
        "no-space",
        "spaces",
        "first-wins",
        "quotes-stripped",
        "lone-quote-kept",
        "empty-quotes",
        "equals-in-value",
        "empty-value",
        "junk-skipped",
        "not-decoded",
        "empty",
    ],
)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


# -- serialize ------------------------------------------------------------------------------


def test_set_cookie_defaults_to_no_attributes() -> None:
    assert SetCookie("a", "b").serialize() == "a=b"


def test_set_cookie_serializes_every_attribute_in_order() -> None:
    cookie = SetCookie(
        "sid",
        "abc",
        expires=784111777,
        max_age=3600,
        domain="example.com",
        path="/app",
        secure=True,
        httponly=True,
        samesite="none",
        partitioned=True,
    )
    assert cookie.serialize() == (
        "sid=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=3600; Domain=example.com; "
        "Path=/app; Secure; HttpOnly; SameSite=None; Partitioned"
    )


@pytest.mark.parametrize(
    "expires",
    [
        datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
        datetime.datetime(1994, 11, 6, 8, 49, 37),
        datetime.datetime(
            1994, 11, 6, 9, 49, 37, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
        ),
        784111777.0,
        784111777,
        "Sun, 06 Nov 1994 08:49:37 GMT",
    ],
    ids=["aware", "naive-is-utc", "other-zone", "float", "int", "string"],
)
def test_set_cookie_expires_forms(expires: datetime.datetime | float | str) -> None:
    assert SetCookie("a", "b", expires=expires).serialize() == (
        "a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT"
    )


@pytest.mark.parametrize(
    ("samesite", "text"), [("lax", "Lax"), ("strict", "Strict"), ("Lax", "Lax")]
)
def test_set_cookie_samesite(samesite: str, text: str) -> None:
    cookie = SetCookie("a", "b", samesite=samesite)  # type: ignore[arg-type]
    assert cookie.serialize() == f"a=b; SameSite={text}"


def test_set_cookie_zero_max_age_deletes() -> None:
    assert SetCookie("a", "", max_age=0, path="/").serialize() == "a=; Max-Age=0; Path=/"


def test_set_cookie_quoted_value_is_allowed() -> None:
    assert SetCookie("a", '"xyz"').serialize() == 'a="xyz"'


def test_set_cookie_host_prefix_when_valid() -> None:
    cookie = SetCookie("__Host-sid", "1", path="/", secure=True)
    assert cookie.serialize() == "__Host-sid=1; Path=/; Secure"


@pytest.mark.parametrize(
    ("cookie", "message"),
    [
        (SetCookie("a b", "1"), "cookie name 'a b' is not an RFC 6265 token"),
        (SetCookie("", "1"), "not an RFC 6265 token"),
        (SetCookie("a;", "1"), "not an RFC 6265 token"),
        (SetCookie("a", "x y"), "value 'x y' has characters RFC 6265 §4.1.1 forbids"),
        (SetCookie("a", "x;y"), "percent-encode it first"),
        (SetCookie("a", "x,y"), "forbids"),
        (SetCookie("a", 'x"y'), "forbids"),
        (SetCookie("a", "x\\y"), "forbids"),
        (SetCookie("a", "x\r\nSet-Cookie: b=1"), "forbids"),
        (SetCookie("a", "é"), "forbids"),
        (SetCookie("a", "x" * 4096), "over 4096 bytes"),
        (SetCookie("a", "1", domain="a.com; Secure"), "domain 'a.com; Secure' may not contain"),
        (SetCookie("a", "1", path="/\n"), "path '/\\\\n' may not contain"),
        (SetCookie("a", "1", path="/" * 1025), "exceed 1024"),
        (SetCookie("a", "1", max_age="10"), "max_age must be an int"),  # type: ignore[arg-type]
        (SetCookie("a", "1", max_age=True), "max_age must be an int"),
        (SetCookie("a", "1", samesite="loose"), "samesite must be 'lax'"),  # type: ignore[arg-type]
        (SetCookie("a", "1", samesite="none"), "SameSite=None requires Secure"),
        (SetCookie("a", "1", partitioned=True), "Partitioned requires Secure"),
        (SetCookie("__Secure-a", "1"), "__Secure-/__Host- name requires Secure"),
        (SetCookie("__Host-a", "1", secure=True), "needs path='/' and no domain"),
        (SetCookie("__Host-a", "1", secure=True, path="/", domain="a.com"), "no domain"),
        (SetCookie("a", "1", expires="tomorrow"), "expires 'tomorrow' is not an HTTP date"),
    ],
    ids=[
        "name-space",
        "name-empty",
        "name-semicolon",
        "value-space",
        "value-semicolon",
        "value-comma",
        "value-dquote",
        "value-backslash",
        "value-crlf-injection",
        "value-non-ascii",
        "too-big",
        "domain-injection",
        "path-newline",
        "path-too-long",
        "max-age-str",
        "max-age-bool",
        "samesite-unknown",
        "samesite-none-insecure",
        "partitioned-insecure",
        "secure-prefix",
        "host-prefix-path",
        "host-prefix-domain",
        "expires-junk",
    ],
)
def test_set_cookie_serialize_rejects_invalid(cookie: SetCookie, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cookie.serialize()


# -- parse ------------------------------------------------------------------------------


def test_set_cookie_parse_every_attribute() -> None:
    cookie = SetCookie.parse(
        "sid=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60; Domain=.Example.COM; "
        "Path=/app; Secure; HttpOnly; SameSite=Strict; Partitioned"
    )
    assert cookie == SetCookie(
        "sid",
        "abc",
        expires=datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC),
        max_age=60,
        domain="example.com",
        path="/app",
        secure=True,
        httponly=True,
        samesite="strict",
        partitioned=True,
    )


def test_set_cookie_parse_attribute_names_are_case_insensitive() -> None:
    cookie = SetCookie.parse("a=b; SECURE; httpONLY; max-AGE=5; samesite=LAX")
    assert (cookie.secure, cookie.httponly, cookie.max_age, cookie.samesite) == (
        True,
        True,
        5,
        "lax",
    )


@pytest.mark.parametrize(
    ("header", "field", "expected"),
    [
        ("a=b; Max-Age=abc", "max_age", None),
        ("a=b; Max-Age=-1", "max_age", -1),
        ("a=b; Max-Age=1.5", "max_age", None),
        ("a=b; Max-Age=1; Max-Age=2", "max_age", 2),
        ("a=b; Expires=never", "expires", None),
        ("a=b; Domain=", "domain", None),
        ("a=b; Path=relative", "path", None),
        ("a=b; Path=", "path", None),
        ("a=b; SameSite=Default", "samesite", None),
        ("a=b; Unknown=1; Foo", "secure", False),
        ("a=b; Path=/" + "x" * 1100, "path", None),
        ("a=b;;; secure ;", "secure", True),
    ],
    ids=[
        "max-age-junk",
        "max-age-negative",
        "max-age-float",
        "last-wins",
        "expires-junk",
        "domain-empty",
        "path-relative",
        "path-empty",
        "samesite-unknown",
        "unknown-ignored",
        "attribute-too-long",
        "empty-attributes",
    ],
)
def test_set_cookie_parse_is_lenient_about_attributes(
    header: str, field: str, expected: object
) -> None:
    assert getattr(SetCookie.parse(header), field) == expected


def test_set_cookie_parse_keeps_value_as_sent() -> None:
    cookie = SetCookie.parse(' a = "x y" ; Path=/')
    assert (cookie.name, cookie.value) == ("a", '"x y"')


def test_set_cookie_parse_empty_value() -> None:
    assert SetCookie.parse("a=").value == ""


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("novalue", "no name=value pair"),
        ("=value", "no name=value pair"),
        ("; Path=/", "no name=value pair"),
        ("a=b\x00c", "control characters"),
        ("a=" + "x" * 4096, "over 4096 bytes"),
    ],
    ids=["no-equals", "empty-name", "only-attributes", "nul", "too-big"],
)
def test_set_cookie_parse_rejects_what_browsers_ignore(header: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SetCookie.parse(header)


@given(
    name=st.from_regex(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,12}", fullmatch=True).filter(
        lambda n: not n.startswith(("__Secure-", "__Host-"))
    ),
    value=st.from_regex(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,20}", fullmatch=True),
    max_age=st.one_of(st.none(), st.integers(-10, 10**9)),
    path=st.one_of(st.none(), st.from_regex(r"/[a-z/]{0,8}", fullmatch=True)),
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from([None, "lax", "strict"]),
    expires=st.one_of(
        st.none(),
        st.datetimes(datetime.datetime(1970, 1, 1), datetime.datetime(9999, 1, 1)).map(
            lambda d: d.replace(microsecond=0, tzinfo=UTC)
        ),
    ),
)
def test_set_cookie_parse_reads_what_serialize_writes(
    name: str,
    value: str,
    max_age: int | None,
    path: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    expires: datetime.datetime | None,
) -> None:
    cookie = SetCookie(
        name,
        value,
        expires=expires,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=httponly,
        samesite=samesite,  # type: ignore[arg-type]
    )
    assert SetCookie.parse(cookie.serialize()) == cookie


def test_set_cookie_round_trip_through_cookie_header() -> None:
    header = "; ".join(
        SetCookie.parse(SetCookie(n, v).serialize()).name + "=" + v
        for n, v in [("a", "1"), ("b", "2")]
    )
    assert parse_cookie_header(header) == {"a": "1", "b": "2"}


# -- cookie dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "06 nov 1994 8:49:37",
        "Sun, 6 November 1994 08:49:37 +0000",
        "1994 Nov 6 08:49:37",
    ],
    ids=["imf-fixdate", "rfc850", "asctime", "netscape", "no-weekday", "long-month", "year-first"],
)
def test_parse_cookie_date_forms(text: str) -> None:
    assert parse_cookie_date(text) == datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "year"),
    [("01 Jan 70 00:00:00", 1970), ("01 Jan 69 00:00:00", 2069), ("01 Jan 00 00:00:00", 2000)],
    ids=["70-is-1970", "69-is-2069", "00-is-2000"],
)
def test_parse_cookie_date_two_digit_years(text: str, year: int) -> None:
    moment = parse_cookie_date(text)
    assert moment is not None
    assert moment.year == year


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "31 Feb 2020 00:00:00",
        "01 Jan 2020 24:00:00",
        "01 Jan 2020 00:60:00",
        "01 Jan 2020 00:00:60",
        "32 Jan 2020 00:00:00",
        "01 Jan 1600 00:00:00",
        "01 Foo 2020 00:00:00",
        "01 Jan 2020",
    ],
    ids=[
        "empty",
        "word",
        "feb-31",
        "hour-24",
        "minute-60",
        "second-60",
        "day-32",
        "before-1601",
        "no-month",
        "no-time",
    ],
)
def test_parse_cookie_date_rejects_invalid(text: str) -> None:
    assert parse_cookie_date(text) is None


@given(st.text(max_size=40))
def test_parse_cookie_date_never_raises(text: str) -> None:
    result = parse_cookie_date(text)
    assert result is None or result.tzinfo is UTC
