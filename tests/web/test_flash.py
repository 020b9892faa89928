"""Flashed messages: kept in the session, shown once, by category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from transom import App, Request
from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web.flash import FLASHES_KEY, flash, get_flashed_messages
from transom.web.responses import HTMLResponse
from transom.web.templates import Templates, render

KEY = "flash-test-key-0123456789abcdef"


def make_app(**options: Any) -> App:
    app = App(secret_key=KEY, **options)

    @app.get("/flash/{category}/{message}")
    async def add(request: Request, category: str, message: str) -> str:
        flash(request, message, category)
        return "ok"

    @app.get("/info/{message}")
    def add_default(request: Request, message: str) -> str:  # a def handler too
        flash(request, message)
        return "ok"

    @app.get("/show")
    async def show(request: Request) -> Any:
        wanted = request.query_params.get("only")
        return get_flashed_messages(
            request, with_categories=True, category_filter=[wanted] if wanted else ()
        )

    @app.get("/twice")
    async def twice(request: Request) -> Any:
        errors = get_flashed_messages(request, category_filter=["error"])
        everything = get_flashed_messages(request)
        return {"errors": errors, "all": everything}

    @app.get("/touch")
    async def touch(request: Request) -> str:
        request.session["seen"] = True
        return "ok"

    return app


def test_flash_messages_are_shown_once_with_categories() -> None:
    with TestClient(make_app()) as client:
        client.get("/flash/error/bad")
        client.get("/info/saved")
        assert client.get("/show").json() == [["error", "bad"], ["info", "saved"]]
        assert client.get("/show").json() == []


def test_flash_category_filter_keeps_only_those() -> None:
    with TestClient(make_app()) as client:
        client.get("/flash/error/bad")
        client.get("/flash/info/saved")
        assert client.get("/show", params={"only": "error"}).json() == [["error", "bad"]]
        # Shown once: the other categories went with them (as in Flask).
        assert client.get("/show").json() == []


def test_flash_several_reads_in_one_request_see_the_same_messages() -> None:
    with TestClient(make_app()) as client:
        client.get("/flash/error/bad")
        client.get("/flash/info/saved")
        assert client.get("/twice").json() == {"errors": ["bad"], "all": ["bad", "saved"]}


def test_flash_sets_the_session_cookie() -> None:
    with TestClient(make_app()) as client:
        assert "set-cookie" in client.get("/flash/info/hi").headers


def test_flash_reading_none_does_not_touch_the_session() -> None:
    with TestClient(make_app()) as client:
        assert "set-cookie" not in client.get("/show").headers  # no session at all
        assert "set-cookie" in client.get("/touch").headers  # now one exists
        response = client.get("/show")
        assert response.json() == []
        assert "set-cookie" not in response.headers


def test_flash_reading_messages_saves_the_session_without_them() -> None:
    with TestClient(make_app()) as client:
        client.get("/flash/info/hi")
        response = client.get("/show")
        assert "set-cookie" in response.headers
        assert client.get("/show").json() == []


def test_flash_stores_category_message_pairs_in_the_session() -> None:
    app = make_app()

    @app.get("/raw")
    async def raw(request: Request) -> Any:
        return request.session[FLASHES_KEY]

    with TestClient(app) as client:
        client.get("/flash/warning/careful")
        client.get("/info/done")
        assert client.get("/raw").json() == [["warning", "careful"], ["info", "done"]]


@pytest.mark.parametrize("function", ["flash", "get_flashed_messages"])
def test_flash_without_sessions_is_a_configuration_error(function: str) -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> Any:
        if function == "flash":
            return flash(request, "hi")
        return get_flashed_messages(request)

    with TestClient(app) as client, pytest.raises(ConfigurationError, match="secret_key"):
        client.get("/")


def test_flash_messages_in_templates(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "{% for category, message in get_flashed_messages(with_categories=true) %}"
        "<p class={{ category }}>{{ message }}</p>{% endfor %}"
        "|{{ get_flashed_messages(category_filter=['error']) }}"
    )
    app = make_app(templates=Templates(tmp_path))

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client:
        client.get("/flash/error/%3Cb%3E")
        client.get("/info/saved")
        text = client.get("/page").text
        assert text == "<p class=error>&lt;b&gt;</p><p class=info>saved</p>|[&#39;&lt;b&gt;&#39;]"
        assert client.get("/page").text == "|[]"


def test_flash_template_global_is_empty_without_sessions(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{{ get_flashed_messages() }}")
    app = App(templates=Templates(tmp_path))

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client:
        assert client.get("/").text == "[]"
