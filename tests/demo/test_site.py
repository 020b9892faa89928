"""The notes site through the in-process client: accounts, notes, attachments, admin, tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from transom.testing import TestClient

from .test_site_support import PASSWORD, SiteUser, flashes, make_app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    client = TestClient(make_app(tmp_path / "data"))
    with client:
        yield client


@pytest.fixture
def alice(client: TestClient) -> SiteUser:
    user = SiteUser(client, "alice")
    assert user.register().status_code == 303
    return user


@pytest.fixture
def bob(tmp_path: Path, client: TestClient) -> Iterator[SiteUser]:
    """A second browser on the same app, registered after alice."""
    other = TestClient(client.app)
    with other:
        user = SiteUser(other, "bob")
        assert user.register().status_code == 303
        yield user


def test_site_register_logs_in_and_first_user_is_admin(alice: SiteUser, bob: SiteUser) -> None:
    page = alice.client.get("/site/notes")
    assert page.status_code == 200
    assert flashes(page.text) == [("success", "Welcome, alice! Your account is ready.")]
    assert alice.client.get("/site/admin").status_code == 200
    assert bob.client.get("/site/admin").status_code == 403
    assert 'href="http://testserver/site/admin"' in alice.client.get("/site/").text
    assert "/site/admin" not in bob.client.get("/site/").text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"password": "short", "password2": "short"}, "password", "at least 8 characters"),
        ({"password": PASSWORD, "password2": PASSWORD + "x"}, "password2", "differ"),
        ({"username": " "}, "username", "Choose a username"),
        ({"username": "ALICE"}, "username", "taken"),
    ],
    ids=["short-password", "passwords-differ", "blank-username", "taken"],
)
def test_site_register_errors_rerender_with_values_kept(
    alice: SiteUser, client: TestClient, fields: dict[str, str], field: str, message: str
) -> None:
    visitor = SiteUser(TestClient(client.app), "carol")
    data = {"username": "carol", "password": PASSWORD, "password2": PASSWORD, **fields}
    response = visitor.post("/site/register", data)
    assert response.status_code == 400
    assert f'id="{field}-error">' in response.text and message in response.text
    assert f'name="username" type="text" value="{data["username"]}"' in response.text
    assert PASSWORD not in response.text  # passwords are never sent back


def test_site_login_wrong_password_is_400_with_username_kept(alice: SiteUser) -> None:
    alice.logout()
    response = alice.login(password="wrong password")
    assert response.status_code == 400
    assert "Wrong username or password." in response.text
    assert 'value="alice"' in response.text
    empty = alice.post("/site/login", {"username": "", "password": ""})
    assert empty.status_code == 400
    assert "Enter your username." in empty.text and "Enter your password." in empty.text


def test_site_login_flashes_and_follows_a_safe_next(alice: SiteUser) -> None:
    alice.logout()
    response = alice.login(next_="/site/tokens")
    assert (response.status_code, response.headers["location"]) == (303, "/site/tokens")
    page = alice.client.get("/site/tokens")
    assert flashes(page.text) == [("success", "Welcome back, alice.")]
    alice.logout()
    # next also travels in the form (the log-in page carries it as a hidden field).
    login_page = alice.client.get("/site/login?next=/site/notes/new")
    assert 'name="next" value="/site/notes/new"' in login_page.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_site_login_refuses_an_unsafe_next(alice: SiteUser, target: str) -> None:
    alice.logout()
    response = alice.post(
        "/site/login", {"username": "alice", "password": PASSWORD, "next": target}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/site/notes")


def test_site_login_is_throttled_after_failures(alice: SiteUser) -> None:
    alice.logout()
    statuses = [alice.login(password=f"wrong {n}").status_code for n in range(6)]
    assert statuses == [400] * 5 + [429]
    refused = alice.login()  # the right password is not even checked now
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_site_logout_flashes_and_ends_the_session(alice: SiteUser) -> None:
    cookie = alice.client.cookies.get("session")
    response = alice.logout()
    assert (response.status_code, response.headers["location"]) == (303, "/site/login")
    page = alice.client.get("/site/login")
    assert flashes(page.text) == [("info", "You are logged out.")]
    assert "Log out alice" not in page.text
    replay = TestClient(alice.client.app, cookies={"session": cookie})  # type: ignore[attr-defined]
    assert replay.get("/site/notes", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/site/notes",
        "/site/notes/new",
        "/site/notes/1",
        "/site/tokens",
        "/site/admin",
        "/site/password",
    ],
)
def test_site_protected_pages_send_browsers_to_log_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"http://testserver/site/login?next={path}"


def test_site_password_change_logs_out_the_other_sessions(alice: SiteUser) -> None:
    other = TestClient(alice.client.app)  # type: ignore[attr-defined]
    with other:
        laptop = SiteUser(other, "alice")
        assert laptop.login().status_code == 303
        assert other.get("/site/notes").status_code == 200
        new = "a brand new passphrase"
        fields = {"current": PASSWORD, "new": new, "new2": new}
        response = alice.post("/site/password", fields)
        assert response.status_code == 303, response.text[:500]
        assert response.headers["location"] == "/site/notes"
        page = alice.client.get("/site/notes")  # this session stays logged in
        assert page.status_code == 200
        assert flashes(page.text) == [
            ("success", "Your password is changed; your other sessions are logged out.")
        ]
        gone = other.get("/site/notes", follow_redirects=False)  # the other one does not
        assert gone.status_code == 303
        assert "/site/login" in gone.headers["location"]
        assert laptop.login().status_code == 400  # the old password is gone
        assert laptop.login(new).status_code == 303


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"current": "wrong password!"}, "current", "not your current password"),
        ({"current": ""}, "current", "Enter your current password"),
        ({"new": "short", "new2": "short"}, "new", "at least 8 characters"),
        ({"new2": "something else"}, "new2", "differ"),
    ],
    ids=["wrong-current", "no-current", "short", "differ"],
)
def test_site_password_change_errors_change_nothing(
    alice: SiteUser, fields: dict[str, str], field: str, message: str
) -> None:
    new = "a brand new passphrase"
    data = {"current": PASSWORD, "new": new, "new2": new, **fields}
    response = alice.post("/site/password", data)
    assert response.status_code == 400
    assert f'id="{field}-error">' in response.text
    assert message in response.text
    assert alice.client.get("/site/notes").status_code == 200  # still logged in
    alice.logout()
    assert alice.login().status_code == 303  # the password is unchanged


def test_site_forms_without_csrf_token_are_refused(alice: SiteUser) -> None:
    response = alice.client.post("/site/notes/new", data={"title": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert alice.client.get("/site/notes").text.count("<li>") == 0


def test_site_note_create_show_edit_delete_with_flashes(alice: SiteUser) -> None:
    note_id = alice.new_note_id("Groceries", body="bread & <butter>")
    page = alice.client.get(f"/site/notes/{note_id}")
    assert flashes(page.text) == [("success", "Note “Groceries” created.")]
    assert "bread &amp; &lt;butter&gt;" in page.text
    assert f'href="http://testserver/site/notes/{note_id}"' in alice.client.get("/site/notes").text

    edit_page = alice.client.get(f"/site/notes/{note_id}/edit")
    assert 'value="Groceries"' in edit_page.text and "bread &amp; &lt;butter&gt;" in edit_page.text
    saved = alice.post(
        f"/site/notes/{note_id}/edit",
        {"title": "Shopping", "body": "milk"},
        form=f"/site/notes/{note_id}/edit",
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"/site/notes/{note_id}")
    page = alice.client.get(f"/site/notes/{note_id}")
    assert flashes(page.text) == [("success", "Note “Shopping” saved.")]
    assert "milk" in page.text and "bread" not in page.text

    deleted = alice.post(f"/site/notes/{note_id}/delete", {}, form=f"/site/notes/{note_id}")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/site/notes")
    listing = alice.client.get("/site/notes")
    assert flashes(listing.text) == [("info", "Note “Shopping” deleted.")]
    assert "No notes yet" in listing.text
    assert alice.client.get(f"/site/notes/{note_id}").status_code == 404


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [("", "kept body", "A note needs a title."), ("x" * 201, "b", "at most 200 characters")],
    ids=["no-title", "long-title"],
)
def test_site_note_errors_rerender_with_values_kept(
    alice: SiteUser, title: str, body: str, message: str
) -> None:
    response = alice.create_note(title, body)
    assert response.status_code == 400
    assert message in response.text
    assert f">{body}</textarea>" in response.text
    assert f'value="{title}"' in response.text


def test_site_attachment_download_range_and_conditional(alice: SiteUser, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 40
    note_id = alice.new_note_id("Scan", attachment=("../../etc/scan 1.png", payload, "image/png"))
    url = f"/site/notes/{note_id}/attachment"
    whole = alice.client.get(url)
    assert whole.status_code == 200 and whole.content == payload
    assert whole.headers["content-disposition"] == 'attachment; filename="scan 1.png"'
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["x-content-type-options"] == "nosniff"
    part = alice.client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == payload[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(payload)}"
    again = alice.client.get(url, headers={"If-None-Match": whole.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stored = list((tmp_path / "data" / "attachments").iterdir())
    assert [path.read_bytes() for path in stored] == [payload]
    assert all(len(path.name) == 32 and "scan" not in path.name for path in stored)


def test_site_attachment_html_is_downloaded_never_rendered(alice: SiteUser) -> None:
    note_id = alice.new_note_id("Page", attachment=("x.html", b"<script>1</script>", "text/html"))
    response = alice.client.get(f"/site/notes/{note_id}/attachment")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"] == "sandbox"


def test_site_attachment_replaced_and_removed(alice: SiteUser, tmp_path: Path) -> None:
    note_id = alice.new_note_id("Doc", attachment=("a.txt", b"first", "text/plain"))
    edit = f"/site/notes/{note_id}/edit"
    files = {"attachment": ("b.txt", b"second", "text/plain")}
    assert alice.post(edit, {"title": "Doc"}, files=files).status_code == 303
    assert alice.client.get(f"/site/notes/{note_id}/attachment").content == b"second"
    folder = tmp_path / "data" / "attachments"
    assert [path.read_bytes() for path in folder.iterdir()] == [b"second"]
    assert alice.post(edit, {"title": "Doc", "remove_attachment": "on"}).status_code == 303
    assert alice.client.get(f"/site/notes/{note_id}/attachment").status_code == 404
    assert list(folder.iterdir()) == []


def test_site_attachment_over_the_limit_is_a_form_error(alice: SiteUser) -> None:
    big = b"x" * (5 * 2**20 + 1)
    response = alice.create_note(
        "Big", "kept", attachment=("big.bin", big, "application/octet-stream")
    )
    assert response.status_code == 400
    assert "An attachment has at most 5 MiB." in response.text
    assert ">kept</textarea>" in response.text


def test_site_another_users_note_and_attachment_are_not_found(
    alice: SiteUser, bob: SiteUser
) -> None:
    note_id = alice.new_note_id(
        "Private", body="secret", attachment=("s.txt", b"secret", "text/plain")
    )
    for path in ("", "/edit", "/attachment"):
        response = bob.client.get(f"/site/notes/{note_id}{path}")
        assert response.status_code == 404, path
        assert "secret" not in response.text and "Private" not in response.text
    edit = bob.post(f"/site/notes/{note_id}/edit", {"title": "Mine"}, form="/site/notes/new")
    delete = bob.post(f"/site/notes/{note_id}/delete", {}, form="/site/notes/new")
    assert (edit.status_code, delete.status_code) == (404, 404)
    assert "Private" not in bob.client.get("/site/notes").text
    assert "Private" in alice.client.get(f"/site/notes/{note_id}").text


def test_site_admin_lists_users_with_note_counts(alice: SiteUser, bob: SiteUser) -> None:
    for title in ("one", "two"):
        bob.new_note_id(title)
    alice.new_note_id("mine")
    page = re.sub(r">\s+<", "><", alice.client.get("/site/admin").text)
    assert '<td>alice</td><td>admin</td><td class="count">1</td>' in page
    assert '<td>bob</td><td></td><td class="count">2</td>' in page
    assert "2 users, 3 notes." in page


def test_site_tokens_issued_once_and_revoked(alice: SiteUser, bob: SiteUser) -> None:
    plaintext = alice.issue_token("laptop")
    assert plaintext.startswith("tsm_")
    page = alice.client.get("/site/tokens").text
    assert "laptop" in page and plaintext not in page  # shown once, in the response to the POST
    api = {"Authorization": f"Bearer {plaintext}"}
    assert alice.client.get("/api/notes", headers=api).status_code == 200

    token_id = page.split('name="token_id" value="', 1)[1].split('"', 1)[0]
    stolen = bob.post("/site/tokens", {"action": "revoke", "token_id": token_id})
    assert stolen.status_code == 404  # bob cannot revoke alice's token
    revoked = alice.post("/site/tokens", {"action": "revoke", "token_id": token_id})
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/site/tokens")
    page = alice.client.get("/site/tokens").text
    assert flashes(page) == [("info", "Token revoked.")] and "laptop" not in page
    anonymous = TestClient(alice.client.app)  # type: ignore[attr-defined]
    assert anonymous.get("/api/notes", headers=api).status_code == 401


def test_site_every_form_carries_a_csrf_token(alice: SiteUser) -> None:
    note_id = alice.new_note_id("Forms")
    alice.issue_token()
    for path in ("/site/", "/site/notes", "/site/notes/new", f"/site/notes/{note_id}",
                 f"/site/notes/{note_id}/edit", "/site/tokens", "/site/admin"):  # fmt: skip
        html = alice.client.get(path).text
        assert html.count("<form") == html.count('name="csrf_token"'), path
    anonymous = TestClient(alice.client.app)  # type: ignore[attr-defined]
    for path in ("/site/login", "/site/register"):
        html = anonymous.get(path).text
        assert html.count("<form") == html.count('name="csrf_token"') == 1, path
