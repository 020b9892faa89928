"""Percent-encoding and query strings (RFC 3986 §2.1, WHATWG ``application/x-www-form-urlencoded``).

``QueryParams`` is what a query string or an urlencoded form body parses
into: an ``ImmutableMultiDict[str, str]`` that keeps every pair in order.
Parsing never fails (a bad escape stays as written, bad UTF-8 becomes
U+FFFD) and treats ``+`` as a space; this is the only place where ``+``
means a space. The common case (no ``%`` and no ``+``) skips decoding
altogether, since the framework parses a query string per request.

``transom.http.url`` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias
from urllib.parse import quote as _std_quote
from urllib.parse import unquote as _std_unquote

from transom.http.multidict import ImmutableMultiDict

__all__ = ["QueryParams", "QueryParamsInput", "QueryValue", "quote", "unquote", "urlencode"]


def quote(text: str, safe: str = "/") -> str:
    """Percent-encode ``text`` as UTF-8, leaving unreserved characters and ``safe`` alone.

    >>> quote("a b/ü")
    'a%20b/%C3%BC'
    """
    return _std_quote(text, safe=safe)


def unquote(text: str, *, plus: bool = False) -> str:
    """Decode percent-escapes as UTF-8 (bad sequences become U+FFFD; junk ``%`` stays).

    ``plus=True`` also turns ``+`` into a space, as in query strings and
    ``application/x-www-form-urlencoded`` bodies (and only there).

    >>> unquote("a%20b+c"), unquote("a%20b+c", plus=True), unquote("100%")
    ('a b+c', 'a b c', '100%')
    """
    if plus and "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    return _std_unquote(text, errors="replace")


def urlencode(data: QueryParamsInput) -> str:
    """Encode pairs as ``application/x-www-form-urlencoded`` (space as ``+``).

    >>> urlencode({"q": "a b", "tag": ["x", "y&z"]})
    'q=a+b&tag=x&tag=y%26z'
    """
    return "&".join(f"{_form_quote(k)}={_form_quote(v)}" for k, v in _query_pairs(data))


def _form_quote(text: str) -> str:
    # WHATWG URL §5.2: the form-urlencoded set keeps only ASCII alphanumerics and
    # *-._ as they are (Python also keeps ~, which every decoder accepts), space is +.
    return _std_quote(text, safe="*").replace("%20", "+")


QueryValue: TypeAlias = str | int | float
QueryParamsInput: TypeAlias = (
    "str | bytes | Mapping[str, QueryValue | list[QueryValue] | tuple[QueryValue, ...]] "
    "| Iterable[tuple[str, QueryValue]] | None"
)


def _text_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError(f"query values are str, int or float, not {type(value).__name__}")


def _query_pairs(data: QueryParamsInput) -> list[tuple[str, str]]:
    """A fresh list of pairs from any input QueryParams takes."""
    if data is None:
        return []
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        return _parse_query(data)
    if isinstance(data, ImmutableMultiDict):
        return [(str(k), _text_value(v)) for k, v in data.multi_items()]
    if isinstance(data, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in data.items():
            if isinstance(value, list | tuple):
                pairs.extend((key, _text_value(v)) for v in value)
            else:
                pairs.append((key, _text_value(value)))
        return pairs
    return [(k, _text_value(v)) for k, v in data]


def _parse_query(query: str) -> list[tuple[str, str]]:
    """WHATWG ``application/x-www-form-urlencoded`` parsing: never fails."""
    if query.startswith("?"):
        query = query[1:]
    if not query:
        return []
    pairs = []
    decode = "%" in query or "+" in query
    for piece in query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if decode:
            key, value = unquote(key, plus=True), unquote(value, plus=True)
        pairs.append((key, value))
    return pairs


class QueryParams(ImmutableMultiDict[str, str]):
    """Query parameters: an ``ImmutableMultiDict[str, str]`` that parses and encodes.

    Built from a query string (str or bytes, with or without ``?``; ``+`` is
    a space), a mapping (a list or tuple value gives one pair per item) or
    pairs. ``str(params)`` encodes them back. ``params[key]`` is the first value.

    >>> params = QueryParams("tag=a&tag=b&q=x+y")
    >>> params["tag"], params.get_list("tag"), params["q"], str(params)
    ('a', ['a', 'b'], 'x y', 'tag=a&tag=b&q=x+y')
    """

    __slots__ = ()

    def __init__(self, params: QueryParamsInput = None) -> None:
        self._take(_query_pairs(params))

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"QueryParams({str(self)!r})"
