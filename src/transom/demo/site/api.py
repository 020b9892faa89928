"""The JSON API: ``/api/notes`` and ``/api/notes/{id}``, for API tokens.

Send ``Authorization: Bearer <token>`` (tokens come from ``/site/tokens``).
Errors are JSON ``{"detail": ...}``: 401 without valid credentials (with
``WWW-Authenticate``), 403 for ``?all=1`` without the ``admin`` role, 404
for a note that is missing or another user's (as on the site: a 403 would
tell that it exists), 422 for a body that is JSON but not a valid note
(``{"detail": ..., "errors": {field: message}}``).
"""

from __future__ import annotations

from typing import Any

from transom.demo.site.stores import notes_of
from transom.demo.site.validation import note_errors
from transom.demo.storage import Note
from transom.web import JSONResponse, Request, Response, Router
from transom.web.ratelimit import rate_limit

__all__ = ["router"]

router = Router(prefix="/api")
_CHALLENGE = 'Bearer realm="transom demo"'


def _per_user(request: Request) -> str | None:
    # Anonymous requests are refused with a 401 before any work: not counted.
    return f"user:{request.user.id}" if request.user.is_authenticated else None


rate_limit("300/minute", key=_per_user, name="api")(router)


def _error(status: int, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": _CHALLENGE} if status == 401 else None
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def _unauthorized() -> JSONResponse:
    return _error(401, "send an API token: Authorization: Bearer <token> (see /site/tokens)")


def _json(request: Request, note: Note) -> dict[str, Any]:
    attachment = note.attachment
    return {
        "id": note.id,
        "title": note.title,
        "body": note.body,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "url": str(request.url_for("api_note", note_id=note.id)),
        "attachment": None
        if attachment is None
        else {"filename": attachment.filename, "size": attachment.size},
    }


async def _note_fields(request: Request) -> tuple[str, str] | JSONResponse:
    """``title`` and ``body`` from the JSON body, or the 422 that says what is wrong."""
    data = await request.json()  # 400 when malformed, 415 when not JSON
    if not isinstance(data, dict):
        return _error(422, "send a JSON object", errors={"": "expected an object"})
    title, body = data.get("title"), data.get("body", "")
    errors = {}
    if not isinstance(title, str):
        errors["title"] = "a string is required"
    if not isinstance(body, str):
        errors["body"] = "must be a string"
    if errors or not isinstance(title, str) or not isinstance(body, str):
        return _error(422, "invalid note", errors=errors)
    errors = note_errors(title, body)
    if errors:
        return _error(422, "invalid note", errors=errors)
    return title.strip(), body


async def _own(request: Request, note_id: int) -> Note | JSONResponse:
    note = await notes_of(request).get(note_id)
    if note is None or note.user_id != request.user.id:  # another's note: 404, not 403
        return _error(404, f"no note {note_id}")
    return note


@router.get("/notes", name="api_notes")
async def list_notes(request: Request) -> Response:
    if not request.user.is_authenticated:
        return _unauthorized()
    if request.query_params.get("all") in ("1", "true"):
        if not request.user.has_role("admin"):
            return _error(403, "only an admin may list every user's notes")
        notes = await notes_of(request).list_all()
    else:
        notes = await notes_of(request).list_for(request.user.id)
    return JSONResponse({"notes": [_json(request, note) for note in notes]})


@router.post("/notes", name="api_create_note")
async def create_note(request: Request) -> Response:
    if not request.user.is_authenticated:
        return _unauthorized()
    fields = await _note_fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    note = await notes_of(request).create(request.user.id, *fields)
    body = _json(request, note)
    return JSONResponse(body, status_code=201, headers={"Location": body["url"]})


@router.get("/notes/{note_id:int}", name="api_note")
async def get_note(request: Request, note_id: int) -> Response:
    if not request.user.is_authenticated:
        return _unauthorized()
    note = await _own(request, note_id)
    return note if isinstance(note, JSONResponse) else JSONResponse(_json(request, note))


@router.put("/notes/{note_id:int}", name="api_replace_note")
async def replace_note(request: Request, note_id: int) -> Response:
    if not request.user.is_authenticated:
        return _unauthorized()
    note = await _own(request, note_id)
    if isinstance(note, JSONResponse):
        return note
    fields = await _note_fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    updated = await notes_of(request).update(note.id, *fields)
    if updated is None:
        return _error(404, f"no note {note_id}")
    return JSONResponse(_json(request, updated))


@router.delete("/notes/{note_id:int}", name="api_delete_note")
async def delete_note(request: Request, note_id: int) -> Response:
    if not request.user.is_authenticated:
        return _unauthorized()
    note = await _own(request, note_id)
    if isinstance(note, JSONResponse):
        return note
    await notes_of(request).delete(note.id)
    return Response(status_code=204)
