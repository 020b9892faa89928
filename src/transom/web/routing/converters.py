"""Path converters: what a ``{name:type}`` segment matches and what the handler gets.

A converter brings ``regex`` (what the text may look like; the router
compiles it into the route's pattern), ``convert`` (text -> value for the
handler; a ``ValueError`` means the route does not match) and
``to_string`` (value -> text for ``url_for``).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

__all__ = [
    "DEFAULT_CONVERTERS",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StringConverter",
    "UUIDConverter",
]


class Converter:
    """A path parameter type: ``regex``, ``convert`` and ``to_string``.

    Subclass and register with ``app.add_converter(name, MyConverter)``:

    >>> class SlugConverter(Converter):
    ...     regex = "[a-z0-9]+(?:-[a-z0-9]+)*"
    >>> app.add_converter("slug", SlugConverter)
    >>> @app.get("/posts/{slug:slug}")
    ... async def post(slug: str): ...

    ``convert`` may raise ``ValueError``: the route then does not match.
    """

    regex: ClassVar[str] = "[^/]+"

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


class StringConverter(Converter):
    """``{name}`` or ``{name:str}``: one non-empty path segment."""

    def to_string(self, value: Any) -> str:
        text = str(value)
        if not text or "/" in text:
            raise ValueError(f"{value!r} is not a single non-empty path segment")
        return text


class PathConverter(Converter):
    """``{name:path}``: the rest of the path, slashes included."""

    regex = ".*"


class IntConverter(Converter):
    """``{name:int}``: a non-negative decimal integer."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: Any) -> str:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{value!r} is not a non-negative int")
        return str(value)


class FloatConverter(Converter):
    """``{name:float}``: a non-negative decimal number, ``3`` or ``3.25``."""

    regex = r"[0-9]+(?:\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: Any) -> str:
        number = float(value)
        if not number >= 0 or number == float("inf"):
            raise ValueError(f"{value!r} is not a finite non-negative number")
        return repr(number) if number != int(number) else str(int(number))


class UUIDConverter(Converter):
    """``{name:uuid}``: a UUID in its 8-4-4-4-12 hex form."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


DEFAULT_CONVERTERS: dict[str, Converter] = {
    "str": StringConverter(),
    "path": PathConverter(),
    "int": IntConverter(),
    "float": FloatConverter(),
    "uuid": UUIDConverter(),
}
