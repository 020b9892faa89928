"""rate_limit(): specs, counting, 429 + Retry-After, RateLimit headers, keys, routers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from transom.client import Client
from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web.application import App
from transom.web.guards import EXTRA_HEADERS, guards_of
from transom.web.ratelimit import Rate, parse_rate, rate_limit
from transom.web.requests import Request
from transom.web.responses import Response
from transom.web.routing import Router
from transom.web.sessions import store as store_module
from transom.web.sessions.sqlite import SQLiteStore
from transom.web.sessions.store import MemoryStore, StoreUnavailable

from ..client.servers import ServerThread

# -- a clock the tests move ------------------------------------------------------


class FakeTime:
    """Stands in for the ``time`` module inside the store: ``monotonic()`` is ours."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(store_module, "time", fake)
    return fake


class FakeApp:
    """What the guard needs of an App: ``counters``."""

    def __init__(self, counters: Any = None) -> None:
        self.counters = MemoryStore() if counters is None else counters


def make_request(
    app: Any,
    *,
    method: str = "GET",
    client: tuple[str, int] | None = ("10.0.0.1", 5000),
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Request:
    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": headers or [],
        "client": client,
        "app": app,
    }
    return Request(scope)


async def run_guards(target: Any, request: Request) -> Response | None:
    for guard in guards_of(target):
        response = await guard(request)
        if response is not None:
            return response
    return None


def extra_headers(request: Request) -> dict[str, str]:
    pairs = request.scope.get(EXTRA_HEADERS, [])
    return {name.decode(): value.decode() for name, value in pairs}


# -- specs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "rate"),
    [
        ("100/minute", Rate(100, 60)),
        ("10/second", Rate(10, 1)),
        ("1000/hour", Rate(1000, 3600)),
        ("5000/day", Rate(5000, 86400)),
        ("20/5minutes", Rate(20, 300)),
        ("3/10s", Rate(3, 10)),
        ("7 per hour", Rate(7, 3600)),
        (" 1 / 2 days ", Rate(1, 172800)),
    ],
    ids=lambda value: str(value),
)
def test_parse_rate_accepts_counts_and_windows(spec: str, rate: Rate) -> None:
    assert parse_rate(spec) == rate


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "100",
        "100/",
        "/minute",
        "0/minute",
        "5/0minutes",
        "-1/minute",
        "1.5/minute",
        "10/fortnight",
        "10/ms",
        "ten/minute",
        "10//minute",
    ],
)
def test_parse_rate_refuses_what_is_not_a_rate(spec: str) -> None:
    with pytest.raises(ConfigurationError, match="100/minute"):
        parse_rate(spec)


def test_rate_limit_refuses_a_bad_spec_at_decoration_time() -> None:
    with pytest.raises(ConfigurationError, match="'100 a minute' is not a rate"):
        rate_limit("100 a minute")


@pytest.mark.parametrize(
    ("rate", "name"),
    [
        (Rate(100, 60), "100-per-minute"),
        (Rate(20, 300), "20-per-5minutes"),
        (Rate(3, 90), "3-per-90seconds"),
        (Rate(5, 86400), "5-per-day"),
        (Rate(1, 1), "1-per-second"),
    ],
)
def test_rate_names_itself_for_the_policy_header(rate: Rate, name: str) -> None:
    assert str(rate) == name


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"key": "client"}, "must be a function"),
        ({"name": ""}, "printable ASCII"),
        ({"name": "bad\nname"}, "printable ASCII"),
        ({"methods": "POST"}, "give a list"),
        ({"methods": []}, "limits nothing"),
    ],
)
def test_rate_limit_refuses_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        rate_limit("1/minute", **options)


# -- counting, headers, 429 ----------------------------------------------------------


async def test_rate_limit_answers_429_after_the_limit(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("3/minute")(handler)
    app = FakeApp()
    for expected_remaining in (2, 1, 0):
        request = make_request(app)
        assert await run_guards(handler, request) is None
        assert extra_headers(request)["ratelimit"] == (
            f'"3-per-minute";r={expected_remaining};t=60'
        )
    clock.now += 22.5
    request = make_request(app, headers=[(b"accept", b"application/json")])
    response = await run_guards(handler, request)
    assert response is not None and response.status_code == 429
    assert response.headers["retry-after"] == "38"
    assert response.headers["ratelimit-policy"] == '"3-per-minute";q=3;w=60'
    assert response.headers["ratelimit"] == '"3-per-minute";r=0;t=38'
    assert b"rate limit 3-per-minute exceeded: retry in 38 seconds" in response.body
    assert EXTRA_HEADERS not in request.scope


async def test_rate_limit_success_headers_carry_the_policy(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("100/minute", name="api")(handler)
    request = make_request(FakeApp())
    assert await run_guards(handler, request) is None
    assert request.scope[EXTRA_HEADERS] == [
        (b"ratelimit-policy", b'"api";q=100;w=60'),
        (b"ratelimit", b'"api";r=99;t=60'),
    ]


async def test_rate_limit_retry_after_is_at_least_one_second(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute")(handler)
    app = FakeApp()
    await run_guards(handler, make_request(app))
    clock.now += 59.99
    response = await run_guards(handler, make_request(app))
    assert response is not None and response.headers["retry-after"] == "1"


async def test_rate_limit_starts_again_in_the_next_window(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("2/10seconds")(handler)
    app = FakeApp()
    for _ in range(2):
        assert await run_guards(handler, make_request(app)) is None
    assert await run_guards(handler, make_request(app)) is not None
    clock.now += 10
    request = make_request(app)
    assert await run_guards(handler, request) is None
    assert extra_headers(request)["ratelimit"] == '"2-per-10seconds";r=1;t=10'


async def test_rate_limit_429_body_is_html_for_browsers(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/hour")(handler)
    app = FakeApp()
    await run_guards(handler, make_request(app))
    response = await run_guards(handler, make_request(app, headers=[(b"accept", b"text/html")]))
    assert response is not None
    assert response.headers["content-type"].startswith("text/html")
    assert b"429 Too Many Requests" in response.body


# -- keys ----------------------------------------------------------------------------


async def test_rate_limit_counts_each_client_address_apart(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute")(handler)
    app = FakeApp()
    assert await run_guards(handler, make_request(app, client=("10.0.0.1", 1))) is None
    assert await run_guards(handler, make_request(app, client=("10.0.0.2", 1))) is None
    assert await run_guards(handler, make_request(app, client=("10.0.0.1", 2))) is not None


async def test_rate_limit_without_a_client_address_counts_as_unknown(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute")(handler)
    store = MemoryStore()
    await run_guards(handler, make_request(FakeApp(store), client=None))
    keys = list(store._counters)
    assert len(keys) == 1 and keys[0].endswith(":unknown")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync-key", "async-key"])
async def test_rate_limit_custom_key_function(clock: FakeTime, is_async: bool) -> None:
    def user_of(request: Request) -> str:
        return request.headers.get("x-user", "")

    async def async_user_of(request: Request) -> str:
        return user_of(request)

    async def handler(request: Request) -> None: ...

    rate_limit("1/minute", key=async_user_of if is_async else user_of)(handler)
    app = FakeApp()
    alice = [(b"x-user", b"alice")]
    bob = [(b"x-user", b"bob")]
    assert await run_guards(handler, make_request(app, headers=alice)) is None
    assert await run_guards(handler, make_request(app, headers=bob)) is None
    # the same user from another address shares the budget
    other = make_request(app, headers=alice, client=("10.9.9.9", 1))
    assert await run_guards(handler, other) is not None


async def test_rate_limit_key_none_lets_the_request_through_uncounted(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute", key=lambda request: None)(handler)
    app = FakeApp()
    for _ in range(3):
        request = make_request(app)
        assert await run_guards(handler, request) is None
        assert EXTRA_HEADERS not in request.scope


async def test_rate_limit_key_function_must_return_a_string(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute", key=lambda request: 42)(handler)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="must return a str"):
        await run_guards(handler, make_request(FakeApp()))


async def test_rate_limit_long_or_foreign_keys_are_hashed(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    keys = iter(["x" * 500, "usér naïve", "short"])
    rate_limit("5/minute", key=lambda request: next(keys))(handler)
    store = MemoryStore()
    for _ in range(3):
        await run_guards(handler, make_request(FakeApp(store)))
    assert all(len(key) <= 200 and key.isascii() for key in store._counters)
    hashed = [key for key in store._counters if re.fullmatch(r"rl:[0-9a-f]{64}", key)]
    assert len(hashed) == 2
    assert any(key.endswith(":short") for key in store._counters)


# -- targets, names, methods -----------------------------------------------------------


async def test_rate_limit_each_handler_has_its_own_budget(clock: FakeTime) -> None:
    async def first(request: Request) -> None: ...

    async def second(request: Request) -> None: ...

    limit = rate_limit("1/minute")
    limit(first)
    limit(second)
    app = FakeApp()
    assert await run_guards(first, make_request(app)) is None
    assert await run_guards(second, make_request(app)) is None
    assert await run_guards(first, make_request(app)) is not None


async def test_rate_limit_same_name_shares_one_budget(clock: FakeTime) -> None:
    async def first(request: Request) -> None: ...

    async def second(request: Request) -> None: ...

    rate_limit("1/minute", name="writes")(first)
    rate_limit("1/minute", name="writes")(second)
    app = FakeApp()
    assert await run_guards(first, make_request(app)) is None
    response = await run_guards(second, make_request(app))
    assert response is not None and response.headers["ratelimit"] == '"writes";r=0;t=60'


async def test_rate_limit_methods_counts_only_those_methods(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute", methods=["post"])(handler)
    app = FakeApp()
    for _ in range(3):
        assert await run_guards(handler, make_request(app, method="GET")) is None
    assert await run_guards(handler, make_request(app, method="POST")) is None
    assert await run_guards(handler, make_request(app, method="POST")) is not None


async def test_rate_limit_on_get_counts_head_too(clock: FakeTime) -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute", methods=["GET"])(handler)
    app = FakeApp()
    assert await run_guards(handler, make_request(app, method="HEAD")) is None
    assert await run_guards(handler, make_request(app, method="GET")) is not None


async def test_rate_limit_returns_the_target_unchanged() -> None:
    async def handler(request: Request) -> None: ...

    assert rate_limit("1/minute")(handler) is handler
    assert len(guards_of(handler)) == 1


async def test_rate_limit_store_unavailable_propagates() -> None:
    class DownStore(MemoryStore):
        async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
            raise StoreUnavailable("redis at localhost:6379 refused the connection")

    async def handler(request: Request) -> None: ...

    rate_limit("1/minute")(handler)
    with pytest.raises(StoreUnavailable):
        await run_guards(handler, make_request(FakeApp(DownStore())))


async def test_rate_limit_needs_an_app_with_counters() -> None:
    async def handler(request: Request) -> None: ...

    rate_limit("1/minute")(handler)
    with pytest.raises(ConfigurationError, match="counters"):
        await run_guards(handler, make_request(object()))


# -- through the App -----------------------------------------------------------------------


def limited_app(**app_options: Any) -> App:
    app = App(**app_options)

    @app.get("/below")
    @rate_limit("2/minute")
    async def below(request: Request) -> dict[str, bool]:
        return {"ok": True}

    @rate_limit("2/minute")
    @app.get("/above")
    async def above(request: Request) -> dict[str, bool]:
        return {"ok": True}

    @app.get("/free")
    async def free(request: Request) -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.mark.parametrize("path", ["/below", "/above"])
def test_rate_limit_app_third_request_gets_429(clock: FakeTime, path: str) -> None:
    client = TestClient(limited_app())
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["ratelimit-policy"] == '"2-per-minute";q=2;w=60'
    assert first.headers["ratelimit"] == '"2-per-minute";r=1;t=60'
    clock.now += 15
    assert client.get(path).headers["ratelimit"] == '"2-per-minute";r=0;t=45'
    refused = client.get(path, headers={"Accept": "application/json"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "45"
    assert refused.headers["ratelimit"] == '"2-per-minute";r=0;t=45'
    assert refused.json() == {"detail": "rate limit 2-per-minute exceeded: retry in 45 seconds"}
    assert client.get("/free").status_code == 200
    assert "ratelimit" not in client.get("/free").headers


def test_rate_limit_app_window_resets(clock: FakeTime) -> None:
    client = TestClient(limited_app())
    for _ in range(2):
        client.get("/below")
    assert client.get("/below").status_code == 429
    clock.now += 60
    response = client.get("/below")
    assert response.status_code == 200
    assert response.headers["ratelimit"] == '"2-per-minute";r=1;t=60'


def test_rate_limit_app_counts_clients_apart(clock: FakeTime) -> None:
    app = limited_app()
    one = TestClient(app, client=("192.0.2.1", 1000))
    two = TestClient(app, client=("192.0.2.2", 1000))
    for _ in range(2):
        assert one.get("/below").status_code == 200
    assert one.get("/below").status_code == 429
    assert two.get("/below").status_code == 200


def test_rate_limit_app_counts_in_the_session_store(clock: FakeTime) -> None:
    store = MemoryStore()
    client = TestClient(limited_app(secret_key="rate-limit-key-0123456789", session_store=store))
    client.get("/below")
    assert any(key.startswith("rl:") for key in store._counters)


def test_rate_limit_app_router_limits_all_its_routes_together(clock: FakeTime) -> None:
    app = App()
    api = Router(prefix="/api")

    @api.get("/a")
    async def a(request: Request) -> dict[str, str]:
        return {"route": "a"}

    @api.get("/b")
    async def b(request: Request) -> dict[str, str]:
        return {"route": "b"}

    assert rate_limit("3/minute", name="api")(api) is api
    app.include(api)
    client = TestClient(app)
    assert [client.get(path).status_code for path in ("/api/a", "/api/b", "/api/a")] == [200] * 3
    refused = client.get("/api/b")
    assert refused.status_code == 429
    assert refused.headers["ratelimit"] == '"api";r=0;t=60'


def test_rate_limit_app_router_and_handler_limits_both_apply(clock: FakeTime) -> None:
    app = App()
    api = Router(prefix="/api")

    @api.post("/write")
    @rate_limit("1/minute", name="writes")
    async def write(request: Request) -> dict[str, bool]:
        return {"ok": True}

    rate_limit("10/minute", name="api")(api)
    app.include(api)
    client = TestClient(app)
    first = client.post("/api/write")
    assert first.status_code == 200
    assert first.headers.get_list("ratelimit") == ['"api";r=9;t=60', '"writes";r=0;t=60']
    assert first.headers.get_list("ratelimit-policy") == [
        '"api";q=10;w=60',
        '"writes";q=1;w=60',
    ]
    second = client.post("/api/write")
    assert second.status_code == 429
    assert second.headers.get_list("ratelimit") == ['"writes";r=0;t=60', '"api";r=8;t=60']


def test_rate_limit_over_a_real_server() -> None:
    server = ServerThread("transom", limited_app())
    try:
        with Client(base_url=server.url) as client:
            statuses = [client.get("/below").status_code for _ in range(3)]
            refused = client.get("/below")
    finally:
        server.stop()
    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit"] == f'"2-per-minute";r=0;t={refused.headers["retry-after"]}'


def test_rate_limit_app_counts_in_a_sqlite_store_shared_by_two_apps(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    one = limited_app(secret_key="rate-limit-key-0123456789", session_store=SQLiteStore(path))
    two = limited_app(secret_key="rate-limit-key-0123456789", session_store=SQLiteStore(path))
    # The clients run the apps' lifespans: leaving the block closes both stores.
    with TestClient(one) as first, TestClient(two) as second:
        assert first.get("/below").status_code == 200
        assert second.get("/below").status_code == 200
        refused = first.get("/below")
    assert refused.status_code == 429
    assert refused.headers["ratelimit"].startswith('"2-per-minute";r=0;t=')


def test_rate_limit_app_store_down_is_503(clock: FakeTime) -> None:
    class DownStore(MemoryStore):
        async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
            raise StoreUnavailable("the counter backend is down")

    app = limited_app(secret_key="rate-limit-key-0123456789", session_store=DownStore())
    response = TestClient(app, raise_server_exceptions=False).get("/below")
    assert response.status_code == 503
