"""One route that reads and writes the session, per session store, and Starlette's equivalent.

``GET /session`` adds one to ``session["n"]`` and answers ``{"n": n}`` as
plain JSON, so every request loads the session, changes it and saves it.
The factories are for ``transom run --factory`` and ``uvicorn --factory``
(``--app-dir benchmarks/apps``); ``benchmarks/sessions_bench.py`` runs them:

- ``cookie_app``: ``CookieStore()``, the default (the data in a signed cookie);
- ``sqlite_app``: ``SQLiteStore($SESSION_DB)``;
- ``redis_app``: ``RedisStore($SESSION_REDIS_URL, prefix=$SESSION_REDIS_PREFIX)``;
- ``memory_app``: ``MemoryStore()``;
- ``starlette_app``: Starlette with ``SessionMiddleware`` (an itsdangerous
  signed cookie), the baseline.
"""

from __future__ import annotations

import os
from typing import Any

from transom import App, JSONResponse, Request
from transom.web.sessions import CookieStore, MemoryStore, SessionStore

SECRET_KEY = "bench-secret-key-0123456789abcdef"


def transom_app(store: SessionStore) -> App:
    app = App(secret_key=SECRET_KEY, session_store=store, csrf=False)

    @app.get("/session")
    async def counter(request: Request) -> JSONResponse:
        session = request.session
        n = session.get("n", 0) + 1
        session["n"] = n
        return JSONResponse({"n": n})

    return app


def cookie_app() -> App:
    return transom_app(CookieStore())


def sqlite_app() -> App:
    from transom.web.sessions import SQLiteStore

    return transom_app(SQLiteStore(os.environ["SESSION_DB"]))


def redis_app() -> App:
    from transom.web.sessions import RedisStore

    url = os.environ.get("SESSION_REDIS_URL", "redis://127.0.0.1:6379/0")
    return transom_app(RedisStore(url, prefix=os.environ["SESSION_REDIS_PREFIX"]))


def memory_app() -> App:
    return transom_app(MemoryStore())


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import JSONResponse as StarletteJSON
    from starlette.routing import Route

    async def counter(request: StarletteRequest) -> StarletteJSON:
        session = request.session
        n = session.get("n", 0) + 1
        session["n"] = n
        return StarletteJSON({"n": n})

    return Starlette(
        routes=[Route("/session", counter)],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET_KEY)],
    )
