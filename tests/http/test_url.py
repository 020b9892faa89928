"""URL, QueryParams, quote, unquote and urlencode."""

from __future__ import annotations

import doctest
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

import transom.http.url
from transom.exceptions import InvalidURL
from transom.http.url import MAX_URL_LENGTH, URL, quote, urlencode


def test_url_module_examples_run() -> None:
    assert doctest.testmod(transom.http.url).failed == 0


# -- parsing ------------------------------------------------------------------------


def test_url_parses_every_part() -> None:
    url = URL("https://user:p%40ss@Example.COM:8443/a%2Fb/c?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.userinfo == "user:p%40ss"
    assert url.username == "user"
    assert url.password == "p@ss"
    assert url.host == "example.com"
    assert url.port == 8443
    assert url.effective_port == 8443
    assert url.netloc == "example.com:8443"
    assert url.authority == "user:p%40ss@example.com:8443"
    assert url.raw_path == "/a%2Fb/c"
    assert url.path == "/a/b/c"
    assert url.query == "x=1&y=2"
    assert url.target == "/a%2Fb/c?x=1&y=2"
    assert url.fragment == "frag"
    assert url.origin == "https://example.com:8443"
    assert url.is_absolute


def test_url_scheme_is_lower_cased() -> None:
    assert URL("HTTP://a/").scheme == "http"


@pytest.mark.parametrize(
    ("text", "port", "effective"),
    [
        ("http://a:80/", None, 80),
        ("https://a:443/", None, 443),
        ("ws://a/", None, 80),
        ("wss://a/", None, 443),
        ("http://a:443/", 443, 443),
        ("http://a:/", None, 80),
        ("http://a:0/", 0, 0),
        ("http://a:65535/", 65535, 65535),
        ("foo://a/", None, None),
    ],
    ids=["http-80", "https-443", "ws", "wss", "http-443", "empty", "zero", "max", "unknown-scheme"],
)
def test_url_default_ports(text: str, port: int | None, effective: int | None) -> None:
    url = URL(text)
    assert url.port == port
    assert url.effective_port == effective


def test_url_default_port_is_dropped_from_text() -> None:
    assert str(URL("http://a:80/x")) == "http://a/x"
    assert URL("http://a:80/x") == URL("http://a/x")


def test_url_empty_path_after_host_is_slash_for_http() -> None:
    assert str(URL("http://example.com")) == "http://example.com/"
    assert str(URL("foo://example.com")) == "foo://example.com"


def test_url_userinfo_without_password() -> None:
    url = URL("ftp://anon@host/")
    assert url.username == "anon"
    assert url.password is None


def test_url_userinfo_with_at_sign_splits_at_last_at() -> None:
    url = URL("http://a@b:c@host/")
    assert url.host == "host"
    assert url.userinfo == "a%40b:c"
    assert url.username == "a@b"


def test_url_idna_encodes_non_ascii_host() -> None:
    url = URL("http://Bücher.example/")
    assert url.host == "xn--bcher-kva.example"
    assert str(url) == "http://xn--bcher-kva.example/"


@pytest.mark.parametrize(
    ("text", "host", "netloc"),
    [
        ("http://[::1]:8080/", "::1", "[::1]:8080"),
        ("http://[2001:DB8::1]/", "2001:db8::1", "[2001:db8::1]"),
        ("http://[::ffff:1.2.3.4]/", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]"),
        ("http://[::FFFF:102:304]:81/", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]:81"),
        ("http://[::1.2.3.4]/", "::102:304", "[::102:304]"),
        ("http://[2001:0DB8:0000:0000:0000:0000:0000:0001]/", "2001:db8::1", "[2001:db8::1]"),
        ("http://[2001:db8:0:1:1:1:1:1]/", "2001:db8:0:1:1:1:1:1", "[2001:db8:0:1:1:1:1:1]"),
        ("http://[1:0:0:1:0:0:0:1]/", "1:0:0:1::1", "[1:0:0:1::1]"),
        ("http://[1:0:0:1:0:0:1:1]/", "1::1:0:0:1:1", "[1::1:0:0:1:1]"),
        ("http://[0:0:0:0:0:0:0:0]/", "::", "[::]"),
        ("http://[fe80::1%25eth0]/", "fe80::1%25eth0", "[fe80::1%25eth0]"),
    ],
    ids=[
        "loopback",
        "upper-case",
        "mapped-ipv4",
        "mapped-ipv4-in-hex",
        "compatible-ipv4-in-hex",
        "leading-zeros",
        "single-zero-group-kept",
        "longest-run-compressed",
        "first-of-equal-runs-compressed",
        "unspecified",
        "zone",
    ],
)
def test_url_ipv6_host(text: str, host: str, netloc: str) -> None:
    """RFC 5952 text on every Python version: IPv4-mapped addresses with a dotted quad (§5)."""
    url = URL(text)
    assert url.host == host
    assert url.netloc == netloc
    assert URL(str(url)) == url


_GROUPS = st.lists(
    st.sampled_from([0, 0, 0, 1, 0xFFFF]) | st.integers(0, 0xFFFF), min_size=8, max_size=8
)


@given(
    _GROUPS
    | st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2).map(lambda g: [0] * 5 + [0xFFFF, *g])
)
def test_url_ipv6_host_is_rfc_5952_text(groups: list[int]) -> None:
    address = ipaddress.IPv6Address(":".join(f"{group:04x}" for group in groups))
    host = URL(f"http://[{address.exploded}]/").host
    assert ipaddress.IPv6Address(host) == address
    assert host == host.lower()
    assert host.count("::") <= 1
    for group in filter(None, host.split(":")):
        assert "." in group or group == "0" or (0 < len(group) <= 4 and group[0] != "0")
    if address.ipv4_mapped is not None:
        assert host == f"::ffff:{address.ipv4_mapped}"
    else:
        # Outside the mixed notation, the same text as the standard library on 3.11-3.13.
        assert host == str(address)
    assert URL(f"http://[{host}]/").host == host


def test_url_relative_reference() -> None:
    url = URL("/a/b?c=d#e")
    assert url.scheme == ""
    assert url.host == ""
    assert url.path == "/a/b"
    assert url.query == "c=d"
    assert url.origin == "null"
    assert not url.is_absolute


def test_url_non_special_scheme_without_authority() -> None:
    url = URL("mailto:someone@example.com")
    assert url.scheme == "mailto"
    assert url.path == "someone@example.com"
    assert str(url) == "mailto:someone@example.com"


def test_url_file_url_with_empty_host() -> None:
    url = URL("file:///etc/hosts")
    assert url.host == ""
    assert url.path == "/etc/hosts"
    assert str(url) == "file:///etc/hosts"


def test_url_spaces_are_encoded_and_outer_spaces_stripped() -> None:
    url = URL("  http://a/b c?d e#f g  ")
    assert str(url) == "http://a/b%20c?d%20e#f%20g"
    assert url.path == "/b c"


def test_url_percent_junk_is_encoded() -> None:
    url = URL("http://a/100%/%zz/%4")
    assert url.raw_path == "/100%25/%25zz/%254"
    assert url.path == "/100%/%zz/%4"


def test_url_valid_escapes_are_kept_as_sent() -> None:
    assert URL("http://a/%7e%2F?q=%26").raw_path == "/%7e%2F"
    assert URL("http://a/%7e%2F?q=%26").query == "q=%26"


def test_url_non_ascii_path_is_utf8_encoded() -> None:
    url = URL("http://a/café")
    assert url.raw_path == "/caf%C3%A9"
    assert url.path == "/café"


def test_url_unsafe_characters_are_encoded() -> None:
    assert URL('http://a/<x>"{y}`\\').raw_path == "/%3Cx%3E%22%7By%7D%60%5C"


def test_url_plus_is_not_a_space_in_paths() -> None:
    assert URL("http://a/a+b").path == "/a+b"


def test_url_empty_query_and_fragment_are_dropped() -> None:
    assert str(URL("http://a/x?#")) == "http://a/x"


def test_url_long_input_within_limit_is_fine() -> None:
    url = URL("http://a/" + "x" * 60000)
    assert len(url.path) == 60001


def test_url_copy_constructor() -> None:
    url = URL("http://a/b")
    assert URL(url) == url
    assert str(URL(url)) == "http://a/b"


# -- rejected input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://a/\r\nX: y", "control character '\\\\r' at position 9"),
        ("http://a/\nb", "control character"),
        ("http://a/\x00", "control character"),
        ("http://a/\tb", "control character"),
        ("http://a/\x7f", "control character"),
        ("http://a:99999/", "invalid port 99999"),
        ("http://a:-1/", "invalid port '-1'"),
        ("http://a:8o/", "invalid port '8o'"),
        ("http://a:٣/", "invalid port"),
        ("http://a b/", "invalid host 'a b'"),
        ("http://a<b/", "invalid host"),
        ("http://a%41/", "invalid host"),
        ("http://exa\uff0fmple.com/", "invalid host 'exa/mple.com'"),
        ("http://a..b\u00e9/", "invalid international host"),
        ("http://[::1/", "missing ']'"),
        ("http://evil.example\\@good.example/", "backslash in the authority"),
        ("http://evil.example\\good/", "backslash in the authority"),
        ("http://[::1]x/", "junk after the IPv6 host"),
        ("http://[zz]/", "invalid IPv6 host"),
        ("http://::1/", "invalid IPv6 host"),
        ("http:///path", "needs a host"),
        ("1http://a/", "invalid scheme '1http'"),
        ("ht_tp://a/", "invalid scheme"),
        ("a b://c/", "invalid scheme 'a b'"),
        ("x" * (MAX_URL_LENGTH + 1), "the limit is 65536"),
    ],
    ids=[
        "crlf",
        "lf",
        "nul",
        "tab",
        "del",
        "port-too-big",
        "port-negative",
        "port-letters",
        "port-non-ascii-digit",
        "space-in-host",
        "angle-in-host",
        "percent-in-host",
        "fullwidth-slash-host",
        "bad-idna",
        "unclosed-ipv6",
        "backslash-userinfo-confusion",
        "backslash-in-host",
        "junk-after-ipv6",
        "bad-ipv6",
        "bare-ipv6",
        "http-without-host",
        "scheme-digit",
        "scheme-underscore",
        "odd-scheme-text",
        "too-long",
    ],
)
def test_url_invalid_input_raises_invalid_url(text: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        URL(text)


def test_url_invalid_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        URL("http://a:x/")


def test_url_rejects_non_str() -> None:
    with pytest.raises(TypeError, match="str or a URL"):
        URL(b"http://a/")  # type: ignore[arg-type]


# -- join: RFC 3986 §5.4 ------------------------------------------------------------

BASE = URL("http://a/b/c/d;p?q")

NORMAL_EXAMPLES = [
    ("g:h", "g:h"),
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q#s"),
    ("g#s", "http://a/b/c/g#s"),
    ("g?y#s", "http://a/b/c/g?y#s"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y#s"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
]

ABNORMAL_EXAMPLES = [
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g#s/./x"),
    ("g#s/../x", "http://a/b/c/g#s/../x"),
    ("http:g", "http:g"),
]


@pytest.mark.parametrize(
    ("ref", "expected"), NORMAL_EXAMPLES, ids=[r or "empty" for r, _ in NORMAL_EXAMPLES]
)
def test_url_join_rfc3986_normal_examples(ref: str, expected: str) -> None:
    joined = BASE.join(ref)
    assert joined == URL(expected)
    if ref != "//g":  # the one case where http normalisation adds "/" to the RFC's text
        assert str(joined) == expected


@pytest.mark.parametrize(
    ("ref", "expected"), ABNORMAL_EXAMPLES, ids=[r for r, _ in ABNORMAL_EXAMPLES]
)
def test_url_join_rfc3986_abnormal_examples(ref: str, expected: str) -> None:
    assert str(BASE.join(ref)) == expected


def test_url_join_keeps_base_authority_and_takes_ref_url() -> None:
    base = URL("https://u@h:8443/a/b")
    assert str(base.join(URL("c?d"))) == "https://u@h:8443/a/c?d"


def test_url_join_against_base_with_empty_path() -> None:
    assert str(URL("foo://h").join("x")) == "foo://h/x"


def test_url_join_invalid_reference_raises() -> None:
    with pytest.raises(InvalidURL, match="invalid port"):
        BASE.join("//h:x/")


# -- copy_with and build ---------------------------------------------------------------


def test_url_copy_with_replaces_parts() -> None:
    url = URL("http://a/x?y=1#f")
    new = url.copy_with(scheme="https", host="B.example", port=8443, query="z=2", fragment="")
    assert str(new) == "https://b.example:8443/x?z=2"
    assert str(url) == "http://a/x?y=1#f"


def test_url_copy_with_scheme_change_drops_to_new_default() -> None:
    assert str(URL("http://a/").copy_with(scheme="https")) == "https://a/"


def test_url_copy_with_path_is_encoded() -> None:
    url = URL("http://a/").copy_with(path="/a b/c?d#e%")
    assert url.raw_path == "/a%20b/c%3Fd%23e%25"
    assert url.path == "/a b/c?d#e%"


def test_url_copy_with_raw_path_is_kept() -> None:
    assert URL("http://a/").copy_with(raw_path="/a%2Fb").raw_path == "/a%2Fb"


def test_url_copy_with_params() -> None:
    url = URL("http://a/?x=1").copy_with(params={"q": "a b", "t": ["1", "2"]})
    assert url.query == "q=a+b&t=1&t=2"


def test_url_copy_with_credentials_are_encoded() -> None:
    url = URL("http://a/").copy_with(username="a@b", password="p:w/")
    assert url.userinfo == "a%40b:p:w%2F"
    assert url.username == "a@b"
    assert url.password == "p:w/"


def test_url_copy_with_only_password_keeps_username() -> None:
    assert URL("http://u:p@a/").copy_with(password="q").userinfo == "u:q"


def test_url_build_from_parts() -> None:
    url = URL.build(scheme="http", host="::1", port=8000, path="/x")
    assert str(url) == "http://[::1]:8000/x"


@pytest.mark.parametrize(
    ("parts", "error", "message"),
    [
        ({"port": 70000}, InvalidURL, "invalid port 70000"),
        ({"port": "80"}, InvalidURL, "invalid port '80'"),
        ({"host": "a/b"}, InvalidURL, "invalid host 'a/b'"),
        ({"host": "a\r\n"}, InvalidURL, "invalid host"),
        ({"raw_path": "/a?b"}, InvalidURL, "raw_path '/a\\?b' may not contain"),
        ({"raw_path": "a"}, InvalidURL, "must start with '/'"),
        ({"query": "a#b"}, InvalidURL, "query 'a#b' may not contain"),
        ({"query": "a\nb"}, InvalidURL, "control character"),
        ({"scheme": "ht tp"}, InvalidURL, "invalid scheme"),
        ({"scheme": "http:"}, InvalidURL, "may not contain"),
        ({"query": 1}, TypeError, "query must be a str"),
        ({"nope": 1}, TypeError, "unknown parts \\['nope'\\]"),
        ({"path": "/a", "raw_path": "/b"}, TypeError, "not both"),
    ],
    ids=[
        "port-range",
        "port-str",
        "host-slash",
        "host-crlf",
        "raw-path-query",
        "raw-path-relative",
        "query-hash",
        "query-lf",
        "scheme-space",
        "scheme-colon",
        "query-type",
        "unknown-part",
        "path-and-raw-path",
    ],
)
def test_url_copy_with_invalid_parts(
    parts: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        URL("http://a/").copy_with(**parts)


def test_url_relative_path_with_colon_in_first_segment_is_refused() -> None:
    with pytest.raises(InvalidURL, match=r"write '\./' before it"):
        URL("http://a/").copy_with(scheme="", host="", raw_path="a:b")


def test_url_relative_with_port_but_no_host_is_refused() -> None:
    with pytest.raises(InvalidURL, match="without a host"):
        URL("/x").copy_with(port=8080)


def test_url_path_starting_with_two_slashes_without_host_is_refused() -> None:
    with pytest.raises(InvalidURL, match="would read as a host"):
        URL("/x").copy_with(raw_path="//evil.example/")


# -- text, equality, hashing -----------------------------------------------------------


def test_url_equality_and_hash_use_normalised_text() -> None:
    a, b = URL("HTTP://A:80/x"), URL("http://a/x")
    assert a == b
    assert hash(a) == hash(b)
    assert a == "http://a/x"
    assert a != "http://a/y"
    assert a != "http://a:99999/"
    assert a != 1
    assert {a: 1}[b] == 1


def test_url_repr_masks_password() -> None:
    assert repr(URL("http://u:secret@a/")) == "URL('http://u:[secure]@a/')"
    assert repr(URL("http://a/")) == "URL('http://a/')"


def test_url_params_are_parsed_once() -> None:
    url = URL("http://a/?x=1&x=2&y")
    assert url.params.get_list("x") == ["1", "2"]
    assert url.params["y"] == ""
    assert url.params is url.params


# -- round trip ----------------------------------------------------------------------

_segment = st.text(max_size=8)
_hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.ip_addresses(v=4).map(str),
    st.sampled_from(["bücher.example", "ÉCOLE.fr", "例え.jp"]),
)


@given(
    scheme=st.sampled_from(["http", "https", "ws", "ftp", "x-custom+v1"]),
    userinfo=st.one_of(st.none(), st.text(max_size=6)),
    host=_hosts,
    port=st.one_of(st.none(), st.integers(0, 65535)),
    segments=st.lists(_segment, max_size=4),
    params=st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
    fragment=st.text(max_size=6),
)
def test_url_round_trips_through_text(
    scheme: str,
    userinfo: str | None,
    host: str,
    port: int | None,
    segments: list[str],
    params: list[tuple[str, str]],
    fragment: str,
) -> None:
    auth = f"{quote(userinfo, safe='')}@" if userinfo is not None else ""
    text = f"{scheme}://{auth}{host}" + (f":{port}" if port is not None else "")
    text += "/" + "/".join(quote(s, safe="") for s in segments)
    text += "?" + urlencode(params) + "#" + quote(fragment, safe="")
    url = URL(text)
    again = URL(str(url))
    assert again == url
    assert str(again) == str(url)
    assert url.path == "/" + "/".join(segments)
    assert url.params.multi_items() == params
    assert url.fragment == quote(fragment, safe="")


@given(st.text(max_size=40) | st.text(":/?#[]@%!.-+ ab1éA\\~=&;4F", max_size=40))
def test_url_any_text_is_refused_cleanly_or_round_trips(text: str) -> None:
    try:
        url = URL(text)
    except InvalidURL:
        return
    assert URL(str(url)) == url
    assert str(URL(str(url))) == str(url)


@given(st.text(max_size=30), st.text(max_size=30))
def test_url_join_never_fails_on_valid_relative_paths(base_path: str, ref_path: str) -> None:
    base = URL("http://h/").copy_with(path="/" + base_path)
    ref = URL("./" + quote(ref_path, safe="/"))
    joined = base.join(ref)
    assert joined.host == "h"
    assert "/./" not in joined.raw_path
    assert "/../" not in joined.raw_path


def test_url_copy_with_unbalanced_ipv6_brackets() -> None:
    with pytest.raises(InvalidURL, match="unbalanced brackets"):
        URL("http://a/").copy_with(host="::1]")


def test_url_copy_with_username_only() -> None:
    assert URL("http://a/").copy_with(username="me").userinfo == "me"
