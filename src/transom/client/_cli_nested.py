"""Nested JSON data items, as HTTPie 3 reads them.

A data item's key is a path: ``user[name]=x`` sets ``{"user": {"name": "x"}}``,
``user[tags][]=a`` appends to a list, ``list[0]=x`` sets an index (the list
grows with ``null``), and a path that starts with ``[`` builds a top-level
array (``[]=x`` -> ``["x"]``). A backslash makes a bracket or a number plain
text (``a\\[b]=1`` is the key ``a[b]``; ``x[\\1]=1`` the key ``"1"``).

Grammar (HTTPie's)::

    path   := root step*
    root   := TEXT | NUMBER | "[" NUMBER "]" | "[" "]"     (empty: the key "")
    step   := "[" TEXT "]" | "[" NUMBER "]" | "[" "]"

Errors repeat HTTPie's wording and point at the offending part of the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NestedJSONError", "set_path"]

_KINDS = {dict: "object", list: "array", int: "number", float: "number", str: "string"}


class NestedJSONError(ValueError):
    """A key that is not a path, or a path that conflicts with an earlier one."""

    def __init__(self, kind: str, message: str, source: str, span: tuple[int, int] | None):
        lines = [f"{kind} Error: {message}"]
        if span is not None:
            lines += [source, " " * span[0] + "^" * max(span[1] - span[0], 1)]
        super().__init__("\n".join(lines))


@dataclass
class _Token:
    kind: str  # "text", "number", "[" or "]"
    value: Any
    start: int
    end: int


@dataclass
class _Step:
    action: str  # "key", "index" or "append"
    accessor: Any
    start: int
    end: int
    root: bool = False

    def text(self) -> str:
        if self.action == "key":
            return str(self.accessor) if self.root else f"[{self.accessor}]"
        return f"[{self.accessor}]" if self.action == "index" else "[]"


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    buffer: list[str] = []
    escaped = False
    start = 0

    def flush(end: int) -> None:
        nonlocal escaped
        if buffer:
            text = "".join(buffer)
            if not escaped and text.isdigit():
                tokens.append(_Token("number", int(text), start, end))
            else:
                tokens.append(_Token("text", text, start, end))
        buffer.clear()
        escaped = False

    i = 0
    while i < len(source):
        char = source[i]
        if char in "[]":
            flush(i)
            tokens.append(_Token(char, char, i, i + 1))
            start = i + 1
        elif char == "\\" and i + 1 < len(source):
            if not buffer:
                start = i
            nxt = source[i + 1]
            if nxt in "[]\\" or nxt.isdigit():
                escaped = True
            else:
                buffer.append(char)
            buffer.append(nxt)
            i += 1
        else:
            if not buffer:
                start = i
            buffer.append(char)
        i += 1
    flush(i)
    return tokens


_NAMES = {"text": "TEXT", "number": "NUMBER", "[": "LEFT_BRACKET", "]": "RIGHT_BRACKET"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.at = 0

    def more(self) -> bool:
        return self.at < len(self.tokens)

    def expect(self, *kinds: str) -> _Token:
        if self.more():
            token = self.tokens[self.at]
            self.at += 1
            if token.kind in kinds:
                return token
            span: tuple[int, int] | None = (token.start, token.end)
        elif self.tokens:
            end = self.tokens[-1].end
            span = (end, end + 1)
        else:
            span = None
        names = [_NAMES[kind] for kind in kinds]
        wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise NestedJSONError("Syntax", f"Expecting {wanted}", self.source, span)


def _parse(source: str) -> list[_Step]:
    reader = _Reader(source)
    if not reader.more():
        return [_Step("key", "", 0, 0, root=True)]
    first = reader.expect("text", "number", "[")
    if first.kind != "[":
        steps = [_Step("key", str(first.value), first.start, first.end, root=True)]
    else:
        steps = [_bracket(reader, first, root=True, text=False)]
    while reader.more():
        steps.append(_bracket(reader, reader.expect("["), root=False, text=True))
    return steps


def _bracket(reader: _Reader, left: _Token, *, root: bool, text: bool) -> _Step:
    kinds = ("text", "number", "]") if text else ("number", "]")
    inner = reader.expect(*kinds)
    if inner.kind == "]":
        return _Step("append", None, left.start, inner.end, root=root)
    right = reader.expect("]")
    action = "index" if inner.kind == "number" else "key"
    return _Step(action, inner.value, left.start, right.end, root=root)


def _empty(action: str) -> Any:
    return {} if action == "key" else []


def set_path(context: Any, key: str, value: Any) -> Any:
    """Set ``key``'s path to ``value`` in ``context`` (None to start); returns the context."""
    steps = _parse(key)
    if context is None:
        context = _empty(steps[0].action)
    cursor = context
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        wanted = dict if step.action == "key" else list
        if not isinstance(cursor, wanted):
            _type_error(key, steps, n, cursor, wanted)
        new = value if last else _empty(steps[n + 1].action)
        if step.action == "key":
            if last:
                cursor[step.accessor] = value
            else:
                cursor = cursor.setdefault(step.accessor, new)
        elif step.action == "index":
            cursor.extend([None] * (step.accessor - len(cursor) + 1))
            if last or cursor[step.accessor] is None:
                cursor[step.accessor] = new
            cursor = cursor[step.accessor]
        else:
            cursor.append(new)
            cursor = new
    return context


def _type_error(key: str, steps: list[_Step], n: int, cursor: Any, wanted: type) -> None:
    step = steps[n]
    have = _KINDS.get(type(cursor), type(cursor).__name__)
    if cursor is None:
        have = "NoneType"
    done = "".join(s.text() for s in steps[:n])
    message = (
        f"Cannot perform {step.action!r} based access on {done!r} which has a type of "
        f"{have!r} but this operation requires a type of {_KINDS[wanted]!r}."
    )
    span = (step.start, step.end) if step.end > step.start else None
    raise NestedJSONError("Type", message, key, span)
