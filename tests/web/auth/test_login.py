"""login/logout through the App: fixation, replay after log-out, CSRF rotation, throttling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from transom.client import AsyncClient
from transom.testing import AsyncTestClient
from transom.web.auth import ANONYMOUS, LoginThrottle, SQLiteUserStore, User, authenticate
from transom.web.requests import Request
from transom.web.sessions import MemoryStore

from .apps import make_app

FORM = {"username": "alice", "password": "correct horse"}


@pytest.fixture
async def alice(sqlite_store: SQLiteUserStore) -> User:
    return await sqlite_store.create("Alice", "correct horse", roles=["editor"])


@pytest.fixture
async def client(sqlite_store: SQLiteUserStore, alice: User) -> AsyncIterator[AsyncClient]:
    async with AsyncTestClient(make_app(sqlite_store, csrf=False)) as client:
        yield client


async def _log_in(
    client: AsyncClient, url: str = "/login", data: dict[str, str] | None = None
) -> None:
    response = await client.post(url, data=data or FORM, follow_redirects=False)
    assert response.status_code == 303, response.text


async def test_login_sets_the_session_user(client: AsyncClient) -> None:
    assert (await client.get("/me")).json() == {"user": "", "auth": None, "in": False}
    await _log_in(client)
    assert (await client.get("/me")).json() == {"user": "Alice", "auth": "session", "in": True}


async def test_login_redirects_to_a_safe_next(client: AsyncClient) -> None:
    response = await client.post("/login?next=/private", data=FORM, follow_redirects=False)
    assert response.headers["location"] == "/private"
    response = await client.post("/login?next=//evil.example", data=FORM, follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_login_changes_the_session_id(client: AsyncClient) -> None:
    # An id planted before log-in (session fixation) must not be the one after it.
    await client.get("/token")  # makes a session
    before = client.cookies.get("session")
    assert before
    await _log_in(client)
    after = client.cookies.get("session")
    assert after and after != before


async def test_login_the_pre_login_cookie_is_not_logged_in(client: AsyncClient) -> None:
    await client.get("/token")
    planted = client.cookies.get("session")
    assert planted is not None
    await _log_in(client)
    client.cookies.set("session", planted, domain="testserver")
    assert (await client.get("/me")).json()["in"] is False


async def test_logout_makes_the_user_anonymous(client: AsyncClient) -> None:
    await _log_in(client)
    response = await client.post("/logout")
    assert response.json() == {"user": "", "auth": None}
    assert (await client.get("/me")).json()["in"] is False


async def test_logout_old_cookie_replayed_is_anonymous(client: AsyncClient) -> None:
    await _log_in(client)
    stolen = client.cookies.get("session")
    assert stolen is not None
    await client.post("/logout")
    client.cookies.clear()
    client.cookies.set("session", stolen, domain="testserver")
    assert (await client.get("/me")).json() == {"user": "", "auth": None, "in": False}


async def test_session_of_a_deleted_user_is_anonymous(
    client: AsyncClient, sqlite_store: SQLiteUserStore, alice: User
) -> None:
    await _log_in(client)
    await sqlite_store.delete(alice.id)
    assert (await client.get("/me")).json()["in"] is False
    assert (await client.get("/private", headers={"accept": "application/json"})).status_code == 401


async def test_password_change_ends_the_other_sessions(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    app = make_app(sqlite_store, csrf=False)
    async with AsyncTestClient(app) as phone, AsyncTestClient(app) as laptop:
        await _log_in(phone)
        await _log_in(laptop)
        assert (await phone.get("/me")).json()["in"] is True
        response = await laptop.post("/password", data={"password": "new battery", "keep": "1"})
        assert response.json() == {"changed": True}
        # The laptop logged in again as the user now is; the phone's session is over.
        assert (await laptop.get("/me")).json() == {"user": "Alice", "auth": "session", "in": True}
        assert (await phone.get("/me")).json() == {"user": "", "auth": None, "in": False}
        private = await phone.get("/private", headers={"accept": "application/json"})
        assert private.status_code == 401
        # Logging in with the old password fails; the new one works.
        old = await phone.post("/login", data=FORM, follow_redirects=False)
        assert old.headers["location"] == "/login?failed=1"
        await _log_in(phone, data={"username": "alice", "password": "new battery"})
        assert (await phone.get("/me")).json()["in"] is True


async def test_password_change_without_login_ends_every_session(
    client: AsyncClient, sqlite_store: SQLiteUserStore, alice: User
) -> None:
    await _log_in(client)
    response = await client.post("/password", data={"password": "new battery"})
    assert response.json() == {"changed": True}
    assert (await client.get("/me")).json()["in"] is False


async def test_session_without_a_stamp_is_anonymous(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    # A session that names the user but holds no stamp (made by hand, or
    # before stamps existed) proves nothing about the current password.
    from transom.web.auth import STAMP_KEY, Authenticator
    from transom.web.sessions import Session

    authenticator = Authenticator(sqlite_store)
    session = Session({"_user_id": alice.id, "cart": [1]}, session_id="s", created=1.0)
    request = Request({"type": "http", "headers": [], "session": session})
    assert await authenticator.resolve(request) == (ANONYMOUS, None)
    assert dict(session.to_dict()) == {}
    session = Session(
        {"_user_id": alice.id, STAMP_KEY: alice.session_stamp}, session_id="s", created=1.0
    )
    request = Request({"type": "http", "headers": [], "session": session})
    assert await authenticator.resolve(request) == (alice, "session")


async def test_login_rotates_the_csrf_token(sqlite_store: SQLiteUserStore, alice: User) -> None:
    async with AsyncTestClient(make_app(sqlite_store)) as client:
        old = (await client.get("/token")).json()["token"]
        response = await client.post(
            "/login", data=FORM, headers={"x-csrf-token": old}, follow_redirects=False
        )
        assert response.status_code == 303
        refused = await client.post("/change", headers={"x-csrf-token": old})
        assert refused.status_code == 403
        new = (await client.get("/token")).json()["token"]
        accepted = await client.post("/change", headers={"x-csrf-token": new})
        assert accepted.json() == {"changed": True}


async def test_login_by_another_user_drops_the_previous_data(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    from transom.web.auth import login
    from transom.web.sessions import Session

    bob = await sqlite_store.create("bob", "correct horse")
    session = Session({"_user_id": alice.id, "cart": [1]}, session_id="old", created=1.0)
    request = Request({"type": "http", "headers": [], "session": session})
    await login(request, bob)
    assert dict(session.to_dict()).get("cart") is None
    assert session["_user_id"] == bob.id
    assert session.previous_id == "old" and session.id is None
    assert request.user == bob and request.auth == "session"


async def test_login_refuses_a_non_user() -> None:
    from transom.web.auth import ANONYMOUS, login

    with pytest.raises(TypeError, match="User"):
        await login(Request({"type": "http", "headers": []}), ANONYMOUS)  # type: ignore[arg-type]


# -- throttling --------------------------------------------------------------


async def _fail(client: AsyncClient, username: str = "alice") -> int:
    data = {"username": username, "password": "wrong"}
    response = await client.post("/login", data=data, follow_redirects=False)
    return response.status_code


async def test_throttle_per_username_429_with_retry_after(client: AsyncClient) -> None:
    for _ in range(5):
        assert await _fail(client) == 303
    response = await client.post("/login", data=FORM, follow_redirects=False)
    assert response.status_code == 429
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= 900
    assert (await client.get("/me")).json()["in"] is False  # the right password did not count


async def test_throttle_counts_usernames_case_insensitively(client: AsyncClient) -> None:
    for name in ("alice", "ALICE", "Alice", "\uff41lice", " alice"):
        assert await _fail(client, name) == 303
    assert await _fail(client, "aLiCe") == 429


async def test_throttle_success_resets_the_username_counter(client: AsyncClient) -> None:
    for _ in range(4):
        assert await _fail(client) == 303
    await _log_in(client)
    for _ in range(5):
        assert await _fail(client) == 303
    assert await _fail(client) == 429


async def test_throttle_unknown_usernames_are_counted_too(client: AsyncClient) -> None:
    for _ in range(5):
        assert await _fail(client, "nobody") == 303
    assert await _fail(client, "nobody") == 429
    assert await _fail(client, "alice") == 303  # another name is not blocked


async def test_throttle_per_address(sqlite_store: SQLiteUserStore, alice: User) -> None:
    app = make_app(sqlite_store, csrf=False)
    app.state.login_throttle = LoginThrottle(per_username=None, per_address=3, window=60)
    async with AsyncTestClient(app) as client:
        for name in ("a", "b", "c"):
            assert await _fail(client, name) == 303
        response = await client.post("/login", data=FORM, follow_redirects=False)
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
    async with AsyncTestClient(app, client=("192.0.2.9", 4000)) as other:
        assert (await other.post("/login", data=FORM, follow_redirects=False)).status_code == 303


async def test_throttle_success_does_not_reset_the_address_counter(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    app = make_app(sqlite_store, csrf=False)
    app.state.login_throttle = LoginThrottle(per_username=None, per_address=2, window=60)
    async with AsyncTestClient(app) as client:
        assert await _fail(client, "x") == 303
        await _log_in(client)
        assert await _fail(client, "y") == 303
        assert await _fail(client, "z") == 429


@pytest.mark.parametrize(
    "options",
    [{"per_username": 0}, {"per_address": -1}, {"window": 0}, {"window": float("inf")}],
    ids=["zero-username", "negative-address", "zero-window", "infinite-window"],
)
def test_login_throttle_refuses_bad_settings(options: dict[str, float]) -> None:
    from transom.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError):
        LoginThrottle(**options)  # type: ignore[arg-type]


# -- authenticate() outside the App --------------------------------------------


class _App:
    """The parts of an App that authenticate() reads."""

    def __init__(self, users: object = None, counters: object = None) -> None:
        from transom.web.requests import State

        self.user_store = users
        self.counters = counters
        self.state = State()


def _request(app: object) -> Request:
    return Request({"type": "http", "headers": [], "app": app, "client": ("192.0.2.1", 1)})


async def test_authenticate_needs_a_user_store() -> None:
    from transom.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="user_store"):
        await authenticate(_request(_App(counters=MemoryStore())), "alice", "pw")


async def test_authenticate_needs_counters(sqlite_store: SQLiteUserStore) -> None:
    from transom.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="transom App"):
        await authenticate(_request(_App(sqlite_store)), "alice", "pw")


async def test_authenticate_explicit_throttle_and_store(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    from transom.exceptions import HTTPError

    request = _request(_App(counters=MemoryStore()))
    throttle = LoginThrottle(per_username=1, per_address=None, window=30)
    assert await authenticate(request, "alice", "x", users=sqlite_store, throttle=throttle) is None
    with pytest.raises(HTTPError) as raised:
        await authenticate(request, "alice", "correct horse", users=sqlite_store, throttle=throttle)
    assert raised.value.status_code == 429
    assert raised.value.headers == {"Retry-After": "30"}


async def test_authenticate_counts_invalid_usernames(
    sqlite_store: SQLiteUserStore, alice: User
) -> None:
    from transom.exceptions import HTTPError

    request = _request(_App(sqlite_store, MemoryStore()))
    request.app.state.login_throttle = LoginThrottle(per_username=2, per_address=None)
    for _ in range(2):
        assert await authenticate(request, "bad\x00name", "x") is None
    with pytest.raises(HTTPError):
        await authenticate(request, "bad\x00name", "x")
    assert await authenticate(request, "alice", "correct horse") == alice


async def test_throttle_with_counters_in_a_sqlite_store(
    sqlite_store: SQLiteUserStore, alice: User, tmp_path: Path
) -> None:
    # Counters live in the session store's backend: the SQLite one counts the same way.
    from transom.web.sessions import SQLiteStore

    sessions = SQLiteStore(tmp_path / "sessions.db")
    app = make_app(sqlite_store, csrf=False, session_store=sessions)
    app.state.login_throttle = LoginThrottle(per_username=2, per_address=3, window=60)
    async with AsyncTestClient(app) as client:
        assert await _fail(client) == 303
        assert await _fail(client) == 303
        assert await _fail(client) == 429
        assert await _fail(client, "bob") == 303
        assert await _fail(client, "carol") == 429  # the address's third failure was bob's
    await sessions.close()
