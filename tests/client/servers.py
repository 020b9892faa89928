"""Servers the client tests talk to, each in a thread of its own on 127.0.0.1:0.

- ``ServerThread("uvicorn" | "transom")`` runs ``testapp.app`` on a real server;
- ``RawServer(handler)`` runs ``asyncio.start_server`` with a handler coroutine
  writing whatever bytes a test wants (broken responses, HTTP/1.0, proxies).

Threads, not the test's loop, so the same servers serve ``Client`` (blocking)
and ``AsyncClient`` tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class ServerThread:
    """A real HTTP server (uvicorn or transom's) running ``app``."""

    def __init__(self, kind: str, app: Any, **options: Any) -> None:
        self.kind = kind
        self._loop = _LoopThread()
        self._server: Any = None
        self._task: Any = None
        self.port = self._loop.call(self._start(app, options))
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self, app: Any, options: dict[str, Any]) -> int:
        if self.kind == "uvicorn":
            import uvicorn

            config = uvicorn.Config(
                app, host="127.0.0.1", port=0, log_level="error", lifespan="off", **options
            )
            self._server = uvicorn.Server(config)
            self._task = asyncio.create_task(self._server.serve())
            while not self._server.started:
                await asyncio.sleep(0.01)
                if self._task.done():
                    self._task.result()
            return int(self._server.servers[0].sockets[0].getsockname()[1])
        from transom.server import Server, ServerConfig

        self._server = Server(ServerConfig(app, port=0, access_log=False, **options))
        self._task = asyncio.create_task(self._server.serve())
        await asyncio.wait_for(self._server.started.wait(), 10)
        return int(self._server.port)

    async def _shutdown(self) -> None:
        if self.kind == "uvicorn":
            self._server.should_exit = True
        else:
            self._server.request_shutdown()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 10)

    def stop(self) -> None:
        self._loop.call(self._shutdown())
        self._loop.stop()


class RawServer:
    """``asyncio.start_server(handler)`` on 127.0.0.1:0, in a thread."""

    def __init__(self, handler: Handler, *, ssl: Any = None, host: str = "127.0.0.1") -> None:
        self._loop = _LoopThread()
        self.connections = 0
        self._handler = handler
        self._server = self._loop.call(self._start(ssl, host))
        self.port = int(self._server.sockets[0].getsockname()[1])
        netloc = f"[{host}]" if ":" in host else host
        self.url = f"http://{netloc}:{self.port}"

    async def _start(self, ssl: Any, host: str) -> asyncio.AbstractServer:
        return await asyncio.start_server(self._handle, host, 0, ssl=ssl)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _close(self) -> None:
        self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    def stop(self) -> None:
        self._loop.call(self._close())
        self._loop.stop()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """One request head (up to the blank line)."""
    return await reader.readuntil(b"\r\n\r\n")


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request: its head and its Content-Length body."""
    head = await read_head(reader)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return head, body
