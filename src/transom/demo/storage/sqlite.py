"""``SQLiteNotesStore``: notes in a SQLite file, attachments as files beside it.

Theory of operation, as in Transom's SQLite stores: one connection per
process, opened on first use (a forked worker opens its own and leaves
the parent's alone), WAL so readers never wait for a writer,
``synchronous=NORMAL``, and a short ``busy_timeout`` so workers queue on
the write lock instead of failing. Every call is one indexed statement
run inline on the event loop: SQLite answers in microseconds, less than
a hand-off to a thread would cost. A lock serialises the connection
between event loops of different threads (a test client's, a server's).

Attachment bytes go to ``AttachmentFiles`` first and the row second; a
row that fails to be written takes its new file with it, and a file is
removed only after the row that named it has changed, so a crash leaves
at worst an unreferenced file, never a note without its file.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transom.demo.storage.files import AttachmentFiles
from transom.demo.storage.notes import Attachment, NewAttachment, Note
from transom.web.sessions import StoreUnavailable

__all__ = ["SQLiteNotesStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    attachment_name TEXT,
    attachment_type TEXT,
    attachment_size INTEGER,
    attachment_key TEXT
);
CREATE INDEX IF NOT EXISTS demo_notes_user ON demo_notes (user_id, id);
"""

_COLUMNS = (
    "SELECT id, user_id, title, body, created_at, updated_at,"
    " attachment_name, attachment_type, attachment_size, attachment_key FROM demo_notes"
)


def note_of(row: tuple[Any, ...]) -> Note:
    """A ``Note`` from a row of ``_COLUMNS`` (the PostgreSQL store's too)."""
    attachment = None if row[6] is None else Attachment(row[6], row[7], row[8], row[9])
    return Note(row[0], row[1], row[2], row[3], row[4], row[5], attachment)


class SQLiteNotesStore:
    """Notes in the SQLite file ``path``, attachments in ``files`` (a directory).

    >>> notes = SQLiteNotesStore("demo.db", AttachmentFiles("attachments"))

    The demo app closes it when its lifespan ends; a store garbage-collected
    unclosed closes its connection itself and issues a ``ResourceWarning``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        files: AttachmentFiles,
        *,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = os.fspath(path)
        self.files = files
        self.busy_timeout = busy_timeout
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._inherited: list[sqlite3.Connection] = []  # from before a fork: kept, never used

    def __del__(self) -> None:
        # A store dropped while open closes its connection here, then warns (the warning is
        # the same on every Python version; 3.13's own would name only the sqlite3 object).
        connection = getattr(self, "_connection", None)  # None: __init__ failed
        if connection is not None and self._pid == os.getpid():
            self._connection = None
            connection.close()
            warnings.warn(
                f"{self!r} was garbage-collected unclosed; call its close()"
                " (an App closes the stores it was given when its lifespan ends)",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )

    def __repr__(self) -> str:
        return f"SQLiteNotesStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        # A connection inherited through fork() is left alone (SQLite FAQ, "fork").
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        if self._connection is not None:  # the parent's: kept referenced, never used
            self._inherited.append(self._connection)
        self._connection, self._pid = connection, os.getpid()
        return connection

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._lock:
                yield self._connect()
        except sqlite3.DatabaseError as exc:  # locked, read-only, disk full, corrupt
            raise StoreUnavailable(f"SQLite notes store {self.path!r}: {exc}") from exc

    def _one(self, sql: str, params: tuple[Any, ...]) -> Note | None:
        with self._db() as db:
            row = db.execute(sql, params).fetchone()
        return None if row is None else note_of(row)

    def _all(self, sql: str, params: tuple[Any, ...]) -> builtins.list[Note]:
        with self._db() as db:
            return [note_of(row) for row in db.execute(sql, params)]

    async def _store(self, new: NewAttachment | None) -> tuple[Any, ...]:
        """Write ``new`` to a file; the four attachment columns (``None`` for none)."""
        if new is None:
            return (None, None, None, None)
        key = await self.files.write(new.data)
        return (new.filename, new.content_type, len(new.data), key)

    async def create(
        self, user_id: int, title: str, body: str, attachment: NewAttachment | None = None
    ) -> Note:
        stored = await self._store(attachment)
        now = time.time()
        try:
            note = self._one(
                "INSERT INTO demo_notes (user_id, title, body, created_at, updated_at,"
                " attachment_name, attachment_type, attachment_size, attachment_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (user_id, title, body, now, now, *stored),
            )
        except BaseException:
            if stored[3] is not None:
                self.files.remove(stored[3])
            raise
        if note is None:  # pragma: no cover - INSERT ... RETURNING gives one row
            raise RuntimeError("SQLite returned no row for the new note")
        return note

    async def get(self, note_id: int) -> Note | None:
        return self._one(_COLUMNS + " WHERE id = ?", (note_id,))

    async def list_for(self, user_id: int) -> builtins.list[Note]:
        return self._all(_COLUMNS + " WHERE user_id = ? ORDER BY id DESC", (user_id,))

    async def list_all(self) -> builtins.list[Note]:
        return self._all(_COLUMNS + " ORDER BY id DESC", ())

    async def update(
        self,
        note_id: int,
        title: str,
        body: str,
        attachment: NewAttachment | None = None,
        *,
        remove_attachment: bool = False,
    ) -> Note | None:
        old = await self.get(note_id)
        if old is None:
            return None
        replace = attachment is not None or remove_attachment
        stored = await self._store(attachment)
        sql = "UPDATE demo_notes SET title = ?, body = ?, updated_at = ?"
        params: tuple[Any, ...] = (title, body, time.time())
        if replace:
            sql += ", attachment_name = ?, attachment_type = ?, attachment_size = ?"
            sql += ", attachment_key = ?"
            params += stored
        try:
            note = self._one(sql + " WHERE id = ? RETURNING *", (*params, note_id))
        except BaseException:
            if stored[3] is not None:
                self.files.remove(stored[3])
            raise
        if replace and old.attachment is not None:
            self.files.remove(old.attachment.key)
        return note

    async def delete(self, note_id: int) -> bool:
        with self._db() as db:
            row = db.execute(
                "DELETE FROM demo_notes WHERE id = ? RETURNING attachment_key", (note_id,)
            ).fetchone()
        if row is None:
            return False
        if row[0] is not None:
            self.files.remove(row[0])
        return True

    async def counts(self) -> dict[int, int]:
        with self._db() as db:
            rows = db.execute("SELECT user_id, count(*) FROM demo_notes GROUP BY user_id")
            return {int(user_id): int(count) for user_id, count in rows}

    async def attachment_path(self, note: Note) -> Path | None:
        if note.attachment is None:
            return None
        return self.files.path(note.attachment.key)

    async def ping(self) -> None:
        with self._db() as db:
            db.execute("SELECT 1 FROM demo_notes LIMIT 0").fetchall()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            connection.close()
        elif connection is not None:
            self._inherited.append(connection)
