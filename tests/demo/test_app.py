"""``create_app``: the parts put together, the secret key file, static files, the index."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from transom.demo.app import create_app
from transom.testing import TestClient

from .test_site_support import cheap_hasher


def test_app_secret_key_made_once_private_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "demo"
    create_app(data_dir=data)
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 43
    assert create_app(data_dir=data).secret_key == key


def test_app_sessions_survive_a_restart(tmp_path: Path) -> None:
    """A second app over the same data dir (a restart, another worker) knows the cookie."""
    # Each client runs its app's lifespan: leaving the block closes the app's stores.
    with TestClient(create_app(data_dir=tmp_path, password_hasher=cheap_hasher())) as first:
        page = first.get("/site/register")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        fields = {"username": "ann", "password": "long enough", "password2": "long enough"}
        first.post("/site/register", data={"csrf_token": token.group(1), **fields})
        cookie = first.cookies["session"]
    restarted = create_app(data_dir=tmp_path, password_hasher=cheap_hasher())
    with TestClient(restarted, cookies={"session": cookie}) as second:
        assert second.get("/site/notes", follow_redirects=False).status_code == 200


def test_app_serves_httpbin_index_site_static_and_health(tmp_path: Path) -> None:
    with TestClient(create_app(data_dir=tmp_path)) as client:
        got = client.get("/get?x=1")
        assert got.status_code == 200 and got.json()["args"] == {"x": "1"}
        index = client.get("/")
        assert index.status_code == 200
        assert 'href="http://testserver/site/"' in index.text
        for path in ("/get", "/post", "/status/{codes}", "/api/notes", "/healthz"):
            assert f"<code>{path}</code>" in index.text
        css = re.search(r'href="([^"]*site\.css\?v=[^"]+)"', client.get("/site/").text)
        assert css is not None
        sheet = client.get(css.group(1))
        assert sheet.status_code == 200 and "immutable" in sheet.headers["cache-control"]
        assert sheet.headers["content-type"].startswith("text/css")
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["stores"] == {"sessions": "ok", "users": "ok", "notes": "ok"}


def test_app_templates_and_static_ship_with_the_package() -> None:
    import transom.demo

    root = Path(transom.demo.__file__).parent
    assert (root / "static" / "site.css").is_file()
    names = {path.name for path in (root / "templates").rglob("*.html")}
    assert {"base.html", "index.html", "login.html", "register.html", "notes.html"} <= names
