"""Request: URL parts, headers, query, cookies, body limits, JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from transom._types import Receive, Scope, Send
from transom.exceptions import ConfigurationError, StreamConsumed
from transom.http.multipart import MultipartEncoder
from transom.testing import TestClient
from transom.web.application import App
from transom.web.forms import SPOOL_MAX_SIZE, UploadFile
from transom.web.requests import Request, State
from transom.web.responses import PlainTextResponse


def echo_app(**app_options: Any) -> App:
    app = App(**app_options)

    @app.route("/info/{name}", methods=["GET", "POST"])
    async def info(request: Request, name: str) -> dict[str, Any]:
        return {
            "method": request.method,
            "url": str(request.url),
            "scheme": request.url.scheme,
            "host": request.url.host,
            "port": request.url.port,
            "path": request.url.path,
            "query": request.url.query,
            "base_url": str(request.base_url),
            "params": request.query_params.get_list("tag"),
            "header": request.headers.get("x-thing"),
            "cookies": request.cookies,
            "client": list(request.client or ()),
            "path_params": request.path_params,
        }

    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return {"length": total}

    @app.post("/small", max_body_size=10)
    async def small(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return {"got": await request.json()}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(echo_app())


def test_request_url_parts(client: TestClient) -> None:
    data = client.get(
        "http://example.com:8080/info/a%20b?tag=1&tag=2",
        headers={"X-Thing": "yes"},
        cookies={"session": "abc"},
    ).json()
    assert data["url"] == "http://example.com:8080/info/a%20b?tag=1&tag=2"
    assert (data["scheme"], data["host"], data["port"]) == ("http", "example.com", 8080)
    assert data["path"] == "/info/a b"
    assert data["query"] == "tag=1&tag=2"
    assert data["base_url"] == "http://example.com:8080/"
    assert data["params"] == ["1", "2"]
    assert data["header"] == "yes"
    assert data["cookies"] == {"session": "abc"}
    assert data["client"] == ["testclient", 50000]
    assert data["path_params"] == {"name": "a b"}
    assert data["method"] == "GET"


def test_request_base_url_includes_root_path() -> None:
    client = TestClient(echo_app(), root_path="/prefix")
    data = client.get("/info/x").json()
    assert data["base_url"] == "http://testserver/prefix/"
    assert data["url"] == "http://testserver/prefix/info/x"


def test_request_body(client: TestClient) -> None:
    assert client.post("/body", content=b"x" * 5000).json() == {"length": 5000}


def test_request_stream_counts_chunks(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    assert client.post("/stream", content=chunks()).json() == {"length": 10000}


def test_request_declared_length_over_limit_is_413(client: TestClient) -> None:
    response = client.post("/small", content=b"x" * 11)
    assert response.status_code == 413
    assert "at most 10 bytes" in response.text


def test_request_streamed_body_over_limit_is_413() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"z" * 4

    response = TestClient(echo_app()).post("/small", content=chunks())
    assert response.status_code == 413


def test_request_app_limit_applies() -> None:
    client = TestClient(echo_app(max_body_size=100))
    assert client.post("/body", content=b"x" * 100).status_code == 200
    assert client.post("/body", content=b"x" * 101).status_code == 413


def test_request_invalid_content_length_is_400(client: TestClient) -> None:
    app = echo_app()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/body",
        "headers": [(b"content-length", b"abc")],
        "query_string": b"",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400


def test_request_json(client: TestClient) -> None:
    assert client.post("/json", json={"a": [1, "é"]}).json() == {"got": {"a": [1, "é"]}}


def test_request_json_suffix_type_accepted(client: TestClient) -> None:
    response = client.post(
        "/json", content=b'{"a":1}', headers={"content-type": "application/vnd.api+json"}
    )
    assert response.json() == {"got": {"a": 1}}


def test_request_invalid_json_is_400(client: TestClient) -> None:
    response = client.post("/json", content=b'{"a": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("invalid JSON body")


def test_request_non_utf8_json_is_400(client: TestClient) -> None:
    response = client.post("/json", content=b'"\xff"', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "invalid JSON body" in response.json()["detail"]


def test_request_json_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post("/json", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.text


async def test_request_stream_twice_raises() -> None:
    messages = iter([{"type": "http.request", "body": b"abc", "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    request = Request({"type": "http", "headers": []}, receive)
    assert [chunk async for chunk in request.stream()] == [b"abc"]
    with pytest.raises(StreamConsumed):
        async for _ in request.stream():
            pass


async def test_request_body_then_stream_replays_body() -> None:
    messages = iter(
        [
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.request", "body": b"cd", "more_body": False},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    request = Request({"type": "http", "headers": []}, receive)
    assert await request.body() == b"abcd"
    assert [chunk async for chunk in request.stream()] == [b"abcd"]


async def test_request_disconnect_while_reading_is_400() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "headers": []}, receive)
    with pytest.raises(Exception, match="disconnected") as info:
        await request.body()
    assert getattr(info.value, "status_code", None) == 400


async def test_request_is_disconnected_keeps_body_messages() -> None:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    request = Request({"type": "http", "headers": []}, queue.get)
    assert await request.is_disconnected() is False
    await queue.put({"type": "http.request", "body": b"data", "more_body": False})
    assert await request.is_disconnected() is False
    assert await request.body() == b"data"
    await queue.put({"type": "http.disconnect"})
    assert await request.is_disconnected() is True


def test_request_state_is_per_request() -> None:
    app = App()

    class SetUser:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                Request(scope).state.user = "ada"
            await self.app(scope, receive, send)

    app.add_middleware(SetUser)

    @app.get("/")
    async def handler(request: Request) -> dict[str, str]:
        return {"user": request.state.user}

    assert TestClient(app).get("/").json() == {"user": "ada"}


def test_state_missing_attribute_raises_attribute_error() -> None:
    state = State()
    state.a = 1
    assert "a" in state
    del state.a
    with pytest.raises(AttributeError, match="no attribute 'a'"):
        _ = state.a


def test_request_url_without_host_header_uses_server() -> None:
    request = Request(
        {
            "type": "http",
            "scheme": "https",
            "server": ("::1", 8443),
            "path": "/x",
            "headers": [],
            "query_string": b"",
        }
    )
    assert str(request.url) == "https://[::1]:8443/x"


def test_request_invalid_host_header_is_400() -> None:
    app = App()

    @app.get("/")
    async def handler(request: Request) -> str:
        return str(request.url)

    response = TestClient(app).get("/", headers={"host": "bad host[name"})
    assert response.status_code == 400
    assert "Host header" in response.text


def test_request_deeply_nested_json_is_400(client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/json", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "nested too deeply" in response.text


def test_state_repr_and_delete_missing() -> None:
    state = State({"a": 1})
    assert repr(state) == "State({'a': 1})"
    with pytest.raises(AttributeError):
        del state.b


def test_request_url_without_host_or_server() -> None:
    request = Request({"type": "http", "path": "/p", "headers": [], "query_string": b""})
    assert str(request.url) == "http://localhost/p"
    assert request.client is None
    assert repr(request) == "<Request None '/p'>"


def test_request_url_for_outside_an_app_is_clear() -> None:
    from transom.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="served by a transom App"):
        Request({"type": "http", "headers": []}).url_for("x")


# -- request.form(): awaited, or entered with ``async with`` ------------------


def form_handle_app() -> App:
    app = App(max_body_size=4 * 1024 * 1024)

    @app.post("/awaited")
    async def awaited(request: Request) -> dict[str, Any]:
        form = await request.form(max_fields=5)
        return {"fields": dict(form.items()), "type": type(form).__name__}

    @app.post("/block")
    async def block(request: Request) -> dict[str, Any]:
        async with request.form() as form:
            upload = form["file"]
            assert isinstance(upload, UploadFile)
            inside = {
                "closed": upload.file.closed,
                "on_disk": not upload._in_memory,
                "read": len(await upload.read()),
            }
        # Read here, inside the handler: the app's own close after the response
        # must not be what closed it.
        return {"inside": inside, "closed_after_block": upload.file.closed}

    @app.post("/error")
    async def error(request: Request) -> dict[str, Any]:
        uploads: list[UploadFile] = []
        try:
            async with request.form() as form:
                uploads.extend(v for v in form.values() if isinstance(v, UploadFile))
                raise RuntimeError("handler failed inside the block")
        except RuntimeError as exc:
            return {"error": str(exc), "closed": [u.file.closed for u in uploads]}
        return {"error": None}

    @app.post("/twice")
    async def twice(request: Request) -> dict[str, Any]:
        handle = request.form()
        async with handle as form:
            pass
        await form.close()  # a second close, and the app closes it a third time
        again = await request.form()
        upload = form["file"]
        assert isinstance(upload, UploadFile)
        return {"same": again is form, "closed": upload.file.closed}

    @app.post("/unused")
    async def unused(request: Request) -> dict[str, int]:
        request.form()  # never awaited nor entered: nothing starts, nothing is read
        return {"length": len(await request.body())}

    return app


def multipart_file(size: int) -> tuple[bytes, dict[str, str]]:
    encoder = MultipartEncoder([("title", "cat")], [("file", ("cat.bin", b"x" * size))])
    return b"".join(encoder), {"content-type": encoder.content_type}


def test_request_form_awaited_returns_form_data() -> None:
    response = TestClient(form_handle_app()).post("/awaited", data={"a": "1", "b": "2"})
    assert response.json() == {"fields": {"a": "1", "b": "2"}, "type": "FormData"}


def test_request_form_awaited_keeps_its_limits() -> None:
    response = TestClient(form_handle_app()).post("/awaited", data={str(i): "x" for i in range(6)})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("size", "on_disk"),
    [(100, False), (SPOOL_MAX_SIZE + 1000, True)],
    ids=["in-memory", "spooled-to-disk"],
)
def test_request_form_context_closes_files_when_the_block_ends(size: int, on_disk: bool) -> None:
    body, headers = multipart_file(size)
    response = TestClient(form_handle_app()).post("/block", content=body, headers=headers)
    assert response.json() == {
        "inside": {"closed": False, "on_disk": on_disk, "read": size},
        "closed_after_block": True,
    }


def test_request_form_context_closes_files_when_the_block_raises() -> None:
    body, headers = multipart_file(SPOOL_MAX_SIZE + 1000)
    response = TestClient(form_handle_app()).post("/error", content=body, headers=headers)
    assert response.json() == {"error": "handler failed inside the block", "closed": [True]}


def test_request_form_closing_twice_is_harmless() -> None:
    body, headers = multipart_file(SPOOL_MAX_SIZE + 1000)
    response = TestClient(form_handle_app()).post("/twice", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"same": True, "closed": True}


def test_request_form_handle_never_used_starts_nothing() -> None:
    response = TestClient(form_handle_app()).post("/unused", data={"a": "1"})
    assert response.json() == {"length": 3}


def test_request_form_context_with_a_bad_body_raises_before_the_block() -> None:
    response = TestClient(form_handle_app()).post(
        "/block", content=b"x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


# -- request.url_for across mounts ---------------------------------------------


def mounted_apps() -> App:
    """``/`` (outer) mounts ``/admin`` (a transom App, which mounts ``/reports``) and ``/raw``."""
    reports = App()

    @reports.get("/{year:int}", name="year")
    async def year(request: Request, year: int) -> dict[str, str]:
        return {
            "own": str(request.url_for("year", year=year + 1)),
            "parent": str(request.url_for("dashboard")),
            "outer": str(request.url_for("index", q="1")),
            "qualified": str(request.url_for("admin:reports:year", year=1999)),
        }

    admin = App()

    @admin.get("/", name="dashboard")
    async def dashboard(request: Request) -> dict[str, str]:
        return {
            "own": str(request.url_for("dashboard")),
            "qualified": str(request.url_for("admin:dashboard")),
            "outer": str(request.url_for("index")),
            "child": str(request.url_for("reports:year", year=2024)),
        }

    admin.mount("/reports", reports, name="reports")
    app = App()

    @app.get("/", name="index")
    async def index(request: Request) -> dict[str, str]:
        return {
            "admin": str(request.url_for("admin:dashboard")),
            "report": str(request.url_for("admin:reports:year", year=2024)),
            "raw": str(request.url_for("raw", path="/a b")),
        }

    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        # A plain ASGI app, not a transom App: scope["app"] is still the outer
        # app, whose names resolve from its own root, not from "/raw".
        url = Request(scope, receive).url_for("index")
        await PlainTextResponse(str(url))(scope, receive, send)

    app.mount("/admin", admin, name="admin")
    app.mount("/raw", raw, name="raw")
    return app


@pytest.mark.parametrize("root_path", ["", "/site"], ids=["no-root-path", "root-path"])
def test_request_url_for_into_mounted_apps(root_path: str) -> None:
    base = "http://testserver" + root_path
    response = TestClient(mounted_apps(), root_path=root_path).get("/")
    assert response.json() == {
        "admin": f"{base}/admin/",
        "report": f"{base}/admin/reports/2024",
        "raw": f"{base}/raw/a%20b",
    }


@pytest.mark.parametrize("root_path", ["", "/site"], ids=["no-root-path", "root-path"])
def test_request_url_for_inside_a_mounted_app(root_path: str) -> None:
    base = "http://testserver" + root_path
    client = TestClient(mounted_apps(), root_path=root_path)
    assert client.get("/admin/").json() == {
        "own": f"{base}/admin/",
        "qualified": f"{base}/admin/",
        "outer": f"{base}/",
        "child": f"{base}/admin/reports/2024",
    }
    assert client.get("/admin/reports/2000").json() == {
        "own": f"{base}/admin/reports/2001",
        "parent": f"{base}/admin/",
        "outer": f"{base}/?q=1",
        "qualified": f"{base}/admin/reports/1999",
    }


def test_request_url_for_inside_a_plain_mounted_asgi_app() -> None:
    assert TestClient(mounted_apps()).get("/raw/x").text == "http://testserver/"


def test_request_url_for_unknown_name_inside_a_mount_names_every_app() -> None:
    admin = App()

    @admin.get("/", name="dashboard")
    async def dashboard(request: Request) -> str:
        return str(request.url_for("nope"))

    app = App()
    app.mount("/admin", admin, name="admin")

    @app.get("/home", name="home")
    async def home() -> str:
        return "home"

    with pytest.raises(ConfigurationError) as caught:
        TestClient(app).get("/admin/")
    message = str(caught.value)
    assert "no route named 'nope'" in message
    assert "in the app at '/admin': url_for: no route named 'nope' (known: dashboard)" in message
    assert "in the app at '/': url_for: no route named 'nope' (known: admin, home)" in message


def test_request_url_for_missing_param_inside_a_mount_is_not_looked_up_elsewhere() -> None:
    admin = App()

    @admin.get("/{page:int}", name="page")
    async def page(request: Request, page: int) -> str:
        return str(request.url_for("page"))

    app = App()

    @app.get("/page", name="page")
    async def outer_page() -> str:
        return "outer"

    app.mount("/admin", admin, name="admin")
    with pytest.raises(ConfigurationError, match=r"url_for\('page'\) needs parameter"):
        TestClient(app).get("/admin/3")
