"""Logging set-up for ``transom run``: errors on stderr, the access log on stdout.

Embedding code that configures logging itself leaves ``ServerConfig.log_level``
at ``None`` and nothing here runs. Child processes started by ``spawn``
(the reloader's) start with no logging set up, so the server calls this again
in each of them.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


def configure_logging(level: str) -> None:
    """Handlers for the ``transom`` loggers at ``level`` ("info", "debug"...)."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for name, stream in (("transom", sys.stderr), ("transom.access", sys.stdout)):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(stream)
            handler.setFormatter(formatter)
            logger.addHandler(handler)
        logger.setLevel(level.upper())
    logging.getLogger("transom.access").propagate = False
