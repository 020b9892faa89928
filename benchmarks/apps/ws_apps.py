"""WebSocket echo servers for ``benchmarks/websocket_bench.py``: the same behaviour on every server.

- ``echo``: a raw ASGI 3 app (it imports nothing from transom, so any ASGI
  server runs it: transom's own and uvicorn's websockets implementation).
  It accepts, then sends every message back as it came (text as text, bytes
  as bytes) until the client closes.
- ``framework``: the same echo written with the transom framework
  (``@app.websocket``), to show what the framework adds on top.
- ``python benchmarks/apps/ws_apps.py aiohttp --port N [--no-deflate]``:
  aiohttp's own server with the same echo (``web.WebSocketResponse``),
  on uvloop, without an access log.
- ``python benchmarks/apps/ws_apps.py floor --port N``: not a server but
  the bound on one connection's round trip: a thread per connection on a
  blocking socket that answers each frame with the least work (one ``recv``,
  one unmask, one ``send``; no event loop, no ``epoll_wait``, no
  extensions). No server can answer a round trip faster than the kernel
  carries it to this loop and back.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import socket
import threading
from typing import Any


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        text = message.get("text")
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def framework() -> Any:
    from transom import App, WebSocket

    app = App()

    @app.websocket("/")
    async def echo_route(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_bytes(message)

    return app


def run_aiohttp(port: int, deflate: bool) -> None:
    import asyncio

    import uvloop
    from aiohttp import WSMsgType, web

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=deflate, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def floor_connection(conn: socket.socket) -> None:
    """Handshake, then echo frames (unfragmented, unextended) until a close frame."""
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        key = b""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        recv, sendall = conn.recv, conn.sendall
        while True:
            while len(buffer) < 2 or len(buffer) < _frame_end(buffer):
                chunk = recv(1 << 20)
                if not chunk:
                    return
                buffer += chunk
            end = _frame_end(buffer)
            frame, buffer = buffer[:end], buffer[end:]
            opcode, length = frame[0] & 0x0F, frame[1] & 0x7F
            start = 2 + (2 if length == 126 else 8 if length == 127 else 0)
            mask = frame[start : start + 4]
            data = frame[start + 4 :]
            size = len(data)
            repeated = (mask * (size // 4 + 1))[:size]
            payload = (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
                size, "big"
            )
            if size < 126:
                header = bytes((0x80 | opcode, size))
            elif size < 65536:
                header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
            else:
                header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
            sendall(header + payload)
            if opcode == 8:
                return


def _frame_end(buffer: bytes) -> int:
    """Where the (masked) frame at the start of ``buffer`` ends; 2 if its header is short."""
    length = buffer[1] & 0x7F
    if length == 126:
        if len(buffer) < 4:
            return 4
        return 8 + int.from_bytes(buffer[2:4], "big")
    if length == 127:
        if len(buffer) < 10:
            return 10
        return 14 + int.from_bytes(buffer[2:10], "big")
    return 6 + length


def run_floor(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port), backlog=128)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=floor_connection, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("server", choices=["aiohttp", "floor"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-deflate", action="store_true")
    options = parser.parse_args()
    if options.server == "floor":
        run_floor(options.port)
    else:
        run_aiohttp(options.port, not options.no_deflate)
