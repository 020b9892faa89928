"""Cookies: ``/cookies``, ``/cookies/set``, ``/cookies/set/{name}/{value}``, ``/cookies/delete``."""

from __future__ import annotations

from transom import Request, Response
from transom.demo.httpbin._common import (
    BadInput,
    Registrar,
    json_response,
    path_for,
    redirect_response,
)

__all__ = ["add_routes", "set_plain_cookie"]

#: Analytics cookies httpbin.org's pages set; hidden unless ``?show_env``.
ENV_COOKIES = frozenset(
    (
        "_gauges_unique",
        "_gauges_unique_year",
        "_gauges_unique_month",
        "_gauges_unique_day",
        "_gauges_unique_hour",
        "__utmz",
        "__utma",
        "__utmb",
    )
)


def set_plain_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """``name=value; Path=/`` (``Secure`` over https), as Flask sets it; 400 for bad characters."""
    try:
        response.set_cookie(
            name,
            value,
            secure=request.url.scheme == "https",
            httponly=False,
            samesite=None,
        )
    except ValueError as exc:
        raise BadInput(str(exc)) from None


async def view_cookies(request: Request) -> Response:
    cookies = dict(request.cookies)
    if "show_env" not in request.query_params:
        for name in ENV_COOKIES:
            cookies.pop(name, None)
    return json_response({"cookies": cookies})


def _to_cookies(request: Request) -> Response:
    return redirect_response(request, path_for(request, "/cookies"))


async def view_set_cookie(request: Request, name: str, value: str) -> Response:
    response = _to_cookies(request)
    set_plain_cookie(request, response, name, value)
    return response


async def view_set_cookies(request: Request) -> Response:
    response = _to_cookies(request)
    for name in dict.fromkeys(request.query_params):  # each name once, with its first value
        set_plain_cookie(request, response, name, request.query_params[name])
    return response


async def view_delete_cookies(request: Request) -> Response:
    response = _to_cookies(request)
    for name in dict.fromkeys(request.query_params):
        try:
            response.delete_cookie(name, httponly=False, samesite=None)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    return response


def add_routes(add: Registrar) -> None:
    add("/cookies", view_cookies, name="httpbin_cookies")
    add("/cookies/set", view_set_cookies, name="httpbin_set_cookies")
    add("/cookies/set/{name}/{value}", view_set_cookie, name="httpbin_set_cookie")
    add("/cookies/delete", view_delete_cookies, name="httpbin_delete_cookies")
