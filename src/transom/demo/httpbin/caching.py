"""Caching: ``/cache`` (304 to any conditional request), ``/cache/{n}`` and ``/etag/{etag}``."""

from __future__ import annotations

import re
import uuid
from email.utils import formatdate

from transom import Request, Response
from transom.demo.httpbin._common import Registrar, get_dict, json_response, status_response

__all__ = ["add_routes", "parse_etags"]

_ETAG = re.compile(r'\s*(W/)?"?([^"]*)"?\s*')


def parse_etags(header: str | None) -> list[str]:
    """The entity tags of an ``If-Match``/``If-None-Match`` list, quotes and ``W/`` dropped."""
    if not header:
        return []
    return [match[2] for part in header.split(",") if (match := _ETAG.search(part))]


async def _get(request: Request) -> Response:
    return json_response(await get_dict(request, "url", "args", "headers", "origin"))


async def view_cache(request: Request) -> Response:
    headers = request.headers
    if headers.get("if-modified-since") or headers.get("if-none-match"):
        return status_response(request, 304)
    response = await _get(request)
    response.headers["Last-Modified"] = formatdate(usegmt=True)
    response.headers["ETag"] = uuid.uuid4().hex
    return response


async def view_cache_control(request: Request, value: int) -> Response:
    response = await _get(request)
    response.headers["Cache-Control"] = f"public, max-age={value}"
    return response


async def view_etag(request: Request, etag: str) -> Response:
    """304 when ``If-None-Match`` names ``etag`` (or ``*``), 412 when ``If-Match`` does not."""
    if_none_match = parse_etags(request.headers.get("if-none-match"))
    if_match = parse_etags(request.headers.get("if-match"))
    if if_none_match:
        if etag in if_none_match or "*" in if_none_match:
            response = status_response(request, 304)
            response.headers["ETag"] = etag
            return response
    elif if_match and etag not in if_match and "*" not in if_match:
        return status_response(request, 412)
    response = await _get(request)
    response.headers["ETag"] = etag
    return response


def add_routes(add: Registrar) -> None:
    add("/cache", view_cache, name="httpbin_cache")
    add("/cache/{value:int}", view_cache_control, name="httpbin_cache_control")
    add("/etag/{etag}", view_etag, name="httpbin_etag")
