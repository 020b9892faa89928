"""Dynamic data: ``/base64``, ``/bytes``, ``/stream-bytes``, ``/stream``, ``/range``, ``/drip``,
``/delay`` and ``/links``, with httpbin's limits.

Waits use ``asyncio.sleep`` and end when the client goes: ``/delay`` and
the initial delay of ``/drip`` look for a disconnect while they wait,
and the streams stop at their next ``await`` (``StreamingResponse``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import random
import re
from collections.abc import AsyncIterator
from typing import Any

from transom import Request, Response, StreamingResponse
from transom.demo.httpbin._common import (
    TEXT,
    BadInput,
    Registrar,
    as_float,
    as_int,
    get_dict,
    json_response,
    path_for,
    raw_response,
    redirect_response,
)

__all__ = ["MAX_BYTES", "MAX_DELAY", "add_routes", "sleep_unless_gone"]

MAX_BYTES = 100 * 1024  # /bytes, /stream-bytes and /range
MAX_DELAY = 10.0  # seconds: /delay, and the delay and duration of /drip and /range
MAX_DRIP_BYTES = 10 * 1024 * 1024
MAX_DRIP_WRITES = 10_000  # past this many bytes, /drip sends several per write
MAX_LINES = 100
MAX_LINKS = 200
_BASE64_HINT = "Incorrect Base64 data try: SFRUUEJJTiBpcyBhd2Vzb21l"
_OCTETS = "application/octet-stream"


async def sleep_unless_gone(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; ``False`` as soon as the client disconnects (checked every 50 ms).

    The body is read first: a disconnect can only be seen after it.
    """
    await request.body()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        if await request.is_disconnected():
            return False
        left = end - loop.time()
        if left <= 0:
            return True
        await asyncio.sleep(min(left, 0.05))


def _args(request: Request) -> dict[str, str]:
    """Query parameters by lower-cased name (httpbin reads them case-insensitively)."""
    return {key.lower(): value for key, value in reversed(request.query_params.multi_items())}


async def view_base64(request: Request, value: str) -> Response:
    try:
        text = base64.urlsafe_b64decode(value.encode("utf-8")).decode("utf-8")
    except (binascii.Error, ValueError):
        text = _BASE64_HINT
    return raw_response(text.encode("utf-8"))


def _random(args: dict[str, str]) -> random.Random | None:
    """A generator seeded by ``seed`` (the same bytes as httpbin's for that seed), or ``None``."""
    if "seed" not in args:
        return None
    return random.Random(as_int(args["seed"], "seed", 0))  # noqa: S311 - test data


def _random_bytes(generator: random.Random | None, n: int) -> bytes:
    if generator is None:
        return os.urandom(n)
    return bytes(generator.randint(0, 255) for _ in range(n))


async def view_bytes(request: Request, n: int) -> Response:
    n = min(n, MAX_BYTES)
    body = _random_bytes(_random(_args(request)), n)
    return raw_response(body, content_type=_OCTETS)


def _chunk_size(args: dict[str, str]) -> int:
    return max(1, as_int(args.get("chunk_size"), "chunk_size", 10 * 1024))


async def view_stream_bytes(request: Request, n: int) -> Response:
    n = min(n, MAX_BYTES)
    args = _args(request)
    generator = _random(args)
    chunk_size = _chunk_size(args)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, n, chunk_size):
            yield _random_bytes(generator, min(chunk_size, n - start))
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), headers={"Content-Type": _OCTETS})


async def view_stream(request: Request, n: int) -> Response:
    """``n`` lines (at most 100) of JSON, each the ``/get`` answer with an ``id``."""
    data: dict[str, Any] = await get_dict(request, "url", "args", "headers", "origin")
    n = min(n, MAX_LINES)

    async def lines() -> AsyncIterator[str]:
        for i in range(n):
            data["id"] = i
            yield json.dumps(data) + "\n"
            await asyncio.sleep(0)

    return StreamingResponse(lines(), headers={"Content-Type": "application/json"})


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def _requested_range(header: str | None, size: int) -> tuple[int, int]:
    """httpbin's reading of ``Range``: one range; none, or a malformed one, is the whole body."""
    first = last = None
    match = _RANGE.match(header or "")
    if match is not None:
        first = int(match[1]) if match[1] else None
        last = int(match[2]) if match[2] else None
    if first is None and last is None:
        return 0, size - 1
    if first is None:
        return max(0, size - (last or 0)), size - 1
    if last is None:
        return first, size - 1
    return first, last


async def view_range(request: Request, numbytes: int) -> Response:
    """``numbytes`` of ``abc...`` honouring one byte range; 416 outside, 404 past 100 KiB."""
    headers = {"ETag": f"range{numbytes}", "Accept-Ranges": "bytes"}
    if numbytes <= 0 or numbytes > MAX_BYTES:
        return raw_response(
            b"number of bytes must be in the range (0, 102400]",
            404,
            headers.items(),
            content_type=TEXT,
        )
    args = _args(request)
    chunk_size = _chunk_size(args)
    duration = min(as_float(args.get("duration"), "duration", 0.0), MAX_DELAY)
    if duration < 0:
        raise BadInput("duration must not be negative")
    pause_per_byte = duration / numbytes
    first, last = _requested_range(request.headers.get("range"), numbytes)
    if first > last or not (0 <= first < numbytes and 0 <= last < numbytes):
        headers["Content-Range"] = f"bytes */{numbytes}"
        return raw_response(status_code=416, headers=headers.items(), content_type=TEXT)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(first, last + 1, chunk_size):
            end = min(start + chunk_size, last + 1)
            if pause_per_byte:
                await asyncio.sleep(pause_per_byte * (end - start))
            yield bytes(97 + i % 26 for i in range(start, end))

    status = 200 if (first, last) == (0, numbytes - 1) else 206
    headers.update(
        {
            "Content-Type": _OCTETS,
            "Content-Length": str(last + 1 - first),
            "Content-Range": f"bytes {first}-{last}/{numbytes}",
        }
    )
    return StreamingResponse(chunks(), status_code=status, headers=headers)


async def view_drip(request: Request) -> Response:
    """``numbytes`` asterisks spread over ``duration`` seconds, after ``delay``, with ``code``."""
    args = _args(request)
    duration = as_float(args.get("duration"), "duration", 2.0)
    numbytes = min(as_int(args.get("numbytes"), "numbytes", 10), MAX_DRIP_BYTES)
    code = as_int(args.get("code"), "code", 200)
    delay = as_float(args.get("delay"), "delay", 0.0)
    if numbytes <= 0:
        return raw_response(b"number of bytes must be positive", 400, content_type=TEXT)
    if not 200 <= code <= 599:
        raise BadInput(f"code must be an HTTP status from 200 to 599, not {code}")
    if duration < 0 or delay < 0:
        raise BadInput("duration and delay must not be negative")
    duration, delay = min(duration, MAX_DELAY), min(delay, MAX_DELAY)
    if delay > 0 and not await sleep_unless_gone(request, delay):
        return Response(status_code=code)  # nobody is listening
    writes = min(numbytes, MAX_DRIP_WRITES)
    pause = duration / writes

    async def drip() -> AsyncIterator[bytes]:
        sent = 0
        for i in range(writes):
            size = (i + 1) * numbytes // writes - sent
            sent += size
            yield b"*" * size
            await asyncio.sleep(pause)

    headers = {"Content-Type": _OCTETS, "Content-Length": str(numbytes)}
    return StreamingResponse(drip(), status_code=code, headers=headers)


async def view_delay(request: Request, delay: str) -> Response:
    """The request as ``/post`` shows it, after ``delay`` seconds (at most 10)."""
    seconds = as_float(delay, "delay", 0.0)
    if seconds < 0:
        raise BadInput("delay must not be negative")
    data = await get_dict(request, "url", "args", "form", "data", "origin", "headers", "files")
    if not await sleep_unless_gone(request, min(seconds, MAX_DELAY)):
        return Response(status_code=200)  # nobody is listening
    return json_response(data)


async def view_links(request: Request, n: int, offset: int) -> Response:
    """A page of ``n`` links (at most 200) to the pages of its set; ``offset`` is no link."""
    n = min(max(1, n), MAX_LINKS)
    parts = ["<html><head><title>Links</title></head><body>"]
    for i in range(n):
        if i == offset:
            parts.append(f"{i} ")
        else:
            parts.append(f"<a href='{path_for(request, f'/links/{n}/{i}')}'>{i}</a> ")
    parts.append("</body></html>")
    return raw_response("".join(parts).encode("utf-8"))


async def view_links_start(request: Request, n: int) -> Response:
    return redirect_response(request, path_for(request, f"/links/{n}/0"))


def add_routes(add: Registrar) -> None:
    any_method = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")
    add("/base64/{value}", view_base64, name="httpbin_base64")
    add("/bytes/{n:int}", view_bytes, name="httpbin_bytes")
    add("/stream-bytes/{n:int}", view_stream_bytes, name="httpbin_stream_bytes")
    add("/stream/{n:int}", view_stream, name="httpbin_stream")
    add("/range/{numbytes:int}", view_range, name="httpbin_range")
    add("/drip", view_drip, name="httpbin_drip")
    add("/delay/{delay}", view_delay, any_method, name="httpbin_delay")
    add("/links/{n:int}", view_links_start, name="httpbin_links_start")
    add("/links/{n:int}/{offset:int}", view_links, name="httpbin_links")
