"""What a note is, and what the site asks of a notes store.

A note belongs to one user (``user_id``, the id the user store gave).
Stores never check ownership: the site does, and answers 404 for a note
that is not the caller's.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["MAX_ATTACHMENT_SIZE", "Attachment", "NewAttachment", "Note", "NotesStore"]

#: The largest attachment a note may have, in bytes.
MAX_ATTACHMENT_SIZE = 5 * 2**20


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored attachment: the name it was uploaded under, never used as a path.

    ``key`` names the stored copy (a random name in SQLite mode, the
    content's SHA-256 in PostgreSQL mode).
    """

    filename: str
    content_type: str
    size: int
    key: str


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An uploaded file on its way into a store."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    user_id: int
    title: str
    body: str
    created_at: float
    updated_at: float
    attachment: Attachment | None = None


@runtime_checkable
class NotesStore(Protocol):
    """Notes and attachments; every method is a coroutine.

    ``update`` keeps the attachment unless given a new one or
    ``remove_attachment=True``; it returns ``None`` when the note is gone.
    ``attachment_path`` gives a local file holding the note's attachment
    (for ``FileResponse``), or ``None`` when it has none. A backend that is
    down raises ``StoreUnavailable``.
    """

    async def create(
        self, user_id: int, title: str, body: str, attachment: NewAttachment | None = None
    ) -> Note: ...

    async def get(self, note_id: int) -> Note | None: ...

    async def list_for(self, user_id: int) -> builtins.list[Note]: ...

    async def list_all(self) -> builtins.list[Note]: ...

    async def update(
        self,
        note_id: int,
        title: str,
        body: str,
        attachment: NewAttachment | None = None,
        *,
        remove_attachment: bool = False,
    ) -> Note | None: ...

    async def delete(self, note_id: int) -> bool: ...

    async def counts(self) -> dict[int, int]: ...

    async def attachment_path(self, note: Note) -> Path | None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
