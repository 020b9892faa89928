"""Every exception Transom raises, in one tree.

Catch the narrowest class that fits; every class below derives from
``TransomError``::

    TransomError
    ├── ConfigurationError (ValueError)      bad settings for a server, app or client;
    │                                        raised at start-up, the message says what to fix
    ├── InvalidURL (ValueError)              a URL that cannot be parsed or built
    ├── TransportError                       the exchange with the peer failed
    │   ├── TimeoutException
    │   │   ├── ConnectTimeout
    │   │   ├── ReadTimeout
    │   │   ├── WriteTimeout
    │   │   └── PoolTimeout
    │   ├── NetworkError
    │   │   ├── ConnectError
    │   │   ├── ReadError
    │   │   ├── WriteError
    │   │   ├── CloseError
    │   │   └── ClientDisconnected (OSError)  ASGI send() after the client went away
    │   ├── ProxyError
    │   ├── UnsupportedProtocol
    │   └── ProtocolError                    HTTP/1.1 itself was broken
    │       ├── LocalProtocolError           our side (the app, the caller) asked for something
    │       │                                HTTP/1.1 forbids: fix the calling code
    │       └── RemoteProtocolError          the peer sent something invalid; ``status_code``
    │                                        is the response a server answers it with
    ├── MultipartError (ValueError)          a multipart body is malformed or over a limit;
    │                                        ``status_code`` is 400 or 413
    ├── TooManyRedirects                     the client gave up following redirects
    ├── HTTPStatusError                      ``raise_for_status()`` on a 4xx/5xx response
    ├── DecodingError                        a body could not be decoded (gzip, JSON, charset)
    ├── FileResponseError (RuntimeError)     a FileResponse's file is missing, not a regular
    │                                        file, or shrank while it was being sent
    ├── StreamError                          a streamed body was used the wrong way
    │   ├── StreamConsumed                   read twice
    │   ├── StreamClosed                     read after close
    │   └── ResponseNotRead                  ``.content`` before ``read()`` on a stream
    ├── StoreUnavailable                     a session, counter or user store cannot reach
    │                                        its backend (Redis, PostgreSQL, a locked SQLite
    │                                        file); the app answers 503 and logs the cause
    ├── SessionTooLarge (ValueError)         a CookieStore session would not fit in a cookie
    │                                        (4 KB); keep less in it or use a server-side store
    ├── WebSocketError                       a WebSocket could not be opened or used
    │   ├── WebSocketHandshakeError          the opening handshake failed or was refused;
    │   │                                    ``status_code`` and ``headers`` of the answer
    │   └── WebSocketDisconnect              the peer closed (or the connection was lost);
    │                                        ``code`` and ``reason`` of the close (RFC 6455 §7.4)
    └── HTTPError                            raised by a handler to answer with a status

The server never lets any of these reach the peer as a traceback: a
``RemoteProtocolError`` becomes its ``status_code`` and a closed connection,
anything else from an app a bare 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TransomError(Exception):
    """The base of every exception Transom raises."""


class ConfigurationError(TransomError, ValueError):
    """A setting is invalid; raised when the object is built, not when it is used."""


class InvalidURL(TransomError, ValueError):
    """A URL could not be parsed or built."""


class TransportError(TransomError):
    """The exchange with the peer failed."""


class TimeoutException(TransportError):
    """A timeout fired."""


class ConnectTimeout(TimeoutException):
    """No connection was established in time."""


class ReadTimeout(TimeoutException):
    """The peer sent nothing for longer than the read timeout."""


class WriteTimeout(TimeoutException):
    """The peer did not take our data for longer than the write timeout."""


class PoolTimeout(TimeoutException):
    """No connection became free in the pool in time."""


class NetworkError(TransportError):
    """The network failed underneath HTTP."""


class ConnectError(NetworkError):
    """A connection could not be established."""


class ReadError(NetworkError):
    """Reading from the connection failed."""


class WriteError(NetworkError):
    """Writing to the connection failed."""


class CloseError(NetworkError):
    """Closing the connection failed."""


class ClientDisconnected(NetworkError, OSError):
    """The server's ASGI ``send()`` was called after the client closed the
    connection (ASGI HTTP spec 2.4); catch it to clean up, or let it propagate."""


class ProxyError(TransportError):
    """The proxy refused or broke the tunnel."""


class UnsupportedProtocol(TransportError):
    """The URL's scheme is not one this client speaks."""


class ProtocolError(TransportError):
    """HTTP/1.1 itself was broken by one side."""


class LocalProtocolError(ProtocolError):
    """Our side asked for something HTTP/1.1 forbids; the calling code must change."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something HTTP/1.1 forbids.

    ``status_code`` is the status a server answers it with before closing
    the connection (400, 413, 414, 431, 505...).
    """

    def __init__(self, message: str, *, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class MultipartError(TransomError, ValueError):
    """A multipart body is malformed (``status_code`` 400) or over a limit (413)."""

    def __init__(self, message: str, *, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class TooManyRedirects(TransomError):
    """The client followed more redirects than allowed."""


class HTTPStatusError(TransomError):
    """``raise_for_status()`` found a 4xx or 5xx response."""

    def __init__(self, message: str, *, request: Any, response: Any) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class DecodingError(TransomError):
    """A body could not be decoded."""


class FileResponseError(TransomError, RuntimeError):
    """A ``FileResponse`` cannot send its file: missing, not a regular file, or shrunk."""


class StreamError(TransomError):
    """A streamed body was used the wrong way."""


class StreamConsumed(StreamError):
    """The stream was already read."""


class StreamClosed(StreamError):
    """The stream was read after it was closed."""


class ResponseNotRead(StreamError):
    """The body of a streamed response was asked for before ``read()``."""


class StoreUnavailable(TransomError):
    """A store's backend cannot be reached; the app answers 503 and logs the cause."""


class SessionTooLarge(TransomError, ValueError):
    """A cookie-stored session is over the 4 KB browsers keep (RFC 6265 §6.1)."""


class WebSocketError(TransomError):
    """A WebSocket could not be opened, or was used after it closed."""


class WebSocketHandshakeError(WebSocketError):
    """The opening handshake failed (RFC 6455 §4): refused by the server or invalid.

    ``status_code`` is the HTTP status the server answered (0 when the answer
    itself was not a valid handshake response), ``headers`` its header fields
    and ``body`` the bytes of a denial response, when one was read.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 0,
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers if headers is not None else []
        self.body = body


class WebSocketDisconnect(WebSocketError):
    """The peer closed the WebSocket, or the connection was lost (code 1006).

    ``code`` is the close code (RFC 6455 §7.4; 1005 when the close frame
    carried none) and ``reason`` its text.
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(f"WebSocket closed with code {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class HTTPError(TransomError):
    """Raise in a handler to answer with ``status_code``.

    >>> raise HTTPError(404, "no such note")
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        from transom.status import reason_phrase

        if detail is None:
            detail = reason_phrase(status_code)
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else {}
