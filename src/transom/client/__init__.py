"""The Transom HTTP client: ``AsyncClient``, ``Client`` and one-shot helpers.

>>> from transom.client import Client
>>> with Client(base_url="https://api.example.org") as client:  # doctest: +SKIP
...     client.get("/notes").json()

See ``client.py`` for how one implementation serves both clients.
"""

from __future__ import annotations

from transom.client._api import delete, get, head, options, patch, post, put, request
from transom.client._asgi import ASGITransport
from transom.client.auth import Auth, BasicAuth, BearerAuth, DigestAuth
from transom.client.client import AsyncClient, Client
from transom.client.config import Limits, Timeout
from transom.client.cookiejar import CookieJar
from transom.client.models import Request, Response
from transom.client.pool import HTTPTransport
from transom.client.proxies import Proxy
from transom.client.retries import Retry
from transom.client.transports import BaseTransport, MockTransport
from transom.client.websocket import AsyncWebSocket, WebSocket

__all__ = [
    "ASGITransport",
    "AsyncClient",
    "AsyncWebSocket",
    "Auth",
    "BaseTransport",
    "BasicAuth",
    "BearerAuth",
    "Client",
    "CookieJar",
    "DigestAuth",
    "HTTPTransport",
    "Limits",
    "MockTransport",
    "Proxy",
    "Request",
    "Response",
    "Retry",
    "Timeout",
    "WebSocket",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "request",
]
