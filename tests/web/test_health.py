"""Health checks: ``App.add_health_check`` and ``health_endpoint``."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web import App
from transom.web.health import health_endpoint


class Store:
    """A store-like object: ``ping()`` raises while it is down."""

    def __init__(self) -> None:
        self.down = False

    async def ping(self) -> None:
        if self.down:
            raise ConnectionError("refused")


def app_with(**checks: object) -> App:
    app = App()
    for name, check in checks.items():
        app.add_health_check(name, check)
    app.add_route("/healthz", health_endpoint(), name="healthz")
    return app


def test_health_all_checks_pass_is_200() -> None:
    async def database() -> None:
        return None

    app = app_with(sessions=Store(), database=database, disk=lambda: None)
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"sessions": "ok", "database": "ok", "disk": "ok"},
    }
    assert response.headers["cache-control"] == "no-store"


def test_health_failed_check_is_503_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    store = Store()
    app = app_with(sessions=store, other=Store())
    store.down = True
    with caplog.at_level(logging.WARNING, "transom.error"), TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"sessions": "unavailable", "other": "ok"},
    }
    assert "refused" not in response.text
    assert "'sessions' failed: ConnectionError('refused')" in caplog.text


def test_health_check_back_up_is_ok_again() -> None:
    store = Store()
    app = app_with(sessions=store)
    with TestClient(app) as client:
        store.down = True
        assert client.get("/healthz").status_code == 503
        store.down = False
        assert client.get("/healthz").status_code == 200


def test_health_slow_check_fails_after_its_timeout() -> None:
    async def hangs() -> None:
        await asyncio.sleep(30)

    app = App()
    app.add_health_check("slow", hangs, timeout=0.05)
    app.add_health_check("fast", lambda: None)
    app.add_route("/healthz", health_endpoint(key="stores"))
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["stores"] == {"slow": "unavailable", "fast": "ok"}
    assert elapsed < 5


def test_health_sync_check_runs_and_its_exception_fails_it() -> None:
    def broken() -> None:
        raise OSError("disk gone")

    with TestClient(app_with(disk=broken)) as client:
        assert client.get("/healthz").json()["checks"] == {"disk": "unavailable"}


def test_health_callable_returning_awaitable_is_awaited() -> None:
    store = Store()
    store.down = True
    with TestClient(app_with(store=lambda: store.ping())) as client:
        assert client.get("/healthz").status_code == 503


def test_health_without_checks_is_ok() -> None:
    with TestClient(app_with()) as client:
        assert client.get("/healthz").json() == {"status": "ok", "checks": {}}


@pytest.mark.parametrize(
    ("name", "check", "timeout"),
    [
        ("", lambda: None, 1.0),
        ("x", object(), 1.0),
        ("x", lambda: None, 0),
    ],
    ids=["empty-name", "not-callable", "zero-timeout"],
)
def test_health_bad_check_is_configuration_error(name: str, check: object, timeout: float) -> None:
    with pytest.raises(ConfigurationError):
        App().add_health_check(name, check, timeout=timeout)


def test_health_duplicate_name_is_configuration_error() -> None:
    app = App()
    app.add_health_check("db", lambda: None)
    with pytest.raises(ConfigurationError, match="already registered"):
        app.add_health_check("db", lambda: None)
