"""The session manager through an App: cookies in, request.session, cookies out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from transom import App, Request
from transom.exceptions import ConfigurationError, SessionTooLarge, StoreUnavailable
from transom.testing import TestClient
from transom.web.sessions import CookieStore, MemoryStore, SessionConfig, SessionStore
from transom.web.sessions import manager as manager_module
from transom.web.signing import Signer

KEY = "test-key-0123456789abcdef"
OLD_KEY = "old-key-0123456789abcdef"


class Clock:
    """Stands in for the ``time`` module inside the manager."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(manager_module, "time", fake)
    yield fake


def make_app(store: SessionStore | None = None, **kwargs: Any) -> App:
    app = App(secret_key=kwargs.pop("secret_key", KEY), session_store=store, csrf=False, **kwargs)

    @app.get("/get")
    async def get(request: Request) -> Any:
        return dict(request.session)

    @app.get("/set/{key}/{value}")
    async def set_(request: Request, key: str, value: str) -> Any:
        request.session[key] = value
        return dict(request.session)

    @app.get("/clear")
    async def clear(request: Request) -> Any:
        request.session.clear()
        return {}

    @app.get("/regenerate")
    async def regenerate(request: Request) -> Any:
        request.session.regenerate()
        return dict(request.session)

    @app.get("/untouched")
    async def untouched() -> str:
        return "ok"

    return app


STORES = [
    pytest.param(CookieStore, id="cookie"),
    pytest.param(MemoryStore, id="memory"),
]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> SessionStore:
    made: SessionStore = request.param()
    return made


def session_cookie(response: Any) -> str:
    header: str = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


def test_session_kept_across_requests(store: SessionStore) -> None:
    client = TestClient(make_app(store))
    client.get("/set/a/1")
    client.get("/set/b/2")
    assert client.get("/get").json() == {"a": "1", "b": "2"}


def test_session_cookie_is_httponly_lax_with_path_and_max_age(store: SessionStore) -> None:
    response = TestClient(make_app(store)).get("/set/a/1")
    header = response.headers["set-cookie"]
    assert "; HttpOnly" in header
    assert "; SameSite=Lax" in header
    assert "; Path=/" in header
    assert f"; Max-Age={14 * 24 * 3600}" in header
    assert "Secure" not in header


def test_session_cookie_secure_on_https(store: SessionStore) -> None:
    response = TestClient(make_app(store), base_url="https://testserver").get("/set/a/1")
    assert "; Secure" in response.headers["set-cookie"]


def test_session_cookie_settings_applied() -> None:
    config = SessionConfig(
        cookie_name="sid", domain="example.com", path="/app", secure=True, browser_session=True
    )
    response = TestClient(make_app(session_config=config)).get("/set/a/1")
    header = response.headers["set-cookie"]
    assert header.startswith("sid=")
    assert "; Domain=example.com" in header and "; Path=/app" in header and "; Secure" in header
    assert "Max-Age" not in header


def test_session_untouched_sends_no_cookie_and_no_vary(store: SessionStore) -> None:
    client = TestClient(make_app(store))
    client.get("/set/a/1")
    response = client.get("/untouched")
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers


def test_session_read_only_varies_by_cookie_without_saving(store: SessionStore) -> None:
    client = TestClient(make_app(store))
    client.get("/set/a/1")
    response = client.get("/get")
    assert response.headers["vary"] == "Cookie"
    if store.server_side:
        assert "set-cookie" not in response.headers


def test_session_server_side_cookie_holds_only_a_signed_id() -> None:
    response = TestClient(make_app(MemoryStore())).get("/set/secret/value")
    value = session_cookie(response)
    payload = Signer(KEY, salt="session").unsign(value)
    assert payload is not None and len(payload) == 32
    assert b"value" not in payload


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("a.b", id="bad-mac"),
        pytest.param("é.é", id="non-ascii"),
        pytest.param("x" * 5000, id="huge"),
    ],
)
def test_session_bad_cookie_is_an_empty_session(store: SessionStore, cookie: str) -> None:
    client = TestClient(make_app(store))
    response = client.get("/get", headers={"cookie": f"session={cookie}"})
    assert response.status_code == 200
    assert response.json() == {}


def test_session_tampered_cookie_is_an_empty_session(store: SessionStore) -> None:
    client = TestClient(make_app(store))
    value = session_cookie(client.get("/set/role/user"))
    body, mac = value.rsplit(".", 1)
    for forged in (body[:-2] + "AA." + mac, value[:-3], body + "." + mac[::-1]):
        response = TestClient(make_app(store)).get("/get", headers={"cookie": f"session={forged}"})
        assert response.status_code == 200
        assert response.json() == {}


def test_session_cookie_store_payload_cannot_be_rewritten() -> None:
    response = TestClient(make_app()).get("/set/role/user")
    value = session_cookie(response)
    signer = Signer("attacker-key-0123456789", salt="session")
    payload = Signer(KEY, salt="session").unsign(value)
    assert payload is not None
    forged = signer.sign(payload.replace(b"user", b"admin"))
    again = TestClient(make_app()).get("/get", headers={"cookie": f"session={forged}"})
    assert again.json() == {}


def test_session_foreign_key_cookie_is_empty(store: SessionStore) -> None:
    other = TestClient(make_app(store, secret_key="another-key-0123456789"))
    value = session_cookie(other.get("/set/a/1"))
    response = TestClient(make_app(store)).get("/get", headers={"cookie": f"session={value}"})
    assert response.json() == {}


def test_session_key_rotation_keeps_old_sessions_and_signs_with_the_new_key(
    store: SessionStore,
) -> None:
    old = TestClient(make_app(store, secret_key=OLD_KEY))
    value = session_cookie(old.get("/set/a/1"))
    rotated = TestClient(make_app(store, secret_key=[KEY, OLD_KEY]))
    headers = {"cookie": f"session={value}"}
    assert rotated.get("/get", headers=headers).json() == {"a": "1"}
    response = rotated.get("/set/b/2", headers=headers)
    if not store.server_side:  # a server-side id keeps its cookie; the data cookie is re-signed
        value = session_cookie(response)
        assert Signer(KEY, salt="session").unsign(value) is not None
    again = rotated.get("/get", headers={"cookie": f"session={value}"})
    assert again.json() == {"a": "1", "b": "2"}


def test_session_expires_after_max_age(store: SessionStore, clock: Clock) -> None:
    client = TestClient(make_app(store, session_config=SessionConfig(max_age=60)))
    client.get("/set/a/1")
    clock.now += 59
    assert client.get("/get").json() == {"a": "1"}
    clock.now += 2
    assert client.get("/get").json() == {}


def test_session_max_age_counts_from_creation_not_last_write(
    store: SessionStore, clock: Clock
) -> None:
    client = TestClient(make_app(store, session_config=SessionConfig(max_age=60)))
    client.get("/set/a/1")
    clock.now += 40
    response = client.get("/set/b/2")
    assert "Max-Age=20" in response.headers.get("set-cookie", "Max-Age=20")
    clock.now += 21
    assert client.get("/get").json() == {}


def test_session_idle_timeout_ends_an_idle_session(store: SessionStore, clock: Clock) -> None:
    client = TestClient(make_app(store, session_config=SessionConfig(idle_timeout=100)))
    client.get("/set/a/1")
    for _ in range(5):  # active: each request within the timeout keeps it alive
        clock.now += 60
        assert client.get("/get").json() == {"a": "1"}
    clock.now += 101
    assert client.get("/get").json() == {}


def test_session_idle_touch_writes_at_most_once_per_tenth(clock: Clock) -> None:
    store = MemoryStore()
    saves: list[str] = []
    original = store.save

    async def counting_save(session_id: str, record: bytes, ttl: float) -> None:
        saves.append(session_id)
        await original(session_id, record, ttl)

    store.save = counting_save  # type: ignore[method-assign]  # a spy on the real store
    client = TestClient(make_app(store, session_config=SessionConfig(idle_timeout=100)))
    client.get("/set/a/1")
    for _ in range(5):
        clock.now += 1
        client.get("/get")
    assert len(saves) == 1
    clock.now += 10
    client.get("/get")
    assert len(saves) == 2


def test_session_regenerate_changes_id_and_drops_the_old_record() -> None:
    store = MemoryStore()
    client = TestClient(make_app(store))
    before = session_cookie(client.get("/set/a/1"))
    after = session_cookie(client.get("/regenerate"))
    assert before != after
    assert client.get("/get").json() == {"a": "1"}
    replay = TestClient(make_app(store)).get("/get", headers={"cookie": f"session={before}"})
    assert replay.json() == {}


def test_session_clear_deletes_the_record_and_expires_the_cookie() -> None:
    store = MemoryStore()
    client = TestClient(make_app(store))
    value = session_cookie(client.get("/set/a/1"))
    response = client.get("/clear")
    assert "Max-Age=0" in response.headers["set-cookie"]
    replay = TestClient(make_app(store)).get("/get", headers={"cookie": f"session={value}"})
    assert replay.json() == {}


def test_session_clear_of_a_new_session_sends_no_cookie(store: SessionStore) -> None:
    response = TestClient(make_app(store)).get("/clear")
    assert "set-cookie" not in response.headers


def test_session_cookie_store_too_large_fails_at_assignment() -> None:
    app = App(secret_key=KEY, csrf=False)
    seen: list[str] = []

    @app.get("/big")
    async def big(request: Request) -> str:
        request.session["small"] = "x"
        try:
            request.session["big"] = "y" * 5000
        except SessionTooLarge as exc:
            seen.append(str(exc))
        return "ok"

    response = TestClient(app).get("/big")
    assert response.status_code == 200
    assert "SQLiteStore" in seen[0] and "4096" in seen[0]
    assert "set-cookie" in response.headers  # the session without the big value


def test_session_server_side_store_takes_large_sessions() -> None:
    app = make_app(MemoryStore())
    client = TestClient(app)
    client.get("/set/big/" + "y" * 6000)
    assert len(client.get("/get").json()["big"]) == 6000


def test_session_value_not_json_is_a_clear_error() -> None:
    app = App(secret_key=KEY, session_store=MemoryStore(), csrf=False)

    @app.get("/bad")
    async def bad(request: Request) -> str:
        request.session["when"] = object()
        return "ok"

    with pytest.raises(TypeError, match="JSON-serialisable"):
        TestClient(app).get("/bad")


def test_request_session_without_a_secret_key_says_what_to_do() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> Any:
        return dict(request.session)

    with pytest.raises(ConfigurationError, match="secret_key"):
        TestClient(app).get("/")


class DownStore(MemoryStore):
    async def load(self, session_id: str) -> bytes | None:
        raise StoreUnavailable("connection refused")

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        raise StoreUnavailable("connection refused")


def test_session_store_down_is_a_503_not_a_traceback() -> None:
    store = DownStore()
    client = TestClient(make_app(store))
    response = client.get("/set/a/1")  # the save fails
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    response = client.get(
        "/get", headers={"cookie": "session=" + Signer(KEY, salt="session").sign(b"i" * 32)}
    )
    assert response.status_code == 503
    assert "unavailable" in response.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": 0}, "max_age"),
        ({"idle_timeout": -1}, "idle_timeout"),
        ({"samesite": "none"}, "Secure"),
        ({"cookie_name": "bad name"}, "token"),
    ],
)
def test_session_config_refuses_bad_settings(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ConfigurationError, ValueError), match=message):
        SessionConfig(**options)


def test_session_store_must_be_a_session_store() -> None:
    with pytest.raises(ConfigurationError, match="SessionStore"):
        App(secret_key=KEY, session_store="app.db")  # type: ignore[arg-type]  # misuse under test


def test_session_remembered_cookies_are_bounded_and_only_ours() -> None:
    app = make_app(MemoryStore())
    manager = app.sessions
    assert manager is not None
    client = TestClient(app)
    value = session_cookie(client.get("/set/a/1"))
    assert value in manager._verified  # the id cookie it issued
    forged = value[:-4] + "AAAA"
    response = TestClient(app).get("/get", headers={"cookie": f"session={forged}"})
    assert response.json() == {}
    assert forged not in manager._verified
    for n in range(manager_module._VERIFIED_MAX + 10):
        manager._remember(f"v{n}", b"x")
    assert len(manager._verified) <= manager_module._VERIFIED_MAX


def test_session_cookie_store_small_assignments_fail_exactly_at_the_limit() -> None:
    app = App(secret_key=KEY, csrf=False)
    failed_at: list[int] = []

    @app.get("/fill")
    async def fill(request: Request) -> str:
        for n in range(2000):
            try:
                request.session[f"k{n}"] = "v" * 10
            except SessionTooLarge:
                failed_at.append(n)
                break
        return "ok"

    response = TestClient(app).get("/fill")
    cookie = response.headers["set-cookie"].split(";", 1)[0]
    assert failed_at and failed_at[0] > 100
    assert 4096 - 30 < len(cookie) <= 4096  # it failed at the assignment that did not fit
