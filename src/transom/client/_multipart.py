"""``files=`` (and ``data=`` beside it) -> a streamed ``multipart/form-data`` body.

The encoding is ``transom.http.multipart.MultipartEncoder``'s; this module
only accepts the client's argument shapes:

>>> files = {"upload": open("notes.txt", "rb")}                        # doctest: +SKIP
>>> files = {"upload": ("notes.txt", b"text", "text/plain")}
>>> files = [("a", ("a.txt", b"1")), ("a", ("b.txt", b"2"))]           # repeated names
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from transom.client._content import BodyStream
from transom.http.multipart import MultipartEncoder

__all__ = ["encode_multipart"]


def _file_spec(name: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, bytes | str):
        return (name, value)
    filename = os.path.basename(str(getattr(value, "name", "") or name))
    return (filename, value)


def encode_multipart(data: Any, files: Any) -> tuple[BodyStream, str]:
    """The body and its Content-Type (with the boundary)."""
    fields: list[tuple[str, str | bytes]] = []
    if isinstance(data, Mapping):
        fields = [
            (str(key), value if isinstance(value, bytes) else str(value))
            for key, values in data.items()
            for value in (values if isinstance(values, list | tuple) else [values])
        ]
    elif data:
        raise TypeError("with files=, data= must be a dict of form fields")
    items = files.items() if isinstance(files, Mapping) else files
    specs: list[tuple[str, Any]] = [(str(name), _file_spec(name, value)) for name, value in items]
    encoder = MultipartEncoder(fields, specs)
    # The encoder re-seeks its files on each iteration: it can be resent.
    return BodyStream(encoder, encoder.content_length, reiterable=True), encoder.content_type
