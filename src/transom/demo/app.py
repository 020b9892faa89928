"""``create_app``: the whole demo, put together from public Transom APIs.

>>> app = create_app(data_dir=Path(".transom-demo"))              # all in SQLite
>>> app = create_app(data_dir=d, database_url="postgresql://...",  # users and notes
...                  redis_url="redis://127.0.0.1:6379/0")         # sessions, counters

What is where:

- ``/``: the index; ``/get``, ``/post``...: the httpbin API
  (``transom.demo.httpbin``); ``/site/``: the notes site; ``/api/notes``:
  its JSON API; ``/ws/echo``: a WebSocket echo, and ``/site/live``, the page
  that talks to it; ``/static``: the stylesheet and the live page's script;
  ``/healthz``: the stores, each pinged (``App.add_health_check``), 200 or 503.
- Sessions and rate-limit counters: ``SQLiteStore(data_dir/"sessions.db")``,
  or ``RedisStore(redis_url)``.
- Users, roles and tokens; notes: ``data_dir/"demo.db"`` (SQLite), or the
  PostgreSQL database at ``database_url`` (``PostgresUserStore`` and
  ``PostgresNotesStore``). Attachment files: ``data_dir/"attachments"``
  (local copies of the database's, in PostgreSQL mode).
- The secret key: ``secret_key``, else the one in ``data_dir/"secret_key"``,
  made on first run (mode 0600), so sessions survive a restart and every
  worker signs with the same key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from transom.demo.httpbin import router as httpbin_router
from transom.demo.site import (
    accounts_router,
    admin_router,
    api_router,
    home_router,
    live_router,
    notes_router,
)
from transom.demo.storage import AttachmentFiles, NotesStore, SQLiteNotesStore
from transom.web import App, StaticFiles, Templates
from transom.web.auth import BearerAuth, PasswordHasher, SQLiteUserStore, UserStore
from transom.web.health import health_endpoint
from transom.web.sessions import SessionStore, SQLiteStore

__all__ = ["create_app"]

HERE = Path(__file__).resolve().parent


def secret_key_of(data_dir: Path) -> str:
    """The key in ``data_dir/secret_key``, made (mode 0600) if there is none yet."""
    path = data_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds no usable key; delete it to make a new one") from None
        return key
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _stores(
    data_dir: Path, database_url: str | None, hasher: PasswordHasher | None
) -> tuple[UserStore, NotesStore]:
    if database_url is None:
        users = SQLiteUserStore(data_dir / "demo.db", hasher=hasher)
        files = AttachmentFiles(data_dir / "attachments")
        return users, SQLiteNotesStore(data_dir / "demo.db", files)
    from transom.demo.storage import PostgresNotesStore
    from transom.web.auth import PostgresUserStore

    copies = AttachmentFiles(data_dir / "attachments")
    return (
        PostgresUserStore(database_url, hasher=hasher),
        PostgresNotesStore(database_url, copies),
    )


def create_app(
    *,
    data_dir: Path,
    database_url: str | None = None,
    redis_url: str | None = None,
    secret_key: str | None = None,
    debug: bool = False,
    password_hasher: PasswordHasher | None = None,
) -> App:
    """The demo app over the stores under ``data_dir`` (made if missing).

    ``password_hasher`` sets the argon2 parameters (tests pass cheap ones).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    session_store: SessionStore
    if redis_url is not None:
        from transom.web.sessions import RedisStore

        session_store = RedisStore(redis_url)
    else:
        session_store = SQLiteStore(data_dir / "sessions.db")
    users, notes = _stores(data_dir, database_url, password_hasher)

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        await notes.close()
        await users.close()
        await session_store.close()

    app = App(
        debug=debug,
        secret_key=secret_key if secret_key is not None else secret_key_of(data_dir),
        templates=Templates(HERE / "templates", debug=debug),
        session_store=session_store,
        user_store=users,
        auth_backends=[BearerAuth(users)],
        lifespan=lifespan,
    )
    app.state.session_store = session_store
    app.state.notes = notes
    app.state.login_route = "login"
    app.add_health_check("sessions", session_store)
    app.add_health_check("users", lambda: users.get_by_username("healthz"))
    app.add_health_check("notes", notes)
    app.add_route("/healthz", health_endpoint(key="stores"), name="healthz")
    app.mount("/static", StaticFiles(HERE / "static"), name="static")
    routers = (home_router, accounts_router, notes_router, admin_router, api_router, live_router)
    for router in routers:
        app.include(router)
    app.include(httpbin_router())
    return app
