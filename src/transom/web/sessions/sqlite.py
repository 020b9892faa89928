"""``SQLiteStore``: server-side sessions and counters in one SQLite file.

The embedded default for server-side sessions: no server to run, shared by
every worker process of one machine, kept across restarts.

Theory of operation
-------------------
- **Inline calls.** Each method runs short statements on a primary-key
  or ``expires`` index directly on the event loop. A thread pool would cost
  more than the statement itself (a hop to a thread and back for a few
  microseconds of work), so there is none; the price is that a call waiting
  on another process's write lock blocks the loop for up to
  ``busy_timeout`` seconds, which is why that timeout is short.
- **Saves are batched.** A commit takes SQLite's locks and writes the WAL
  (most of a save's cost), so the ``save`` calls of one event-loop turn go
  into one transaction: each ``save`` queues its record and waits; the
  flush, scheduled once per turn, writes the queue in one ``BEGIN
  IMMEDIATE ... COMMIT`` and then wakes every waiter, with the error if the
  write failed. A ``save`` returns only once its record is committed, so a
  response never leaves before its session is stored, and another worker
  that gets the next request reads it. ``load`` and ``delete`` see queued
  records first, so a process always reads its own writes.
- **Several processes.** The file is in WAL mode (readers never wait for
  the writer; writers queue on SQLite's lock, waiting up to
  ``busy_timeout``). Each process opens its own connection at its first
  call, and none is used across ``fork``: ``transom.web._sqlite``, shared
  with ``SQLiteUserStore``, opens and sets up the connection.
- **Time.** Deadlines are wall-clock (``time.time()``) because several
  processes share them. A record whose deadline has passed is not returned;
  expired sessions and ended counter windows are deleted, one indexed
  ``DELETE`` per table, from within ``save``/``hit`` at most once per
  ``cleanup_interval`` seconds per process.
- **Counters** (``hit``) follow ``MemoryStore`` exactly: a fixed window that
  starts at the first hit after the previous one ended. One
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite >= 3.35) reads
  and updates a counter atomically, whatever other processes do.
- **Failures.** A missing directory is a set-up mistake
  (``ConfigurationError``); a locked, read-only or unreadable database is
  ``StoreUnavailable``, which the app answers with 503.

Tables: ``sessions(id TEXT PRIMARY KEY, record BLOB, expires REAL)`` and
``counters(key TEXT PRIMARY KEY, count INTEGER, window_end REAL)``, created
if missing; they may share a file with the application's own tables.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time

from transom.exceptions import ConfigurationError
from transom.web._sqlite import ProcessConnection, close_unclosed
from transom.web.sessions.store import SessionStore

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, record BLOB NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, window_end REAL NOT NULL);
CREATE INDEX IF NOT EXISTS counters_window_end ON counters (window_end);
"""

_LOAD = "SELECT record FROM sessions WHERE id = ? AND expires > ?"
_SAVE = (
    "INSERT INTO sessions (id, record, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires = excluded.expires"
)
_DELETE = "DELETE FROM sessions WHERE id = ?"

# A window that has ended starts again at this hit (count = cost); the SET
# expressions all read the row as it was before the update.
_HIT = (
    "INSERT INTO counters (key, count, window_end) VALUES (:key, :cost, :now + :window) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN window_end <= :now THEN :cost ELSE count + :cost END, "
    "window_end = CASE WHEN window_end <= :now THEN :now + :window ELSE window_end END "
    "RETURNING count, window_end"
)
_RESET = "DELETE FROM counters WHERE key = ?"
_CLEANUP_SESSIONS = "DELETE FROM sessions WHERE expires <= ?"
_CLEANUP_COUNTERS = "DELETE FROM counters WHERE window_end <= ?"


class SQLiteStore(SessionStore):
    """Sessions and rate-limit counters in a SQLite file, shared by worker processes.

    >>> app = App(secret_key=KEY, session_store=SQLiteStore("app.db"))

    Every call is one short indexed statement run inline on the event loop
    (no thread pool: that would cost more than the statement). Writers from
    several processes queue on SQLite's lock for at most ``busy_timeout``
    seconds, after which the call raises ``StoreUnavailable`` (the app
    answers 503). Expired rows are deleted at most every
    ``cleanup_interval`` seconds, from within ``save`` and ``hit``. The
    directory of ``path`` must exist; the file and tables are created.
    ``close()`` closes the connection (an ``App`` closes its store when its
    lifespan ends); a store garbage-collected unclosed closes it itself and
    issues a ``ResourceWarning`` naming the store.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        cleanup_interval: float = 300.0,
        busy_timeout: float = 5.0,
    ) -> None:
        if cleanup_interval < 0:
            raise ConfigurationError(
                f"cleanup_interval must be 0 or more seconds, not {cleanup_interval!r}"
            )
        if busy_timeout < 0:
            raise ConfigurationError(
                f"busy_timeout must be 0 or more seconds, not {busy_timeout!r}"
            )
        self.path = os.fspath(path)
        self.cleanup_interval = cleanup_interval
        self.busy_timeout = busy_timeout
        self._db = ProcessConnection(
            self.path, busy_timeout=busy_timeout, schema=_SCHEMA, what="SQLite session store"
        )
        # Saves of this event-loop turn, waiting for one commit (see the module docstring).
        self._queued: dict[str, tuple[bytes, float]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._next_cleanup = 0.0  # monotonic; 0: clean at the first write

    def __del__(self) -> None:
        db = getattr(self, "_db", None)  # None: __init__ failed before making it
        if db is not None:
            close_unclosed(self, db)  # a store dropped while open: close, and warn

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    async def load(self, session_id: str) -> bytes | None:
        now = time.time()
        queued = self._queued.get(session_id)
        if queued is not None:
            return queued[0] if queued[1] > now else None
        row = self._run(_LOAD, (session_id, now)).fetchone()
        return None if row is None else bytes(row[0])

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        loop = asyncio.get_running_loop()
        if not self._waiters:
            loop.call_soon(self._flush)
        self._queued[session_id] = (record, time.time() + ttl)
        waiter = loop.create_future()
        self._waiters.append(waiter)
        await waiter

    async def delete(self, session_id: str) -> None:
        self._queued.pop(session_id, None)
        self._run(_DELETE, (session_id,))

    def _flush(self) -> None:
        """Commit the queued saves in one transaction; wake their callers."""
        queued, self._queued = self._queued, {}
        waiters, self._waiters = self._waiters, []
        error: BaseException | None = None
        try:
            if queued:
                self._write(queued)
            self._maybe_clean_up()
        except BaseException as exc:  # every waiter gets it; nothing escapes into the loop
            error = exc
        for waiter in waiters:
            if waiter.done():  # its caller was cancelled
                continue
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    def _write(self, queued: dict[str, tuple[bytes, float]]) -> None:
        connection = self._db.get()
        rows = [(session_id, record, expires) for session_id, (record, expires) in queued.items()]
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(_SAVE, rows)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.DatabaseError as exc:  # locked, read-only, disk full, corrupt
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise self._db.unavailable(exc) from exc

    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        now = time.time()
        params = {"key": key, "cost": cost, "now": now, "window": window}
        ((count, window_end),) = self._run(_HIT, params).fetchall()
        self._maybe_clean_up()
        return int(count), float(window_end) - now

    async def reset(self, key: str) -> None:
        self._run(_RESET, (key,))

    async def ping(self) -> None:
        self._run("SELECT 1 FROM sessions LIMIT 0", ()).fetchall()

    async def close(self) -> None:
        """Close this process's connection; a later call opens a new one."""
        self._db.close()

    def clean_up(self) -> int:
        """Delete expired sessions and ended counter windows now; the number of sessions."""
        now = time.time()
        deleted = self._run(_CLEANUP_SESSIONS, (now,)).rowcount
        self._run(_CLEANUP_COUNTERS, (now,))
        self._next_cleanup = time.monotonic() + self.cleanup_interval
        return int(deleted)

    def _maybe_clean_up(self) -> None:
        if time.monotonic() >= self._next_cleanup:
            self.clean_up()

    def _run(self, sql: str, params: tuple[object, ...] | dict[str, object]) -> sqlite3.Cursor:
        connection = self._db.get()
        try:
            # The fetch that follows a SELECT or RETURNING cannot block: the
            # statement has stepped to its first row inside execute().
            return connection.execute(sql, params)
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.DatabaseError as exc:  # locked, read-only, disk full, corrupt
            raise self._db.unavailable(exc) from exc
