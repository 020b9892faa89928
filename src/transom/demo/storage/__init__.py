"""Notes and their attachments: the ``NotesStore`` protocol and its two stores.

- ``SQLiteNotesStore`` (the default): notes in a SQLite file, attachments
  as files under ``data_dir/attachments`` (``AttachmentFiles``).
- ``PostgresNotesStore`` (``--database-url``): notes and attachment bytes
  in PostgreSQL, so every instance sharing the database sees them; each
  instance keeps a local copy of a downloaded attachment, named by its
  SHA-256, to serve it with ``FileResponse`` (Range, conditional requests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transom.demo.storage.files import AttachmentFiles
from transom.demo.storage.notes import (
    MAX_ATTACHMENT_SIZE,
    Attachment,
    NewAttachment,
    Note,
    NotesStore,
)
from transom.demo.storage.sqlite import SQLiteNotesStore

if TYPE_CHECKING:
    from transom.demo.storage.postgres import PostgresNotesStore

__all__ = [
    "MAX_ATTACHMENT_SIZE",
    "Attachment",
    "AttachmentFiles",
    "NewAttachment",
    "Note",
    "NotesStore",
    "PostgresNotesStore",
    "SQLiteNotesStore",
]


def __getattr__(name: str) -> Any:
    # psycopg is loaded only by apps that keep notes in PostgreSQL.
    if name == "PostgresNotesStore":
        from transom.demo.storage.postgres import PostgresNotesStore

        return PostgresNotesStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
