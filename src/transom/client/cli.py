"""``transom http``: send an HTTP request from the command line, HTTPie-style.

::

    transom http example.org                         GET, print the response
    transom http :8000/notes title=Hi tags:='["a"]'  POST JSON to localhost:8000
    echo '{"a": 1}' | transom http :8000/post        a piped stdin is the body
    transom http --form POST :8000/upload file@a.png  multipart upload
    transom http -a alice:pw --auth-type digest :8000/private
    transom http --download https://example.org/big.iso -o big.iso
    transom https example.org                        https:// by default
    transom http --ws :8000/ws/echo                  a WebSocket: stdin lines go out

The options are HTTPie's (``_cli_args``); items are parsed in ``_cli_items``
(nested JSON keys in ``_cli_nested``), the body is built in ``_cli_body``,
messages are printed by ``_cli_output``, and ``_cli_send`` sends the request
and shows the answer. ``--ws`` (or a ws:// or wss:// URL) runs a WebSocket
session instead (``_cli_ws``).

Exit codes: 0 success; 1 an error (one line on stderr); 2 bad usage or a
timeout; 3, 4, 5 for a 3xx, 4xx, 5xx response with ``--check-status``;
6 too many redirects.
"""

from __future__ import annotations

import argparse
import netrc
import os
import ssl
import sys
from collections.abc import Sequence
from typing import Any

from transom.client._cli_args import UsageError, parse_args
from transom.client._cli_body import Body, build_body
from transom.client._cli_items import ItemError, RequestItems, parse_items, parse_url
from transom.client._cli_nested import NestedJSONError
from transom.client._cli_output import STYLES, Printer, parse_format_options
from transom.client._cli_send import Output, exchange, offline
from transom.client._cli_session import Session, session_path
from transom.client._tls import ssl_context
from transom.client.auth import Auth, BasicAuth, BearerAuth, DigestAuth
from transom.client.client import Client
from transom.client.config import Timeout
from transom.exceptions import TimeoutException, TooManyRedirects, TransomError
from transom.http.url import URL

__all__ = ["http_command", "https_command"]

_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)
_TLS_VERSIONS = {
    "ssl2.3": (ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.MAXIMUM_SUPPORTED),
    "tls1": (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1),
    "tls1.1": (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1),
    "tls1.2": (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),
    "tls1.3": (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3),
}


def https_command(argv: Sequence[str]) -> int:
    """Run ``transom https``: ``transom http`` with https:// as the default scheme."""
    return http_command(argv, default_scheme="https")


def http_command(argv: Sequence[str], default_scheme: str = "http") -> int:
    """Run ``transom http``; returns the exit code."""
    traceback = "--traceback" in argv or "--debug" in argv
    try:
        args = parse_args(list(argv))
        if args.help:
            args.parser.print_help()
            return 0
        if args.version:
            from transom import __version__

            sys.stdout.write(f"{__version__}\n")
            return 0
        return _run(args, args.default_scheme or default_scheme)
    except Exception as exc:
        if traceback:
            raise
        return _report(exc)
    except KeyboardInterrupt:
        if traceback:
            raise
        sys.stderr.write("transom http: interrupted\n")
        return 130


def _report(exc: Exception) -> int:
    """One line (a path error: three) on stderr for ``exc``; returns the exit code."""
    if isinstance(exc, UsageError):
        sys.stderr.write(f"transom http: error: {exc} (transom http --help)\n")
        return 2
    if isinstance(exc, ItemError | NestedJSONError):
        sys.stderr.write(f"transom http: error: {exc}\n")
        return 2
    if isinstance(exc, TimeoutException):
        sys.stderr.write(f"transom http: error: timed out: {exc}\n")
        return 2
    if isinstance(exc, TooManyRedirects):
        sys.stderr.write(f"transom http: error: {exc}\n")
        return 6
    if isinstance(exc, TransomError | OSError | ssl.SSLError):
        sys.stderr.write(f"transom http: error: {type(exc).__name__}: {exc}\n")
        return 1
    raise exc


def _split_method(args: list[str]) -> tuple[str | None, str, list[str]]:
    if not args:
        raise UsageError("a URL is required")
    if len(args) >= 2 and args[0].upper() in _METHODS and args[0].isalpha():
        return args[0].upper(), args[1], args[2:]
    return None, args[0], args[1:]


def _auth(value: str | None, kind: str | None) -> tuple[Auth | None, dict[str, str] | None]:
    if value is None:
        return None, None
    kind = kind or "basic"
    if kind == "bearer":
        return BearerAuth(value), {"type": "bearer", "raw": value}
    user, colon, password = value.partition(":")
    if not colon:
        raise UsageError(f"--auth {kind} wants USER:PASS")
    auth = DigestAuth(user, password) if kind == "digest" else BasicAuth(user, password)
    return auth, {"type": kind, "raw": value}


def _netrc_auth(url: URL, kind: str | None) -> Auth | None:
    """Credentials for ``url``'s host from ``$NETRC`` or ``~/.netrc``, if any."""
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if kind == "bearer" or not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(url.host)
    except (netrc.NetrcParseError, OSError) as exc:
        sys.stderr.write(f"transom http: warning: {path} ignored: {exc}\n")
        return None
    if entry is None:
        return None
    login, _, password = entry
    return (
        DigestAuth(login, password or "") if kind == "digest" else BasicAuth(login, password or "")
    )


def _verify(args: argparse.Namespace) -> Any:
    lowered = args.verify.lower()
    verify: Any = args.verify
    if lowered in ("yes", "true", "1"):
        verify = True
    elif lowered in ("no", "false", "0"):
        verify = False
    if not (args.ssl or args.ciphers or args.cert):
        return verify
    cert = None
    if args.cert:
        cert = (args.cert, args.cert_key, args.cert_key_pass) if args.cert_key else args.cert
    context = ssl_context(verify, cert)
    if args.ssl:
        context.minimum_version, context.maximum_version = _TLS_VERSIONS[args.ssl]
    if args.ciphers:
        context.set_ciphers(args.ciphers)
    return context


def _proxy(values: list[str], scheme: str) -> str | None:
    """HTTPie's ``--proxy PROTOCOL:URL``: the one for this URL's scheme."""
    chosen = None
    for value in values:
        protocol, colon, url = value.partition(":")
        if not colon or not url:
            raise UsageError(f"--proxy {value!r}: use PROTOCOL:URL, e.g. http:http://proxy:3128")
        if protocol.lower() in (scheme, "all"):
            chosen = url
    return chosen


def _remove_dots(url: str) -> str:
    """RFC 3986 §5.2.4 on the path, as HTTPie does unless ``--path-as-is``."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    path, mark, query = tail.partition("?")
    out: list[str] = []
    segments = path.split("/")
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return f"{scheme}{sep}{authority}{slash}{'/'.join(out)}{mark}{query}"


def _output(args: argparse.Namespace) -> Output:
    terminal = sys.stdout.isatty()
    pretty = args.pretty or ("all" if terminal else "none")
    if args.style is not None and args.style not in STYLES:
        raise UsageError(f"--style: choose one of {', '.join(sorted(STYLES))}")
    try:
        options = parse_format_options(args.format_options, args.sort)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    printer = Printer(
        sys.stdout.buffer,
        colors=pretty in ("all", "colors"),
        format=pretty in ("all", "format"),
        terminal=terminal,
        style=args.style or "auto",
        options=options,
        charset=args.response_charset,
        mime=args.response_mime,
    )
    return Output(args, printer, terminal)


def _headers(session: Session | None, body: Body, items: RequestItems) -> list[tuple[str, str]]:
    given = {name.lower() for name, _ in items.headers} | {name.lower() for name in items.unset}
    base = list(session.headers.items()) if session else []
    base += body.headers
    kept = [(name, value) for name, value in base if name.lower() not in given]
    return kept + items.headers


def _stdin(args: argparse.Namespace) -> Any:
    stream = sys.stdin
    if args.ignore_stdin or stream is None or stream.closed or stream.isatty():
        return None
    return stream.buffer


def _websocket(args: argparse.Namespace, url: str, items: RequestItems) -> int:
    """``--ws``: a WebSocket session (``_cli_ws``); header items and auth go on the handshake."""
    from transom.client._cli_ws import run_websocket

    if items.has_data:
        raise UsageError("--ws sends stdin's lines: data and file items have no place")
    target = URL(url.replace("ws://", "http://", 1).replace("wss://", "https://", 1))
    auth, _ = _auth(args.auth, args.auth_type)
    if auth is None and not args.ignore_netrc:
        auth = _netrc_auth(target, args.auth_type)
    stdin = sys.stdin
    reader = None if args.ignore_stdin or stdin is None or stdin.closed else stdin.buffer
    return run_websocket(
        url,
        client_options={
            "auth": auth,
            "timeout": Timeout(30.0 if args.timeout is None else args.timeout),
            "verify": _verify(args),
            "proxy": _proxy(args.proxy, target.scheme),
        },
        headers=items.headers,
        params=items.params,
        subprotocols=args.subprotocol,
        stdin=reader,
        stdout=sys.stdout.buffer,
    )


def _run(args: argparse.Namespace, scheme: str) -> int:
    method, raw_url, raw_items = _split_method(args.args)
    url = parse_url(raw_url, scheme)
    if not args.path_as_is:
        url = _remove_dots(url)
    items = parse_items(raw_items)
    if args.ws or url.startswith(("ws://", "wss://")):
        return _websocket(args, url, items)
    output = _output(args)
    auth, auth_record = _auth(args.auth, args.auth_type)
    target = URL(url)
    session = None
    session_name = args.session or args.session_read_only
    if session_name:
        session = Session(session_path(session_name, target.netloc))
        if auth is None and session.auth:
            auth, auth_record = _auth(session.auth["raw"], session.auth["type"])
    if auth is None and not args.ignore_netrc:
        auth = _netrc_auth(target, args.auth_type)
    body = build_body(items, args, _stdin(args))
    headers = _headers(session, body, items)
    if args.download:
        headers.append(("Accept-Encoding", "identity"))  # save the bytes as the server has them
    client = Client(
        auth=auth,
        follow_redirects=args.follow,
        max_redirects=args.max_redirects,
        timeout=Timeout(30.0 if args.timeout is None else args.timeout),
        verify=_verify(args),
        proxy=_proxy(args.proxy, target.scheme),
    )
    try:
        if session:
            session.load_cookies(client.cookies)
        request = client.build_request(
            method or ("POST" if body.present else "GET"),
            url,
            params=items.params,
            headers=headers or None,
            content=body.content,
        )
        for name in items.unset:
            request.headers.discard(name)
        if args.offline:
            return offline(request, auth, output)
        code = exchange(client, request, args, output)
        if session is not None and args.session:
            session.update(items.headers, auth_record, client.cookies)
            session.save()
        return code
    finally:
        for handle in body.opened:
            handle.close()
        client.close()
