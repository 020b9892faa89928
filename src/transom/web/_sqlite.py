"""What the SQLite stores of ``transom.web`` share: closing a store dropped while open.

``SQLiteStore`` (sessions) and ``SQLiteUserStore`` (users) each keep one
connection per process in ``_connection``, opened in the process whose id
is ``_pid``. A store garbage-collected while its connection is open closes
it here and says so with a ``ResourceWarning``, the same on every Python
version (3.13's own warning would name only the sqlite3 object). A
connection inherited through ``fork`` is left alone: closing it could
disturb the parent's locks.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["close_unclosed"]


def close_unclosed(store: Any) -> None:
    """For a store's ``__del__``: close its connection if this process opened it, and warn."""
    connection = getattr(store, "_connection", None)  # None: __init__ failed, or closed
    if connection is not None and store._pid == os.getpid():
        store._connection = None
        connection.close()
        warnings.warn(
            f"{store!r} was garbage-collected unclosed; call its close()"
            " (an App closes the stores it was given when its lifespan ends)",
            ResourceWarning,
            stacklevel=2,
            source=store,
        )
