"""Log-in, roles, CSRF, tokens and throttling over a real server, as a browser and an API client.

One app with every piece on (SQLite sessions and users, templates, CSRF,
Bearer tokens) runs on transom's server; the transom client plays the
browser (its own cookie jar, no redirects followed) and the API client.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from transom import App, RedirectResponse, Request, flash, render
from transom.client import Client
from transom.web.auth import (
    BearerAuth,
    PasswordHasher,
    SQLiteUserStore,
    authenticate,
    login,
    logout,
    requires,
    safe_next,
)
from transom.web.sessions import SQLiteStore

from ..client.servers import ServerThread

KEY = "integration-key-0123456789abcdef"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

LOGIN_PAGE = """<!doctype html><title>Log in</title>
{% for category, message in get_flashed_messages(with_categories=true) %}<p class="{{ category }}">{{ message }}</p>{% endfor %}
<form method="post">{{ csrf_input() }}<input name="username" value="{{ username or '' }}"></form>
<p>{{ user.username if user.is_authenticated else "anonymous" }}</p>
"""  # noqa: E501 - one template line


def make_app(tmp: Path) -> tuple[App, SQLiteUserStore]:
    templates = tmp / "templates"
    templates.mkdir()
    (templates / "login.html").write_text(LOGIN_PAGE)
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    users = SQLiteUserStore(tmp / "app.db", hasher=hasher)
    app = App(
        secret_key=KEY,
        templates=templates,
        session_store=SQLiteStore(tmp / "app.db"),
        user_store=users,
        auth_backends=[BearerAuth(users)],
    )

    @app.get("/login", name="login")
    async def login_page(request: Request) -> Any:
        return render(request, "login.html")

    @app.post("/login")
    async def do_login(request: Request) -> Any:
        form = await request.form()
        user = await authenticate(request, str(form["username"]), str(form["password"]))
        if user is None:
            flash(request, "Wrong username or password", "error")
            return render(request, "login.html", status_code=400, username=form["username"])
        await login(request, user)
        target = safe_next(request, request.query_params.get("next"))
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def do_logout(request: Request) -> Any:
        await logout(request)
        return RedirectResponse("/login", status_code=303)

    @app.get("/me")
    async def me(request: Request) -> Any:
        user = request.user
        return {"user": user.username if user.is_authenticated else None, "auth": request.auth}

    @app.get("/admin")
    @requires(role="admin")
    async def admin(request: Request) -> Any:
        return {"admin": request.user.username}

    return app, users


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, SQLiteUserStore]]:
    app, users = make_app(tmp_path)
    asyncio.run(users.create("alice", "correct horse", roles=["admin"]))
    asyncio.run(users.create("bob", "battery staple"))
    server = ServerThread("transom", app)
    try:
        yield server.url, users
    finally:
        server.stop()


def browser(url: str) -> Client:
    return Client(base_url=url, follow_redirects=False)


def log_in(client: Client, username: str, password: str, next_: str = "") -> Any:
    page = client.get("/login")
    token = TOKEN.search(page.text)
    assert token is not None, page.text
    query = f"?next={next_}" if next_ else ""
    data = {"csrf_token": token.group(1), "username": username, "password": password}
    return client.post("/login" + query, data=data)


def session_of(client: Client) -> str:
    value = client.cookies.get("session")
    assert value
    return value


def test_login_over_a_real_server_changes_the_session_id(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        client.get("/login")
        before = session_of(client)
        response = log_in(client, "alice", "correct horse", next_="/me")
        assert response.status_code == 303
        assert response.headers["location"] == "/me"
        after = session_of(client)
        assert after != before  # no session fixation
        assert client.get("/me").json() == {"user": "alice", "auth": "session"}
    with browser(url) as replay:  # the id from before log-in is worth nothing now
        replay.cookies.set("session", before)
        assert replay.get("/me").json()["user"] is None


def test_login_form_without_its_token_is_refused(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        client.get("/login")
        response = client.post("/login", data={"username": "alice", "password": "correct horse"})
        assert response.status_code == 403
        assert "CSRF token missing" in response.text
        wrong = client.post(
            "/login", data={"username": "alice", "password": "x", "csrf_token": "forged"}
        )
        assert wrong.status_code == 403
        cross = client.post(
            "/login",
            data={"username": "alice", "password": "correct horse"},
            headers={"origin": "https://evil.example"},
        )
        assert cross.status_code == 403


def test_wrong_password_shows_the_flashed_message_once(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        response = log_in(client, "alice", "wrong")
        assert response.status_code == 400
        assert "Wrong username or password" in response.text
        assert "Wrong username" not in client.get("/login").text


@pytest.mark.parametrize(
    "target", ["//evil.example", "/%5Cevil.example", "https://evil.example", "%2F%2Fevil.example"]
)
def test_login_next_cannot_leave_the_site(site: tuple[str, Any], target: str) -> None:
    url, _ = site
    with browser(url) as client:
        response = log_in(client, "bob", "battery staple", next_=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_logout_makes_a_replayed_cookie_anonymous(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        log_in(client, "alice", "correct horse")
        logged_in = session_of(client)
        page = client.get("/login")
        assert "alice" in page.text
        token = TOKEN.search(page.text)
        assert token is not None
        assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
        assert client.get("/me").json()["user"] is None
    with browser(url) as replay:
        replay.cookies.set("session", logged_in)
        assert replay.get("/me").json()["user"] is None


def test_requires_role_over_a_real_server(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as anonymous:
        page = anonymous.get("/admin", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].endswith("/login?next=/admin")
        api = anonymous.get("/admin", headers={"accept": "application/json"})
        assert api.status_code == 401
        assert "www-authenticate" in api.headers
    with browser(url) as bob:
        log_in(bob, "bob", "battery staple")
        assert bob.get("/admin").status_code == 403
    with browser(url) as alice:
        log_in(alice, "alice", "correct horse")
        assert alice.get("/admin").json() == {"admin": "alice"}


def test_bearer_token_works_until_revoked(site: tuple[str, SQLiteUserStore]) -> None:
    url, users = site

    async def issue() -> tuple[str, str]:
        user = await users.get_by_username("alice")
        assert user is not None
        return await users.issue_token(user, name="ci")

    token_id, plaintext = asyncio.run(issue())
    with Client(base_url=url) as api:
        headers = {"authorization": f"Bearer {plaintext}"}
        assert api.get("/me", headers=headers).json() == {"user": "alice", "auth": "bearer"}
        asyncio.run(users.revoke_token(token_id))
        refused = api.get("/me", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")


def test_repeated_failures_are_throttled(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        statuses = [log_in(client, "alice", f"guess {n}").status_code for n in range(6)]
        assert statuses == [400] * 5 + [429]
        last = log_in(client, "alice", "correct horse")
        assert last.status_code == 429  # even the right password waits for the window
        assert int(last.headers["retry-after"]) > 0


def test_tampered_cookie_is_anonymous_not_an_error(site: tuple[str, Any]) -> None:
    url, _ = site
    with browser(url) as client:
        log_in(client, "alice", "correct horse")
        value = session_of(client)
    with browser(url) as forger:
        forger.cookies.set("session", value[:-4] + "AAAA")
        response = forger.get("/me")
        assert response.status_code == 200
        assert response.json()["user"] is None
