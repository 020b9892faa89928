"""Authenticator with BearerAuth and BasicAuth, through the App."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from transom.client import AsyncClient
from transom.testing import AsyncTestClient
from transom.web.auth import Authenticator, BasicAuth, BearerAuth, SQLiteUserStore, User

from .apps import make_app


@pytest.fixture
async def alice(sqlite_store: SQLiteUserStore) -> User:
    return await sqlite_store.create("alice", "correct horse", roles=["admin"])


@pytest.fixture
async def client(sqlite_store: SQLiteUserStore, alice: User) -> AsyncIterator[AsyncClient]:
    async with AsyncTestClient(make_app(sqlite_store, csrf=False)) as client:
        yield client


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def test_bearer_good_token(
    client: AsyncClient, sqlite_store: SQLiteUserStore, alice: User
) -> None:
    _, token = await sqlite_store.issue_token(alice)
    response = await client.get("/me", headers={"authorization": f"Bearer {token}"})
    assert response.json() == {"user": "alice", "auth": "bearer", "in": True}


async def test_bearer_scheme_is_case_insensitive(
    client: AsyncClient, sqlite_store: SQLiteUserStore, alice: User
) -> None:
    _, token = await sqlite_store.issue_token(alice)
    response = await client.get("/me", headers={"authorization": f"bEaReR {token}"})
    assert response.json()["auth"] == "bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer tsm_" + "A" * 43, "Bearer nonsense", "Bearer "],
    ids=["unknown", "malformed", "empty"],
)
async def test_bearer_bad_token_is_401_invalid_token(client: AsyncClient, header: str) -> None:
    response = await client.get("/me", headers={"authorization": header})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    if header.strip() != "Bearer":
        assert 'error="invalid_token"' in challenge
    assert challenge.startswith("Bearer realm=")
    assert 'Basic realm="transom"' in challenge


async def test_bearer_revoked_token_is_401(
    client: AsyncClient, sqlite_store: SQLiteUserStore, alice: User
) -> None:
    token_id, token = await sqlite_store.issue_token(alice)
    assert (await client.get("/me", headers={"authorization": f"Bearer {token}"})).json()["in"]
    await sqlite_store.revoke_token(token_id)
    response = await client.get("/me", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_basic_good_credentials(client: AsyncClient) -> None:
    response = await client.get("/me", headers={"authorization": basic("ALICE", "correct horse")})
    assert response.json() == {"user": "alice", "auth": "basic", "in": True}


async def test_basic_password_with_a_colon(
    client: AsyncClient, sqlite_store: SQLiteUserStore
) -> None:
    await sqlite_store.create("bob", "pass:word")
    response = await client.get("/me", headers={"authorization": basic("bob", "pass:word")})
    assert response.json()["user"] == "bob"


@pytest.mark.parametrize(
    "header",
    [
        basic("alice", "wrong"),
        basic("nobody", "correct horse"),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic",
        "Digest username=alice",
        "tsm_only",
    ],
    ids=["wrong-password", "unknown-user", "not-base64", "no-colon", "not-utf8", "no-credentials",
         "unknown-scheme", "no-scheme"],
)  # fmt: skip
async def test_basic_or_unknown_bad_header_is_401(client: AsyncClient, header: str) -> None:
    response = await client.get("/me", headers={"authorization": header})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'Basic realm="transom", charset="UTF-8"' in challenge
    assert 'Bearer realm="transom"' in challenge


async def test_basic_failures_are_throttled(client: AsyncClient) -> None:
    for _ in range(5):
        response = await client.get("/me", headers={"authorization": basic("alice", "wrong")})
        assert response.status_code == 401
    response = await client.get("/me", headers={"authorization": basic("alice", "correct horse")})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


async def test_session_user_comes_before_the_header(
    client: AsyncClient, sqlite_store: SQLiteUserStore
) -> None:
    await sqlite_store.create("bob", "correct horse")
    await client.post("/login", data={"username": "alice", "password": "correct horse"})
    response = await client.get("/me", headers={"authorization": basic("bob", "correct horse")})
    assert response.json() == {"user": "alice", "auth": "session", "in": True}


async def test_no_backends_ignores_the_header(sqlite_store: SQLiteUserStore, alice: User) -> None:
    app = make_app(sqlite_store, csrf=False, auth_backends=[])
    async with AsyncTestClient(app) as client:
        response = await client.get("/me", headers={"authorization": "Whatever x"})
        assert response.json() == {"user": "", "auth": None, "in": False}


async def test_only_bearer_offered_challenges_only_bearer(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    app = make_app(sqlite_store, csrf=False, auth_backends=[BearerAuth(sqlite_store)])
    async with AsyncTestClient(app) as client:
        response = await client.get("/me", headers={"authorization": basic("alice", "x")})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="transom"'


def test_authenticator_challenges() -> None:
    users = SQLiteUserStore(":memory:")
    both = Authenticator(users, [BasicAuth(users, realm='a "b"'), BearerAuth(users)])
    assert both.challenges() == 'Basic realm="a \\"b\\"", charset="UTF-8", Bearer realm="transom"'
    assert Authenticator(users).challenges() == 'Bearer realm="transom"'
