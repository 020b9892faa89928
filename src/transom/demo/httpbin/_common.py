"""What every httpbin endpoint shares: the request as a dict, JSON as httpbin writes it, CORS.

httpbin (the Flask app, 0.10) answers with ``json.dumps(value, indent=2,
sort_keys=True)`` and a newline, and answers ``OPTIONS`` itself (200,
``Allow`` and the preflight headers). Where httpbin echoes the request's
``Origin`` with ``Access-Control-Allow-Credentials: true``, this API
sends ``Access-Control-Allow-Origin: *`` without credentials: browsers
then never send cookies on cross-origin reads, so a page of another
origin cannot read the visitor's session cookie through ``/cookies``.
``add`` registers a handler with that behaviour, so each theme module only
writes its handlers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from transom import Request, Response, Router, UploadFile

__all__ = [
    "BadInput",
    "Endpoint",
    "Registrar",
    "as_float",
    "as_int",
    "get_dict",
    "headers_dict",
    "json_response",
    "path_for",
    "redirect_response",
    "status_response",
    "url_of",
]

Endpoint = Callable[..., Awaitable[Response]]

#: Headers a proxy in front of httpbin.org adds; hidden unless ``?show_env``.
ENV_HEADERS = frozenset(
    name.lower()
    for name in (
        "X-Varnish",
        "X-Request-Start",
        "X-Heroku-Queue-Depth",
        "X-Real-Ip",
        "X-Forwarded-Proto",
        "X-Forwarded-Protocol",
        "X-Forwarded-Ssl",
        "X-Heroku-Queue-Wait-Time",
        "X-Forwarded-For",
        "X-Heroku-Dynos-In-Use",
        "X-Forwarded-Port",
        "X-Request-Id",
        "Via",
        "Total-Route-Time",
        "Connect-Time",
    )
)

#: What werkzeug gives a plain ``Response`` of text, as httpbin's error answers are.
TEXT = "text/plain; charset=utf-8"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_PREFLIGHT_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"


class BadInput(Exception):
    """A parameter that is not what the endpoint takes: answered with a 400 and the message."""


def as_int(value: str | None, name: str, default: int) -> int:
    """``value`` as an int (``default`` when absent); ``BadInput`` otherwise."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadInput(f"{name} must be an integer, not {value!r}") from None


def as_float(value: str | None, name: str, default: float) -> float:
    """``value`` as a finite float (``default`` when absent); ``BadInput`` otherwise."""
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise BadInput(f"{name} must be a number, not {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadInput(f"{name} must be a finite number, not {value!r}")
    return number


def dumps(value: Any) -> bytes:
    """JSON as httpbin's ``jsonify`` writes it: two-space indent, sorted keys, ASCII, newline."""
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("ascii")


def json_response(
    value: Any, status_code: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """``value`` as httpbin's JSON; ``headers`` are added as given (repeats kept)."""
    response = Response(dumps(value), status_code, media_type="application/json")
    for name, header in headers:
        response.raw_headers.append((name.lower().encode("latin-1"), header.encode("latin-1")))
    return response


def raw_response(
    body: bytes = b"",
    status_code: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    content_type: str | None = "text/html; charset=utf-8",
) -> Response:
    """A response with exactly these headers (and ``Content-Type`` unless ``None``)."""
    pairs = [(name, value) for name, value in headers]
    if content_type is not None:
        pairs.insert(0, ("Content-Type", content_type))
    response = Response(body, status_code)
    response.raw_headers[:0] = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs
    ]
    return response


def root(request: Request) -> str:
    """Where the router's paths start: the app's ``root_path`` and the router's ``base_path``."""
    base: str = request.scope.get("transom.httpbin.base", "")
    return str(request.scope.get("root_path", "")).rstrip("/") + base


def path_for(request: Request, path: str) -> str:
    """The path of one of our endpoints (``"/get"``) as the client must request it."""
    return root(request) + path


def url_of(request: Request, path: str) -> str:
    """The absolute URL of one of our endpoints, honouring ``X-Forwarded-Proto`` like ``url``."""
    origin = str(request.url).split("/", 3)
    return _forwarded_scheme(request, f"{origin[0]}//{origin[2]}" + path_for(request, path))


def _forwarded_scheme(request: Request, url: str) -> str:
    headers = request.headers
    scheme = headers.get("x-forwarded-proto") or headers.get("x-forwarded-protocol")
    if scheme is None and headers.get("x-forwarded-ssl") == "on":
        scheme = "https"
    if scheme is None:
        return url
    return scheme + url[url.index(":") :]


def redirect_response(request: Request, location: str) -> Response:
    """Flask's ``redirect()``: a 302 with a small HTML page naming the target."""
    from markupsafe import escape

    shown = escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target "
        f'URL: <a href="{shown}">{shown}</a>. If not, click the link.\n'
    )
    return raw_response(body.encode("utf-8"), 302, [("Location", location)])


def headers_dict(request: Request) -> dict[str, str]:
    """The request headers as httpbin shows them: title-cased names, repeats joined by commas."""
    show_env = "show_env" in request.query_params
    out: dict[str, str] = {}
    for raw_name, raw_value in request.scope["headers"]:
        name = raw_name.decode("latin-1")
        if not show_env and name.lower() in ENV_HEADERS:
            continue
        title = name.replace("_", "-").title()
        value = raw_value.decode("latin-1")
        out[title] = f"{out[title]},{value}" if title in out else value
    return out


def origin(request: Request) -> str:
    """``X-Forwarded-For`` as sent, else the client's address."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded is not None:
        return forwarded
    client = request.client
    return client[0] if client is not None else ""


def semiflatten(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A key's one value, or the list of its values when it has several."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def json_safe(data: bytes, content_type: str = "application/octet-stream") -> str:
    """UTF-8 text as is; anything else as a ``data:`` URL in base64 (RFC 2397), as httpbin does."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


async def body_parts(request: Request) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """``(data, form, files)``: a form body fills the last two and leaves ``data`` empty."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return await request.body(), {}, {}
    form = await request.form()
    fields: list[tuple[str, str]] = []
    files: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in files:  # httpbin shows the first file of a field
                await value.seek(0)
                files[key] = json_safe(await value.read(), value.content_type)
        else:
            fields.append((key, value))
    return b"", semiflatten(fields), files


async def get_dict(request: Request, *keys: str, **extras: Any) -> dict[str, Any]:
    """httpbin's ``get_dict``: the parts of the request named by ``keys``, then ``extras``."""
    out: dict[str, Any] = {}
    needs_body = any(key in ("form", "data", "files", "json") for key in keys)
    data, form, files = await body_parts(request) if needs_body else (b"", {}, {})
    for key in keys:
        if key == "url":
            out[key] = _forwarded_scheme(request, str(request.url))
        elif key == "args":
            out[key] = semiflatten(request.query_params.multi_items())
        elif key == "form":
            out[key] = form
        elif key == "data":
            out[key] = json_safe(data)
        elif key == "origin":
            out[key] = origin(request)
        elif key == "headers":
            out[key] = headers_dict(request)
        elif key == "files":
            out[key] = files
        elif key == "json":
            try:
                out[key] = json.loads(data.decode("utf-8")) if data else None
            except ValueError:
                out[key] = None
        elif key == "method":
            out[key] = request.method
        else:  # pragma: no cover - a programming mistake
            raise KeyError(key)
    out.update(extras)
    return out


_REDIRECT_LOCATION = "/redirect/1"
_TEAPOT = r'''
    -=[ teapot ]=-

       _...._
     .'  _ _ `.
    | ."` ^ `". _,
    \_;`"---"`|//
      |       ;/
      \_     _/
        `"""`
'''

ACCEPTED_MEDIA_TYPES = ["image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"]


def status_response(request: Request, code: int) -> Response:
    """httpbin's ``status_code()``: the code, and the body and headers it gives some codes."""
    if code in (301, 302, 303, 305, 307):
        return raw_response(
            status_code=code,
            headers=[("Location", path_for(request, _REDIRECT_LOCATION))],
            content_type=None,
        )
    if code == 304:
        return raw_response(status_code=304, content_type=None)
    if code == 401:
        return raw_response(
            status_code=401,
            headers=[("WWW-Authenticate", 'Basic realm="Fake Realm"')],
            content_type=None,
        )
    if code == 402:
        return raw_response(
            b"Fuck you, pay me!",
            402,
            [("x-more-info", "http://vimeo.com/22053820")],
            content_type=None,
        )
    if code == 406:
        body = json.dumps(
            {
                "message": "Client did not request a supported media type.",
                "accept": ACCEPTED_MEDIA_TYPES,
            }
        )
        return raw_response(body.encode("ascii"), 406, content_type="application/json")
    if code == 407:
        return raw_response(
            status_code=407,
            headers=[("Proxy-Authenticate", 'Basic realm="Fake Realm"')],
            content_type=None,
        )
    if code == 418:
        return raw_response(
            _TEAPOT.encode("ascii"),
            418,
            [("x-more-info", "http://tools.ietf.org/html/rfc2324")],
            content_type=None,
        )
    return raw_response(status_code=code)


def _with_cors(request: Request, response: Response) -> Response:
    headers = response.raw_headers
    # httpbin echoes the Origin with Allow-Credentials: true, which lets any page of the
    # same site read /cookies and /headers with the visitor's cookies, the notes site's
    # session among them. The demo allows every origin without credentials instead.
    headers.append((b"access-control-allow-origin", b"*"))
    if request.method == "OPTIONS":
        headers.append((b"access-control-allow-methods", _PREFLIGHT_METHODS.encode("ascii")))
        headers.append((b"access-control-max-age", b"3600"))
        wanted = request.headers.get("access-control-request-headers")
        if wanted is not None:
            headers.append((b"access-control-allow-headers", wanted.encode("latin-1")))
    return response


class Registrar:
    """Adds endpoints to a router the way httpbin answers; ``base_path`` is the router's prefix.

    ``OPTIONS`` is answered here (200, ``Allow``, CORS preflight headers),
    every response gets the CORS headers, and ``BadInput`` becomes a 400
    with its message.
    """

    def __init__(self, router: Router, base_path: str) -> None:
        self.router = router
        self.base_path = base_path

    def __call__(
        self, path: str, endpoint: Endpoint, methods: Iterable[str] = ("GET",), *, name: str
    ) -> None:
        """Serve ``endpoint(request, **path_params)`` at ``path`` for ``methods``."""
        declared = [m.upper() for m in methods]
        allow = ", ".join([*declared, "OPTIONS", *(["HEAD"] if "GET" in declared else [])])
        base_path = self.base_path

        async def handle(request: Request, **params: Any) -> Response:
            request.scope["transom.httpbin.base"] = base_path
            if request.method == "OPTIONS":
                response = raw_response(headers=[("Allow", allow)])
            else:
                try:
                    response = await endpoint(request, **params)
                except BadInput as exc:
                    response = raw_response(str(exc).encode("utf-8"), 400, content_type=TEXT)
            return _with_cors(request, response)

        handle.__name__ = handle.__qualname__ = name
        self.router.add_route(path, handle, methods=[*declared, "OPTIONS"], name=name)
