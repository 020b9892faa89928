"""``transom http``: send an HTTP request from the command line, HTTPie-style.

::

    transom http example.org                         GET, print the response
    transom http :8000/notes title=Hi tags:='["a"]'  POST JSON to localhost:8000
    transom http --form POST :8000/upload file@a.png  multipart upload
    transom http -a alice:pw --auth-type digest :8000/private
    transom http --download https://example.org/big.iso -o big.iso

Exit codes: 0 success; 1 an error (one line on stderr); 2 bad usage or a
timeout; 3, 4, 5 for a 3xx, 4xx, 5xx response with ``--check-status``;
6 too many redirects.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from transom.client._cli_download import download
from transom.client._cli_items import ItemError, RequestItems, parse_items, parse_url
from transom.client._cli_output import Printer
from transom.client._cli_session import Session, session_path
from transom.client.auth import Auth, BasicAuth, BearerAuth, DigestAuth
from transom.client.client import Client
from transom.client.config import Timeout
from transom.client.models import Request, Response
from transom.exceptions import TimeoutException, TooManyRedirects, TransomError

__all__ = ["http_command"]

_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> _Parser:
    p = _Parser(
        prog="transom http",
        add_help=False,
        description="Send an HTTP request, HTTPie-style.",
        epilog="Items: Header:Value  name==query  field=value  field:=json  field@file  @file",
    )
    p.add_argument("args", nargs="*", metavar="[METHOD] URL [ITEM ...]")
    p.add_argument("--help", action="store_true", help="show this help and exit")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--json", "-j", action="store_true", help="data items as JSON (default)")
    body.add_argument("--form", "-f", action="store_true", help="data items as a form")
    p.add_argument("--auth", "-a", metavar="USER:PASS", help="credentials (or a token)")
    p.add_argument("--auth-type", "-A", choices=["basic", "digest", "bearer"], default=None)
    p.add_argument("--follow", "-F", action="store_true", help="follow redirects")
    p.add_argument("--max-redirects", type=int, default=30)
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--verify", default="yes", metavar="yes|no|PATH")
    p.add_argument("--session", metavar="NAME", help="keep headers, cookies and auth")
    p.add_argument("--download", "-d", action="store_true", help="save the body to a file")
    p.add_argument("--output", "-o", metavar="FILE")
    p.add_argument("--print", "-p", dest="print_", metavar="HBhb", help="what to print")
    p.add_argument("--verbose", "-v", action="store_true", help="print request and response")
    p.add_argument("--headers", "-h", action="store_true", help="print response headers only")
    p.add_argument("--body", "-b", action="store_true", help="print response body only")
    p.add_argument("--check-status", action="store_true", help="exit 3/4/5 on 3xx/4xx/5xx")
    p.add_argument("--offline", action="store_true", help="print the request, do not send it")
    p.add_argument("--pretty", choices=["all", "colors", "format", "none"])
    return p


def _split_method(args: list[str]) -> tuple[str | None, str, list[str]]:
    if not args:
        raise _UsageError("a URL is required")
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
        raise _UsageError(f"--auth {kind} wants USER:PASS")
    auth = DigestAuth(user, password) if kind == "digest" else BasicAuth(user, password)
    return auth, {"type": kind, "raw": value}


def _verify(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("yes", "true", "1"):
        return True
    if lowered in ("no", "false", "0"):
        return False
    return value


def _body_kwargs(items: RequestItems, form: bool) -> dict[str, Any]:
    if items.body_file is not None:
        if items.data or items.files:
            raise _UsageError("@file as the body cannot be combined with data fields")
        with open(items.body_file, "rb") as f:
            return {"content": f.read()}
    if items.files:
        files = [(name, (filename, open(path, "rb"))) for name, (filename, path) in items.files]  # noqa: SIM115 - closed in http_command
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in items.data.items()}
        return {"data": data, "files": files}
    if not items.data:
        return {}
    if form:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in items.data.items()}
        return {"data": data}
    return {"json": items.data}


class _Output:
    """What to print, decided from the flags and whether stdout is a terminal."""

    def __init__(self, args: argparse.Namespace) -> None:
        terminal = sys.stdout.isatty()
        if args.print_:
            self.what = args.print_
        elif args.verbose:
            self.what = "HBhb"
        elif args.headers:
            self.what = "h"
        elif args.body:
            self.what = "b"
        elif args.offline:
            self.what = "HB"
        else:
            self.what = "hb" if terminal else "b"
        if args.download and not args.print_:
            self.what = self.what.replace("b", "")
        pretty = args.pretty or ("all" if terminal else "none")
        self.printer = Printer(
            sys.stdout.buffer,
            colors=pretty in ("all", "colors"),
            format=pretty in ("all", "format"),
            terminal=terminal,
        )

    def request(self, request: Request) -> None:
        if "H" in self.what:
            self.printer.request_head(request)
        if "B" in self.what:
            self.printer.request_body(request)

    def response(self, response: Response) -> None:
        if "h" in self.what:
            self.printer.response_head(response)
        if "b" in self.what:
            self.printer.response_body(response)


def http_command(argv: Sequence[str]) -> int:
    """Run ``transom http``; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_intermixed_args(list(argv))
        if args.help:
            parser.print_help()
            return 0
        return _run(args)
    except _UsageError as exc:
        sys.stderr.write(f"transom http: error: {exc} (transom http --help)\n")
        return 2
    except ItemError as exc:
        sys.stderr.write(f"transom http: error: {exc}\n")
        return 2
    except TimeoutException as exc:
        sys.stderr.write(f"transom http: error: timed out: {exc}\n")
        return 2
    except TooManyRedirects as exc:
        sys.stderr.write(f"transom http: error: {exc}\n")
        return 6
    except (TransomError, OSError) as exc:
        sys.stderr.write(f"transom http: error: {type(exc).__name__}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("transom http: interrupted\n")
        return 130


def _run(args: argparse.Namespace) -> int:
    method, raw_url, raw_items = _split_method(args.args)
    url = parse_url(raw_url)
    items = parse_items(raw_items)
    output = _Output(args)
    auth, auth_record = _auth(args.auth, args.auth_type)
    session = None
    if args.session:
        from transom.http.url import URL

        session = Session(session_path(args.session, URL(url).netloc))
        if auth is None and session.auth:
            auth, auth_record = _auth(session.auth["raw"], session.auth["type"])
    headers = list(session.headers.items()) if session else []
    headers += items.headers
    if args.download:
        headers.append(("Accept-Encoding", "identity"))  # save the bytes as the server has them
    body = _body_kwargs(items, args.form)
    method = method or ("POST" if items.has_data else "GET")
    client = Client(
        auth=auth,
        follow_redirects=args.follow,
        max_redirects=args.max_redirects,
        timeout=Timeout(args.timeout),
        verify=_verify(args.verify),
        event_hooks={"request": [output.request]} if not args.offline else None,
    )
    try:
        if session:
            session.load_cookies(client.cookies)
        request = client.build_request(
            method, url, params=items.params, headers=headers or None, **body
        )
        if args.offline:
            if auth is not None and not isinstance(auth, DigestAuth):
                request = next(auth.auth_flow(request))
            output.request(request)
            return 0
        return _exchange(client, request, args, output, session, auth_record, items)
    finally:
        for _, (_, f) in body.get("files", []):
            f.close()
        client.close()


def _exchange(
    client: Client,
    request: Request,
    args: argparse.Namespace,
    output: _Output,
    session: Session | None,
    auth_record: dict[str, str] | None,
    items: RequestItems,
) -> int:
    response = client.send(request, stream=True)
    try:
        code = _show(response, args, output)
    finally:
        response.close()
    if session is not None:
        session.update(items.headers, auth_record, client.cookies)
        session.save()
    return code


def _show(response: Response, args: argparse.Namespace, output: _Output) -> int:
    """Print (or save) the response; returns the exit code."""
    if args.verbose and "h" in output.what:
        for previous in response.history:
            output.printer.response_head(previous)
    status = f"HTTP {response.status_code} {response.reason_phrase}"
    if args.download and not response.is_success:
        sys.stderr.write(f"transom http: error: {status}; nothing downloaded\n")
        return max(response.status_code // 100, 1)
    if args.download:
        output.response(response)
        download(response, args.output, sys.stderr)
    else:
        response.read()
        if args.output:
            with open(args.output, "wb") as f:
                f.write(response.content)
            output.what = output.what.replace("b", "")
        output.response(response)
    if args.check_status and response.status_code >= 300:
        sys.stderr.write(f"transom http: warning: {status}\n")
        return response.status_code // 100
    return 0
