"""requires(): redirect browsers, 401 API clients, 403 the logged-in without rights."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from transom.client import AsyncClient
from transom.exceptions import ConfigurationError
from transom.testing import AsyncTestClient
from transom.web.auth import SQLiteUserStore, requires

from .apps import make_app

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"accept": "application/json"}


@pytest.fixture
async def client(sqlite_store: SQLiteUserStore) -> AsyncIterator[AsyncClient]:
    await sqlite_store.create("admin", "correct horse", roles=["admin"])
    await sqlite_store.create("editor", "correct horse", roles=["editor"])
    await sqlite_store.create("plain", "correct horse")
    await sqlite_store.grant("editor", "notes.delete")
    async with AsyncTestClient(make_app(sqlite_store, csrf=False)) as client:
        yield client


async def _as(client: AsyncClient, username: str) -> None:
    form = {"username": username, "password": "correct horse"}
    response = await client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303


async def test_requires_html_redirects_to_login_with_next(client: AsyncClient) -> None:
    response = await client.get("/private?a=1&b=x%20y", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": ["/private?a=1&b=x%20y"]}


async def test_requires_next_round_trip_logs_in_and_returns(client: AsyncClient) -> None:
    response = await client.get("/private?a=1", headers=HTML, follow_redirects=False)
    login_url = response.headers["location"]
    form = {"username": "plain", "password": "correct horse"}
    response = await client.post(login_url, data=form, follow_redirects=False)
    assert response.headers["location"] == "/private?a=1"
    assert (await client.get("/private?a=1")).json() == {"private": "plain"}


async def test_requires_api_gets_401_with_challenge(client: AsyncClient) -> None:
    response = await client.get("/private", headers=JSON)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer realm=")
    assert "detail" in response.json()


async def test_requires_authorization_header_means_api(
    client: AsyncClient, sqlite_store: SQLiteUserStore
) -> None:
    admin = await sqlite_store.get_by_username("admin")
    assert admin is not None
    token_id, token = await sqlite_store.issue_token(admin)
    await sqlite_store.revoke_token(token_id)
    headers = {**HTML, "authorization": f"Bearer {token}"}
    response = await client.get("/private", headers=headers, follow_redirects=False)
    assert response.status_code == 401


async def test_requires_no_login_route_falls_back_to_401(client: AsyncClient) -> None:
    response = await client.get("/signin-only", headers=HTML, follow_redirects=False)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


async def test_requires_login_route_from_app_state(sqlite_store: SQLiteUserStore) -> None:
    app = make_app(sqlite_store, csrf=False)

    @app.get("/signin", name="signin")
    async def signin() -> str:
        return "sign in"

    app.state.login_route = "signin"
    async with AsyncTestClient(app) as client:
        response = await client.get("/private", headers=HTML, follow_redirects=False)
        assert urlsplit(response.headers["location"]).path == "/signin"
        response = await client.get("/signin-only", headers=HTML, follow_redirects=False)
        assert urlsplit(response.headers["location"]).path == "/signin"


async def test_requires_login_passes_any_user(client: AsyncClient) -> None:
    await _as(client, "plain")
    assert (await client.get("/private")).json() == {"private": "plain"}


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("admin", "/admin", 200),
        ("editor", "/admin", 403),
        ("plain", "/admin", 403),
        ("admin", "/staff", 200),
        ("editor", "/staff", 200),
        ("plain", "/staff", 403),
        ("editor", "/delete", 200),
        ("admin", "/delete", 403),
        ("plain", "/delete", 403),
        ("admin", "/reports/q1", 200),
        ("editor", "/reports/q1", 403),
    ],
)
async def test_requires_role_and_permission(
    client: AsyncClient, username: str, path: str, status: int
) -> None:
    await _as(client, username)
    response = await client.get(path, headers=JSON)
    assert response.status_code == status
    if status == 403:
        assert "detail" in response.json()


async def test_requires_403_is_html_for_browsers(client: AsyncClient) -> None:
    await _as(client, "plain")
    response = await client.get("/admin", headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")


async def test_requires_router_redirects_anonymous(client: AsyncClient) -> None:
    response = await client.get("/reports/q1", headers=HTML, follow_redirects=False)
    assert response.status_code == 303


async def test_requires_with_basic_credentials(client: AsyncClient) -> None:
    token = base64.b64encode(b"admin:correct horse").decode()
    response = await client.get("/admin", headers={"authorization": f"Basic {token}"})
    assert response.json() == {"admin": True}


async def test_requires_revoked_permission_is_403(
    client: AsyncClient, sqlite_store: SQLiteUserStore
) -> None:
    await _as(client, "editor")
    assert (await client.get("/delete", headers=JSON)).status_code == 200
    await sqlite_store.revoke("editor", "notes.delete")
    assert (await client.get("/delete", headers=JSON)).status_code == 403


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("admin",), {}), ((), {"role": ""}), ((), {"role": []}), ((), {"permission": [""]})],
    ids=["positional-role", "empty-role", "no-roles", "empty-permission"],
)
def test_requires_refuses_bad_arguments(args: tuple[str, ...], kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        requires(*args, **kwargs)  # type: ignore[arg-type]


def test_requires_returns_the_handler_itself() -> None:
    async def handler() -> None: ...

    assert requires("login")(handler) is handler
