"""The RFC 6265 cookie jar: storage and retrieval rules."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from transom.client import AsyncClient
from transom.client.cookiejar import (
    CookieJar,
    default_path,
    domain_match,
    is_public_suffix,
    path_match,
    public_suffix,
)
from transom.http.url import URL

from .servers import RawServer, read_head


def _jar_after(set_cookie: str, url: str) -> CookieJar:
    jar = CookieJar()
    jar.extract([set_cookie], URL(url))
    return jar


def _sent(jar: CookieJar, url: str) -> str | None:
    return jar.cookie_header(URL(url))


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("192.168.0.1", "168.0.1", False),
        ("192.168.0.1", "192.168.0.1", True),
    ],
)
def test_cookiejar_domain_match(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        ("/a/b", "/a", True),
        ("/a/b", "/a/", True),
        ("/a", "/a", True),
        ("/ab", "/a", False),
        ("/", "/a", False),
    ],
)
def test_cookiejar_path_match(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("path", "expected"), [("/", "/"), ("/a", "/"), ("/a/b", "/a"), ("/a/b/", "/a/b"), ("", "/")]
)
def test_cookiejar_default_path(path: str, expected: str) -> None:
    assert default_path(path) == expected


def test_cookiejar_host_only_cookie_not_sent_to_subdomain() -> None:
    jar = _jar_after("a=1", "http://example.com/")
    assert _sent(jar, "http://example.com/") == "a=1"
    assert _sent(jar, "http://www.example.com/") is None


def test_cookiejar_domain_cookie_sent_to_subdomains() -> None:
    jar = _jar_after("a=1; Domain=.example.com", "http://www.example.com/")
    assert _sent(jar, "http://example.com/") == "a=1"
    assert _sent(jar, "http://deep.www.example.com/") == "a=1"
    assert _sent(jar, "http://example.org/") is None


def test_cookiejar_rejects_domain_not_matching_host() -> None:
    assert len(_jar_after("a=1; Domain=other.com", "http://example.com/")) == 0


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("www.example.co.uk", "co.uk"),
        ("co.uk", "co.uk"),
        ("user.github.io", "github.io"),  # the list's private section
        ("localhost", "localhost"),  # no rule matches: the default rule "*"
        ("a.b.unlisted-tld", "unlisted-tld"),
        ("shop.foo.ck", "foo.ck"),  # *.ck
        ("ck", "ck"),
        ("www.ck", "ck"),  # !www.ck: the exception is registrable
        ("deep.www.ck", "ck"),
        ("city.kobe.jp", "kobe.jp"),  # !city.kobe.jp beside *.kobe.jp
        ("ward.kobe.jp", "ward.kobe.jp"),
        ("example.公司.cn", "xn--55qx5d.cn"),  # IDN rule, matched as A-labels
        ("example.xn--55qx5d.cn", "xn--55qx5d.cn"),
        ("WWW.Example.CO.UK.", "co.uk"),  # case and a trailing dot do not matter
        ("", ""),
    ],
)
def test_cookiejar_public_suffix(name: str, suffix: str) -> None:
    assert public_suffix(name) == suffix


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("com", True),
        ("co.uk", True),
        ("example.co.uk", False),
        ("github.io", True),
        ("user.github.io", False),
        ("foo.ck", True),
        ("www.ck", False),
        ("公司.cn", True),
        ("xn--55qx5d.cn", True),
        ("例子.公司.cn", False),
        ("bad\udcffname", True),  # no valid name: never a cookie domain
    ],
)
def test_cookiejar_is_public_suffix(name: str, expected: bool) -> None:
    assert is_public_suffix(name) is expected


@pytest.mark.parametrize(
    ("domain", "host"),
    [
        ("com", "shop.com"),
        ("co.uk", "shop.co.uk"),
        ("github.io", "user.github.io"),
        ("localhost", "shop.localhost"),
        ("foo.ck", "shop.foo.ck"),
        ("ward.kobe.jp", "www.ward.kobe.jp"),  # *.kobe.jp
        ("公司.cn", "example.xn--55qx5d.cn"),
        ("xn--55qx5d.cn", "example.xn--55qx5d.cn"),
    ],
)
def test_cookiejar_rejects_public_suffix_domain(domain: str, host: str) -> None:
    assert len(_jar_after(f"a=1; Domain={domain}", f"http://{host}/")) == 0


@pytest.mark.parametrize(
    ("domain", "host", "sibling"),
    [
        ("example.co.uk", "shop.example.co.uk", "www.example.co.uk"),
        ("www.ck", "www.ck", "a.www.ck"),
        ("city.kobe.jp", "www.city.kobe.jp", "mail.city.kobe.jp"),
        ("例子.公司.cn", "www.例子.公司.cn", "mail.例子.公司.cn"),
    ],
)
def test_cookiejar_accepts_registrable_domain(domain: str, host: str, sibling: str) -> None:
    jar = _jar_after(f"a=1; Domain={domain}", f"http://{host}/")
    assert _sent(jar, f"http://{sibling}/") == "a=1"


def test_cookiejar_suffix_list_read_on_first_need() -> None:
    code = (
        "import transom.client, transom.client.cookiejar as cj\n"
        "assert cj._suffix_rules.cache_info().currsize == 0, 'parsed at import'\n"
        "cj.CookieJar().extract(['a=1; Domain=example.co.uk'], cj.URL('http://example.co.uk/'))\n"
        "assert cj._suffix_rules.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cookiejar_idn_domain_in_utf8_header() -> None:
    # Header values reach the jar decoded as Latin-1; the UTF-8 bytes of an IDN
    # Domain are read back as UTF-8.
    header = "a=1; Domain=例子.公司.cn".encode().decode("latin-1")
    jar = _jar_after(header, "http://www.xn--fsqu00a.xn--55qx5d.cn/")
    assert [c.domain for c in jar] == ["xn--fsqu00a.xn--55qx5d.cn"]


@pytest.mark.parametrize("host", ["localhost", "github.io", "co.uk", "foo.ck", "xn--55qx5d.cn"])
def test_cookiejar_public_suffix_equal_to_host_is_host_only(host: str) -> None:
    jar = _jar_after(f"a=1; Domain={host}", f"http://{host}/")
    assert _sent(jar, f"http://{host}/") == "a=1"
    assert _sent(jar, f"http://sub.{host}/") is None
    assert [c.host_only for c in jar] == [True]


def test_cookiejar_host_only_cookie_under_public_suffix() -> None:
    jar = _jar_after("a=1", "http://user.github.io/")
    assert _sent(jar, "http://user.github.io/") == "a=1"
    assert _sent(jar, "http://other.github.io/") is None


def test_cookiejar_ip_host_cookie_is_host_only() -> None:
    jar = _jar_after("a=1", "http://127.0.0.1:8000/")
    assert _sent(jar, "http://127.0.0.1:9000/") == "a=1"  # ports are not isolated (§8.5)
    assert _sent(jar, "http://localhost:8000/") is None


def test_cookiejar_path_scoping() -> None:
    jar = _jar_after("a=1; Path=/api", "http://example.com/")
    jar.extract(["b=2"], URL("http://example.com/api/v1/items"))  # default path /api/v1
    assert _sent(jar, "http://example.com/api/v1/x") == "b=2; a=1"  # longest path first
    assert _sent(jar, "http://example.com/api") == "a=1"
    assert _sent(jar, "http://example.com/other") is None


def test_cookiejar_secure_cookie_only_over_https() -> None:
    jar = _jar_after("a=1; Secure", "https://example.com/")
    assert _sent(jar, "https://example.com/") == "a=1"
    assert _sent(jar, "http://example.com/") is None


def test_cookiejar_secure_cookie_not_set_over_http() -> None:
    assert len(_jar_after("a=1; Secure", "http://example.com/")) == 0


@pytest.mark.parametrize(
    "attributes",
    ["Max-Age=0", "Max-Age=-1", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
    ids=["max-age-0", "max-age-negative", "past-expires"],
)
def test_cookiejar_deletes_cookie(attributes: str) -> None:
    jar = _jar_after("a=1", "http://example.com/")
    jar.extract([f"a=gone; {attributes}"], URL("http://example.com/"))
    assert _sent(jar, "http://example.com/") is None
    assert len(jar) == 0


def test_cookiejar_max_age_wins_over_expires() -> None:
    jar = _jar_after(
        "a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://example.com/"
    )
    assert _sent(jar, "http://example.com/") == "a=1"


def test_cookiejar_expired_cookie_not_sent() -> None:
    jar = _jar_after("a=1; Max-Age=1", "http://example.com/")
    for cookie in jar:
        cookie.expires = time.time() - 1
    assert _sent(jar, "http://example.com/") is None


def test_cookiejar_replaces_same_name_domain_path() -> None:
    jar = _jar_after("a=1", "http://example.com/")
    jar.extract(["a=2"], URL("http://example.com/"))
    assert _sent(jar, "http://example.com/") == "a=2"
    assert len(jar) == 1


def test_cookiejar_ignores_malformed_set_cookie() -> None:
    assert len(_jar_after("=novalue", "http://example.com/")) == 0


def test_cookiejar_client_cookies_go_everywhere() -> None:
    jar = CookieJar({"theme": "dark"})
    assert _sent(jar, "http://anything.test/deep/path") == "theme=dark"
    assert jar["theme"] == "dark"


def test_cookiejar_save_and_load(tmp_path: Path) -> None:
    jar = _jar_after("a=1; Max-Age=3600; Domain=example.com", "https://example.com/")
    jar.extract(["gone=1; Max-Age=1"], URL("https://example.com/"))
    path = tmp_path / "cookies.json"
    jar.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    for cookie in jar:
        if cookie.name == "gone":
            cookie.expires = time.time() - 1
    jar.save(path)
    loaded = CookieJar()
    loaded.load(path)
    assert _sent(loaded, "https://www.example.com/") == "a=1"


def test_cookiejar_mozilla_round_trip(tmp_path: Path) -> None:
    jar = _jar_after("a=1; Max-Age=3600; Domain=example.com; HttpOnly", "https://example.com/")
    jar.extract(["host=2; Secure"], URL("https://shop.example.com/cart/x"))
    path = tmp_path / "cookies.txt"
    jar.save(path, format="mozilla")
    text = path.read_text()
    assert text.startswith("# Netscape HTTP Cookie File\n")
    assert "#HttpOnly_.example.com\tTRUE\t/\tFALSE\t" in text
    assert "shop.example.com\tFALSE\t/cart\tTRUE\t0\thost\t2\n" in text
    loaded = CookieJar()
    loaded.load(path)
    assert _sent(loaded, "https://www.example.com/") == "a=1"
    assert _sent(loaded, "https://shop.example.com/cart/y") == "host=2; a=1"
    assert _sent(loaded, "https://other.example.com/cart/y") == "a=1"


def test_cookiejar_loads_curl_style_file(tmp_path: Path) -> None:
    path = tmp_path / "curl.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n\n"
        "example.org\tFALSE\t/\tFALSE\t0\tsid\tabc\n"
        "broken line\n"
        ".example.org\tTRUE\t/\tFALSE\t1\told\tgone\n"
    )
    jar = CookieJar()
    jar.load(path)
    assert _sent(jar, "http://example.org/") == "sid=abc"


async def test_cookiejar_public_suffix_rules_end_to_end() -> None:
    """A real server sets cookies for several sites; the client's jar keeps only the
    allowed ones. The server is reached as the client's HTTP proxy, so requests for
    any host name (absolute-form targets, RFC 9112 §3.2.2) land on 127.0.0.1."""
    seen: list[tuple[bytes, bytes]] = []  # (target, Cookie header) per request

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            lines = (await read_head(reader)).split(b"\r\n")
            target = lines[0].split(b" ")[1]
            cookie = b"".join(
                v for k, _, v in (h.partition(b": ") for h in lines) if k == b"cookie"
            )
            seen.append((target, cookie))
            params = URL(target.decode("ascii")).params
            head = [b"HTTP/1.1 200 OK", b"Content-Length: 0"]
            head += [b"Set-Cookie: " + v.encode() for v in params.get_list("set")]
            writer.write(b"\r\n".join(head) + b"\r\n\r\n")
            await writer.drain()

    server = RawServer(origin)
    set_cookies = {
        "http://user.github.io/": ["wide=1; Domain=github.io", "mine=2"],
        "http://github.io/": ["root=3; Domain=github.io"],
        "http://shop.example.co.uk/": ["uk=4; Domain=co.uk", "site=5; Domain=example.co.uk"],
        "http://a.foo.ck/": ["ck=6; Domain=foo.ck"],
        "http://a.www.ck/": ["www=7; Domain=www.ck"],
    }
    try:
        async with AsyncClient(proxy=server.url) as client:
            for url, values in set_cookies.items():
                await client.get(url, params=[("set", v) for v in values])
            for url in [
                "http://user.github.io/",
                "http://other.github.io/",
                "http://github.io/",
                "http://www.example.co.uk/",
                "http://b.foo.ck/",
                "http://www.ck/",
            ]:
                await client.get(url)
            stored = sorted((c.name, c.domain, c.host_only) for c in client.cookies)
    finally:
        server.stop()
    assert stored == [
        ("mine", "user.github.io", True),
        ("root", "github.io", True),
        ("site", "example.co.uk", False),
        ("www", "www.ck", False),
    ]
    assert [cookie for _, cookie in seen[len(set_cookies) :]] == [
        b"mine=2",
        b"",
        b"root=3",
        b"site=5",
        b"",
        b"www=7",
    ]
