"""``PostgresNotesStore``: notes and attachment bytes in PostgreSQL (psycopg 3, async).

Why the bytes are in the database and not in the data directory: the
PostgreSQL mode is for several instances (on several machines) sharing
one database, with sessions in Redis. A file written to one instance's
disk would be missing on the others, so an attachment uploaded through
one instance could not be downloaded through the next. Attachments are
small (``MAX_ATTACHMENT_SIZE``), well within what ``bytea`` handles.

To serve a download with ``FileResponse`` (Range, ETag, 304/412), each
instance keeps a local copy under ``files``, named by the content's
SHA-256 and written on the first download. Content-addressed copies are
never stale: a changed attachment has another hash, so another name.

Connections: a small pool of autocommit ``AsyncConnection`` objects, at
most ``max_connections`` at once, opened on demand and bound to the
process and event loop that opened them (a forked worker or another loop
starts afresh). Tables are made on first use under an advisory lock.
``schema`` puts them in a PostgreSQL schema of their own.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transom.demo.storage.files import AttachmentFiles
from transom.demo.storage.notes import NewAttachment, Note
from transom.demo.storage.sqlite import note_of
from transom.exceptions import ConfigurationError
from transom.web.sessions import StoreUnavailable

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["PostgresNotesStore"]

_SCHEMA_LOCK = 0x6E_6F74_6573  # advisory lock id for table creation ("notes")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_notes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    attachment_name TEXT,
    attachment_type TEXT,
    attachment_size BIGINT,
    attachment_key TEXT
);
CREATE INDEX IF NOT EXISTS demo_notes_user ON demo_notes (user_id, id);
CREATE TABLE IF NOT EXISTS demo_attachments (
    note_id BIGINT PRIMARY KEY REFERENCES demo_notes(id) ON DELETE CASCADE,
    data BYTEA NOT NULL
);
"""

_COLUMNS = (
    "SELECT id, user_id, title, body, created_at, updated_at,"
    " attachment_name, attachment_type, attachment_size, attachment_key FROM demo_notes"
)
_INSERT = (
    "INSERT INTO demo_notes (user_id, title, body, created_at, updated_at,"
    " attachment_name, attachment_type, attachment_size, attachment_key)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " RETURNING id, user_id, title, body, created_at, updated_at,"
    " attachment_name, attachment_type, attachment_size, attachment_key"
)
_RETURNING = (
    " RETURNING id, user_id, title, body, created_at, updated_at,"
    " attachment_name, attachment_type, attachment_size, attachment_key"
)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "notes in PostgreSQL need psycopg 3: pip install 'transom[postgres]'"
        ) from exc
    return psycopg


def _columns(new: NewAttachment | None) -> tuple[Any, ...]:
    if new is None:
        return (None, None, None, None)
    digest = hashlib.sha256(new.data).hexdigest()
    return (new.filename, new.content_type, len(new.data), digest)


class PostgresNotesStore:
    """Notes in PostgreSQL at ``dsn``; local copies of attachments in ``files``.

    >>> notes = PostgresNotesStore("postgresql://app@db/app", AttachmentFiles("cache"))
    """

    def __init__(
        self,
        dsn: str,
        files: AttachmentFiles,
        *,
        schema: str | None = None,
        max_connections: int = 10,
    ) -> None:
        self._psycopg = _psycopg()
        if max_connections < 1:
            raise ConfigurationError("max_connections must be at least 1")
        self.dsn = dsn
        self.files = files
        self.schema = schema
        self._size = max_connections
        self._ready = False
        self._idle: list[AsyncConnection[Any]] = []
        self._owner: tuple[int, asyncio.AbstractEventLoop] | None = None
        self._slots = asyncio.Semaphore(max_connections)

    def __repr__(self) -> str:
        return f"PostgresNotesStore(schema={self.schema!r})"

    async def _open(self) -> AsyncConnection[Any]:
        psycopg = self._psycopg
        connection: AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True
        )
        if self.schema is not None:
            name = psycopg.sql.Identifier(self.schema)
            await connection.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            await connection.execute(psycopg.sql.SQL("SET search_path TO {}").format(name))
        if not self._ready:
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                await connection.execute(_SCHEMA)
            self._ready = True
        return connection

    def _check_owner(self) -> None:
        owner = (os.getpid(), asyncio.get_running_loop())
        if self._owner == owner:
            return
        if self._owner is not None and self._owner[0] == owner[0]:
            for connection in self._idle:  # another loop of this process: close, no loop needed
                connection.pgconn.finish()
        # A forked child leaves its parent's connections alone (closing would end them).
        self._idle = []
        self._slots = asyncio.Semaphore(self._size)
        self._owner = owner

    @asynccontextmanager
    async def _db(self) -> AsyncIterator[AsyncConnection[Any]]:
        self._check_owner()
        slots = self._slots
        try:
            async with slots:
                connection = self._idle.pop() if self._idle else await self._open()
                try:
                    yield connection
                except BaseException:
                    await connection.close()
                    raise
                if connection.closed or connection.info.transaction_status != 0:  # 0: idle
                    await connection.close()
                elif slots is self._slots:
                    self._idle.append(connection)
        except self._psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL notes store: {exc}") from exc

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Note | None:
        async with self._db() as db:
            row = await (await db.execute(sql, params)).fetchone()
        return None if row is None else note_of(row)

    async def _all(self, sql: str, params: tuple[Any, ...]) -> builtins.list[Note]:
        async with self._db() as db:
            rows = await (await db.execute(sql, params)).fetchall()
        return [note_of(row) for row in rows]

    async def create(
        self, user_id: int, title: str, body: str, attachment: NewAttachment | None = None
    ) -> Note:
        now = time.time()
        async with self._db() as db, db.transaction():
            cursor = await db.execute(
                _INSERT,
                (user_id, title, body, now, now, *_columns(attachment)),
            )
            row = await cursor.fetchone()
            if row is None:  # pragma: no cover - INSERT ... RETURNING gives one row
                raise RuntimeError("PostgreSQL returned no row for the new note")
            if attachment is not None:
                await db.execute(
                    "INSERT INTO demo_attachments (note_id, data) VALUES (%s, %s)",
                    (row[0], attachment.data),
                )
        return note_of(row)

    async def get(self, note_id: int) -> Note | None:
        return await self._one(_COLUMNS + " WHERE id = %s", (note_id,))

    async def list_for(self, user_id: int) -> builtins.list[Note]:
        return await self._all(_COLUMNS + " WHERE user_id = %s ORDER BY id DESC", (user_id,))

    async def list_all(self) -> builtins.list[Note]:
        return await self._all(_COLUMNS + " ORDER BY id DESC", ())

    async def update(
        self,
        note_id: int,
        title: str,
        body: str,
        attachment: NewAttachment | None = None,
        *,
        remove_attachment: bool = False,
    ) -> Note | None:
        sql = "UPDATE demo_notes SET title = %s, body = %s, updated_at = %s"
        params: tuple[Any, ...] = (title, body, time.time())
        replace = attachment is not None or remove_attachment
        if replace:
            sql += ", attachment_name = %s, attachment_type = %s, attachment_size = %s"
            sql += ", attachment_key = %s"
            params += _columns(attachment)
        async with self._db() as db, db.transaction():
            row = await (
                await db.execute(sql + " WHERE id = %s" + _RETURNING, (*params, note_id))
            ).fetchone()
            if row is None:
                return None
            if replace:
                await db.execute("DELETE FROM demo_attachments WHERE note_id = %s", (note_id,))
            if attachment is not None:
                await db.execute(
                    "INSERT INTO demo_attachments (note_id, data) VALUES (%s, %s)",
                    (note_id, attachment.data),
                )
        return note_of(row)

    async def delete(self, note_id: int) -> bool:
        async with self._db() as db:
            cursor = await db.execute("DELETE FROM demo_notes WHERE id = %s", (note_id,))
            return cursor.rowcount > 0

    async def counts(self) -> dict[int, int]:
        async with self._db() as db:
            cursor = await db.execute("SELECT user_id, count(*) FROM demo_notes GROUP BY user_id")
            return {int(user_id): int(count) for user_id, count in await cursor.fetchall()}

    async def attachment_path(self, note: Note) -> Path | None:
        if note.attachment is None:
            return None
        key = note.attachment.key
        if not self.files.exists(key):
            async with self._db() as db:
                cursor = await db.execute(
                    "SELECT data FROM demo_attachments WHERE note_id = %s", (note.id,)
                )
                row = await cursor.fetchone()
            data = None if row is None else bytes(row[0])
            # Deleted or replaced since the note was read: never cache other bytes under key.
            if data is None or hashlib.sha256(data).hexdigest() != key:
                return None
            await self.files.write(data, key)
        return self.files.path(key)

    async def ping(self) -> None:
        async with self._db() as db:
            await db.execute("SELECT 1 FROM demo_notes LIMIT 0")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        if self._owner is not None and self._owner[0] == os.getpid():
            for connection in idle:
                await connection.close()
