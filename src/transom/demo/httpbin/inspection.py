"""Request inspection: the methods, ``/anything``, ``/headers``, ``/ip``, ``/user-agent``..."""

from __future__ import annotations

import uuid

from transom import Request, Response
from transom.demo.httpbin._common import Registrar, get_dict, headers_dict, json_response, origin

__all__ = ["add_routes"]

_BODY_KEYS = ("url", "args", "form", "data", "origin", "headers", "files", "json")
_ANY_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")


async def view_get(request: Request) -> Response:
    return json_response(await get_dict(request, "url", "args", "headers", "origin"))


async def view_with_body(request: Request) -> Response:
    return json_response(await get_dict(request, *_BODY_KEYS))


async def view_anything(request: Request, anything: str = "") -> Response:
    return json_response(await get_dict(request, *_BODY_KEYS, "method"))


async def view_headers(request: Request) -> Response:
    return json_response({"headers": headers_dict(request)})


async def view_ip(request: Request) -> Response:
    return json_response({"origin": origin(request)})


async def view_user_agent(request: Request) -> Response:
    agent = {k.lower(): v for k, v in headers_dict(request).items()}.get("user-agent")
    return json_response({"user-agent": agent})


async def view_uuid(request: Request) -> Response:
    return json_response({"uuid": str(uuid.uuid4())})


def add_routes(add: Registrar) -> None:
    add("/get", view_get, name="httpbin_get")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        add("/" + method.lower(), view_with_body, [method], name=f"httpbin_{method.lower()}")
    add("/anything", view_anything, _ANY_METHODS, name="httpbin_anything")
    add("/anything/{anything:path}", view_anything, _ANY_METHODS, name="httpbin_anything_path")
    add("/headers", view_headers, name="httpbin_headers")
    add("/ip", view_ip, name="httpbin_ip")
    add("/user-agent", view_user_agent, name="httpbin_user_agent")
    add("/uuid", view_uuid, name="httpbin_uuid")
