"""``transom http --ws URL``: a WebSocket session on the command line.

::

    transom http --ws :8000/ws/echo              type lines, see the answers
    echo hello | transom http ws://localhost:8000/ws/echo
    transom http --ws --subprotocol chat wss://example.org/chat Authorization:'Bearer x'

Each stdin line (without its line break) goes out as a text message; each
message received is printed: text as it is, binary as a short description
(``[binary message: 5 bytes]``). Header items and ``--auth`` apply to the
handshake, as do ``--verify``, ``--cert``, ``--proxy`` and ``--timeout``.

At the end of stdin a close (1000) goes out, what the server sends before
its close reply is printed, and the exit code is 0. A close from the server
ends the session too (its code on stderr; 0 for a normal close, else 1). A
refused handshake prints its status on stderr and exits with 3, 4 or 5 (for
a 3xx, 4xx or 5xx), as ``--check-status`` does for requests.

Stdin is read by a thread, so waiting for a line never delays a message
coming the other way (nor the first one's round trip).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from typing import IO, Any

from transom.client.client import AsyncClient
from transom.client.websocket import AsyncWebSocket
from transom.exceptions import WebSocketDisconnect, WebSocketHandshakeError

__all__ = ["run_websocket"]

_NORMAL = (1000, 1001, 1005)


def run_websocket(
    url: str,
    *,
    client_options: dict[str, Any],
    headers: list[tuple[str, str]],
    params: Any,
    subprotocols: list[str],
    stdin: IO[bytes] | None,
    stdout: IO[bytes],
) -> int:
    """Run one session; returns the exit code (see the module docstring)."""
    return asyncio.run(_session(url, client_options, headers, params, subprotocols, stdin, stdout))


async def _session(
    url: str,
    client_options: dict[str, Any],
    headers: list[tuple[str, str]],
    params: Any,
    subprotocols: list[str],
    stdin: IO[bytes] | None,
    stdout: IO[bytes],
) -> int:
    async with AsyncClient(**client_options) as client:
        try:
            async with client.websocket(
                url, headers=headers or None, params=params or None, subprotocols=subprotocols
            ) as ws:
                return await _exchange(ws, stdin, stdout)
        except WebSocketHandshakeError as exc:
            return _refused(exc)


async def _exchange(ws: AsyncWebSocket, stdin: IO[bytes] | None, stdout: IO[bytes]) -> int:
    lines: asyncio.Queue[bytes | None] = asyncio.Queue()
    if stdin is not None:
        _start_reader(stdin, lines, asyncio.get_running_loop())
    else:
        lines.put_nowait(None)
    printer = asyncio.create_task(_print_messages(ws, stdout))
    sender = asyncio.create_task(_send_lines(ws, lines))
    done, _ = await asyncio.wait({printer, sender}, return_when=asyncio.FIRST_COMPLETED)
    if sender in done:
        sender.result()  # a failure to send is the session's failure
        await ws.close()  # stdin ended: close, and print what comes before the reply
    else:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await sender
    code = await printer
    return code


async def _send_lines(ws: AsyncWebSocket, lines: asyncio.Queue[bytes | None]) -> None:
    while (line := await lines.get()) is not None:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        try:
            await ws.send_text(text)
        except WebSocketDisconnect:
            return


async def _print_messages(ws: AsyncWebSocket, stdout: IO[bytes]) -> int:
    while True:
        try:
            message = await ws.receive()
        except WebSocketDisconnect as exc:
            return _closed(exc, ws)
        if isinstance(message, str):
            stdout.write(message.encode("utf-8", "replace") + b"\n")
        else:
            stdout.write(f"[binary message: {len(message)} bytes]\n".encode("ascii"))
        stdout.flush()


def _closed(exc: WebSocketDisconnect, ws: AsyncWebSocket) -> int:
    if exc.code in _NORMAL:
        return 0
    reason = f": {exc.reason}" if exc.reason else ""
    sys.stderr.write(f"transom http: the WebSocket closed with code {exc.code}{reason}\n")
    return 1


def _refused(exc: WebSocketHandshakeError) -> int:
    status = exc.status_code
    sys.stderr.write(f"transom http: error: {exc}\n")
    return {3: 3, 4: 4, 5: 5}.get(status // 100, 1)


def _start_reader(
    stdin: IO[bytes], lines: asyncio.Queue[bytes | None], loop: asyncio.AbstractEventLoop
) -> None:
    """A daemon thread feeding stdin's lines to ``lines`` (None at the end).

    The thread reads a file object of its own on a duplicate of stdin's
    descriptor. When the session ends (the server closed) while it still waits
    for a line, the interpreter shuts down around it; had it been reading
    ``sys.stdin`` itself, closing that at shutdown would need the lock the
    thread holds, and CPython aborts the process ("could not acquire lock for
    <stdin> at interpreter shutdown").
    """
    try:
        source: IO[bytes] = open(os.dup(stdin.fileno()), "rb")  # noqa: SIM115  # the thread's
    except (OSError, ValueError):  # no descriptor (io.UnsupportedOperation is both)
        source = stdin

    def read() -> None:
        try:
            for line in iter(source.readline, b""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
        except (OSError, ValueError):
            pass
        finally:
            if source is not stdin:
                source.close()
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="transom-http-stdin", daemon=True).start()
