"""``transom http`` request items.

``Header:Value``, ``Header:`` (no such header, not even a default one),
``Header;`` (an empty header), ``q==x``, ``f=v``,
``f:=json``, ``f@file`` (``f@file;type=mime``) and ``@file``; ``f=@file``,
``f:=@file.json`` and ``q==@file`` take the value from a file.

An item is split at its first separator; where two separators start at the
same place the longer wins (``:=`` over ``:``, ``==`` over ``=``). A
backslash escapes a separator character (``'a\\:b=c'`` is the field
``a:b``). Data keys are paths (``user[name]=x``, see ``_cli_nested``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from transom.client._cli_nested import set_path

__all__ = ["ItemError", "RequestItems", "parse_items", "parse_url"]

_SEPARATORS = (":=@", "==@", ":=", "=@", "==", "=", "@", ";", ":")
# Escapes kept in a data key for the nested-path parser, which reads them itself.
_PATH_ESCAPES = "[]\\0123456789"


class ItemError(ValueError):
    """A request item that cannot be understood."""


@dataclass
class RequestItems:
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    data: list[tuple[str, Any]] = field(default_factory=list)
    files: list[tuple[str, tuple[str, str, str | None]]] = field(default_factory=list)
    body_file: str | None = None
    unset: list[str] = field(default_factory=list)  # ``Header:`` drops a default header

    @property
    def has_data(self) -> bool:
        return bool(self.data or self.files or self.body_file)

    def json(self) -> Any:
        """The data items as one JSON value (an object, or an array for ``[]=x`` keys)."""
        context: Any = None
        for key, value in self.data:
            context = set_path(context, key, value)
        return {} if context is None else context

    def form(self) -> list[tuple[str, str]]:
        """The data items as form fields: keys as written, JSON values as JSON text."""
        return [
            (_unescape(key), value if isinstance(value, str) else json.dumps(value))
            for key, value in self.data
        ]


def _unescape(key: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(key):
        if key[i] == "\\" and i + 1 < len(key) and key[i + 1] in _PATH_ESCAPES:
            i += 1
        out.append(key[i])
        i += 1
    return "".join(out)


def _split(item: str) -> tuple[str, str, str]:
    i = 0
    key: list[str] = []
    while i < len(item):
        char = item[i]
        if char == "\\" and i + 1 < len(item):
            if item[i + 1] in _PATH_ESCAPES:
                key.append(char)
            key.append(item[i + 1])
            i += 2
            continue
        for sep in _SEPARATORS:
            if item.startswith(sep, i):
                return "".join(key), sep, item[i + len(sep) :]
        key.append(char)
        i += 1
    raise ItemError(
        f"{item!r} is not a request item: use Header:Value, Header;, name==query, "
        "field=value, field:=json, field@file or @file"
    )


def _json(item: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ItemError(f"{item!r}: {text!r} is not valid JSON ({exc})") from None


def _read_text(path: str) -> str:
    with open(_existing(path), encoding="utf-8") as f:
        return f.read()


def parse_items(items: list[str]) -> RequestItems:
    """Sort the command line's items into headers, query, data, files and body."""
    parsed = RequestItems()
    for item in items:
        if item.startswith("@"):
            if parsed.body_file is not None:
                raise ItemError("only one @file body may be given")
            parsed.body_file = _existing(item[1:])
            continue
        key, sep, value = _split(item)
        if not key:
            raise ItemError(f"{item!r}: the name before {sep!r} is empty")
        _add(parsed, item, key, sep, value)
    return parsed


def _add(parsed: RequestItems, item: str, key: str, sep: str, value: str) -> None:
    if sep == ":" and not value.strip():
        parsed.unset.append(_unescape(key))
    elif sep == ":":
        parsed.headers.append((_unescape(key), value.strip()))
    elif sep == ";":
        if value:
            raise ItemError(f"{item!r}: for an empty header write {key + ';'!r}")
        parsed.headers.append((_unescape(key), ""))
    elif sep in ("==", "==@"):
        parsed.params.append((_unescape(key), _read_text(value) if sep == "==@" else value))
    elif sep in ("=", "=@"):
        parsed.data.append((key, _read_text(value) if sep == "=@" else value))
    elif sep in (":=", ":=@"):
        parsed.data.append((key, _json(item, _read_text(value) if sep == ":=@" else value)))
    else:
        path, _, mime = value.partition(";type=")
        path = _existing(path)
        parsed.files.append((_unescape(key), (os.path.basename(path), path, mime or None)))


def _existing(path: str) -> str:
    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        raise ItemError(f"no such file: {path!r}")
    return expanded


def parse_url(text: str, default_scheme: str = "http") -> str:
    """``:8000/x`` -> ``http://localhost:8000/x``; ``example.org`` -> ``http://example.org``."""
    if text.startswith(":"):
        rest = text[1:]
        port, slash, path = rest.partition("/")
        host = f"localhost:{port}" if port else "localhost"
        return f"{default_scheme}://{host}{slash}{path}"
    if "://" not in text:
        return f"{default_scheme}://{text}"
    return text
