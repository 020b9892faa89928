"""One-shot helpers: ``transom.client.get(url)`` and friends.

Each call makes a ``Client``, sends one request, reads the body and closes
the client (and its connection). For more than one request, use a ``Client``:
it keeps connections alive between requests.

>>> transom.client.get("https://example.org", params={"q": "x"}).status_code  # doctest: +SKIP
200
"""

from __future__ import annotations

from typing import Any

from transom.client.client import Client
from transom.client.models import Response

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request"]

# Arguments that configure the client rather than the request.
_CLIENT_ARGS = ("verify", "cert", "proxy", "trust_env", "transport")


def request(method: str, url: str, **kwargs: Any) -> Response:
    """Send one request with a throw-away ``Client`` (arguments as ``Client.request``,
    plus ``verify``, ``cert``, ``proxy``, ``trust_env``)."""
    client_args = {name: kwargs.pop(name) for name in _CLIENT_ARGS if name in kwargs}
    with Client(**client_args) as client:
        return client.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> Response:
    """One GET request with a throw-away client (see ``request``)."""
    return request("GET", url, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """One HEAD request with a throw-away client (see ``request``)."""
    return request("HEAD", url, **kwargs)


def options(url: str, **kwargs: Any) -> Response:
    """One OPTIONS request with a throw-away client (see ``request``)."""
    return request("OPTIONS", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """One DELETE request with a throw-away client (see ``request``)."""
    return request("DELETE", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """One POST request with a throw-away client (see ``request``)."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """One PUT request with a throw-away client (see ``request``)."""
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    """One PATCH request with a throw-away client (see ``request``)."""
    return request("PATCH", url, **kwargs)
