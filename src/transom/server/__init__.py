"""The asyncio HTTP/1.1 server: runs any ASGI 3 application.

``serve(app, port=8000)`` blocks until SIGTERM/SIGINT; ``Server(config).serve()``
is the coroutine for embedding in a running loop.
"""

from __future__ import annotations

from transom.server.config import ServerConfig
from transom.server.runner import run, serve
from transom.server.server import Server

__all__ = ["Server", "ServerConfig", "run", "serve"]
