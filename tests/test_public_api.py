"""The public surface is deliberate: a change to these names must change this test too."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "transom": [
        "App", "AsyncClient", "BackgroundTask", "BackgroundTasks", "Client", "ConfigurationError",
        "EventSourceResponse", "FileResponse", "HTMLResponse", "HTTPError", "JSONResponse",
        "LocalProtocolError", "Middleware", "PlainTextResponse", "ProtocolError",
        "RedirectResponse", "RemoteProtocolError", "Request", "Response", "Router", "Server",
        "ServerConfig", "ServerSentEvent", "StaticFiles", "StreamingResponse", "Templates",
        "TransomError", "UploadFile", "WebSocket", "WebSocketDisconnect", "__version__", "flash",
        "get_flashed_messages", "render", "render_async", "serve",
    ],
    "transom.web": [
        "App", "BackgroundTask", "BackgroundTasks", "Converter", "EventSourceResponse",
        "FileResponse", "FormData", "FormLimits", "HTMLResponse", "HTTPError", "JSONResponse",
        "Middleware", "Mount", "PlainTextResponse", "RedirectResponse", "Request", "Response",
        "Route", "Router", "ServerSentEvent", "State", "StaticFiles", "StreamingResponse",
        "Templates", "UploadFile", "WebSocket", "WebSocketDisconnect", "conditional_response",
        "flash", "get_flashed_messages", "render", "render_async", "safe_filename",
    ],
    "transom.web.sessions": [
        "CookieStore", "MemoryStore", "RedisStore", "SQLiteStore", "Session", "SessionConfig",
        "SessionManager", "SessionStore", "SessionTooLarge", "StoreUnavailable",
    ],
    "transom.web.middleware": [
        "CORSMiddleware", "CompressionMiddleware", "ConditionalGetMiddleware", "GZipMiddleware",
        "HTTPSRedirectMiddleware", "TrustedHostMiddleware",
    ],
    "transom.client": [
        "ASGITransport", "AsyncClient", "AsyncWebSocket", "Auth", "BaseTransport", "BasicAuth",
        "BearerAuth", "Client", "CookieJar", "DigestAuth", "HTTPTransport", "Limits",
        "MockTransport", "Proxy", "Request", "Response", "Retry", "Timeout", "WebSocket", "delete",
        "get", "head", "options", "patch", "post", "put", "request",
    ],
    "transom.server": ["Server", "ServerConfig", "run", "serve"],
    "transom.testing": ["AsyncTestClient", "TestClient"],
}  # fmt: skip


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_api_names_are_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_api_names_all_resolve(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_public_api_exceptions_share_one_root() -> None:
    import transom.exceptions as exc

    classes = [
        obj for obj in vars(exc).values() if isinstance(obj, type) and issubclass(obj, Exception)
    ]
    assert all(issubclass(cls, exc.TransomError) for cls in classes)
    undocumented = [cls.__name__ for cls in classes if cls.__name__ not in (exc.__doc__ or "")]
    assert undocumented == []


def test_public_api_top_level_layers_load_on_first_use() -> None:
    # `transom http` should not pay for the server and the framework.
    program = (
        "import sys, transom\n"
        "before = sorted(m for m in ('transom.web', 'transom.server', 'transom.client')"
        " if m in sys.modules)\n"
        "transom.App\n"
        "print(before, 'transom.web' in sys.modules, 'transom.server' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    assert output.split() == ["[]", "True", "False"]


def test_public_api_unknown_top_level_name_is_an_attribute_error() -> None:
    import transom

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        transom.Nope  # noqa: B018
    assert "App" in dir(transom)
