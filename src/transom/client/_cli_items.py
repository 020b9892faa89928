"""``transom http`` request items.

``Header:Value``, ``q==x``, ``f=v``, ``f:=json``, ``f@file`` and ``@file``.

An item is split at its first separator; where two separators start at the
same place the longer wins (``:=`` over ``:``, ``==`` over ``=``). A
backslash escapes a separator character (``'a\\:b=c'`` is the field
``a:b``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ItemError", "RequestItems", "parse_items", "parse_url"]

_SEPARATORS = (":=", "==", "=", "@", ":")


class ItemError(ValueError):
    """A request item that cannot be understood."""


@dataclass
class RequestItems:
    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, tuple[str, Any]]] = field(default_factory=list)
    body_file: str | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.data or self.files or self.body_file)


def _split(item: str) -> tuple[str, str, str]:
    i = 0
    key: list[str] = []
    while i < len(item):
        char = item[i]
        if char == "\\" and i + 1 < len(item):
            key.append(item[i + 1])
            i += 2
            continue
        for sep in _SEPARATORS:
            if item.startswith(sep, i):
                return "".join(key), sep, item[i + len(sep) :]
        key.append(char)
        i += 1
    raise ItemError(
        f"{item!r} is not a request item: use Header:Value, name==query, field=value, "
        "field:=json, field@file or @file"
    )


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
        if sep == ":":
            parsed.headers.append((key, value.strip()))
        elif sep == "==":
            parsed.params.append((key, value))
        elif sep == "=":
            parsed.data[key] = value
        elif sep == ":=":
            try:
                parsed.data[key] = json.loads(value)
            except ValueError as exc:
                raise ItemError(f"{item!r}: {value!r} is not valid JSON ({exc})") from None
        else:
            path = _existing(value)
            parsed.files.append((key, (os.path.basename(path), path)))
    return parsed


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
