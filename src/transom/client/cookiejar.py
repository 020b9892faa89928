"""An RFC 6265 cookie jar for the client.

Theory of operation
-------------------
``extract`` applies the storage model of RFC 6265 §5.3 to each
``Set-Cookie`` of a response; ``cookie_header`` builds the ``Cookie`` header
for a request URL per §5.4. Cookies are keyed by (domain, path, name): a
newer cookie with the same key replaces the older one (§5.3 step 11).

- Without a Domain attribute a cookie is *host-only*: sent back to exactly
  that host. With one, it goes to the domain and its subdomains, and it is
  refused unless the request host domain-matches it (§5.1.3).
- IP-address hosts never domain-match anything but themselves, so their
  cookies are always host-only.
- Public suffixes: a Domain attribute naming a public suffix (``com``,
  ``co.uk``...) is refused, unless it is the request host itself, which then
  gets a host-only cookie (§5.3 step 5). The list here is a built-in short
  list of common suffixes plus every single-label name; it is not the full
  Public Suffix List, so rare suffixes (``github.io``-style private
  registries) are not recognised.
- The path defaults to the request path's directory (§5.1.4); Secure
  cookies are sent over https only and only set from https; Max-Age wins
  over Expires (§5.3 step 3); a Max-Age <= 0 or a past Expires deletes.

Client-supplied cookies (``Client(cookies={"a": "1"})``) have no domain and
go to every host.

``save(path)`` / ``load(path)`` keep the jar in a JSON file, or in the
Mozilla ``cookies.txt`` format (``save(path, format="mozilla")``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from transom.http.cookies import SetCookie
from transom.http.url import URL

__all__ = ["Cookie", "CookieJar", "domain_match", "path_match"]

# A short list of common public suffixes (see the module docstring for the limit).
_SUFFIX_TEXT = """
    com net org edu gov mil int info biz name pro mobi app dev io co ai me tv cc ly
    uk co.uk org.uk ac.uk gov.uk ltd.uk plc.uk net.uk me.uk sch.uk nhs.uk
    de fr it es nl be ch at se no dk fi pl cz pt ie ru ua eu us ca mx br ar cl
    com.br net.br org.br com.ar com.mx jp co.jp ne.jp or.jp ac.jp go.jp cn com.cn net.cn
    org.cn gov.cn edu.cn in co.in net.in org.in au com.au net.au org.au edu.au gov.au
    nz co.nz net.nz org.nz kr co.kr or.kr tw com.tw hk com.hk sg com.sg za co.za
    tr com.tr il co.il ir gr ro hu sk bg hr si lt lv ee is lu
"""
PUBLIC_SUFFIXES = frozenset(_SUFFIX_TEXT.split())


@dataclass(slots=True)
class Cookie:
    name: str
    value: str
    domain: str = ""  # "" : any host (set by the caller, not by a server)
    path: str = "/"
    host_only: bool = False
    secure: bool = False
    http_only: bool = False
    expires: float | None = None  # Unix time; None: a session cookie
    created: float = 0.0

    def expired(self, now: float) -> bool:
        return self.expires is not None and self.expires <= now


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 §5.1.3: ``host`` is ``domain`` or a subdomain of it (never for IPs)."""
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4: the directory of the request path."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rfind("/")]


def _is_public_suffix(domain: str) -> bool:
    return "." not in domain or domain in PUBLIC_SUFFIXES


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        from transom.http.dates import parse_http_date

        return parse_http_date(value)
    return float(value)


class CookieJar:
    """Cookies kept across requests. Thread-safe (a ``Client`` may be shared).

    >>> jar = CookieJar({"theme": "dark"})
    >>> jar.extract(["sid=1; Path=/; HttpOnly"], URL("https://example.org/login"))
    >>> jar.cookie_header(URL("https://example.org/notes"))
    'sid=1; theme=dark'
    """

    def __init__(self, cookies: CookieJar | Mapping[str, str] | None = None) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}
        self._lock = threading.Lock()
        if isinstance(cookies, CookieJar):
            for cookie in cookies:
                self._store(cookie)
        elif cookies:
            for name, value in cookies.items():
                self.set(name, value)

    # --- the mapping-like surface -----------------------------------------------------
    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        self._store(Cookie(name, value, domain.lower().lstrip("."), path, created=time.time()))

    def get(self, name: str, default: str | None = None, domain: str | None = None) -> str | None:
        for cookie in self:
            if cookie.name == name and (domain is None or cookie.domain == domain):
                return cookie.value
        return default

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        with self._lock:
            for key in [
                k
                for k in self._cookies
                if k[2] == name and domain in (None, k[0]) and path in (None, k[1])
            ]:
                del self._cookies[key]

    def clear(self) -> None:
        with self._lock:
            self._cookies.clear()

    def items(self) -> list[tuple[str, str]]:
        return [(c.name, c.value) for c in self]

    def __iter__(self) -> Iterator[Cookie]:
        with self._lock:
            return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        return len(self._cookies)

    def __bool__(self) -> bool:
        return bool(self._cookies)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __repr__(self) -> str:
        names = [f"{c.name}@{c.domain or '*'}{c.path}" for c in self]
        return f"<CookieJar {names}>"

    def _store(self, cookie: Cookie) -> None:
        with self._lock:
            key = (cookie.domain, cookie.path, cookie.name)
            old = self._cookies.get(key)
            if old is not None:  # RFC 6265 §5.3 step 11.3: keep the creation time
                cookie.created = old.created
            self._cookies[key] = cookie

    # --- RFC 6265 §5.3: storing -------------------------------------------------------
    def extract(self, set_cookie_values: list[str], url: URL) -> None:
        """Store the cookies of these ``Set-Cookie`` values, received from ``url``."""
        for value in set_cookie_values:
            self._extract_one(value, url)

    def _extract_one(self, header: str, url: URL) -> None:
        try:
            parsed = SetCookie.parse(header)
        except ValueError:
            return  # §5.2: a malformed Set-Cookie is ignored
        host = (url.host or "").lower()
        now = time.time()
        if parsed.max_age is not None:
            expires: float | None = now + parsed.max_age if parsed.max_age > 0 else 0.0
        else:
            expires = _timestamp(parsed.expires)
        domain = (parsed.domain or "").lower().lstrip(".")
        host_only = True
        if domain and _is_public_suffix(domain):
            if domain != host:
                return  # §5.3 step 5: no cookies for a whole public suffix
            domain = ""  # ... unless it is the host itself: then host-only
        if domain:
            if not domain_match(host, domain):
                return  # §5.3 step 6: the server may not set cookies for other sites
            host_only = False
        else:
            domain = host
        path = parsed.path if parsed.path and parsed.path.startswith("/") else None
        if parsed.secure and url.scheme != "https":
            return  # RFC 6265bis §5.7 step 8: Secure cookies only come over https
        cookie = Cookie(
            parsed.name,
            parsed.value,
            domain,
            path or default_path(url.raw_path or "/"),
            host_only,
            bool(parsed.secure),
            bool(parsed.httponly),
            expires,
            now,
        )
        if cookie.expired(now):
            self.delete(cookie.name, cookie.domain, cookie.path)
            return
        self._store(cookie)

    # --- RFC 6265 §5.4: sending -------------------------------------------------------
    def cookie_header(self, url: URL) -> str | None:
        """The ``Cookie`` header value for a request to ``url`` (None: no cookies)."""
        host = (url.host or "").lower()
        path = url.raw_path or "/"
        secure = url.scheme in ("https", "wss")
        now = time.time()
        chosen: list[Cookie] = []
        expired: list[Cookie] = []
        for cookie in self:
            if cookie.expired(now):
                expired.append(cookie)
                continue
            if cookie.domain:
                if cookie.host_only and host != cookie.domain:
                    continue
                if not cookie.host_only and not domain_match(host, cookie.domain):
                    continue
            if not path_match(path, cookie.path) or (cookie.secure and not secure):
                continue
            chosen.append(cookie)
        for cookie in expired:
            self.delete(cookie.name, cookie.domain, cookie.path)
        if not chosen:
            return None
        # §5.4 step 2: longer paths first, then older cookies first.
        chosen.sort(key=lambda c: (-len(c.path), c.created))
        return "; ".join(f"{c.name}={c.value}" for c in chosen)

    # --- persistence ------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, format: str = "json") -> None:
        """Write the cookies to a file (mode 0600): ``format="json"`` or ``"mozilla"``
        (the ``cookies.txt`` format curl and browsers' exporters use)."""
        if format == "json":
            text = json.dumps({"cookies": [asdict(c) for c in self]}, indent=1)
        elif format == "mozilla":
            text = _MOZILLA_HEADER + "".join(_mozilla_line(c) for c in self)
        else:
            raise ValueError(f"unknown cookie file format {format!r}: use 'json' or 'mozilla'")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Add the cookies of a JSON or Mozilla ``cookies.txt`` file (expired ones are skipped)."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.lstrip().startswith("{"):
            cookies = [Cookie(**entry) for entry in json.loads(text).get("cookies", [])]
        else:
            cookies = [c for line in text.splitlines() if (c := _parse_mozilla(line))]
        now = time.time()
        for cookie in cookies:
            if not cookie.expired(now):
                self._store(cookie)


_MOZILLA_HEADER = "# Netscape HTTP Cookie File\n"
_HTTPONLY_PREFIX = "#HttpOnly_"


def _mozilla_line(cookie: Cookie) -> str:
    # domain, include-subdomains, path, secure, expiry (0: session), name, value
    domain = cookie.domain if cookie.host_only else "." + cookie.domain
    prefix = _HTTPONLY_PREFIX if cookie.http_only else ""
    fields = [
        prefix + domain,
        "FALSE" if cookie.host_only else "TRUE",
        cookie.path,
        "TRUE" if cookie.secure else "FALSE",
        str(int(cookie.expires)) if cookie.expires is not None else "0",
        cookie.name,
        cookie.value,
    ]
    return "\t".join(fields) + "\n"


def _parse_mozilla(line: str) -> Cookie | None:
    http_only = line.startswith(_HTTPONLY_PREFIX)
    if http_only:
        line = line[len(_HTTPONLY_PREFIX) :]
    fields = line.rstrip("\n").split("\t")
    if line.startswith("#") or len(fields) != 7:
        return None  # a comment, a blank or a malformed line
    domain, subdomains, path, secure, expires, name, value = fields
    return Cookie(
        name,
        value,
        domain.lstrip(".").lower(),
        path or "/",
        host_only=subdomains.upper() != "TRUE",
        secure=secure.upper() == "TRUE",
        http_only=http_only,
        expires=float(expires) if expires.isdigit() and expires != "0" else None,
        created=time.time(),
    )
