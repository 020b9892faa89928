"""URLs (RFC 3986) for the framework and the client; query strings are in ``query.py``.

Theory of operation
-------------------
``URL(text)`` splits the text with the RFC 3986 Appendix B expression into
scheme, authority, path, query and fragment, then checks and normalises each
part on its own (``URL._set``); ``copy_with`` and ``join`` go through the
same ``_set``, so every ``URL`` in the program obeys the same rules:

- control characters (CR, LF, NUL, the rest of C0 and DEL) anywhere are an
  error, never silently dropped: they are how request smuggling and header
  injection through URLs start;
- the scheme and the host are lower-cased (RFC 3986 §6.2.2.1); a non-ASCII
  host is IDNA-encoded; an IPv6 literal must be valid and sits in brackets;
- the port must be 0-65535 and is dropped when it is the scheme's default
  (RFC 3986 §6.2.3), so ``http://a:80/`` equals ``http://a/``;
- the path, query, fragment and userinfo keep the escapes they came with,
  and only characters that cannot appear in a URL (space, non-ASCII, ``"``,
  ``<``, ``>``, backquote, braces, backslash, a ``%`` not followed by two hex
  digits) are percent-encoded, so a well-formed URL comes out as it went in.

``path`` is decoded, ``raw_path`` is as sent (percent-encoded, without the
query); ``query`` and ``fragment`` are raw text, and ``params`` parses the
query. An empty query or fragment is the same as none (``"?"`` is dropped).

A backslash in the authority is refused (browsers read it as ``/``). When
a URL from a user decides where to send someone (a ``next=`` redirect),
check ``url.scheme``/``url.host`` and send ``str(url)``, never the raw text.

>>> url = URL("HTTPS://user:pw@Bücher.example:443/a%20b/../c?q=1+2#top")
>>> str(url), url.host, url.port, url.path, url.params["q"]
('https://user:pw@xn--bcher-kva.example/a%20b/../c?q=1+2#top', 'xn--bcher-kva.example', None, \
'/a b/../c', '1 2')
>>> str(url.join("../d?x"))
'https://user:pw@xn--bcher-kva.example/d?x'
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import quote as _std_quote

from transom.exceptions import InvalidURL
from transom.http.query import QueryParams, QueryParamsInput, quote, unquote, urlencode

__all__ = [
    "DEFAULT_PORTS",
    "MAX_URL_LENGTH",
    "URL",
    "QueryParams",
    "QueryParamsInput",
    "quote",
    "unquote",
    "urlencode",
]

#: Ports a scheme implies (RFC 9110 §4.2, RFC 6455 §3); an explicit default port is dropped.
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
#: Longer input is refused outright (browsers and servers stop well before this).
MAX_URL_LENGTH = 65536

# RFC 3986 Appendix B, anchored; every string matches, so the parts are checked afterwards.
_SPLIT = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What may not stay as it is in a path, query, fragment or userinfo (see the module docstring).
_UNSAFE = re.compile(r'[^\x21-\x7e]|["<>`{}\\]|%(?![0-9A-Fa-f]{2})')
# RFC 3986 §3.2.2 reg-name after lower-casing and IDNA: unreserved / sub-delims.
_REG_NAME = re.compile(r"[a-z0-9\-._~!$&'()*+,;=]*")
_SPECIAL = frozenset(DEFAULT_PORTS)


def _escape_unsafe(text: str) -> str:
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: _std_quote(m.group(), safe=""), text)


# -- the authority ----------------------------------------------------------------


def _normalise_host(host: str) -> str:
    """Lower-case, IDNA-encode and check a host; IPv6 comes back bare (no brackets)."""
    if host.startswith("[") or ":" in host:
        literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if host.startswith("[") != host.endswith("]"):
            raise InvalidURL(f"invalid IPv6 host {host!r}: unbalanced brackets")
        try:
            return _format_ipv6(ipaddress.IPv6Address(literal))
        except ValueError:
            raise InvalidURL(f"invalid IPv6 host {host!r}") from None
    host = host.lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidURL(f"invalid international host {host!r}: {exc}") from None
    if _REG_NAME.fullmatch(host) is None:
        raise InvalidURL(
            f"invalid host {host!r}: a host may hold letters, digits and -._~!$&'()*+,;= only"
        )
    return host


def _format_ipv6(address: ipaddress.IPv6Address) -> str:
    """RFC 5952 text: lower-case hex, no leading zeros, the first longest run of two or more
    zero groups as ``::``, and an IPv4-mapped address with its dotted quad (§5):
    ``::ffff:1.2.3.4``. Written here because ``str()`` of ``ipaddress`` differs between
    Python versions (3.13 writes mapped addresses in dotted form, 3.11 and 3.12 in hex).
    A zone (``%25eth0`` in a URL, RFC 6874) is kept as written.
    """
    mapped = address.ipv4_mapped
    if mapped is not None:
        text = f"::ffff:{mapped}"
    else:
        value = int(address)
        groups = [(value >> shift) & 0xFFFF for shift in range(112, -16, -16)]
        best_start, best_length, start = -1, 1, -1
        for index, group in enumerate([*groups, 1]):  # the sentinel ends a final run
            if group == 0:
                if start == -1:
                    start = index
            elif start != -1:
                if index - start > best_length:
                    best_start, best_length = start, index - start
                start = -1
        hexes = [f"{group:x}" for group in groups]
        if best_start == -1:
            text = ":".join(hexes)
        else:
            head = ":".join(hexes[:best_start])
            tail = ":".join(hexes[best_start + best_length :])
            text = f"{head}::{tail}"
    scope = address.scope_id
    return text if scope is None else f"{text}%{scope}"


def _parse_port(text: str) -> int | None:
    if text == "":
        return None  # RFC 3986 §3.2.3: an empty port is the same as none
    if not text.isdigit() or not text.isascii():
        raise InvalidURL(f"invalid port {text!r}: a port is a number 0-65535")
    port = int(text)
    if port > 65535:
        raise InvalidURL(f"invalid port {port}: a port is a number 0-65535")
    return port


def _split_authority(authority: str) -> tuple[str, str, int | None]:
    if "\\" in authority:
        # WHATWG URL parsers read `\` as `/` in http(s) URLs, so `http://evil\@good/`
        # goes to `evil` in a browser but has host `good` by RFC 3986: refuse it.
        raise InvalidURL(f"backslash in the authority {authority!r} (browsers read it as '/')")
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        userinfo = ""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            raise InvalidURL(f"invalid IPv6 host in {authority!r}: missing ']'")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidURL(f"invalid authority {authority!r}: junk after the IPv6 host")
        return userinfo, host, _parse_port(rest[1:]) if rest else None
    host, colon, port = hostport.rpartition(":")
    if not colon:
        return userinfo, hostport, None
    return userinfo, host, _parse_port(port)


# -- RFC 3986 §5.2 -----------------------------------------------------------------


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, on whole segments: ``/a/b/../c/./d`` -> ``/a/c/d``."""
    if "." not in path:
        return path
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            # Never pop the empty first segment of an absolute path (`/..` -> `/`).
            if len(out) > 1 or (out and out[0] != ""):
                out.pop()
        elif segment != ".":
            out.append(segment)
    if path.endswith(("/.", "/..")) or path in (".", ".."):
        out.append("")
    return "/".join(out)


def _merge(base: URL, ref_path: str) -> str:
    """RFC 3986 §5.2.3."""
    if base._has_authority and base._raw_path == "":
        return "/" + ref_path
    return base._raw_path[: base._raw_path.rfind("/") + 1] + ref_path


class URL:
    """An absolute URL or a relative reference, parsed, checked and normalised.

    ``URL(text)`` raises ``InvalidURL`` (a ``ValueError``) saying what is
    wrong. URLs are immutable, hashable and compare by their normalised text.
    """

    __slots__ = (
        "_fragment",
        "_has_authority",
        "_host",
        "_params",
        "_port",
        "_query",
        "_raw_path",
        "_scheme",
        "_text",
        "_userinfo",
    )

    def __init__(self, url: str | URL = "") -> None:
        if isinstance(url, URL):
            self._copy_from(url)
            return
        if not isinstance(url, str):
            raise TypeError(f"URL() takes a str or a URL, not {type(url).__name__}")
        if len(url) > MAX_URL_LENGTH:
            raise InvalidURL(f"URL is {len(url)} characters long; the limit is {MAX_URL_LENGTH}")
        bad = _CONTROL.search(url)
        if bad is not None:
            raise InvalidURL(
                f"URL contains the control character {bad.group()!r} at position {bad.start()}; "
                "percent-encode it (CR, LF and NUL are never allowed)"
            )
        match = _SPLIT.fullmatch(url.strip(" "))
        assert match is not None  # the expression matches every string
        scheme, authority, path, query, fragment = match.groups()
        if authority is None:
            userinfo, host, port = "", "", None
        else:
            userinfo, host, port = _split_authority(authority)
        self._set(scheme or "", userinfo, host, port, authority is not None, path, query, fragment)

    def _copy_from(self, other: URL) -> None:
        for name in URL.__slots__:
            setattr(self, name, getattr(other, name))

    def _set(
        self,
        scheme: str,
        userinfo: str,
        host: str,
        port: int | None,
        has_authority: bool,
        raw_path: str,
        query: str | None,
        fragment: str | None,
    ) -> None:
        if scheme and _SCHEME.fullmatch(scheme) is None:
            raise InvalidURL(
                f"invalid scheme {scheme!r}: a scheme is a letter followed by letters, "
                "digits, '+', '-' or '.'"
            )
        scheme = scheme.lower()
        if has_authority:
            host = _normalise_host(host)
            if not host and scheme in _SPECIAL:
                raise InvalidURL(f"a {scheme}:// URL needs a host")
            if raw_path and not raw_path.startswith("/"):
                raise InvalidURL(f"path {raw_path!r} must start with '/' after a host")
            if not raw_path and scheme in _SPECIAL:
                raw_path = "/"  # RFC 3986 §6.2.3
        elif host or userinfo or port is not None:
            raise InvalidURL("a URL without a host cannot have userinfo or a port")
        elif raw_path.startswith("//"):
            raise InvalidURL(f"path {raw_path!r} without a host would read as a host")
        elif not scheme and ":" in raw_path.partition("/")[0]:
            raise InvalidURL(
                f"relative path {raw_path!r} has ':' in its first segment, which reads as a "
                "scheme (RFC 3986 §4.2); write './' before it"
            )
        if port is not None and port == DEFAULT_PORTS.get(scheme):
            port = None
        self._scheme = scheme
        self._userinfo = _escape_unsafe(userinfo).replace("@", "%40")
        self._host = host
        self._port = port
        self._has_authority = has_authority
        self._raw_path = _escape_unsafe(raw_path)
        self._query = _escape_unsafe(query) if query else ""
        self._fragment = _escape_unsafe(fragment) if fragment else ""
        self._params: QueryParams | None = None
        self._text: str | None = None

    # -- parts ---------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """Lower-cased; ``""`` for a relative reference."""
        return self._scheme

    @property
    def userinfo(self) -> str:
        """``user:password`` as written (percent-encoded); ``""`` when there is none."""
        return self._userinfo

    @property
    def username(self) -> str:
        """The decoded user name of the userinfo."""
        return unquote(self._userinfo.partition(":")[0])

    @property
    def password(self) -> str | None:
        """The decoded password of the userinfo, or None when there is no ``:``."""
        _, colon, password = self._userinfo.partition(":")
        return unquote(password) if colon else None

    @property
    def host(self) -> str:
        """Lower-cased, IDNA-encoded; an IPv6 address without brackets; ``""`` if none."""
        return self._host

    @property
    def port(self) -> int | None:
        """The explicit port, or None when absent or equal to the scheme's default."""
        return self._port

    @property
    def effective_port(self) -> int | None:
        """The port to connect to: the explicit one or the scheme's default."""
        return self._port if self._port is not None else DEFAULT_PORTS.get(self._scheme)

    @property
    def netloc(self) -> str:
        """``host[:port]``, IPv6 in brackets, no userinfo: the value of a ``Host`` header."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return host if self._port is None else f"{host}:{self._port}"

    @property
    def authority(self) -> str:
        """``[userinfo@]host[:port]``."""
        return f"{self._userinfo}@{self.netloc}" if self._userinfo else self.netloc

    @property
    def path(self) -> str:
        """The decoded path (``%2F`` becomes ``/``: route on ``raw_path`` to tell them apart)."""
        return unquote(self._raw_path)

    @property
    def raw_path(self) -> str:
        """The path as sent, percent-encoded, without the query."""
        return self._raw_path

    @property
    def query(self) -> str:
        """The raw query string without ``?`` (``""`` when none)."""
        return self._query

    @property
    def target(self) -> str:
        """``raw_path[?query]``: the request target of an origin-form request line."""
        path = self._raw_path or "/"
        return f"{path}?{self._query}" if self._query else path

    @property
    def fragment(self) -> str:
        """The raw fragment without ``#`` (``""`` when none)."""
        return self._fragment

    @property
    def params(self) -> QueryParams:
        """The query parsed into ``QueryParams``."""
        if self._params is None:
            self._params = QueryParams(self._query)
        return self._params

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` (RFC 6454), or ``"null"`` without a scheme and a host."""
        if not self._scheme or not self._host:
            return "null"
        return f"{self._scheme}://{self.netloc}"

    @property
    def is_absolute(self) -> bool:
        """True when the URL has a scheme (it is not a relative reference)."""
        return bool(self._scheme)

    # -- deriving ------------------------------------------------------------

    def join(self, ref: str | URL) -> URL:
        """Resolve a reference against this URL (RFC 3986 §5.2.2, strict).

        >>> str(URL("http://a/b/c/d;p?q").join("../g"))
        'http://a/b/g'
        """
        r = ref if isinstance(ref, URL) else URL(ref)
        if r._scheme:
            base: URL = r
            path, query = _remove_dot_segments(r._raw_path), r._query
        elif r._has_authority:
            base, path, query = r, _remove_dot_segments(r._raw_path), r._query
        else:
            base = self
            if r._raw_path == "":
                path, query = self._raw_path, r._query or self._query
            elif r._raw_path.startswith("/"):
                path, query = _remove_dot_segments(r._raw_path), r._query
            else:
                path, query = _remove_dot_segments(_merge(self, r._raw_path)), r._query
        joined = URL.__new__(URL)
        joined._set(
            r._scheme or self._scheme,
            base._userinfo,
            base._host,
            base._port,
            base._has_authority,
            path,
            query,
            r._fragment,
        )
        return joined

    def copy_with(self, **parts: Any) -> URL:
        """A new URL with some parts replaced, each checked as ``URL()`` checks it.

        Parts: ``scheme``, ``userinfo``, ``username``, ``password``, ``host``,
        ``port``, ``path`` (decoded; encoded here), ``raw_path``, ``query``,
        ``params`` (anything ``QueryParams()`` takes), ``fragment``.

        >>> str(URL("http://a/x?y=1").copy_with(path="/b c", params={"q": "1"}))
        'http://a/b%20c?q=1'
        """
        unknown = set(parts) - _COPY_PARTS
        if unknown:
            raise TypeError(f"copy_with() got unknown parts {sorted(unknown)}")
        values = {name: getattr(self, "_" + name) for name in _STORED_PARTS}
        if "path" in parts and "raw_path" in parts:
            raise TypeError("copy_with() takes path= or raw_path=, not both")
        if "path" in parts:
            values["raw_path"] = quote(parts.pop("path"), safe="/:@!$&'()*+,;=")
        if "params" in parts:
            values["query"] = str(QueryParams(parts.pop("params")))
        if "username" in parts or "password" in parts:
            user = parts.pop("username", self.username)
            password = parts.pop("password", self.password)
            values["userinfo"] = quote(user, safe="!$&'()*+,;=")
            if password is not None:
                values["userinfo"] += ":" + quote(password, safe="!$&'()*+,;=:")
        values.update(parts)
        _check_delimiters(values)
        if "host" in parts:
            values["has_authority"] = bool(parts["host"])
        port = values["port"]
        if port is not None and (not isinstance(port, int) or not 0 <= port <= 65535):
            raise InvalidURL(f"invalid port {port!r}: a port is a number 0-65535")
        url = URL.__new__(URL)
        url._set(
            values["scheme"],
            values["userinfo"],
            values["host"],
            port,
            values["has_authority"],
            values["raw_path"],
            values["query"],
            values["fragment"],
        )
        return url

    @classmethod
    def build(cls, **parts: Any) -> URL:
        """A URL from parts, as ``URL("").copy_with(**parts)``.

        >>> str(URL.build(scheme="https", host="example.com", path="/a"))
        'https://example.com/a'
        """
        return cls("").copy_with(**parts)

    # -- text and comparison -------------------------------------------------

    def __str__(self) -> str:
        if self._text is None:
            parts = [f"{self._scheme}:" if self._scheme else ""]
            if self._has_authority:
                parts.append("//" + self.authority)
            parts.append(self._raw_path)
            if self._query:
                parts.append("?" + self._query)
            if self._fragment:
                parts.append("#" + self._fragment)
            self._text = "".join(parts)
        return self._text

    def __repr__(self) -> str:
        text = str(self)
        if self.password is not None:  # never show a password in logs
            user = self._userinfo.partition(":")[0]
            text = text.replace(f"{self._userinfo}@", f"{user}:[secure]@", 1)
        return f"URL({text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return str(self) == str(other)
        if isinstance(other, str):
            try:
                return str(self) == str(URL(other))
            except InvalidURL:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


_STORED_PARTS = (
    "scheme",
    "userinfo",
    "host",
    "port",
    "has_authority",
    "raw_path",
    "query",
    "fragment",
)
_COPY_PARTS = frozenset(_STORED_PARTS) - {"has_authority"} | {
    "path",
    "params",
    "username",
    "password",
}
_DELIMITERS = {
    "scheme": ":/?#",
    "userinfo": "@/?#[]",
    "raw_path": "?#",
    "query": "#",
}


def _check_delimiters(values: dict[str, Any]) -> None:
    for name, forbidden in _DELIMITERS.items():
        value = values[name]
        if not isinstance(value, str):
            raise TypeError(f"copy_with(): {name} must be a str, not {type(value).__name__}")
        if any(c in value for c in forbidden):
            raise InvalidURL(f"{name} {value!r} may not contain any of {forbidden!r}")
        if _CONTROL.search(value):
            raise InvalidURL(f"{name} {value!r} contains a control character")
    host = values["host"]
    if not isinstance(host, str) or _CONTROL.search(host):
        raise InvalidURL(f"invalid host {host!r}")
