"""Sessions: ``request.session``, kept in a signed cookie or in a store.

>>> from transom.web.sessions import SQLiteStore
>>> app = App(secret_key=["new-key...", "old-key..."], session_store=SQLiteStore("app.db"))
>>> @app.post("/cart")
... async def add(request: Request):
...     request.session["cart"] = [*request.session.get("cart", []), 7]

Stores: ``CookieStore`` (the default: the data in a signed cookie),
``MemoryStore`` (one process, for development), ``SQLiteStore`` (the
embedded server-side store, shared by the workers of one machine) and
``RedisStore`` (shared by instances behind a load balancer). How a
session goes from the cookie to the handler and back is told in
``transom.web.sessions.manager``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from transom.exceptions import SessionTooLarge, StoreUnavailable
from transom.web.sessions.cookie import CookieStore
from transom.web.sessions.manager import SessionConfig, SessionManager
from transom.web.sessions.session import Session
from transom.web.sessions.store import MemoryStore, SessionStore

if TYPE_CHECKING:
    from transom.web.sessions.redis import RedisStore
    from transom.web.sessions.sqlite import SQLiteStore

__all__ = [
    "CookieStore",
    "MemoryStore",
    "RedisStore",
    "SQLiteStore",
    "Session",
    "SessionConfig",
    "SessionManager",
    "SessionStore",
    "SessionTooLarge",
    "StoreUnavailable",
]

# sqlite3 and redis are imported when their store is first named.
_LAZY = {"SQLiteStore": "transom.web.sessions.sqlite", "RedisStore": "transom.web.sessions.redis"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'transom.web.sessions' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
