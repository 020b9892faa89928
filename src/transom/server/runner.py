"""Run a server to completion: one process, ``workers`` processes, or reloading.

>>> serve("main:app", port=8000, workers=4)     # blocks; returns the exit code
"""

from __future__ import annotations

from typing import Any

from transom._types import ASGIApp
from transom.server.config import ServerConfig
from transom.server.logs import configure_logging

__all__ = ["run", "serve"]


def run(config: ServerConfig) -> int:
    """Serve ``config`` until SIGTERM/SIGINT; returns the process exit code.

    With ``config.log_level`` set, the ``transom`` loggers get handlers at
    that level; left at ``None``, logging is the embedding program's.
    """
    if config.log_level is not None:
        configure_logging(config.log_level)
    if config.reload:
        from transom.server.reload import Reloader

        return Reloader(config).run()
    if config.workers > 1:
        from transom.server.supervisor import Supervisor

        return Supervisor(config).run()
    from transom.server.server import Server

    return Server(config).run()


def serve(app: ASGIApp | str, **options: Any) -> int:
    """Serve an ASGI app (or ``"module:attr"``) with ``ServerConfig`` options.

    >>> import transom
    >>> transom.serve(app, host="0.0.0.0", port=8080, workers=2)
    """
    return run(ServerConfig(app, **options))
