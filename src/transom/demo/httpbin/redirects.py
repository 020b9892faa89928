"""Status codes and redirects: ``/status/{codes}``, ``/response-headers``, ``/redirect/{n}``..."""

from __future__ import annotations

import random

from transom import RedirectResponse, Request, Response
from transom.demo.httpbin._common import (
    BadInput,
    Registrar,
    dumps,
    path_for,
    raw_response,
    redirect_response,
    status_response,
    url_of,
)

__all__ = ["add_routes"]

_ANY_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")
_INVALID = "Invalid status code"
TEXT_HTML = "text/html; charset=utf-8"


def _code(text: str) -> int:
    try:
        code = int(text)
    except ValueError:
        raise BadInput(_INVALID) from None
    if not 200 <= code <= 599:  # 1xx cannot end a response; past 599 is no HTTP status
        raise BadInput(_INVALID)
    return code


def _weighted_choice(choices: list[tuple[int, float]]) -> int:
    total = sum(weight for _, weight in choices)
    if total <= 0:
        raise BadInput(_INVALID)
    codes = [code for code, _ in choices]
    weights = [weight for _, weight in choices]
    return random.choices(codes, weights)[0]  # noqa: S311 - not for security


async def view_status(request: Request, codes: str) -> Response:
    """One code, or a weighted choice such as ``200:1,500:3``."""
    if "," not in codes:
        return status_response(request, _code(codes))
    choices: list[tuple[int, float]] = []
    for choice in codes.split(","):
        code, _, weight = choice.partition(":")
        try:
            pair = (int(code), float(weight) if weight else 1.0)
        except ValueError:
            raise BadInput(_INVALID) from None
        if not pair[1] >= 0 or pair[1] == float("inf"):
            raise BadInput(_INVALID)
        choices.append(pair)
    return status_response(request, _code(str(_weighted_choice(choices))))


async def view_response_headers(request: Request) -> Response:
    """The query's pairs as response headers, and the headers as the JSON body (a fixed point)."""
    pairs = request.query_params.multi_items()
    for name, value in pairs:
        if not name or any(c in name + value for c in "\r\n\x00") or ":" in name:
            raise BadInput(f"cannot send the header {name!r}")
        if name.lower() in ("content-length", "transfer-encoding", "connection"):
            raise BadInput(f"{name} is set by the server")
    body = b""
    while True:
        length = str(len(body))
        shown: dict[str, list[str]] = {"Content-Type": ["application/json"]}
        shown["Content-Length"] = [length]
        for name, value in pairs:
            key = next((k for k in shown if k.lower() == name.lower()), name)
            shown.setdefault(key, []).append(value)
        new_body = dumps({k: v[0] if len(v) == 1 else v for k, v in shown.items()})
        if new_body == body:
            break
        body = new_body
    return json_response_with(body, pairs)


def json_response_with(body: bytes, pairs: list[tuple[str, str]]) -> Response:
    response = raw_response(body, content_type="application/json")
    for name, value in pairs:
        response.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return response


def _absolute(request: Request) -> bool:
    return request.query_params.get("absolute", "false").lower() == "true"


def _positive(n: int) -> int:
    if n <= 0:
        raise BadInput("n must be greater than 0")
    return n


async def view_redirect(request: Request, n: int) -> Response:
    """``n`` redirects, relative unless ``?absolute=true``, ending at ``/get``."""
    _positive(n)
    absolute = _absolute(request)
    if n == 1:
        target = url_of(request, "/get") if absolute else path_for(request, "/get")
    elif absolute:
        target = url_of(request, f"/absolute-redirect/{n - 1}")
    else:
        target = path_for(request, f"/relative-redirect/{n - 1}")
    return redirect_response(request, target)


async def view_relative_redirect(request: Request, n: int) -> Response:
    _positive(n)
    target = "/get" if n == 1 else f"/relative-redirect/{n - 1}"
    return raw_response(status_code=302, headers=[("Location", path_for(request, target))])


async def view_absolute_redirect(request: Request, n: int) -> Response:
    _positive(n)
    target = "/get" if n == 1 else f"/absolute-redirect/{n - 1}"
    return redirect_response(request, url_of(request, target))


async def view_redirect_to(request: Request) -> Response:
    """A redirect to ``url`` with ``status_code`` (302 unless a 3xx); names in any case."""
    args = {key.lower(): value for key, value in reversed(request.query_params.multi_items())}
    if "url" not in args:
        raise BadInput("the url parameter is required")
    status = 302
    if "status_code" in args:
        try:
            wanted = int(args["status_code"])
        except ValueError:
            raise BadInput("status_code must be an integer") from None
        if 300 <= wanted < 400:
            status = wanted
    try:  # percent-encodes what a header cannot carry, as werkzeug does; refuses CR and LF
        response = RedirectResponse(args["url"], status, {"Content-Type": TEXT_HTML})
    except ValueError:
        raise BadInput("url cannot contain CR, LF or NUL") from None
    return response


def add_routes(add: Registrar) -> None:
    add("/status/{codes}", view_status, _ANY_METHODS, name="httpbin_status")
    add("/response-headers", view_response_headers, ["GET", "POST"],
        name="httpbin_response_headers")  # fmt: skip
    add("/redirect/{n:int}", view_redirect, name="httpbin_redirect")
    add("/relative-redirect/{n:int}", view_relative_redirect, name="httpbin_relative_redirect")
    add("/absolute-redirect/{n:int}", view_absolute_redirect, name="httpbin_absolute_redirect")
    add("/redirect-to", view_redirect_to, _ANY_METHODS, name="httpbin_redirect_to")
