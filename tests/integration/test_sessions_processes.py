"""Server-side sessions across real server processes (``transom run``).

- two servers on one ``RedisStore``: a session written through one is read
  through the other;
- two servers on one ``RedisStore`` and one ``SQLiteUserStore`` file: a
  log-in on one is seen by the other, a log-out on the other ends it on both,
  and the logged-in cookie replayed afterwards is anonymous;
- ``SQLiteStore`` keeps a session across a server restart;
- ``--workers 2`` on one SQLite file: concurrent requests writing sessions,
  each request on a new connection so the workers take turns; no error, no
  lost write.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from tests.server.processes import ServerProcess
from transom.client import AsyncClient
from transom.web.auth import PasswordHasher, SQLiteUserStore

REDIS_URL = "redis://127.0.0.1:6379/0"

APP = """
import os
from transom import App, Request
from transom.web.sessions import RedisStore, SQLiteStore

app = App(secret_key="sessions-across-processes", session_store=STORE, csrf=False)


@app.get("/append/{value}")
async def append(request: Request, value: str):
    request.session["items"] = [*request.session.get("items", []), value]
    return {"pid": os.getpid()}


@app.get("/session")
async def show(request: Request):
    return {"pid": os.getpid(), "items": request.session.get("items", [])}
"""


# Sessions in Redis, users in one SQLite file; the log-in form is a bare token.
AUTH_APP = """
import os
from transom import App, RedirectResponse, Request
from transom.web.auth import PasswordHasher, SQLiteUserStore, authenticate, login, logout
from transom.web.csrf import csrf_token
from transom.web.sessions import RedisStore

users = SQLiteUserStore(USERS, hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
app = App(secret_key="auth-across-processes", session_store=STORE, user_store=users)


@app.get("/login")
async def login_page(request: Request):
    return {"csrf": csrf_token(request)}


@app.post("/login")
async def do_login(request: Request):
    form = await request.form()
    user = await authenticate(request, form["username"], form["password"])
    if user is None:
        return {"error": "wrong username or password"}
    await login(request, user)
    return RedirectResponse("/me", status_code=303)


@app.get("/me")
async def me(request: Request):
    user = request.user
    return {"pid": os.getpid(), "user": user.username if user.is_authenticated else None}


@app.post("/logout")
async def do_logout(request: Request):
    await logout(request)
    return RedirectResponse("/login", status_code=303)
"""

USERNAME = "alice"
PASSWORD = "correct horse battery staple"


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def write_app(directory: Path, store: str) -> str:
    (directory / "sessionapp.py").write_text(APP.replace("STORE", store))
    return "sessionapp:app"


async def start(directory: Path, *args: str, app: str = "sessionapp:app") -> ServerProcess:
    return await ServerProcess.start(directory, app, "--port", "0", "--no-access-log", *args)


async def stop(server: ServerProcess) -> None:
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


async def get_json(client: AsyncClient, port: int, path: str) -> Any:
    response = await client.get(f"http://127.0.0.1:{port}{path}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"transom-test:{secrets.token_hex(8)}:"
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    await client.ping()  # Redis down is a failure here, not a skip
    yield prefix
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_sessions_shared_by_two_servers_on_one_redis(
    tmp_path: Path, redis_prefix: str
) -> None:
    write_app(tmp_path, f"RedisStore({REDIS_URL!r}, prefix={redis_prefix!r})")
    first = await start(tmp_path)
    second = await start(tmp_path)
    try:
        async with AsyncClient(timeout=10) as client:  # one cookie jar for 127.0.0.1
            written = await get_json(client, first.port, "/append/one")
            read = await get_json(client, second.port, "/session")
            assert read["pid"] != written["pid"]
            assert read["items"] == ["one"]
            await get_json(client, second.port, "/append/two")
            assert (await get_json(client, first.port, "/session"))["items"] == ["one", "two"]
        await stop(first)
        await stop(second)
    finally:
        await first.stop()
        await second.stop()


async def create_user(path: Path) -> None:
    users = SQLiteUserStore(path, hasher=cheap_hasher())
    try:
        await users.create(USERNAME, PASSWORD)
    finally:
        await users.close()


async def token(client: AsyncClient, port: int) -> str:
    """A CSRF token for the browser's session, as a log-in page would render it."""
    value = (await get_json(client, port, "/login"))["csrf"]
    assert isinstance(value, str) and value
    return value


async def post_form(client: AsyncClient, port: int, path: str, **form: str) -> str:
    """POST a form with the page's token; the 303 target."""
    form["csrf_token"] = await token(client, port)
    response = await client.post(f"http://127.0.0.1:{port}{path}", data=form)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def user_of(port: int, cookie: str) -> Any:
    """``/me`` for a bare ``Cookie`` header, from a client with an empty jar."""
    async with AsyncClient(timeout=10, follow_redirects=False) as stranger:
        response = await stranger.get(f"http://127.0.0.1:{port}/me", headers={"cookie": cookie})
        assert response.status_code == 200, response.text
        return response.json()["user"]


def session_cookie(client: AsyncClient) -> str:
    """The browser's session cookie as a ``Cookie`` header value."""
    return f"session={client.cookies['session']}"


async def test_login_on_one_server_seen_by_another_sharing_redis_and_users(
    tmp_path: Path, redis_prefix: str
) -> None:
    users_db = tmp_path / "users.db"
    await create_user(users_db)
    store = f"RedisStore({REDIS_URL!r}, prefix={redis_prefix!r})"
    source = AUTH_APP.replace("STORE", store).replace("USERS", repr(str(users_db)))
    (tmp_path / "authapp.py").write_text(source)
    first = await start(tmp_path, app="authapp:app")
    second = await start(tmp_path, app="authapp:app")
    a, b = first.port, second.port
    try:
        # One browser: one cookie jar, host-only cookies for 127.0.0.1 that go
        # to both ports (cookies do not isolate by port, RFC 6265 §8.5).
        async with AsyncClient(timeout=10, follow_redirects=False) as browser:
            await token(browser, a)
            anonymous = session_cookie(browser)
            assert (await get_json(browser, b, "/me"))["user"] is None
            assert await post_form(browser, a, "/login", username=USERNAME, password=PASSWORD)
            logged_in = session_cookie(browser)
            assert logged_in != anonymous  # a new session id at log-in (no fixation)
            seen = await get_json(browser, b, "/me")
            assert seen["user"] == USERNAME
            assert seen["pid"] != (await get_json(browser, a, "/me"))["pid"]
            assert await user_of(b, logged_in) == USERNAME  # the cookie alone carries it
            assert await post_form(browser, b, "/logout") == "/login"
            assert browser.cookies.get("session") != logged_in.partition("=")[2]
            assert (await get_json(browser, a, "/me"))["user"] is None
        assert await user_of(a, logged_in) is None  # replayed after log-out
        assert await user_of(b, logged_in) is None
        await stop(first)
        await stop(second)
    finally:
        await first.stop()
        await second.stop()


async def test_sessions_in_sqlite_survive_server_restart(tmp_path: Path) -> None:
    write_app(tmp_path, f"SQLiteStore({str(tmp_path / 'sessions.db')!r})")
    async with AsyncClient(timeout=10) as client:
        server = await start(tmp_path)
        try:
            await get_json(client, server.port, "/append/kept")
            await stop(server)
        finally:
            await server.stop()
        server = await start(tmp_path)
        try:
            assert (await get_json(client, server.port, "/session"))["items"] == ["kept"]
            await stop(server)
        finally:
            await server.stop()


async def append_many(port: int, tag: str, count: int) -> tuple[list[str], set[int]]:
    """One browser: ``count`` writes to its session, each on a new connection."""
    pids: set[int] = set()
    close = {"connection": "close"}
    async with AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
        for n in range(count):
            response = await client.get(f"/append/{tag}{n}", headers=close)
            assert response.status_code == 200, response.text
            pids.add(response.json()["pid"])
        response = await client.get("/session", headers=close)
        assert response.status_code == 200, response.text
        return response.json()["items"], pids


async def test_sessions_in_sqlite_with_two_workers_writing_at_once(tmp_path: Path) -> None:
    write_app(tmp_path, f"SQLiteStore({str(tmp_path / 'sessions.db')!r})")
    server = await start(tmp_path, "--workers", "2")
    try:
        await server.wait_for_line("serving on")  # the second worker
        results = await asyncio.gather(*(append_many(server.port, f"c{c}-", 25) for c in range(8)))
        for c, (items, _) in enumerate(results):
            assert items == [f"c{c}-{n}" for n in range(25)]
        assert len(set().union(*(pids for _, pids in results))) == 2
        await stop(server)
    finally:
        await server.stop()
