"""HTTP header fields: an ordered, case-insensitive, multi-valued collection.

Theory of operation
-------------------
``Headers`` wraps a ``list[tuple[bytes, bytes]]`` with lower-cased names:
the exact shape of ``events.Request.headers`` and of ASGI ``scope["headers"]``.
``Headers(raw=that_list)`` adopts the list without copying it, so wrapping a
request's headers costs nothing; lookups scan the list (header lists are
short, and a scan beats building a dict per request).

Text is latin-1 both ways (RFC 9110 §5.5: field values are octets; latin-1
maps every octet to one code point and back). Every value set through the
API is checked for CR, LF and NUL, and every name must be an RFC 9110 token,
so a header injection fails where it is written, naming the header, rather
than when the response is serialised.

Choices worth knowing:

- ``h[name]`` is the *first* value; ``h.get_list(name)`` has them all.
- ``iter(h)`` and ``h.keys()`` give each name once, in order of first
  appearance; ``h.items()`` and ``h.values()`` give *every* field, duplicates
  included, so ``Headers(h.items())`` never drops a second ``Set-Cookie``.
  ``len(h)`` counts fields, like ``h.items()``.
- ``h[name] = value`` replaces every field of that name, keeping the
  position of the first one.

>>> h = Headers({"Content-Type": "text/html"})
>>> h.add("Set-Cookie", "a=1"); h.add("set-cookie", "b=2")
>>> h["content-type"], h.get_list("Set-Cookie")
('text/html', ['a=1', 'b=2'])
>>> h.raw
[(b'content-type', b'text/html'), (b'set-cookie', b'a=1'), (b'set-cookie', b'b=2')]
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final, TypeAlias, TypeVar, overload
from urllib.parse import unquote

__all__ = ["HeaderList", "Headers", "HeadersInput", "parse_options_header"]

HeaderList: TypeAlias = list[tuple[bytes, bytes]]
_Text: TypeAlias = str | bytes
HeadersInput: TypeAlias = (
    "Headers | Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[_Text, _Text]]"
)

_T = TypeVar("_T")

# RFC 9110 §5.1: field-name = token; tchar is this set.
_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: CR, LF and NUL are never allowed in a field value.
_FORBIDDEN_IN_VALUE: Final = re.compile(rb"[\r\n\x00]")
# Values whose content is a credential; repr() masks them so logs stay clean.
_SECRET: Final = frozenset({b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"})


def _name_bytes(name: _Text) -> bytes:
    raw = name.encode("latin-1", "replace") if isinstance(name, str) else name
    if _TOKEN.fullmatch(raw) is None:
        raise ValueError(
            f"invalid header name {name!r}: a name is an RFC 9110 token "
            "(letters, digits and !#$%&'*+-.^_`|~), with no spaces, colons or CR/LF"
        )
    return raw.lower()


def _value_bytes(name: bytes, value: _Text) -> bytes:
    if isinstance(value, str):
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                f"header {name.decode('latin-1')!r}: value {value!r} is not latin-1; "
                "percent-encode or RFC 8187-encode non-latin-1 text first"
            ) from None
    else:
        raw = value
    if _FORBIDDEN_IN_VALUE.search(raw):
        raise ValueError(
            f"header {name.decode('latin-1')!r}: value {value!r} contains CR, LF or NUL, "
            "which would let it inject header fields (RFC 9110 §5.5)"
        )
    return raw


def _pairs(source: HeadersInput) -> Iterable[tuple[_Text, _Text]]:
    if isinstance(source, Headers):
        return source.raw
    if isinstance(source, Mapping):
        return source.items()
    return source


class Headers:
    """Ordered, case-insensitive, multi-valued header fields over a raw byte list.

    ``Headers(source)`` copies and validates a mapping, an iterable of
    ``(name, value)`` pairs (str or bytes) or another ``Headers``;
    ``Headers(raw=list)`` adopts an already-valid lower-cased byte list as is.
    """

    __slots__ = ("raw",)
    #: The underlying list of ``(lower-cased name, value)`` byte pairs (not a
    #: copy; a plain attribute, read on every request).
    raw: HeaderList

    def __init__(
        self, source: HeadersInput | None = None, *, raw: HeaderList | None = None
    ) -> None:
        if raw is not None:
            if source is not None:
                raise TypeError("Headers() takes a source or raw=, not both")
            self.raw = raw
            return
        self.raw = []
        if source is not None:
            for name, value in _pairs(source):
                key = _name_bytes(name)
                self.raw.append((key, _value_bytes(key, value)))

    # -- reading -------------------------------------------------------------

    def __getitem__(self, name: str) -> str:
        key = name.lower().encode("latin-1", "replace")
        for k, v in self.raw:
            if k == key:
                return v.decode("latin-1")
        raise KeyError(name)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: _T) -> str | _T: ...
    def get(self, name: str, default: object = None) -> object:
        """The first value of ``name``, or ``default`` when there is none."""
        try:
            return self[name]
        except KeyError:
            return default

    def get_list(self, name: str) -> list[str]:
        """Every value of ``name`` in order (an empty list when there is none).

        Values are not split on commas: ``Set-Cookie`` values may contain
        them (RFC 9110 §5.3), so splitting is left to the caller who knows
        the field's syntax.
        """
        key = name.lower().encode("latin-1", "replace")
        return [v.decode("latin-1") for k, v in self.raw if k == key]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower().encode("latin-1", "replace")
        return any(k == key for k, _ in self.raw)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.raw)

    def keys(self) -> list[str]:
        """Each name once, lower-cased, in order of first appearance."""
        return [k.decode("latin-1") for k in dict.fromkeys(k for k, _ in self.raw)]

    def values(self) -> list[str]:
        """Every value, duplicates included, in the order of ``items()``."""
        return [v.decode("latin-1") for _, v in self.raw]

    def items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` field, duplicates included, in order."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw]

    def multi_items(self) -> list[tuple[str, str]]:
        """The same as ``items()`` (the name Starlette's headers use)."""
        return self.items()

    # -- writing -------------------------------------------------------------

    def add(self, name: str, value: str) -> None:
        """Append a field, keeping any others of the same name."""
        key = _name_bytes(name)
        self.raw.append((key, _value_bytes(key, value)))

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every field called ``name`` by one, where the first one was."""
        key = _name_bytes(name)
        field = (key, _value_bytes(key, value))
        index = next((i for i, (k, _) in enumerate(self.raw) if k == key), None)
        if index is None:
            self.raw.append(field)
            return
        self.raw[index] = field
        self.raw[index + 1 :] = [f for f in self.raw[index + 1 :] if f[0] != key]

    def __delitem__(self, name: str) -> None:
        """Remove every field called ``name``; ``KeyError`` if there is none."""
        if name not in self:
            raise KeyError(name)
        self.discard(name)

    def discard(self, name: str) -> None:
        """Remove every field called ``name``, if any."""
        key = name.lower().encode("latin-1", "replace")
        self.raw[:] = [f for f in self.raw if f[0] != key]

    def setdefault(self, name: str, value: str) -> str:
        """The first value of ``name``, adding ``value`` first if there is none."""
        if name not in self:
            self.add(name, value)
        return self[name]

    def update(self, other: HeadersInput) -> None:
        """Replace the fields named in ``other`` by all of ``other``'s values for them."""
        incoming = Headers(other)
        names = {k for k, _ in incoming.raw}
        self.raw[:] = [f for f in self.raw if f[0] not in names]
        self.raw.extend(incoming.raw)

    def copy(self) -> Headers:
        """An independent copy (mutating it leaves this one alone)."""
        return Headers(raw=list(self.raw))

    # -- comparing and showing -----------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Equal when every name has the same values in the same order.

        The relative order of *different* names carries no meaning (RFC 9110
        §5.3), so it is ignored; ``Headers`` also compares with a mapping or
        a list of pairs.
        """
        if not isinstance(other, Headers):
            if not isinstance(other, Mapping | list | tuple):
                return NotImplemented
            try:
                other = Headers(other)
            except (TypeError, ValueError):
                return False
        ours = sorted(self.raw, key=lambda f: f[0])
        theirs = sorted(other.raw, key=lambda f: f[0])
        return ours == theirs

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = [
            (k.decode("latin-1"), "[secure]" if k in _SECRET else v.decode("latin-1"))
            for k, v in self.raw
        ]
        return f"Headers({shown!r})"


# -- parameters of Content-Type / Content-Disposition --------------------------

# One `; key=value` parameter (RFC 9110 §5.6.6). A value is a quoted string
# (escapes allowed, an unterminated one runs to the end) or a run of anything
# but `;`, which tolerates the unquoted junk real clients send.
_PARAM: Final = re.compile(
    r"""
    ;\s*
    (?P<key>[^\s;=]+)\s*
    (?:=\s*(?:"(?P<quoted>(?:\\.|[^"\\])*)(?:"|$)|(?P<token>[^;]*)))?
    """,
    re.VERBOSE | re.DOTALL,
)
# RFC 8187 §3.2 ext-value: charset'language'percent-encoded.
_EXT_VALUE: Final = re.compile(r"(?P<charset>[^']*)'[^']*'(?P<value>.*)", re.DOTALL)


def _unescape(quoted: str) -> str:
    # RFC 9110 §5.6.4 allows any quoted-pair, but browsers send Windows paths
    # unescaped (`filename="C:\dir\a.txt"`), so only `\"` and `\\` are
    # treated as escapes; any other backslash is kept as it is.
    if "\\" not in quoted:
        return quoted
    return re.sub(r'\\(["\\])', r"\1", quoted)


def _decode_ext_value(value: str) -> str | None:
    match = _EXT_VALUE.fullmatch(value.strip().strip('"'))
    if match is None:
        return None
    charset = match["charset"].lower() or "utf-8"
    try:
        codecs.lookup(charset)
        return unquote(match["value"], encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


def parse_options_header(value: str | bytes | None) -> tuple[str, dict[str, str]]:
    """Split a ``Content-Type``-like value into its lower-cased main value and parameters.

    Parameter names are lower-cased; quoted values are unescaped; an
    RFC 8187 ``name*=UTF-8''...`` parameter wins over a plain ``name=``
    (RFC 6266 §4.3). Junk never raises: unparsable parts are skipped.

    >>> parse_options_header('form-data; name="f"; filename*=UTF-8\\'\\'%E2%82%AC.txt')
    ('form-data', {'name': 'f', 'filename': '€.txt'})
    """
    if not value:
        return "", {}
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    main, sep, rest = text.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for match in _PARAM.finditer(sep + rest):
        key = match["key"].lower()
        if match["quoted"] is not None:
            param = _unescape(match["quoted"])
        else:
            param = (match["token"] or "").strip()
        if key.endswith("*"):
            decoded = _decode_ext_value(param)
            if decoded is not None:
                extended[key[:-1]] = decoded
        else:
            params.setdefault(key, param)
    params.update(extended)
    return main.strip().lower(), params
