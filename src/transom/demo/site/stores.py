"""The stores a handler needs, found on ``app.state`` (set by ``create_app``)."""

from __future__ import annotations

from typing import Any, cast

from transom.demo.storage import Note, NotesStore
from transom.exceptions import HTTPError
from transom.web import Request
from transom.web.auth import UserStore

__all__ = ["notes_of", "own_note", "users_of"]


def notes_of(request: Request) -> NotesStore:
    return cast(NotesStore, request.app.state.notes)


def users_of(request: Request) -> UserStore:
    users: Any = request.app.user_store
    return cast(UserStore, users)


async def own_note(request: Request, note_id: int) -> Note:
    """The caller's note ``note_id``; 404 when it is missing *or another user's*.

    404 and not 403 for another user's note: a 403 would confirm that a
    note with that id exists, and ids are sequential, so anyone could map
    who has how many notes. To the caller, a note that is not theirs does
    not exist (OWASP: "Insecure Direct Object Reference Prevention").
    """
    note = await notes_of(request).get(note_id)
    if note is None or note.user_id != request.user.id:
        raise HTTPError(404, "no such note")
    return note
