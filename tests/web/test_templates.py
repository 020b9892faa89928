"""Templates: render(), the globals every template sees, debug errors and reloading."""

from __future__ import annotations

import hashlib
import html
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from transom import App, Request
from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web.responses import HTMLResponse
from transom.web.staticfiles import StaticFiles
from transom.web.templates import Templates, render, render_async


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tdir(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    directory.mkdir()
    return directory


def page_app(tdir: Path, source: str, *, name: str = "page.html", **options: Any) -> App:
    """An app rendering ``source`` (saved as ``name``) at ``/`` with ``?x=`` as ``x``."""
    write(tdir, name, source)
    app = App(templates=Templates(tdir, **options))

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, name, x=request.query_params.get("x", ""))

    return app


def get_text(app: Any, path: str = "/", **kwargs: Any) -> str:
    with TestClient(app) as client:
        response = client.get(path, **kwargs)
        assert response.status_code == 200, response.text
        return response.text


# -- rendering and autoescape --------------------------------------------------


@pytest.mark.parametrize("name", ["page.html", "page.htm", "page.xml", "page.svg"])
def test_render_escapes_markup_templates(tdir: Path, name: str) -> None:
    app = page_app(tdir, "<p>{{ x }}</p>", name=name)
    text = get_text(app, params={"x": "<script>alert(1)</script>"})
    assert text == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_render_does_not_escape_text_templates(tdir: Path) -> None:
    app = page_app(tdir, "{{ x }}", name="mail.txt")
    assert get_text(app, params={"x": "<b>&"}) == "<b>&"


def test_render_returns_html_response_with_status_headers_and_type(tdir: Path) -> None:
    write(tdir, "feed.xml", "<feed>{{ title }}</feed>")
    app = App(templates=Templates(tdir))

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(
            request,
            "feed.xml",
            status_code=201,
            headers={"X-Kind": "feed"},
            media_type="application/atom+xml",
            title="news",
        )

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 201
    assert response.headers["x-kind"] == "feed"
    assert response.headers["content-type"] == "application/atom+xml"
    assert response.text == "<feed>news</feed>"


def test_render_context_may_use_the_key_name(tdir: Path) -> None:
    write(tdir, "hello.html", "Hello {{ name }} ({{ request.url.path }})")
    app = App(templates=Templates(tdir))

    @app.get("/hello")
    async def hello(request: Request) -> HTMLResponse:
        return render(request, "hello.html", name="World")

    assert get_text(app, "/hello") == "Hello World (/hello)"


def test_render_from_a_def_handler(tdir: Path) -> None:
    write(tdir, "page.html", "{{ n }} {{ url_for('page') }}")
    app = App(templates=Templates(tdir))

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html", n=7)

    assert get_text(app, "/page") == "7 http://testserver/page"


def test_render_without_templates_says_how_to_configure(tdir: Path) -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client, pytest.raises(ConfigurationError, match="templates="):
        client.get("/")


def test_app_templates_accepts_a_directory_name(tdir: Path) -> None:
    write(tdir, "page.html", "from a path")
    app = App(templates=str(tdir))
    assert isinstance(app.templates, Templates)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    assert get_text(app) == "from a path"


# -- construction ----------------------------------------------------------------


def test_templates_searches_directories_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "page.html", "first")
    write(second, "page.html", "second")
    write(second, "only.html", "only in b")
    templates = Templates([first, second])
    assert templates.get_template("page.html").render() == "first"
    assert templates.get_template("only.html").render() == "only in b"


def test_templates_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Templates(tmp_path / "nope")


def test_templates_needs_a_source() -> None:
    with pytest.raises(ConfigurationError, match="directory"):
        Templates()


def test_templates_package_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "tpl_pkg_for_test"
    write(package, "__init__.py", "")
    write(package / "templates", "hello.html", "from the package: {{ x }}")
    monkeypatch.syspath_prepend(str(tmp_path))
    templates = Templates(package="tpl_pkg_for_test")
    assert templates.get_template("hello.html").render(x="<i>") == "from the package: &lt;i&gt;"


def test_templates_unknown_package_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no_such_package_here"):
        Templates(package="no_such_package_here")


def test_templates_takes_a_jinja2_loader() -> None:
    templates = Templates(jinja2.DictLoader({"a.html": "<{{ x }}>"}))
    assert templates.get_template("a.html").render(x="&") == "<&amp;>"


def test_templates_globals_and_filters_options(tdir: Path) -> None:
    write(tdir, "page.html", "{{ site }} {{ 'ab' | shout }}")
    templates = Templates(tdir, globals={"site": "Notes"}, filters={"shout": str.upper})
    assert templates.get_template("page.html").render() == "Notes AB"


@pytest.mark.parametrize("kind", ["str", "path", "list", "loader"])
def test_templates_coerce_builds_templates(tdir: Path, kind: str) -> None:
    write(tdir, "page.html", "ok")
    value: Any = {
        "str": str(tdir),
        "path": tdir,
        "list": [tdir],
        "loader": jinja2.FileSystemLoader(tdir),
    }[kind]
    templates = Templates.coerce(value, debug=True)
    assert templates.debug is True
    assert templates.get_template("page.html").render() == "ok"


def test_templates_coerce_keeps_a_templates(tdir: Path) -> None:
    templates = Templates(tdir)
    assert Templates.coerce(templates, debug=True) is templates


def test_templates_coerce_refuses_other_types() -> None:
    with pytest.raises(ConfigurationError, match="not int"):
        Templates.coerce(3, debug=False)


def test_import_transom_does_not_import_jinja2() -> None:
    code = "import sys, transom.web, transom; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- globals: url_for, static_url, request, session, user, csrf ------------------


def test_globals_are_set_once_on_the_environment(tdir: Path) -> None:
    env = Templates(tdir).env
    for name in ("url_for", "static_url", "csrf_token", "csrf_input", "get_flashed_messages"):
        assert callable(env.globals[name]), name
    assert "request" not in env.globals
    assert "session" not in env.globals


URL_CASES = {
    "plain": ("item", {"item_id": 3}),
    "query": ("item", {"item_id": 3, "q": "a b&c", "tag": "é"}),
    "text": ("tagged", {"tag": "hé llo;x~"}),
    "static": ("index", {}),
}


@pytest.mark.parametrize("case", list(URL_CASES))
def test_url_for_in_templates_is_request_url_for(tdir: Path, case: str) -> None:
    name, params = URL_CASES[case]
    write(tdir, "link.html", "{{ url_for(name, **params) }}")
    app = App(templates=Templates(tdir))

    @app.get("/items/{item_id:int}", name="item")
    async def item(item_id: int) -> str:
        return ""

    @app.get("/tags/{tag}", name="tagged")
    async def tagged(tag: str) -> str:
        return ""

    @app.get("/")
    async def index(request: Request) -> dict[str, str]:
        text = render(request, "link.html", name=name, params=params).body.decode()
        return {"template": text, "request": str(request.url_for(name, **params))}

    with TestClient(app, root_path="/prefix") as client:
        got = client.get("/", headers={"Host": "Example.COM:8080"}).json()
    assert html.unescape(got["template"]) == got["request"]  # & is &amp; in HTML
    assert got["template"].startswith("http://example.com:8080/prefix/")


def test_url_for_in_a_mounted_app_has_the_mount_prefix(tdir: Path) -> None:
    write(tdir, "page.html", "{{ url_for('page') }} {{ url_for('outer') }}")
    inner = App(templates=Templates(tdir))

    @inner.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    outer = App()

    @outer.get("/outer", name="outer")
    async def outer_route() -> str:
        return ""

    outer.mount("/sub", inner, name="sub")
    text = get_text(outer, "/sub/page")
    assert text == "http://testserver/sub/page http://testserver/outer"


@pytest.fixture
def static_app(tdir: Path, tmp_path: Path) -> tuple[App, Path]:
    static = tmp_path / "static"
    write(static, "css/site.css", "body { color: red }\n")
    write(tdir, "page.html", "{{ static_url(path) }}")
    app = App(templates=Templates(tdir, debug=True))
    app.mount("/static", StaticFiles(static), name="static")

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "page.html", path=request.query_params.get("path", ""))

    return app, static


def _sha12(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def test_static_url_has_the_content_hash(static_app: tuple[App, Path]) -> None:
    app, _ = static_app
    text = get_text(app, params={"path": "css/site.css"})
    digest = _sha12(b"body { color: red }\n")
    assert text == f"http://testserver/static/css/site.css?v={digest}"


def test_static_url_changes_with_the_content(static_app: tuple[App, Path]) -> None:
    app, static = static_app
    with TestClient(app) as client:
        first = client.get("/", params={"path": "css/site.css"}).text
        (static / "css/site.css").write_text("body { color: blue; margin: 0 }\n")
        second = client.get("/", params={"path": "css/site.css"}).text
        assert first != second
        assert second.endswith("?v=" + _sha12(b"body { color: blue; margin: 0 }\n"))
        served = client.get(second.removeprefix("http://testserver"))
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        stale = client.get(first.removeprefix("http://testserver"))
        assert "cache-control" not in stale.headers
        assert stale.text == "body { color: blue; margin: 0 }\n"


def test_static_url_of_a_missing_file_is_an_error(static_app: tuple[App, Path]) -> None:
    app, _ = static_app
    with TestClient(app) as client, pytest.raises(ConfigurationError, match="no such file"):
        client.get("/", params={"path": "../templates/page.html"})


def test_static_url_needs_a_named_static_mount(tdir: Path) -> None:
    app = page_app(tdir, "{{ static_url('a.css') }}")
    with TestClient(app) as client, pytest.raises(ConfigurationError, match="name='static'"):
        client.get("/")


def test_static_url_other_mount_name(tdir: Path, tmp_path: Path) -> None:
    write(tmp_path / "assets", "a.js", "1")
    app = page_app(tdir, "{{ static_url('a.js', mount='assets') }}")
    app.mount("/assets", StaticFiles(tmp_path / "assets"), name="assets")
    assert get_text(app) == f"http://testserver/assets/a.js?v={_sha12(b'1')}"


def test_session_is_empty_without_sessions(tdir: Path) -> None:
    app = page_app(tdir, "{{ session | length }} {{ session.get('k', 'none') }}")
    assert get_text(app) == "0 none"


def test_session_and_csrf_in_templates(tdir: Path) -> None:
    write(tdir, "page.html", "{{ session['k'] }}|{{ csrf_input() }}|{{ csrf_token() }}")
    app = App(templates=Templates(tdir), secret_key="k" * 32)

    @app.get("/set")
    async def set_(request: Request) -> str:
        request.session["k"] = "<v>"
        return "ok"

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client:
        client.get("/set")
        value, field, token = client.get("/").text.split("|")
    assert value == "&lt;v&gt;"
    assert field.startswith('<input type="hidden" name="csrf_token" value="')
    assert len(token) > 20


def test_user_comes_from_the_scope(tdir: Path) -> None:
    app = page_app(tdir, "{{ user }}")

    async def with_user(scope: Any, receive: Any, send: Any) -> None:
        scope["user"] = "alice"
        await app(scope, receive, send)

    assert get_text(with_user) == "alice"


def test_user_is_anonymous_when_nobody_logged_in(tdir: Path) -> None:
    app = page_app(tdir, "{{ user.is_authenticated }}")
    assert get_text(app) == "False"


def test_user_is_resolved_in_included_templates(tdir: Path) -> None:
    write(tdir, "part.html", "[{{ user }}]")
    app = page_app(tdir, "{% include 'part.html' %}")

    async def with_user(scope: Any, receive: Any, send: Any) -> None:
        scope["user"] = "bob"
        await app(scope, receive, send)

    assert get_text(with_user) == "[bob]"


# -- debug: errors that name the template and line; reloading --------------------


def test_debug_undefined_variable_names_template_and_line(tdir: Path) -> None:
    app = page_app(tdir, "line 1\nline 2\n{{ missing_var }}\n", debug=True)
    with TestClient(app) as client, pytest.raises(jinja2.UndefinedError) as info:
        client.get("/")
    assert str(info.value) == "'missing_var' is undefined (template 'page.html', line 3)"


def test_debug_undefined_attribute_in_included_template(tdir: Path) -> None:
    write(tdir, "part.html", "\n{% if x.nope.deeper %}y{% endif %}")
    app = page_app(tdir, "{% include 'part.html' %}", debug=True)
    with TestClient(app) as client, pytest.raises(jinja2.UndefinedError) as info:
        client.get("/")
    assert "(template 'part.html', line 2)" in str(info.value)


def test_undefined_variable_renders_empty_outside_debug(tdir: Path) -> None:
    app = page_app(tdir, "[{{ missing_var }}]")
    assert get_text(app) == "[]"


def test_missing_template_lists_the_search_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    templates = Templates([first, second])
    with pytest.raises(jinja2.TemplateNotFound) as info:
        templates.get_template("nope.html")
    message = str(info.value)
    assert message.startswith("template 'nope.html' not found; looked in: ")
    assert f"{first}, {second}" in message


def test_missing_include_names_the_including_template_and_line(tdir: Path) -> None:
    app = page_app(tdir, "a\n{% include 'gone.html' %}", debug=True)
    with TestClient(app) as client, pytest.raises(jinja2.TemplateNotFound) as info:
        client.get("/")
    assert "template 'gone.html' not found (asked for by 'page.html', line 2)" in str(info.value)
    assert str(tdir) in str(info.value)


def _touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime
    path.write_text(text)
    os.utime(path, (before + 5, before + 5))  # a clock tick the loader cannot miss


def test_debug_reloads_an_edited_template(tdir: Path) -> None:
    app = page_app(tdir, "old", debug=True)
    with TestClient(app) as client:
        assert client.get("/").text == "old"
        _touch_later(tdir / "page.html", "new")
        assert client.get("/").text == "new"


def test_templates_are_not_reloaded_outside_debug(tdir: Path) -> None:
    app = page_app(tdir, "old")
    with TestClient(app) as client:
        assert client.get("/").text == "old"
        _touch_later(tdir / "page.html", "new")
        assert client.get("/").text == "old"


# -- async rendering ----------------------------------------------------------------


async def _numbers() -> AsyncIterator[int]:
    for n in range(3):
        yield n


def test_render_async_iterates_async_generators(tdir: Path) -> None:
    write(tdir, "page.html", "{% for n in numbers %}{{ n }}{% endfor %} {{ url_for('index') }}")
    app = App(templates=Templates(tdir, enable_async=True))

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await render_async(request, "page.html", status_code=202, numbers=_numbers())

    with TestClient(app) as client:
        response = client.get("/")
    assert (response.status_code, response.text) == (202, "012 http://testserver/")


def test_render_async_with_sync_templates(tdir: Path) -> None:
    write(tdir, "page.html", "{{ x }}")
    app = App(templates=Templates(tdir))

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await render_async(request, "page.html", x="<sync>")

    assert get_text(app) == "&lt;sync&gt;"


def test_render_of_async_templates_in_async_handler_points_to_render_async(tdir: Path) -> None:
    app = page_app(tdir, "{{ x }}", enable_async=True)
    with TestClient(app) as client, pytest.raises(ConfigurationError, match="render_async"):
        client.get("/")


def test_render_of_async_templates_in_def_handler(tdir: Path) -> None:
    write(tdir, "page.html", "{{ x }}")
    app = App(templates=Templates(tdir, enable_async=True))

    @app.get("/")
    def index(request: Request) -> HTMLResponse:
        return render(request, "page.html", x="from a thread")

    assert get_text(app) == "from a thread"
