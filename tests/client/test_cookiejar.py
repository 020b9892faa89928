"""The RFC 6265 cookie jar: storage and retrieval rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from transom.client.cookiejar import CookieJar, default_path, domain_match, path_match
from transom.http.url import URL


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


@pytest.mark.parametrize("suffix", ["com", "co.uk", "localhost"])
def test_cookiejar_rejects_public_suffix_domain(suffix: str) -> None:
    host = "shop." + suffix
    assert len(_jar_after(f"a=1; Domain={suffix}", f"http://{host}/")) == 0


def test_cookiejar_public_suffix_equal_to_host_is_host_only() -> None:
    jar = _jar_after("a=1; Domain=localhost", "http://localhost/")
    assert _sent(jar, "http://localhost/") == "a=1"


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
