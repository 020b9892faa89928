"""A small Transom app: pages, a JSON API, a form post and a file upload.

Run it with either server::

    transom run examples.app:app --reload
    uvicorn examples.app:app

Then open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import AsyncIterator

from transom import (
    App,
    HTMLResponse,
    HTTPError,
    RedirectResponse,
    Request,
    Router,
    StreamingResponse,
    UploadFile,
)

app = App()
app.state.notes = [{"id": 1, "title": "Read the docs"}]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Transom example</title></head>
<body>
<h1>Notes</h1>
<ul>{items}</ul>
<form method="post" action="{create}">
  <input name="title" placeholder="A new note" required> <button>Add</button>
</form>
<h2>Upload a file</h2>
<form method="post" action="{upload}" enctype="multipart/form-data">
  <input type="file" name="file" required> <button>Upload</button>
</form>
<p>JSON: <a href="{api}">{api}</a></p>
</body></html>
"""


def _notes(request: Request) -> list[dict[str, object]]:
    notes: list[dict[str, object]] = request.app.state.notes
    return notes


@app.get("/", name="index")
async def index(request: Request) -> HTMLResponse:
    items = "".join(
        f'<li><a href="{app.url_for("note", note_id=note["id"])}">'
        f"{html.escape(str(note['title']))}</a></li>"
        for note in _notes(request)
    )
    page = PAGE.format(
        items=items,
        create=app.url_for("create_note"),
        upload=app.url_for("upload"),
        api=app.url_for("list_notes"),
    )
    return HTMLResponse(page)


@app.post("/notes", name="create_note")
async def create_note(request: Request) -> RedirectResponse:
    form = await request.form()
    title = str(form.get("title", "")).strip()
    if not title:
        raise HTTPError(400, "a note needs a title")
    notes = _notes(request)
    notes.append({"id": len(notes) + 1, "title": title[:200]})
    return RedirectResponse(request.url_for("index"), status_code=303)


@app.get("/notes/{note_id:int}", name="note")
async def note(request: Request, note_id: int) -> str:
    for item in _notes(request):
        if item["id"] == note_id:
            return f"<h1>{html.escape(str(item['title']))}</h1>"
    raise HTTPError(404, f"no note {note_id}")


# Uploads may be larger than the 10 MiB default body limit.
@app.post("/upload", name="upload", max_body_size=100 * 1024 * 1024)
async def upload(request: Request) -> dict[str, object]:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise HTTPError(400, "send the file in a field named 'file'")
    digest = hashlib.sha256()
    while chunk := await file.read(64 * 1024):
        digest.update(chunk)
    return {"filename": file.filename, "size": file.size, "sha256": digest.hexdigest()}


@app.get("/count/{up_to:int}")
async def count(up_to: int) -> StreamingResponse:
    async def numbers() -> AsyncIterator[str]:
        for i in range(1, min(up_to, 1000) + 1):
            yield f"{i}\n"

    return StreamingResponse(numbers(), media_type="text/plain")


api = Router(prefix="/api")


@api.get("/notes", name="list_notes")
async def list_notes(request: Request) -> list[dict[str, object]]:
    return _notes(request)


@api.post("/notes", name="api_create_note")
async def api_create_note(request: Request) -> dict[str, object]:
    data = await request.json()
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise HTTPError(422, 'send {"title": "..."}')
    notes = _notes(request)
    note = {"id": len(notes) + 1, "title": data["title"][:200]}
    notes.append(note)
    return note


app.include(api)
