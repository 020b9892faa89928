"""The whole notes flow over transom's server, with users and notes in SQLite or PostgreSQL.

The PostgreSQL runs talk to the local server (127.0.0.1:5432, database
``test``) in a schema of their own; a server that cannot be reached fails
them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from transom.client import Client

from ..client.servers import ServerThread
from .test_site_support import SiteUser, flashes, make_app, pg_database_url  # noqa: F401 - a fixture


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerThread]:
    url = request.getfixturevalue("pg_database_url") if request.param == "postgres" else None
    thread = ServerThread("transom", make_app(tmp_path / "data", database_url=url))
    try:
        yield thread
    finally:
        thread.stop()


class Clients:
    """Clients made by a test, closed after it."""

    def __init__(self) -> None:
        self.made: list[Client] = []

    def __call__(self, base_url: str = "", **options: object) -> Client:
        client = Client(base_url=base_url, trust_env=False, **options)
        self.made.append(client)
        return client

    def browser(self, server: ServerThread, name: str) -> SiteUser:
        return SiteUser(self(server.url), name)


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    for client in made.made:
        client.close()


def test_site_flow_over_a_real_server(server: ServerThread, clients: Clients) -> None:
    alice, bob = clients.browser(server, "alice"), clients.browser(server, "bob")
    assert alice.register().status_code == 303
    assert bob.register().status_code == 303
    assert alice.logout().status_code == 303
    assert alice.login(next_="/site/notes").headers["location"] == "/site/notes"
    assert flashes(alice.client.get("/site/notes").text) == [("success", "Welcome back, alice.")]

    payload = b"0123456789" * 1000
    note_id = alice.new_note_id("Report", body="q3", attachment=("r.bin", payload, "text/plain"))
    url = f"/site/notes/{note_id}/attachment"
    part = alice.client.get(url, headers={"Range": "bytes=-5"})
    assert (part.status_code, part.content) == (206, payload[-5:])
    whole = alice.client.get(url)
    assert whole.content == payload
    again = alice.client.get(url, headers={"If-None-Match": whole.headers["etag"]})
    assert again.status_code == 304
    assert bob.client.get(url).status_code == 404
    assert bob.client.get(f"/site/notes/{note_id}").status_code == 404

    assert alice.client.get("/site/admin").status_code == 200
    assert bob.client.get("/site/admin").status_code == 403

    token = bob.issue_token()
    api = clients(server.url, headers={"Authorization": f"Bearer {token}"})
    created = api.post("/api/notes", json={"title": "from a script"})
    assert created.status_code == 201
    assert api.get(f"/api/notes/{note_id}").status_code == 404
    assert api.get("/api/notes?all=1").status_code == 403
    assert api.post("/api/notes", json={}).status_code == 422
    counts = alice.client.get("/site/admin").text
    assert counts.count('<td class="count">1</td>') == 2

    statuses = [bob.login(password=f"wrong {n}").status_code for n in range(6)]
    assert statuses[-1] == 429
    assert clients().get(f"{server.url}/healthz").json() == {
        "status": "ok",
        "stores": {"sessions": "ok", "users": "ok", "notes": "ok"},
    }


def test_site_postgres_attachment_served_from_a_fresh_data_dir(
    tmp_path: Path,
    pg_database_url: str,  # noqa: F811 - the fixture
    clients: Clients,
) -> None:
    """A second instance with an empty data dir serves an attachment the first one stored."""
    first = ServerThread("transom", make_app(tmp_path / "one", database_url=pg_database_url))
    second = ServerThread("transom", make_app(tmp_path / "two", database_url=pg_database_url))
    try:
        alice = clients.browser(first, "alice")
        alice.register()
        note_id = alice.new_note_id("Shared", attachment=("s.txt", b"shared bytes", "text/plain"))
        other = clients.browser(second, "alice")
        assert other.login().status_code == 303
        response = other.client.get(f"/site/notes/{note_id}/attachment")
        assert (response.status_code, response.content) == (200, b"shared bytes")
    finally:
        first.stop()
        second.stop()


def test_healthz_is_503_naming_the_store_that_is_down(tmp_path: Path, clients: Clients) -> None:
    app = make_app(tmp_path / "data", database_url="postgresql://nobody@127.0.0.1:1/none")
    server = ServerThread("transom", app)
    try:
        response = clients().get(f"{server.url}/healthz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "stores": {"sessions": "ok", "users": "unavailable", "notes": "unavailable"},
        }
    finally:
        server.stop()
