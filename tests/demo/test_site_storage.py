"""Both notes stores on one suite: SQLite (files on disk) and PostgreSQL (bytes in the database)."""

from __future__ import annotations

import gc
import sqlite3
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transom.demo.storage import (
    AttachmentFiles,
    NewAttachment,
    NotesStore,
    PostgresNotesStore,
    SQLiteNotesStore,
)

from .test_site_support import pg_database_url  # noqa: F401 - a fixture


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NotesStore]:
    files = AttachmentFiles(tmp_path / "attachments")
    notes: NotesStore
    if request.param == "sqlite":
        notes = SQLiteNotesStore(tmp_path / "notes.db", files)
    else:
        notes = PostgresNotesStore(request.getfixturevalue("pg_database_url"), files)
    yield notes
    await notes.close()


def attachment(data: bytes, name: str = "a.txt") -> NewAttachment:
    return NewAttachment(name, "text/plain", data)


async def test_storage_create_get_list_update_delete(store: NotesStore) -> None:
    first = await store.create(1, "one", "body")
    second = await store.create(1, "two", "")
    await store.create(2, "theirs", "")
    assert await store.get(first.id) == first
    assert [n.title for n in await store.list_for(1)] == ["two", "one"]
    assert [n.title for n in await store.list_all()] == ["theirs", "two", "one"]
    assert await store.counts() == {1: 2, 2: 1}
    updated = await store.update(second.id, "deux", "corps")
    assert updated is not None and (updated.title, updated.body) == ("deux", "corps")
    assert updated.updated_at >= second.updated_at and updated.created_at == second.created_at
    assert await store.delete(first.id) is True
    assert await store.delete(first.id) is False
    assert await store.get(first.id) is None
    assert await store.update(first.id, "x", "y") is None
    await store.ping()


async def test_storage_attachment_kept_replaced_removed(store: NotesStore, tmp_path: Path) -> None:
    note = await store.create(1, "doc", "", attachment(b"first", "../x.txt"))
    assert note.attachment is not None
    assert (note.attachment.filename, note.attachment.size) == ("../x.txt", 5)
    path = await store.attachment_path(note)
    assert path is not None and path.read_bytes() == b"first"
    assert path.parent == tmp_path / "attachments"

    kept = await store.update(note.id, "doc", "edited")
    assert kept is not None and kept.attachment == note.attachment
    replaced = await store.update(note.id, "doc", "", attachment(b"second"))
    assert replaced is not None and replaced.attachment is not None
    new_path = await store.attachment_path(replaced)
    assert new_path is not None and new_path.read_bytes() == b"second"
    removed = await store.update(note.id, "doc", "", remove_attachment=True)
    assert removed is not None and removed.attachment is None
    assert await store.attachment_path(removed) is None
    assert await store.delete(note.id)


async def test_storage_sqlite_files_follow_their_notes(tmp_path: Path) -> None:
    folder = tmp_path / "attachments"
    store = SQLiteNotesStore(tmp_path / "notes.db", AttachmentFiles(folder))
    note = await store.create(1, "doc", "", attachment(b"data"))
    replaced = await store.update(note.id, "doc", "", attachment(b"new"))
    assert replaced is not None
    assert [p.read_bytes() for p in folder.iterdir()] == [b"new"]
    await store.delete(note.id)
    assert list(folder.iterdir()) == []
    await store.close()


async def test_storage_postgres_local_copy_is_named_by_content(
    tmp_path: Path,
    pg_database_url: str,  # noqa: F811 - the fixture
) -> None:
    files = AttachmentFiles(tmp_path / "copies")
    store = PostgresNotesStore(pg_database_url, files)
    note = await store.create(1, "doc", "", attachment(b"bytes"))
    assert note.attachment is not None
    assert not files.exists(note.attachment.key)  # copied on first download only
    path = await store.attachment_path(note)
    assert path is not None and path.name == note.attachment.key and len(path.name) == 64
    # A note read before its attachment was replaced gets no stale copy.
    await store.update(note.id, "doc", "", attachment(b"other"))
    path.unlink()
    assert await store.attachment_path(note) is None
    await store.close()


def test_storage_attachment_keys_cannot_name_other_paths(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path)
    for key in ("../secret_key", "A" * 32, "", "0" * 65, "/etc/passwd"):
        with pytest.raises(ValueError, match="not an attachment key"):
            files.path(key)


async def test_sqlite_notes_store_left_unclosed_closes_and_warns(tmp_path: Path) -> None:
    # The same on every Python version (3.13 warns on its own only for the sqlite3 object).
    store = SQLiteNotesStore(tmp_path / "n.db", AttachmentFiles(tmp_path / "files"))
    await store.ping()
    connection = store._connection
    assert connection is not None
    with pytest.warns(
        ResourceWarning, match=r"SQLiteNotesStore\(.*\) was garbage-collected unclosed"
    ):
        del store
        gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")
    closed = SQLiteNotesStore(tmp_path / "n.db", AttachmentFiles(tmp_path / "files"))
    await closed.ping()
    await closed.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del closed
        gc.collect()
