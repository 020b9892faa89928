"""Header field grammar the handshake needs: comma lists and extension lists.

RFC 9110 §5.6.1: a list field may be split over several field lines, and a
recipient ignores empty list elements (``a, , b``) and whitespace around
them. RFC 6455 §9.1 gives Sec-WebSocket-Extensions its own grammar::

    extension-list = 1#extension
    extension      = extension-token *( ";" extension-param )
    extension-param = token [ "=" (token | quoted-string) ]

where a quoted value, once unquoted, must itself be a token.
"""

from __future__ import annotations

import re

from transom.http.events import HeaderList

__all__ = ["Extension", "is_token", "list_elements", "parse_extensions"]

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TOKEN)
_OWS_COMMA = re.compile(rb"[ \t]*,")
_NAME = re.compile(rb"[ \t]*(" + _TOKEN + rb")")
_PARAM = re.compile(
    rb"[ \t]*;[ \t]*(" + _TOKEN + rb")(?:[ \t]*=[ \t]*(?:(" + _TOKEN + rb")"
    rb'|"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"))?'
)
_END = re.compile(rb"[ \t]*(?:,|\Z)")
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)

#: One extension: its lower-cased name and its parameters in order
#: (lower-cased names; values as sent, unquoted; ``None`` without "=").
Extension = tuple[str, list[tuple[str, str | None]]]


def is_token(value: bytes) -> bool:
    """Whether ``value`` is an RFC 9110 §5.6.2 token."""
    return _TOKEN_RE.fullmatch(value) is not None


def list_elements(headers: HeaderList, name: bytes) -> list[bytes]:
    """The non-empty elements of every ``name`` field, in order, stripped."""
    elements: list[bytes] = []
    for field, value in headers:
        if field == name:
            for element in value.split(b","):
                element = element.strip(b" \t")
                if element:
                    elements.append(element)
    return elements


def parse_extensions(values: list[bytes]) -> list[Extension]:
    """Parse Sec-WebSocket-Extensions field values; ``ValueError`` if malformed.

    >>> parse_extensions([b'permessage-deflate; client_max_window_bits, x; a="1"'])
    [('permessage-deflate', [('client_max_window_bits', None)]), ('x', [('a', '1')])]
    """
    extensions: list[Extension] = []
    for value in values:
        pos = 0
        size = len(value.rstrip(b" \t"))
        while pos < size:
            empty = _OWS_COMMA.match(value, pos)
            if empty is not None:  # RFC 9110 §5.6.1: empty elements are ignored
                pos = empty.end()
                continue
            name = _NAME.match(value, pos)
            if name is None:
                raise ValueError(f"malformed extension list {value[:100]!r}")
            params: list[tuple[str, str | None]] = []
            pos = name.end()
            while (param := _PARAM.match(value, pos)) is not None:
                pos = param.end()
                key, token, quoted = param.groups()
                if quoted is not None:
                    token = _ESCAPE.sub(rb"\1", quoted)
                    if not is_token(token):  # RFC 6455 §9.1
                        raise ValueError(f"extension parameter {key!r} is not a token")
                params.append((key.decode().lower(), None if token is None else token.decode()))
            end = _END.match(value, pos)
            if end is None:
                raise ValueError(f"malformed extension list {value[:100]!r}")
            pos = end.end()
            extensions.append((name.group(1).decode().lower(), params))
    return extensions
