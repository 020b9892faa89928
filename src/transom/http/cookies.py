"""Cookies (RFC 6265, with the RFC 6265bis additions browsers ship).

Two directions, two temperaments:

- *Writing* (``SetCookie.serialize``) is strict: the name must be a token,
  the value made of RFC 6265 §4.1.1 cookie-octets, attribute values free of
  ``;`` and control characters, and the combinations browsers silently drop
  (``SameSite=None`` or ``Partitioned`` without ``Secure``, broken
  ``__Secure-``/``__Host-`` prefixes, oversized cookies) raise ``ValueError``
  saying what to change. Values are never encoded behind your back: what you
  set is byte for byte what the browser sends back. Percent-encode a value
  that needs it (spaces, JSON, non-ASCII) yourself, e.g. with
  ``transom.http.url.quote(value, safe="")``.
- *Reading* is lenient as browsers are: ``parse_cookie_header`` for the
  ``Cookie`` request header, ``SetCookie.parse`` for a ``Set-Cookie``
  response header (RFC 6265 §5.2, including its forgiving date parser),
  so a client's jar copes with what real servers send.

>>> SetCookie("sid", "abc", path="/", secure=True, httponly=True, samesite="lax").serialize()
'sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax'
>>> parse_cookie_header('sid=abc; theme="dark"; sid=old')
{'sid': 'abc', 'theme': 'dark'}
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from transom.http.dates import format_http_date, parse_http_date

__all__ = [
    "MAX_ATTRIBUTE_BYTES",
    "MAX_NAME_VALUE_BYTES",
    "SameSite",
    "SetCookie",
    "parse_cookie_date",
    "parse_cookie_header",
]

SameSite: TypeAlias = Literal["lax", "strict", "none"]

# RFC 6265 §4.1.1 (token is RFC 9110 §5.6.2's).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_QUOTED_OCTETS = re.compile(r'"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"')
# av-octet: any CHAR but CTLs and ";".
_ATTRIBUTE_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
# RFC 6265bis §5.6 step 2: a cookie with these control characters is ignored whole.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
_SAMESITE_VALUES: dict[str, SameSite] = {"lax": "lax", "strict": "strict", "none": "none"}
# RFC 6265bis §5.6: user agents ignore longer cookies and attribute values.
MAX_NAME_VALUE_BYTES = 4096
MAX_ATTRIBUTE_BYTES = 1024


def parse_cookie_header(value: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header into ``{name: value}``.

    Lenient as browsers are: pieces without ``=`` or with an empty name are
    skipped, spaces around names and values are dropped, and one pair of
    double quotes around a value is removed (they wrap the value in the
    RFC 6265 grammar, they are not part of it). Values are not decoded.
    When a name repeats, the *first* one wins: browsers list the cookie
    with the longest path first (RFC 6265 §5.4 step 2), the most specific.

    >>> parse_cookie_header("a=1; b = 2 ;junk; a=3")
    {'a': '1', 'b': '2'}
    """
    cookies: dict[str, str] = {}
    for piece in value.split(";"):
        name, eq, val = piece.partition("=")
        name = name.strip()
        if not eq or not name or name in cookies:
            continue
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        cookies[name] = val
    return cookies


@dataclass(slots=True)
class SetCookie:
    """One ``Set-Cookie`` header: a cookie and its attributes (none by default).

    ``expires`` is an aware ``datetime`` (a naive one is taken as UTC), a
    Unix timestamp or an HTTP-date string; ``max_age`` is in seconds (0 or
    less tells the browser to drop the cookie now).
    """

    name: str
    value: str = ""
    expires: datetime.datetime | float | str | None = None
    max_age: int | None = None
    domain: str | None = None
    path: str | None = None
    secure: bool = False
    httponly: bool = False
    samesite: SameSite | None = None
    partitioned: bool = False

    def serialize(self) -> str:
        """The header value; ``ValueError`` saying what to fix if the cookie is not valid."""
        self._check()
        parts = [f"{self.name}={self.value}"]
        if self.expires is not None:
            parts.append(f"Expires={_format_expires(self.expires)}")
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite is not None:
            parts.append(f"SameSite={_SAMESITE[self.samesite.lower()]}")
        if self.partitioned:
            parts.append("Partitioned")
        return "; ".join(parts)

    def _check(self) -> None:
        if _TOKEN.fullmatch(self.name) is None:
            raise ValueError(
                f"cookie name {self.name!r} is not an RFC 6265 token: use letters, digits "
                "and !#$%&'*+-.^_`|~ only"
            )
        if _COOKIE_OCTETS.fullmatch(self.value) is None and not _QUOTED_OCTETS.fullmatch(
            self.value
        ):
            raise ValueError(
                f"cookie {self.name!r}: value {self.value!r} has characters RFC 6265 §4.1.1 "
                'forbids (space, ", comma, ;, backslash, controls, non-ASCII); '
                "percent-encode it first, e.g. transom.http.url.quote(value, safe='')"
            )
        if len(self.name) + len(self.value) > MAX_NAME_VALUE_BYTES:
            raise ValueError(
                f"cookie {self.name!r} is over {MAX_NAME_VALUE_BYTES} bytes; browsers ignore it"
            )
        if self.max_age is not None and (
            isinstance(self.max_age, bool) or not isinstance(self.max_age, int)
        ):
            raise ValueError(f"cookie {self.name!r}: max_age must be an int, not {self.max_age!r}")
        for attribute in ("domain", "path"):
            text = getattr(self, attribute)
            if text is not None and (
                _ATTRIBUTE_VALUE.fullmatch(text) is None or len(text) > MAX_ATTRIBUTE_BYTES
            ):
                raise ValueError(
                    f"cookie {self.name!r}: {attribute} {text!r} may not contain ';' or "
                    f"control characters, nor exceed {MAX_ATTRIBUTE_BYTES} characters"
                )
        self._check_rules()

    def _check_rules(self) -> None:
        samesite = self.samesite
        if samesite is not None and (
            not isinstance(samesite, str) or samesite.lower() not in _SAMESITE
        ):
            raise ValueError(
                f"cookie {self.name!r}: samesite must be 'lax', 'strict', 'none' or None, "
                f"not {self.samesite!r}"
            )
        if self.samesite is not None and self.samesite.lower() == "none" and not self.secure:
            raise ValueError(
                f"cookie {self.name!r}: SameSite=None requires Secure (secure=True); "
                "browsers reject it otherwise"
            )
        if self.partitioned and not self.secure:
            raise ValueError(f"cookie {self.name!r}: Partitioned requires Secure (secure=True)")
        # RFC 6265bis §4.1.3: prefixes that browsers enforce.
        if self.name.startswith(("__Secure-", "__Host-")) and not self.secure:
            raise ValueError(f"cookie {self.name!r}: a __Secure-/__Host- name requires Secure")
        if self.name.startswith("__Host-") and (self.domain is not None or self.path != "/"):
            raise ValueError(f"cookie {self.name!r}: a __Host- cookie needs path='/' and no domain")

    @classmethod
    def parse(cls, header_value: str) -> SetCookie:
        """Parse a ``Set-Cookie`` value as a user agent does (RFC 6265 §5.2).

        Attribute names are case-insensitive; the last of a repeated
        attribute wins; unknown attributes and attributes with bad values
        (an unparsable date, a non-integer Max-Age) are ignored. ``ValueError``
        only when the whole header must be ignored: no ``=`` or an empty
        name, control characters, or a name and value over 4096 bytes.
        ``expires`` comes back as an aware UTC ``datetime``; ``domain``
        lower-cased without a leading dot; a ``path`` not starting with
        ``/`` as None (the jar then uses the default path, §5.2.4).

        >>> SetCookie.parse("id=a3fWa; Expires=Thu, 31-Oct-2030 07:28:00 GMT; secure").expires
        datetime.datetime(2030, 10, 31, 7, 28, tzinfo=datetime.timezone.utc)
        """
        pair, _, attributes = header_value.partition(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(" \t"), value.strip(" \t")
        if not eq or not name:
            raise ValueError(f"Set-Cookie {header_value!r} has no name=value pair")
        if _FORBIDDEN_CONTROLS.search(pair):
            raise ValueError(f"Set-Cookie {header_value!r} contains control characters")
        if len(name) + len(value) > MAX_NAME_VALUE_BYTES:
            raise ValueError(f"Set-Cookie name and value are over {MAX_NAME_VALUE_BYTES} bytes")
        cookie = cls(name, value)
        for attribute in attributes.split(";"):
            key, _, text = attribute.partition("=")
            cookie._apply(key.strip(" \t").lower(), text.strip(" \t"))
        return cookie

    def _apply(self, key: str, text: str) -> None:
        """One attribute of RFC 6265 §5.2.1-§5.2.6 (+ 6265bis SameSite, Partitioned)."""
        if len(text) > MAX_ATTRIBUTE_BYTES:
            return
        if key == "expires":
            moment = parse_cookie_date(text)
            if moment is not None:
                self.expires = moment
        elif key == "max-age":
            if re.fullmatch(r"-?[0-9]+", text):
                self.max_age = int(text)
        elif key == "domain":
            if text:
                self.domain = text.removeprefix(".").lower()
        elif key == "path":
            self.path = text if text.startswith("/") else None
        elif key == "secure":
            self.secure = True
        elif key == "httponly":
            self.httponly = True
        elif key == "samesite":
            self.samesite = _SAMESITE_VALUES.get(text.lower())
        elif key == "partitioned":
            self.partitioned = True


def _format_expires(expires: datetime.datetime | float | str) -> str:
    if isinstance(expires, str):
        if parse_http_date(expires) is None:
            raise ValueError(
                f"cookie expires {expires!r} is not an HTTP date; pass a datetime, "
                "a Unix timestamp or an IMF-fixdate like 'Sun, 06 Nov 1994 08:49:37 GMT'"
            )
        return expires
    if isinstance(expires, datetime.datetime):
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=datetime.UTC)
        return format_http_date(expires.timestamp())
    return format_http_date(expires)


# -- RFC 6265 §5.1.1: the forgiving cookie-date parser --------------------------------

_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_DATE_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?")
_DAY = re.compile(r"(\d{1,2})(?:\D.*)?")
_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_cookie_date(text: str) -> datetime.datetime | None:
    """The ``Expires`` date of a ``Set-Cookie`` as an aware UTC datetime, or None.

    RFC 6265 §5.1.1: the date is read token by token (time, day, month,
    year in any order), so IMF-fixdate, RFC 850, asctime and the common
    ``Wed, 09-Jun-2021 10:18:14 GMT`` all parse.

    >>> parse_cookie_date("Wed, 09-Jun-21 10:18:14 GMT")
    datetime.datetime(2021, 6, 9, 10, 18, 14, tzinfo=datetime.timezone.utc)
    """
    clock: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DELIMITERS.split(text):
        if not token:
            continue
        if clock is None and (m := _DATE_TIME.fullmatch(token)):
            clock = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DAY.fullmatch(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (m := _YEAR.fullmatch(token)):
            year = int(m[1])
    if clock is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = clock
    if not (1 <= day <= 31 and year >= 1601 and hour <= 23 and minute <= 59 and second <= 59):
        return None
    try:
        return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:  # 31 Feb
        return None
