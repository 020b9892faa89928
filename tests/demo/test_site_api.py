"""The notes JSON API with Bearer tokens: 201/200/204, and 401/403/404/422 as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from transom.testing import TestClient

from .test_site_support import SiteUser, make_app


class Api:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def apis(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    """API clients for alice (the admin) and bob, each with a token from the site."""
    app = make_app(tmp_path / "data")
    first, second, api = TestClient(app), TestClient(app), TestClient(app)
    with first, second, api:
        tokens = []
        for client, name in ((first, "alice"), (second, "bob")):
            user = SiteUser(client, name)
            assert user.register().status_code == 303
            tokens.append(user.issue_token())
        yield Api(api, tokens[0]), Api(api, tokens[1])


def test_api_notes_create_read_replace_delete(apis: tuple[Api, Api]) -> None:
    alice, _ = apis
    created = alice("POST", "/api/notes", json={"title": " Plan ", "body": "step 1"})
    assert created.status_code == 201
    note = created.json()
    assert (note["title"], note["body"], note["attachment"]) == ("Plan", "step 1", None)
    assert created.headers["location"] == note["url"] == f"http://testserver/api/notes/{note['id']}"
    assert alice("GET", f"/api/notes/{note['id']}").json() == note
    replaced = alice("PUT", f"/api/notes/{note['id']}", json={"title": "Plan B", "body": ""})
    assert replaced.status_code == 200 and replaced.json()["title"] == "Plan B"
    assert [n["title"] for n in alice("GET", "/api/notes").json()["notes"]] == ["Plan B"]
    deleted = alice("DELETE", f"/api/notes/{note['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert alice("GET", "/api/notes").json() == {"notes": []}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer tsm_" + "x" * 43}, {"Authorization": "Bearer nonsense"}],
    ids=["none", "unknown-token", "malformed"],
)
def test_api_without_a_valid_token_is_401_json(
    apis: tuple[Api, Api], headers: dict[str, str]
) -> None:
    client = apis[0].client
    for method, path in (("GET", "/api/notes"), ("POST", "/api/notes"), ("GET", "/api/notes/1")):
        response = client.request(method, path, headers={"Accept": "application/json", **headers})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "detail" in response.json()


def test_api_without_credentials_is_401_json_for_any_client(apis: tuple[Api, Api]) -> None:
    response = apis[0].client.get("/api/notes")  # no Accept, no Authorization: still JSON
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"


def test_api_every_users_notes_is_for_admins_only(apis: tuple[Api, Api]) -> None:
    alice, bob = apis
    alice("POST", "/api/notes", json={"title": "a"})
    bob("POST", "/api/notes", json={"title": "b"})
    refused = bob("GET", "/api/notes?all=1")
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    titles = sorted(n["title"] for n in alice("GET", "/api/notes?all=1").json()["notes"])
    assert titles == ["a", "b"]


def test_api_another_users_note_is_404(apis: tuple[Api, Api]) -> None:
    alice, bob = apis
    note_id = alice("POST", "/api/notes", json={"title": "mine"}).json()["id"]
    for method, kw in (("GET", {}), ("PUT", {"json": {"title": "x"}}), ("DELETE", {})):
        response = bob(method, f"/api/notes/{note_id}", **kw)
        assert response.status_code == 404, method
        assert response.json() == {"detail": f"no note {note_id}"}
    assert bob("GET", "/api/notes/999").status_code == 404
    assert alice("GET", f"/api/notes/{note_id}").json()["title"] == "mine"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"body": "no title"}, {"title": "a string is required"}),
        ({"title": 3, "body": []}, {"title": "a string is required", "body": "must be a string"}),
        ({"title": "  "}, {"title": "A note needs a title."}),
        ({"title": "t" * 201}, {"title": "A title has at most 200 characters."}),
        (["title"], {"": "expected an object"}),
    ],
    ids=["missing", "wrong-types", "blank", "long", "not-an-object"],
)
def test_api_invalid_note_is_422_with_errors(
    apis: tuple[Api, Api], body: Any, errors: dict[str, str]
) -> None:
    alice, _ = apis
    response = alice("POST", "/api/notes", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    note_id = alice("POST", "/api/notes", json={"title": "ok"}).json()["id"]
    assert alice("PUT", f"/api/notes/{note_id}", json=body).status_code == 422


def test_api_malformed_json_is_400_and_other_types_415(apis: tuple[Api, Api]) -> None:
    alice, _ = apis
    bad = alice(
        "POST",
        "/api/notes",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    text = alice("POST", "/api/notes", content=b"x", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
