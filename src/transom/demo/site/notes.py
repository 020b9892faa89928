"""The notes pages: list, create, show, edit, delete, and the attachment download.

Every route needs a logged-in user; another user's note answers 404 (see
``stores.own_note``). A note form takes ``title``, ``body`` and an
optional ``attachment`` file (at most ``MAX_ATTACHMENT_SIZE``); a form
with mistakes comes back with messages and what was typed, status 400.
"""

from __future__ import annotations

from transom.demo.site.stores import notes_of, own_note
from transom.demo.site.validation import field, note_errors, upload_of
from transom.demo.storage import MAX_ATTACHMENT_SIZE, NewAttachment
from transom.exceptions import HTTPError
from transom.web import (
    FileResponse,
    FormData,
    RedirectResponse,
    Request,
    Response,
    Router,
    flash,
    render,
    safe_filename,
)
from transom.web.auth import requires

__all__ = ["router"]

router = Router(prefix="/site")
# The body limit leaves room for the form's other fields around the largest attachment.
_BODY_LIMIT = MAX_ATTACHMENT_SIZE + 256 * 1024
# Types a browser may be told; anything else is sent as application/octet-stream.
_SAFE_TYPES = frozenset(
    {"application/pdf", "image/gif", "image/jpeg", "image/png", "image/webp", "text/plain"}
)


_Read = tuple[FormData, dict[str, str], dict[str, str], NewAttachment | None]


async def _read_form(request: Request) -> _Read:
    """The note form, its values, its errors and the attachment it carries."""
    form: FormData = await request.form(max_files=1)
    values = {"title": field(form, "title"), "body": field(form, "body")}
    errors = note_errors(values["title"], values["body"])
    upload = upload_of(form, "attachment")
    if upload is None:
        return form, values, errors, None
    if upload.size is not None and upload.size > MAX_ATTACHMENT_SIZE:
        errors["attachment"] = f"An attachment has at most {MAX_ATTACHMENT_SIZE // 2**20} MiB."
        return form, values, errors, None
    data = await upload.read()
    content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip()
    return form, values, errors, NewAttachment(upload.filename or "attachment", content_type, data)


@router.get("/notes", name="notes")
@requires("login")
async def list_notes(request: Request) -> Response:
    notes = await notes_of(request).list_for(request.user.id)
    return render(request, "site/notes.html", notes=notes)


@router.get("/notes/new", name="new_note")
@requires("login")
async def new_note_page(request: Request) -> Response:
    return render(request, "site/note_form.html", note=None, values={}, errors={})


@router.post("/notes/new", name="create_note", max_body_size=_BODY_LIMIT)
@requires("login")
async def create_note(request: Request) -> Response:
    _, values, errors, attachment = await _read_form(request)
    if errors:
        return render(
            request, "site/note_form.html", status_code=400, note=None, values=values, errors=errors
        )
    note = await notes_of(request).create(
        request.user.id, values["title"].strip(), values["body"], attachment
    )
    flash(request, f"Note “{note.title}” created.", "success")
    return RedirectResponse(request.app.url_for("note", note_id=note.id), status_code=303)


@router.get("/notes/{note_id:int}", name="note")
@requires("login")
async def show_note(request: Request, note_id: int) -> Response:
    return render(request, "site/note.html", note=await own_note(request, note_id))


@router.get("/notes/{note_id:int}/edit", name="edit_note")
@requires("login")
async def edit_note_page(request: Request, note_id: int) -> Response:
    note = await own_note(request, note_id)
    values = {"title": note.title, "body": note.body}
    return render(request, "site/note_form.html", note=note, values=values, errors={})


@router.post("/notes/{note_id:int}/edit", name="save_note", max_body_size=_BODY_LIMIT)
@requires("login")
async def edit_note(request: Request, note_id: int) -> Response:
    note = await own_note(request, note_id)
    form, values, errors, attachment = await _read_form(request)
    if errors:
        return render(
            request, "site/note_form.html", status_code=400, note=note, values=values, errors=errors
        )
    updated = await notes_of(request).update(
        note.id,
        values["title"].strip(),
        values["body"],
        attachment,
        remove_attachment=field(form, "remove_attachment") == "on",
    )
    if updated is None:  # deleted meanwhile (in another tab)
        raise HTTPError(404, "no such note")
    flash(request, f"Note “{updated.title}” saved.", "success")
    return RedirectResponse(request.app.url_for("note", note_id=note.id), status_code=303)


@router.post("/notes/{note_id:int}/delete", name="delete_note")
@requires("login")
async def delete_note(request: Request, note_id: int) -> Response:
    note = await own_note(request, note_id)
    await notes_of(request).delete(note.id)
    flash(request, f"Note “{note.title}” deleted.", "info")
    return RedirectResponse(request.app.url_for("notes"), status_code=303)


@router.get("/notes/{note_id:int}/attachment", name="attachment")
@requires("login")
async def download(request: Request, note_id: int) -> Response:
    """The attachment, with Range and conditional requests (``FileResponse``).

    Always ``Content-Disposition: attachment`` under the uploaded name made
    safe, with ``nosniff`` and a sandbox policy: an uploaded HTML file is
    downloaded, never rendered on this origin.
    """
    note = await own_note(request, note_id)
    path = await notes_of(request).attachment_path(note)
    if note.attachment is None or path is None:
        raise HTTPError(404, "this note has no attachment")
    media_type = note.attachment.content_type
    return FileResponse(
        path,
        filename=safe_filename(note.attachment.filename),
        media_type=media_type if media_type in _SAFE_TYPES else "application/octet-stream",
        headers={
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
