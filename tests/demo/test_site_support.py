"""Helpers for the notes-site tests: a demo app with cheap argon2, and a browser-like client.

No tests here. ``SiteUser`` drives the site as a browser does (the CSRF
token taken from each page, redirects not followed) over any transom
``Client``: the in-process ``TestClient`` or a real one talking to a
server. ``pg_database_url`` gives a PostgreSQL URL whose tables land in a
schema of their own, dropped afterwards; a server that cannot be reached
fails the test, it is never skipped.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from transom import App
from transom.client import Client, Response
from transom.demo.app import create_app
from transom.web.auth import PasswordHasher

POSTGRES_DSN = os.environ.get("TRANSOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_API_TOKEN = re.compile(r'id="new-token">([^<]+)<')
FLASH = re.compile(r'<p class="flash (\w+)" role="status">([^<]*)</p>')


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def make_app(data_dir: Path, **options: Any) -> App:
    options.setdefault("secret_key", "site-test-key-0123456789abcdef0123")
    return create_app(data_dir=data_dir, password_hasher=cheap_hasher(), **options)


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A database URL whose ``search_path`` is a fresh schema (dropped after the test)."""
    schema = "transom_demo_" + secrets.token_hex(6)
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_DSN}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def flashes(html: str) -> list[tuple[str, str]]:
    return FLASH.findall(html)


class SiteUser:
    """One browser: its own cookies, forms sent with the page's CSRF token."""

    def __init__(self, client: Client, username: str) -> None:
        self.client = client
        self.username = username

    def token(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[:300])
        match = TOKEN.search(page.text)
        assert match is not None, f"no CSRF token on {path}"
        return match.group(1)

    def post(
        self, path: str, data: dict[str, str], *, form: str | None = None, **kw: Any
    ) -> Response:
        """POST ``data`` to ``path`` with the token of the page at ``form`` (default: ``path``)."""
        data = {"csrf_token": self.token(form or path), **data}
        return self.client.post(path, data=data, follow_redirects=False, **kw)

    def register(self, password: str = PASSWORD) -> Response:
        fields = {"username": self.username, "password": password, "password2": password}
        return self.post("/site/register", fields)

    def login(self, password: str = PASSWORD, next_: str | None = None) -> Response:
        path = "/site/login" if next_ is None else f"/site/login?next={next_}"
        return self.post(path, {"username": self.username, "password": password})

    def logout(self) -> Response:
        return self.post("/site/logout", {}, form="/site/")

    def create_note(
        self, title: str, body: str = "", attachment: tuple[str, bytes, str] | None = None
    ) -> Response:
        files = {"attachment": attachment} if attachment is not None else None
        data = {"title": title, "body": body}
        return self.post("/site/notes/new", data, files=files)

    def new_note_id(self, title: str, **kw: Any) -> int:
        response = self.create_note(title, **kw)
        assert response.status_code == 303, response.text[:500]
        return int(response.headers["location"].rsplit("/", 1)[1])

    def issue_token(self, name: str = "script") -> str:
        response = self.post("/site/tokens", {"action": "issue", "name": name})
        assert response.status_code == 201, response.text[:500]
        match = NEW_API_TOKEN.search(response.text)
        assert match is not None
        return match.group(1)
