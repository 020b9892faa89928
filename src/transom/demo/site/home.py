"""The index page at ``/``: the API at a glance, a link to the site.

``/healthz`` is set up by ``transom.demo.app.create_app`` with the app's
health checks (``App.add_health_check``).
"""

from __future__ import annotations

from transom.demo.site.live import MAX_MESSAGE_SIZE
from transom.web import Request, Response, Router, render

__all__ = ["ENDPOINTS", "router"]

router = Router()

#: What the index page lists: (method, path, what it does).
ENDPOINTS = [
    ("GET", "/get", "the request's args, headers, origin and URL, as JSON"),
    ("POST", "/post", "the same, with the form, files or JSON sent"),
    ("ANY", "/anything", "whatever you send, echoed back"),
    ("GET", "/headers", "the request headers"),
    ("GET", "/ip", "your address"),
    ("ANY", "/status/{codes}", "a status code (or a weighted choice: 200:1,500:3)"),
    ("GET", "/redirect/{n}", "n redirects, then /get"),
    ("GET", "/cookies", "the cookies sent; /cookies/set?name=value sets one"),
    ("GET", "/basic-auth/{user}/{passwd}", "HTTP Basic auth"),
    ("GET", "/bytes/{n}", "n random bytes; /stream/{n}, /range/{n}, /drip stream"),
    ("GET", "/delay/{n}", "an answer after n seconds (at most 10)"),
    ("GET", "/gzip", "a gzip-encoded answer; /deflate, /brotli too"),
    ("GET", "/openapi.json", "every httpbin endpoint, described"),
    ("GET", "/api/notes", "your notes (Authorization: Bearer <token>)"),
    ("POST", "/api/notes", 'a new note: {"title": ..., "body": ...}'),
    ("GET PUT DELETE", "/api/notes/{id}", "one note"),
    ("GET", "/healthz", "the stores' health"),
    (
        "WS",
        "/ws/echo",
        f"a WebSocket echoing text and binary messages (at most {MAX_MESSAGE_SIZE // 1024} KiB)",
    ),
]


@router.get("/", name="index")
async def index(request: Request) -> Response:
    return render(request, "index.html", endpoints=ENDPOINTS)
