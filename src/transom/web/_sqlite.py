"""What the SQLite stores of ``transom.web`` share: one connection per process, set up one way.

``SQLiteStore`` (sessions and counters) and ``SQLiteUserStore`` (users)
each keep a ``ProcessConnection``:

- **Opened at first use, in the process that uses it.** A connection is
  never used across ``fork``: one inherited from the parent is set aside
  untouched (closing it could disturb the parent's locks: SQLite FAQ,
  "fork"), and the child opens its own. A fork is noticed by the counter
  of ``transom.web._fork``, not by a ``getpid()`` per call.
- **Set up once per connection:** ``busy_timeout``, WAL (readers never
  wait for the writer), ``synchronous=NORMAL`` (a commit is durable once
  the WAL is checkpointed; a power cut may lose the last commits, never
  corrupt the file), foreign keys, then the store's schema. Switching a new
  file to WAL needs it to itself, and SQLite answers "locked" at once,
  without waiting, while another process opens it at the same moment (the
  workers of one server starting together): that step retries until
  ``busy_timeout``.
- **Set-up mistakes and failures are told apart.** A path that is a
  directory, or whose directory does not exist, is a ``ConfigurationError``
  at first use; a locked, read-only or unreadable database is
  ``StoreUnavailable`` (``unavailable()``), which an ``App`` answers with
  503, with a hint at the likely cause.
- **A store dropped while open** closes its connection in its ``__del__``
  (``close_unclosed``) and says so with a ``ResourceWarning``, the same on
  every Python version (3.13's own warning would name only the sqlite3
  object).
"""

from __future__ import annotations

import sqlite3
import time
import warnings
from pathlib import Path

from transom.exceptions import ConfigurationError, StoreUnavailable
from transom.web import _fork

__all__ = ["ProcessConnection", "close_unclosed"]


class ProcessConnection:
    """This process's connection to one store's SQLite file (see the module docstring).

    ``what`` names the store in messages (``"SQLite session store"``).
    """

    __slots__ = (
        "_connection",
        "_generation",
        "_inherited",
        "busy_timeout",
        "path",
        "schema",
        "what",
    )

    def __init__(self, path: str, *, busy_timeout: float, schema: str, what: str) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.schema = schema
        self.what = what
        self._connection: sqlite3.Connection | None = None
        self._generation = -1  # _fork.generation when the connection was opened
        self._inherited: list[sqlite3.Connection] = []  # from before a fork: kept, never used

    @property
    def is_open(self) -> bool:
        """Whether this process holds an open connection."""
        return self._connection is not None and self._generation == _fork.generation

    def get(self) -> sqlite3.Connection:
        """The connection, opened and set up on first use in this process."""
        connection = self._connection
        if connection is not None and self._generation == _fork.generation:
            return connection
        return self._connect()

    def close(self) -> None:
        """Close this process's connection; ``get`` opens a new one."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._generation == _fork.generation:
            connection.close()
        else:
            self._inherited.append(connection)

    def unavailable(self, exc: sqlite3.Error) -> StoreUnavailable:
        """``StoreUnavailable`` for an error of SQLite's, with a hint at the cause."""
        text = str(exc)
        hint = ""
        if "locked" in text or "busy" in text:
            hint = f" (another process held the write lock for over {self.busy_timeout} s)"
        elif "readonly" in text or "unable to open" in text:
            hint = " (check that the file and its directory are writable by this process)"
        return StoreUnavailable(f"{self.what} {self.path!r}: {exc}{hint}")

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:  # opened by the parent before fork()
            self._inherited.append(self._connection)
            self._connection = None
        self._check_directory()
        try:
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,  # SQLite's busy timeout, in seconds
                isolation_level=None,  # autocommit: every statement is its own transaction
                check_same_thread=False,  # one event loop uses it; the app may close it elsewhere
            )
        except sqlite3.OperationalError as exc:
            raise self.unavailable(exc) from exc
        try:
            self._set_up(connection)
        except sqlite3.DatabaseError as exc:  # locked, read-only, not a database
            connection.close()
            raise self.unavailable(exc) from exc
        self._connection, self._generation = connection, _fork.generation
        return connection

    def _set_up(self, connection: sqlite3.Connection) -> None:
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode = WAL")  # persists in the file
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.execute("PRAGMA foreign_keys = ON")
                connection.executescript(self.schema)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)

    def _check_directory(self) -> None:
        if self.path == ":memory:":
            return
        path = Path(self.path)
        if path.is_dir():
            raise ConfigurationError(
                f"{self.what} path {self.path!r} is a directory; give the path of a file in it"
            )
        if not path.parent.is_dir():
            raise ConfigurationError(
                f"{self.what}: the directory {str(path.parent)!r} of {self.path!r} does not "
                "exist; create it, or choose a path in an existing directory"
            )


def close_unclosed(store: object, connection: ProcessConnection) -> None:
    """For a store's ``__del__``: close its connection if this process opened it, and warn."""
    if not connection.is_open:
        return
    connection.close()
    warnings.warn(
        f"{store!r} was garbage-collected unclosed; call its close()"
        " (an App closes the stores it was given when its lifespan ends)",
        ResourceWarning,
        stacklevel=2,
        source=store,
    )
