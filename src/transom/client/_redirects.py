"""Following a redirect: the next request from a 3xx response (RFC 9110 §15.4)."""

from __future__ import annotations

from transom.client._content import BodyStream
from transom.client.models import Request, Response, host_header
from transom.exceptions import InvalidURL, RemoteProtocolError, StreamConsumed, UnsupportedProtocol
from transom.http.url import URL

__all__ = ["COOKIE_EXTENSION", "redirect_request"]

#: Request extension holding the Cookie header the caller set (not the jar's).
COOKIE_EXTENSION = "caller_cookie"

# Headers that describe the body: dropped with it when the method becomes GET.
_BODY_HEADERS = ("content-length", "content-type", "transfer-encoding", "content-encoding")


def redirect_method(method: str, status_code: int) -> str:
    # RFC 9110 §15.4.2-4: for 301/302 clients historically (and still) switch
    # POST to GET; 303 means "GET the answer". HEAD stays HEAD. 307/308 keep it.
    if status_code in (301, 302, 303) and method != "HEAD":
        return "GET"
    return method


def redirect_url(request: Request, response: Response) -> URL:
    location = response.headers["location"]
    try:
        url = request.url.join(location)
    except InvalidURL as exc:
        raise RemoteProtocolError(f"invalid Location {location!r} in a redirect: {exc}") from exc
    if url.scheme not in ("http", "https"):
        raise UnsupportedProtocol(f"redirect to {url!r}: only http and https are followed")
    if not url.fragment and request.url.fragment:
        # RFC 9110 §10.2.2: a Location without a fragment inherits the original one.
        url = url.copy_with(fragment=request.url.fragment)
    return url


def redirect_request(request: Request, response: Response) -> Request:
    """The request to send next; raises if a body must be resent but cannot be."""
    url = redirect_url(request, response)
    method = redirect_method(request.method, response.status_code)
    headers = request.headers.copy()
    extensions = dict(request.extensions)
    body = request.body
    if method != request.method or response.status_code in (301, 302, 303):
        body = b""
        for name in _BODY_HEADERS:
            headers.discard(name)
    elif isinstance(body, BodyStream) and not body.rewind():
        raise StreamConsumed(
            f"cannot follow a {response.status_code} redirect: the request body was a "
            "one-shot stream; send bytes or a seekable file, or follow_redirects=False"
        )
    headers["host"] = host_header(url)
    # The jar adds its own cookies for the new URL; the caller's Cookie header and
    # Authorization only go back to the origin they were meant for.
    headers.discard("cookie")
    if url.origin != request.url.origin:
        headers.discard("authorization")
        extensions.pop(COOKIE_EXTENSION, None)
    elif extensions.get(COOKIE_EXTENSION):
        headers["cookie"] = extensions[COOKIE_EXTENSION]
    return Request(method, url, headers=headers, content=body, extensions=extensions)
