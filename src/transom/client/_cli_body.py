"""The request body of ``transom http``: from items, a file, ``--raw`` or a piped stdin.

One source only: data items (JSON, a form or multipart), ``@file``, ``--raw``
or stdin. A piped stdin is read whole (empty counts as no body, so a
``/dev/null`` stdin under cron or CI changes nothing); ``--ignore-stdin``
skips it. Then ``--compress`` deflates the body (only when that makes it
smaller, unless given twice) and ``--chunked`` sends it in chunks.
"""

from __future__ import annotations

import json
import mimetypes
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from transom.client._cli_items import ItemError, RequestItems
from transom.http.multipart import MultipartEncoder

__all__ = ["Body", "build_body"]

JSON_TYPE = "application/json"
JSON_ACCEPT = "application/json, */*;q=0.5"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
_MIXED = (
    "Request body (from stdin, --raw or a file) and request data (key=value) cannot be "
    "mixed. Pass --ignore-stdin to let key/value take priority."
)


@dataclass
class Body:
    """What to send: bytes or an iterable of bytes, and the headers describing it."""

    content: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    opened: list[IO[bytes]] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.content is not None


def build_body(items: RequestItems, args: Any, stdin: IO[bytes] | None) -> Body:
    """The body for these items and flags; ``stdin`` is None when it is not to be read."""
    raw = args.raw.encode() if args.raw is not None else None
    piped = stdin.read() if stdin is not None else b""
    if piped:
        if raw is not None:
            raise ItemError(_MIXED)
        raw = piped
    if raw is not None and items.has_data:
        raise ItemError(_MIXED)
    body = _from_source(items, args, raw)
    if body.present and args.compress:
        _compress(body, args.compress > 1)
    if body.present and args.chunked:
        body.content = _chunks(body.content)
        body.headers = [(k, v) for k, v in body.headers if k.lower() != "content-length"]
    return body


def _from_source(items: RequestItems, args: Any, raw: bytes | None) -> Body:
    json_headers = [("Accept", JSON_ACCEPT)] if args.json or not args.form else []
    if raw is not None:
        kind = FORM_TYPE if args.form else JSON_TYPE
        return Body(raw, [("Content-Type", kind), *json_headers])
    if items.body_file is not None:
        if items.data or items.files:
            raise ItemError("@file as the body cannot be combined with data fields")
        guessed = mimetypes.guess_type(items.body_file)[0]
        headers = [("Content-Type", guessed)] if guessed else []
        return Body(_read(items.body_file), headers)
    if items.files or args.multipart or args.boundary:
        return _multipart(items, args.boundary)
    if args.form:
        from transom.http.url import urlencode

        form = items.form()
        return Body(urlencode(form).encode() if form else None, [("Content-Type", FORM_TYPE)])
    if not items.data:
        return Body(None, [("Accept", JSON_ACCEPT)] if args.json else [])
    text = json.dumps(items.json(), ensure_ascii=False)
    return Body(text.encode(), [("Content-Type", JSON_TYPE), *json_headers])


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _multipart(items: RequestItems, boundary: str | None) -> Body:
    body = Body()
    files: list[tuple[str, Any]] = []
    for name, (filename, path, mime) in items.files:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller, through body.opened
        body.opened.append(handle)
        files.append((name, (filename, handle, mime) if mime else (filename, handle)))
    try:
        encoder = MultipartEncoder(items.form(), files, boundary=boundary)
    except ValueError as exc:
        raise ItemError(f"--boundary: {exc}") from None
    body.content = encoder
    body.headers = [("Content-Type", encoder.content_type)]
    if encoder.content_length is not None:
        body.headers.append(("Content-Length", str(encoder.content_length)))
    return body


def _whole(content: Any) -> bytes:
    return content if isinstance(content, bytes) else b"".join(content)


def _compress(body: Body, always: bool) -> None:
    data = _whole(body.content)
    packer = zlib.compressobj()
    deflated = packer.compress(data) + packer.flush()
    body.headers = [(k, v) for k, v in body.headers if k.lower() != "content-length"]
    if always or len(deflated) < len(data):
        body.content = deflated
        body.headers.append(("Content-Encoding", "deflate"))
    else:
        body.content = data


def _chunks(content: Any, size: int = 65536) -> Iterator[bytes]:
    if isinstance(content, bytes):
        for start in range(0, len(content), size):
            yield content[start : start + size]
    else:
        yield from content
