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
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("server", choices=["aiohttp"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-deflate", action="store_true")
    options = parser.parse_args()
    run_aiohttp(options.port, not options.no_deflate)
