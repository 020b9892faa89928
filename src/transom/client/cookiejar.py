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
  ``co.uk``, ``github.io``...) is refused, unless it is the request host
  itself, which then gets a host-only cookie (§5.3 step 5). The suffixes come
  from the Public Suffix List (https://publicsuffix.org/list/, both its ICANN
  and its private sections), shipped as ``public_suffix_list.dat`` beside this
  module and parsed on first need, not at import.
- The path defaults to the request path's directory (§5.1.4); Secure
  cookies are sent over https only and only set from https; Max-Age wins
  over Expires (§5.3 step 3); a Max-Age <= 0 or a past Expires deletes.

Client-supplied cookies (``Client(cookies={"a": "1"})``) have no domain and
go to every host.

``save(path)`` / ``load(path)`` keep the jar in a JSON file, or in the
Mozilla ``cookies.txt`` format (``save(path, format="mozilla")``).
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from transom.http.cookies import SetCookie
from transom.http.url import URL

__all__ = [
    "Cookie",
    "CookieJar",
    "domain_match",
    "is_public_suffix",
    "path_match",
    "public_suffix",
]


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


# --- the Public Suffix List ------------------------------------------------------------
class _SuffixRules:
    """The rules of the Public Suffix List, as A-label (ASCII) names.

    ``normal`` holds plain rules (``co.uk``), ``wildcard`` the base of each
    ``*.`` rule (``ck`` for ``*.ck``), ``exception`` each ``!`` rule without its
    ``!`` (``www.ck``).
    """

    __slots__ = ("exception", "normal", "wildcard")

    def __init__(self, text: str) -> None:
        normal: set[str] = set()
        wildcard: set[str] = set()
        exception: set[str] = set()
        for line in text.splitlines():
            # The list's format: one rule per line, up to the first whitespace;
            # "//" starts a comment line.
            rule = line.split(None, 1)[0] if line.strip() else ""
            if not rule or rule.startswith("//"):
                continue
            if rule.startswith("!"):
                exception.add(_ascii_name(rule[1:]))
            elif rule.startswith("*."):
                wildcard.add(_ascii_name(rule[2:]))
            else:
                normal.add(_ascii_name(rule))
        self.normal = frozenset(normal)
        self.wildcard = frozenset(wildcard)
        self.exception = frozenset(exception)

    def public_suffix(self, labels: list[str]) -> str:
        """The algorithm of publicsuffix.org/list for a name split into labels."""
        # An exception rule prevails over every other match; the suffix is the
        # exception minus its leftmost label (``!www.ck`` -> ``ck``).
        for i in range(len(labels)):
            if ".".join(labels[i:]) in self.exception:
                return ".".join(labels[i + 1 :])
        # Otherwise the matching rule with the most labels prevails: the
        # leftmost candidate that matches. ``*.ck`` matches one label + ``ck``.
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.normal or ".".join(labels[i + 1 :]) in self.wildcard:
                return candidate
        return labels[-1]  # no rule matches: the default rule is "*"


def _ascii_name(name: str) -> str:
    """A domain name in the form the list is matched on: lower case, A-labels (IDNA)."""
    name = name.lower()
    if name.isascii():
        return name
    # The stdlib IDNA codec encodes label by label; it agrees with the list's
    # own U-labels and with how ``URL`` encodes international hosts.
    return ".".join(
        label if label.isascii() else label.encode("idna").decode("ascii")
        for label in name.split(".")
    )


@functools.cache
def _suffix_rules() -> _SuffixRules:
    # Read on first need: parsing ~10,000 rules has no place in ``import transom``.
    data = resources.files(__package__).joinpath("public_suffix_list.dat")
    return _SuffixRules(data.read_text(encoding="utf-8"))


def public_suffix(domain: str) -> str:
    """The public suffix of ``domain`` per the Public Suffix List ("" for an empty name).

    International names are matched on their ASCII (A-label) form, which is
    what comes back; case and a trailing dot do not matter.

    >>> public_suffix("www.example.co.uk")
    'co.uk'
    >>> public_suffix("user.github.io")
    'github.io'
    """
    name = _lookup_name(domain)
    return _suffix_rules().public_suffix(name.split(".")) if name else ""


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is itself a public suffix (``co.uk``, ``github.io``, ``ck``...).

    >>> is_public_suffix("co.uk"), is_public_suffix("example.co.uk")
    (True, False)
    """
    name = _lookup_name(domain)
    if name is None:
        return True  # not a valid international name: never a cookie domain
    return _suffix_rules().public_suffix(name.split(".")) == name


def _lookup_name(domain: str) -> str | None:
    try:
        return _ascii_name(domain.rstrip("."))
    except UnicodeError:
        return None


def _cookie_domain(value: str) -> str | None:
    """The Domain attribute in canonical form (RFC 6265 §5.1.2): lower case,
    A-labels; None when it is no valid name."""
    if not value.isascii():
        # Header values arrive decoded as Latin-1; a server writing an IDN in
        # UTF-8 meant the UTF-8 reading.
        with contextlib.suppress(UnicodeError):  # else keep the Latin-1 reading
            value = value.encode("latin-1").decode("utf-8")
    try:
        return _ascii_name(value.lstrip("."))
    except UnicodeError:
        return None


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
    'theme=dark; sid=1'
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
        domain = _cookie_domain(parsed.domain or "")
        if domain is None:
            return  # a Domain that no host can have
        host_only = True
        if domain and is_public_suffix(domain):
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
