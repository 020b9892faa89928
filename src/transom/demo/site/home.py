"""The index page at ``/`` (the API at a glance, a link to the site) and ``/healthz``.

``/healthz`` pings each store the demo depends on (sessions, users,
notes), each bounded by a timeout, and answers 200 when all answer, else
503; the JSON says which: ``{"status": "ok", "stores": {"sessions": "ok",
...}}``. A failure's details go to the log, not to the public response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from transom.web import JSONResponse, Request, Response, Router, render

__all__ = ["ENDPOINTS", "router"]

router = Router()
log = logging.getLogger("transom.demo")
PING_TIMEOUT = 2.0

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
]


@router.get("/", name="index")
async def index(request: Request) -> Response:
    return render(request, "index.html", endpoints=ENDPOINTS)


async def _check(name: str, ping: Callable[[], Awaitable[Any]]) -> str:
    try:
        await asyncio.wait_for(ping(), PING_TIMEOUT)
    except Exception as exc:  # any failure is a sick store; the log says which
        log.warning("healthz: the %s store failed: %r", name, exc)
        return "unavailable"
    return "ok"


@router.get("/healthz", name="healthz")
async def healthz(request: Request) -> Response:
    state = request.app.state
    users = request.app.user_store
    pings: dict[str, Callable[[], Awaitable[Any]]] = {
        "sessions": state.session_store.ping,
        "users": lambda: users.get_by_username("healthz"),
        "notes": state.notes.ping,
    }
    results = await asyncio.gather(*(_check(name, ping) for name, ping in pings.items()))
    stores = dict(zip(pings, results, strict=True))
    healthy = all(result == "ok" for result in results)
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "stores": stores},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
