"""Routing: matching, converters, 404/405/HEAD/OPTIONS, redirects, url_for, mounts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web.application import App
from transom.web.requests import Request
from transom.web.responses import PlainTextResponse
from transom.web.routing import Converter, Router
from transom.web.staticfiles import StaticFiles


def make_app() -> App:
    app = App()

    @app.get("/")
    async def index() -> str:
        return "home"

    @app.get("/users/me")
    async def me() -> dict[str, str]:
        return {"user": "me"}

    @app.get("/users/{user_id:int}", name="user")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/users/{name}")
    async def user_by_name(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/price/{amount:float}")
    async def price(amount: float) -> dict[str, float]:
        return {"amount": amount}

    @app.get("/things/{thing:uuid}")
    async def thing(thing: uuid.UUID) -> dict[str, str]:
        return {"type": type(thing).__name__, "hex": thing.hex}

    @app.get("/files/{rest:path}", name="file")
    async def files(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.post("/items")
    async def create() -> dict[str, str]:
        return {"made": "yes"}

    @app.get("/slash/")
    async def slash() -> str:
        return "slash"

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_route_static_path(client: TestClient) -> None:
    assert client.get("/users/me").json() == {"user": "me"}


def test_route_static_beats_dynamic_added_earlier() -> None:
    app = App()

    @app.get("/a/{name}")
    async def dynamic(name: str) -> str:
        return "dynamic"

    @app.get("/a/b")
    async def static() -> str:
        return "static"

    assert TestClient(app).get("/a/b").text == "static"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/42", {"id": 42}),
        ("/users/bob", {"name": "bob"}),
        ("/price/3.25", {"amount": 3.25}),
        ("/price/3", {"amount": 3.0}),
        ("/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        (
            "/things/12345678-1234-5678-1234-567812345678",
            {"type": "UUID", "hex": "12345678123456781234567812345678"},
        ),
    ],
    ids=["int", "str", "float", "float-int", "path", "uuid"],
)
def test_route_converters_convert(client: TestClient, path: str, expected: object) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == expected


def test_route_percent_decoded_param(client: TestClient) -> None:
    assert client.get("/users/j%C3%BCrgen").json() == {"name": "jürgen"}


def test_route_unknown_path_is_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404


def test_route_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.delete("/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_route_wrong_method_on_dynamic_path_is_405(client: TestClient) -> None:
    response = client.post("/users/7")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_route_head_answers_get_route_without_body(client: TestClient) -> None:
    response = client.head("/users/7")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"id":7}'))


def test_route_options_answers_204_with_allow(client: TestClient) -> None:
    response = client.options("/items")
    assert response.status_code == 204
    assert response.headers["allow"] == "OPTIONS, POST"


def test_route_trailing_slash_redirects_308_keeping_query(client: TestClient) -> None:
    response = client.get("/slash?x=1&y=2", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/slash/?x=1&y=2"


def test_route_extra_trailing_slash_redirects(client: TestClient) -> None:
    response = client.get("/users/me/", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/users/me"


def test_route_redirect_followed(client: TestClient) -> None:
    assert client.get("/slash").text == "slash"


def test_route_later_overlapping_template_serves_its_method() -> None:
    app = App()

    @app.get("/n/{number:int}")
    async def read(number: int) -> str:
        return "read"

    @app.post("/n/{name}")
    async def write(name: str) -> str:
        return f"write {name}"

    assert TestClient(app).post("/n/5").text == "write 5"


def test_route_same_template_different_methods() -> None:
    app = App()

    @app.get("/notes/{note_id:int}")
    async def show(note_id: int) -> str:
        return "show"

    @app.put("/notes/{ident:int}")
    async def update(ident: int) -> str:
        return f"update {ident}"

    client = TestClient(app)
    assert client.get("/notes/1").text == "show"
    assert client.put("/notes/2").text == "update 2"


def test_route_converter_error_means_no_match() -> None:
    class EvenConverter(Converter):
        regex = "[0-9]+"

        def convert(self, value: str) -> int:
            if int(value) % 2:
                raise ValueError("odd")
            return int(value)

    app = App()
    app.add_converter("even", EvenConverter)

    @app.get("/even/{n:even}")
    async def even(n: int) -> dict[str, int]:
        return {"n": n}

    client = TestClient(app)
    assert client.get("/even/4").json() == {"n": 4}
    assert client.get("/even/3").status_code == 404


def test_route_custom_converter_and_url_for() -> None:
    class SlugConverter(Converter):
        regex = "[a-z0-9]+(?:-[a-z0-9]+)*"

    app = App()
    app.add_converter("slug", SlugConverter())

    @app.get("/posts/{slug:slug}", name="post")
    async def post(slug: str) -> str:
        return slug

    client = TestClient(app)
    assert client.get("/posts/hello-world").text == "hello-world"
    assert client.get("/posts/Hello").status_code == 404
    assert app.url_for("post", slug="a-b") == "/posts/a-b"


def test_route_unknown_converter_fails_when_added() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=r"unknown converter 'slug'.*add_converter"):
        app.add_route("/p/{s:slug}", lambda s: s)


def test_route_duplicate_name_fails_when_added() -> None:
    app = App()
    app.add_route("/a", lambda: "a", name="page")
    with pytest.raises(ConfigurationError, match="route name 'page' is already used"):
        app.add_route("/b", lambda: "b", name="page")


def test_route_same_name_same_path_allowed_for_get_and_post() -> None:
    app = App()
    app.add_route("/login", lambda: "form", name="login")
    app.add_route("/login", lambda: "done", methods=["POST"], name="login")
    assert app.url_for("login") == "/login"


def test_route_same_method_and_path_twice_fails() -> None:
    app = App()
    app.add_route("/a", lambda: "a")
    with pytest.raises(ConfigurationError, match="GET '/a' is already served"):
        app.add_route("/a", lambda: "b", name="other")


def test_route_handler_missing_path_param_fails() -> None:
    app = App()

    async def handler() -> str:
        return ""

    with pytest.raises(ConfigurationError, match="does not take path parameter"):
        app.add_route("/u/{user_id:int}", handler)


def test_route_handler_with_unfillable_argument_fails() -> None:
    app = App()

    async def handler(user_id: int, other: str) -> str:
        return ""

    with pytest.raises(ConfigurationError, match="requires argument"):
        app.add_route("/u/{user_id:int}", handler)


@pytest.mark.parametrize(
    "path",
    ["no-slash", "/a/{b", "/a/{1x}", "/a/{x}/{x}"],
    ids=["relative", "unbalanced", "bad-identifier", "repeated"],
)
def test_route_bad_template_fails(path: str) -> None:
    with pytest.raises(ConfigurationError):
        App().add_route(path, lambda **kw: "")


def test_route_bad_method_fails() -> None:
    with pytest.raises(ConfigurationError, match="not an HTTP method"):
        App().add_route("/a", lambda: "", methods=["GE T"])


def test_url_for_builds_path_and_query() -> None:
    app = make_app()
    assert app.url_for("user", user_id=3) == "/users/3"
    assert app.url_for("user", user_id=3, tab="a b", tag=["x", "y"]) == (
        "/users/3?tab=a+b&tag=x&tag=y"
    )
    assert app.url_for("file", rest="a b/c.txt") == "/files/a%20b/c.txt"


def test_url_for_missing_param_is_clear() -> None:
    with pytest.raises(ConfigurationError, match=r"needs parameter\(s\) user_id"):
        make_app().url_for("user")


def test_url_for_unknown_name_is_clear() -> None:
    with pytest.raises(ConfigurationError, match="no route named 'nope'"):
        make_app().url_for("nope")


def test_url_for_wrong_type_for_converter_is_clear() -> None:
    with pytest.raises(ConfigurationError, match="'user_id' is not a valid int"):
        make_app().url_for("user", user_id="abc")


def test_request_url_for_is_absolute() -> None:
    app = App()

    @app.get("/u/{user_id:int}", name="user")
    async def user(request: Request, user_id: int) -> str:
        return str(request.url_for("user", user_id=user_id + 1))

    assert TestClient(app).get("/u/1").text == "http://testserver/u/2"


def test_router_prefix_and_include() -> None:
    api = Router(prefix="/api")

    @api.get("/notes/{note_id:int}", name="note")
    async def note(note_id: int) -> dict[str, int]:
        return {"note": note_id}

    v2 = Router(prefix="/v2")
    v2.include(api)
    app = App()
    app.include(v2)
    assert TestClient(app).get("/v2/api/notes/5").json() == {"note": 5}
    assert app.url_for("note", note_id=5) == "/v2/api/notes/5"


def test_router_include_checks_converters_at_include() -> None:
    router = Router()
    router.add_route("/x/{s:slug}", lambda s: s)
    with pytest.raises(ConfigurationError, match="unknown converter"):
        App().include(router)


def test_router_bad_prefix_fails() -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        Router(prefix="api/")


def test_mount_plain_asgi_app_gets_root_path_and_full_path() -> None:
    seen = {}

    async def sub(scope, receive, send):  # type: ignore[no-untyped-def]
        seen["path"], seen["root_path"] = scope["path"], scope["root_path"]
        await PlainTextResponse("sub")(scope, receive, send)

    app = App()
    app.mount("/sub", sub)
    assert TestClient(app).get("/sub/a/b").text == "sub"
    assert seen == {"path": "/sub/a/b", "root_path": "/sub"}


def test_mount_does_not_match_prefix_of_a_longer_segment() -> None:
    app = App()
    app.mount("/sub", PlainTextResponse("sub"))
    assert TestClient(app).get("/subway").status_code == 404


def test_mount_starlette_app() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse as StarletteJSON
    from starlette.routing import Route as StarletteRoute

    async def hello(request):  # type: ignore[no-untyped-def]
        return StarletteJSON(
            {
                "path": request.url.path,
                "id": request.path_params["item_id"],
                "url_for": str(request.url_for("hello", item_id=9)),
            }
        )

    starlette_app = Starlette(routes=[StarletteRoute("/items/{item_id:int}", hello, name="hello")])
    app = App()
    app.mount("/legacy", starlette_app)
    response = TestClient(app).get("/legacy/items/3")
    assert response.json() == {
        "path": "/legacy/items/3",
        "id": 3,
        "url_for": "http://testserver/legacy/items/9",
    }


def test_mount_fastapi_app() -> None:
    from fastapi import FastAPI

    api = FastAPI()

    @api.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, object]:
        return {"item_id": item_id, "q": q}

    app = App()
    app.mount("/fast", api)
    client = TestClient(app)
    assert client.get("/fast/items/5?q=x").json() == {"item_id": 5, "q": "x"}
    assert client.get("/fast/items/abc").status_code == 422
    assert client.get("/fast/openapi.json").json()["paths"]


def test_mount_url_for_with_path() -> None:
    app = App()
    app.mount("/static", PlainTextResponse("x"), name="static")
    assert app.url_for("static", path="css/app.css") == "/static/css/app.css"


def test_mount_transom_app_inside_transom_app() -> None:
    inner = App()

    @inner.get("/hello/{name}", name="hello")
    async def hello(request: Request, name: str) -> dict[str, str]:
        return {"name": name, "self": str(request.url_for("hello", name="x"))}

    outer = App()
    outer.mount("/inner", inner)
    assert TestClient(outer).get("/inner/hello/bob").json() == {
        "name": "bob",
        "self": "http://testserver/inner/hello/x",
    }


def test_mount_path_must_not_be_root() -> None:
    with pytest.raises(ConfigurationError, match="mount path"):
        App().mount("/", PlainTextResponse("x"))


def test_route_trailing_slash_redirect_never_leaves_the_site() -> None:
    import asyncio

    app = App()

    @app.get("/{rest:path}/")
    async def folder(rest: str) -> str:
        return rest

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "//evil.example",
        "raw_path": b"//evil.example",
        "query_string": b"",
        "headers": [],
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 308
    assert dict(sent[0]["headers"])[b"location"] == b"/evil.example/"  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("converter", "value", "text"),
    [
        ("int", 7, "7"),
        ("float", 2.5, "2.5"),
        ("float", 3.0, "3"),
        ("uuid", uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ("str", "a b", "a%20b"),
        ("path", "a/b c", "a/b%20c"),
    ],
    ids=["int", "float", "float-whole", "uuid", "str", "path"],
)
def test_url_for_converters_to_string(converter: str, value: object, text: str) -> None:
    app = App()
    app.add_route(f"/x/{{v:{converter}}}", lambda v: "", name="x")
    assert app.url_for("x", v=value) == f"/x/{text}"


@pytest.mark.parametrize(
    ("converter", "value"),
    [
        ("int", -1),
        ("int", True),
        ("float", float("nan")),
        ("str", "a/b"),
        ("str", ""),
        ("uuid", "nope"),
    ],
    ids=["negative-int", "bool", "nan", "slash", "empty", "bad-uuid"],
)
def test_url_for_rejects_values_the_route_would_not_match(converter: str, value: object) -> None:
    app = App()
    app.add_route(f"/x/{{v:{converter}}}", lambda v: "", name="x")
    with pytest.raises(ConfigurationError, match="is not a valid"):
        app.url_for("x", v=value)


def test_add_converter_needs_regex_and_convert() -> None:
    class NoRegex:
        def convert(self, value: str) -> str:
            return value

    with pytest.raises(ConfigurationError, match="needs a 'regex'"):
        App().add_converter("bad", NoRegex)  # type: ignore[arg-type]


def test_add_converter_invalid_regex_and_name() -> None:
    class Broken(Converter):
        regex = "(unclosed"

    with pytest.raises(ConfigurationError, match="invalid regex"):
        App().add_converter("broken", Broken)
    with pytest.raises(ConfigurationError, match="identifier"):
        App().add_converter("not-valid", Converter)


def test_add_converter_twice_refused() -> None:
    app = App()
    app.add_converter("thing", Converter)
    with pytest.raises(ConfigurationError, match="already registered"):
        app.add_converter("thing", Converter)


def test_route_handler_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="not callable"):
        App().add_route("/", "index")  # type: ignore[arg-type]


def test_route_max_body_size_must_be_valid() -> None:
    with pytest.raises(ConfigurationError, match="max_body_size"):
        App().add_route("/", lambda: "", max_body_size=-5)


def test_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match="itself"):
        router.include(router)


def test_route_handler_with_kwargs_takes_any_param() -> None:
    app = App()

    async def handler(**params: object) -> dict[str, object]:
        return dict(params)

    app.add_route("/k/{a}/{b:int}", handler)
    assert TestClient(app).get("/k/x/2").json() == {"a": "x", "b": 2}


def test_route_class_instance_with_async_call() -> None:
    class Endpoint:
        async def __call__(self, name: str) -> str:
            return f"hi {name}"

    app = App()
    app.add_route("/hi/{name}", Endpoint(), name="hi")
    assert TestClient(app).get("/hi/bob").text == "hi bob"


# -- url_for into mounts: "mount:route", chained, and mount + path ------------


def admin_app() -> App:
    admin = App()

    @admin.get("/", name="dashboard")
    async def dashboard() -> str:
        return "dashboard"

    users = Router(prefix="/users")

    @users.get("/{user_id:int}", name="user")
    async def user(user_id: int) -> dict[str, int]:
        return {"user": user_id}

    admin.include(users)
    return admin


def test_url_for_route_of_a_mounted_app() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")
    assert app.url_for("admin:dashboard") == "/admin/"
    assert app.url_for("admin:user", user_id=7, tab="x y") == "/admin/users/7?tab=x+y"
    assert TestClient(app).get(app.url_for("admin:user", user_id=7)).json() == {"user": 7}


def test_url_for_chains_through_nested_mounts() -> None:
    class Slug(Converter):
        regex = "[a-z-]+"

    leaf = App()
    leaf.add_converter("slug", Slug)

    @leaf.get("/posts/{slug:slug}", name="post")
    async def post(slug: str) -> str:
        return slug

    middle = App()
    middle.mount("/blog", leaf, name="blog")
    app = App()
    app.mount("/site", middle, name="site")
    assert app.url_for("site:blog:post", slug="a-b") == "/site/blog/posts/a-b"
    assert middle.url_for("blog:post", slug="a-b") == "/blog/posts/a-b"
    assert TestClient(app).get("/site/blog/posts/a-b").text == "a-b"


def test_url_for_mount_inside_a_router_takes_the_prefix() -> None:
    router = Router(prefix="/v1")
    router.mount("/admin", admin_app(), name="admin")
    app = App()
    app.include(router)
    assert app.url_for("admin:user", user_id=1) == "/v1/admin/users/1"
    assert TestClient(app).get("/v1/admin/users/1").json() == {"user": 1}


def test_url_for_mount_name_with_path_for_any_asgi_app(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body {}")
    app = App()
    app.mount("/static", StaticFiles(tmp_path), name="static")
    app.mount("/admin", admin_app(), name="admin")
    url = app.url_for("static", path="/css/site.css")
    assert url == "/static/css/site.css"
    assert TestClient(app).get(url).text == "body {}"
    assert app.url_for("admin", path="users/2") == "/admin/users/2"


def test_url_for_unknown_name_in_a_mount_lists_its_names() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")
    with pytest.raises(ConfigurationError, match="known: admin:dashboard, admin:user") as caught:
        app.url_for("admin:nope")
    assert "'admin:nope'" in str(caught.value)


def test_url_for_unknown_mount_name_lists_the_names() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")
    with pytest.raises(ConfigurationError, match=r"named 'nope:dashboard' \(known: admin\)"):
        app.url_for("nope:dashboard")


def test_url_for_route_name_inside_a_non_transom_mount_is_clear() -> None:
    app = App()
    app.mount("/static", PlainTextResponse("x"), name="static")
    with pytest.raises(ConfigurationError, match=r"not a transom App.*url_for\('static', path"):
        app.url_for("static:css")


def test_url_for_bare_name_of_a_mounted_route_says_how_to_reach_it() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")
    app.mount("/other", admin_app())
    with pytest.raises(ConfigurationError, match="did you mean 'admin:dashboard'"):
        app.url_for("dashboard")
    unnamed = App()
    unnamed.mount("/other", admin_app())
    with pytest.raises(ConfigurationError, match="mount it with a name"):
        unnamed.url_for("dashboard")


def test_url_for_mounted_route_missing_param_is_clear() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")
    with pytest.raises(ConfigurationError, match=r"url_for\('admin:user'\) needs parameter"):
        app.url_for("admin:user")


def test_url_for_route_name_with_a_colon_is_still_found_whole() -> None:
    app = App()
    app.mount("/admin", admin_app(), name="admin")

    @app.get("/x", name="admin:x")
    async def x() -> str:
        return "x"

    assert app.url_for("admin:x") == "/x"


def test_mount_name_shared_with_a_route_fails() -> None:
    app = App()

    @app.get("/admin-home", name="admin")
    async def home() -> str:
        return "home"

    with pytest.raises(ConfigurationError, match="route name 'admin' is already used"):
        app.mount("/admin", admin_app(), name="admin")
