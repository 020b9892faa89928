"""``/openapi.json``: an OpenAPI 3.1 description of the httpbin endpoints."""

from __future__ import annotations

import re
from typing import Any

from transom import Request, Response
from transom.demo.httpbin._common import Registrar, json_response

__all__ = ["ENDPOINTS", "add_routes", "openapi"]

_ANY = ("get", "post", "put", "delete", "patch")
_INT = ("n", "numbytes", "offset", "value")

#: (path, methods, tag, summary, media type of a 200 answer)
ENDPOINTS: list[tuple[str, tuple[str, ...], str, str, str]] = [
    ("/get", ("get",), "HTTP Methods", "The request's query parameters.", "application/json"),
    ("/post", ("post",), "HTTP Methods", "The request's POST parameters.", "application/json"),
    ("/put", ("put",), "HTTP Methods", "The request's PUT parameters.", "application/json"),
    ("/patch", ("patch",), "HTTP Methods", "The request's PATCH parameters.", "application/json"),
    ("/delete", ("delete",), "HTTP Methods", "The request's DELETE parameters.",
     "application/json"),
    ("/anything", _ANY, "Anything", "Anything passed in the request.", "application/json"),
    ("/anything/{anything}", _ANY, "Anything", "Anything passed in the request.",
     "application/json"),
    ("/headers", ("get",), "Request inspection", "The request's headers.", "application/json"),
    ("/ip", ("get",), "Request inspection", "The requester's IP address.", "application/json"),
    ("/user-agent", ("get",), "Request inspection", "The User-Agent header.",
     "application/json"),
    ("/uuid", ("get",), "Dynamic data", "A UUID4.", "application/json"),
    ("/status/{codes}", _ANY, "Status codes",
     "A status code, or one chosen at random from a weighted list such as 200:1,500:3.",
     "text/plain"),
    ("/response-headers", ("get", "post"), "Response inspection",
     "Response headers from the query string.", "application/json"),
    ("/redirect/{n}", ("get",), "Redirects", "302 redirects n times (?absolute=true).",
     "text/html"),
    ("/relative-redirect/{n}", ("get",), "Redirects", "Relative 302 redirects n times.",
     "text/html"),
    ("/absolute-redirect/{n}", ("get",), "Redirects", "Absolute 302 redirects n times.",
     "text/html"),
    ("/redirect-to", _ANY, "Redirects", "A redirect to url, with status_code (3xx).",
     "text/html"),
    ("/cookies", ("get",), "Cookies", "The cookies sent.", "application/json"),
    ("/cookies/set", ("get",), "Cookies", "Sets cookies from the query string, then redirects.",
     "text/html"),
    ("/cookies/set/{name}/{value}", ("get",), "Cookies", "Sets a cookie, then redirects.",
     "text/html"),
    ("/cookies/delete", ("get",), "Cookies", "Deletes the cookies named in the query string.",
     "text/html"),
    ("/basic-auth/{user}/{passwd}", ("get",), "Auth", "HTTP Basic Auth.", "application/json"),
    ("/hidden-basic-auth/{user}/{passwd}", ("get",), "Auth", "Basic Auth answering 404.",
     "application/json"),
    ("/bearer", ("get",), "Auth", "Bearer authentication.", "application/json"),
    ("/digest-auth/{qop}/{user}/{passwd}", ("get",), "Auth", "HTTP Digest Auth (MD5).",
     "application/json"),
    ("/digest-auth/{qop}/{user}/{passwd}/{algorithm}", ("get",), "Auth",
     "HTTP Digest Auth: MD5, SHA-256 or SHA-512.", "application/json"),
    ("/digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}", ("get",), "Auth",
     "HTTP Digest Auth, stale after a number of requests.", "application/json"),
    ("/gzip", ("get",), "Response formats", "gzip-encoded data.", "application/json"),
    ("/deflate", ("get",), "Response formats", "Deflate-encoded data.", "application/json"),
    ("/brotli", ("get",), "Response formats", "Brotli-encoded data.", "application/json"),
    ("/encoding/utf8", ("get",), "Response formats", "A UTF-8 encoded page.", "text/html"),
    ("/html", ("get",), "Response formats", "A simple HTML document.", "text/html"),
    ("/json", ("get",), "Response formats", "A simple JSON document.", "application/json"),
    ("/xml", ("get",), "Response formats", "A simple XML document.", "application/xml"),
    ("/robots.txt", ("get",), "Response formats", "Some robots.txt rules.", "text/plain"),
    ("/deny", ("get",), "Response formats", "A page denied by robots.txt.", "text/plain"),
    ("/base64/{value}", ("get",), "Dynamic data", "Decodes base64url-encoded text.",
     "text/html"),
    ("/bytes/{n}", ("get",), "Dynamic data", "n random bytes (at most 100 KiB; ?seed=).",
     "application/octet-stream"),
    ("/stream-bytes/{n}", ("get",), "Dynamic data",
     "n random bytes, streamed in chunks (?seed=, ?chunk_size=).", "application/octet-stream"),
    ("/stream/{n}", ("get",), "Dynamic data", "n lines of JSON (at most 100).",
     "application/json"),
    ("/range/{numbytes}", ("get",), "Dynamic data", "numbytes bytes, honouring Range.",
     "application/octet-stream"),
    ("/drip", ("get",), "Dynamic data",
     "Drips data over a duration after a delay (?duration=&numbytes=&code=&delay=).",
     "application/octet-stream"),
    ("/delay/{delay}", _ANY, "Dynamic data", "A delayed response (at most 10 s).",
     "application/json"),
    ("/links/{n}/{offset}", ("get",), "Dynamic data", "A page of n links.", "text/html"),
    ("/cache", ("get",), "Response inspection", "304 to a conditional request, else /get.",
     "application/json"),
    ("/cache/{value}", ("get",), "Response inspection", "Cache-Control for value seconds.",
     "application/json"),
    ("/etag/{etag}", ("get",), "Response inspection",
     "Honours If-None-Match and If-Match for etag.", "application/json"),
    ("/image", ("get",), "Images", "An image of a type in Accept.", "image/png"),
    ("/image/png", ("get",), "Images", "A PNG image.", "image/png"),
    ("/image/jpeg", ("get",), "Images", "A JPEG image.", "image/jpeg"),
    ("/image/webp", ("get",), "Images", "A WebP image.", "image/webp"),
    ("/image/svg", ("get",), "Images", "An SVG image.", "image/svg+xml"),
    ("/forms/post", ("get",), "HTTP Methods", "An HTML form that posts to /post.", "text/html"),
]  # fmt: skip

_PARAM = re.compile(r"{(\w+)}")


def openapi(*, base_path: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document for the endpoints, served under ``base_path``."""
    paths: dict[str, Any] = {}
    for path, methods, tag, summary, media_type in ENDPOINTS:
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if name in _INT else "string"},
            }
            for name in _PARAM.findall(path)
        ]
        operation: dict[str, Any] = {
            "tags": [tag],
            "summary": summary,
            "responses": {"200": {"description": "OK", "content": {media_type: {}}}},
        }
        if parameters:
            operation["parameters"] = parameters
        paths[path] = {method: operation for method in methods}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "httpbin on Transom",
            "version": "0.10",
            "description": "A simple HTTP request and response service, compatible with "
            "httpbin 0.10.",
        },
        "servers": [{"url": base_path or "/"}],
        "tags": [{"name": name} for name in dict.fromkeys(e[2] for e in ENDPOINTS)],
        "paths": paths,
    }


def add_routes(add: Registrar) -> None:
    async def view_openapi(request: Request) -> Response:
        return json_response(openapi(base_path=add.base_path))

    add("/openapi.json", view_openapi, name="httpbin_openapi")
