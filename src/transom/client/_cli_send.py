"""``transom http``: send the request, then print or save what came back.

What is printed is HTTPie's ``--print`` letters: ``H``/``B`` the request's
head and body, ``h``/``b`` the response's, ``m`` its metadata. With ``--all``
(and ``-v``) every intermediary exchange is printed first, redirects and
authentication challenges alike, with ``--history-print`` letters (the same
letters by default).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator

from transom.client._cli_args import UsageError
from transom.client._cli_download import download, resume_from
from transom.client._cli_output import Printer
from transom.client._http11 import MAX_HEADERS_EXTENSION
from transom.client.auth import Auth, DigestAuth
from transom.client.client import Client
from transom.client.models import Request, Response

__all__ = ["Output", "exchange", "offline"]


def _what(args: argparse.Namespace, terminal: bool) -> str:
    if args.print_:
        return str(args.print_)
    if args.verbose:
        return "HBhbm" if args.verbose > 1 else "HBhb"
    chosen = "".join(
        letter for flag, letter in ((args.headers, "h"), (args.body, "b"), (args.meta, "m")) if flag
    )
    if chosen:
        return chosen
    if args.offline:
        return "HB"
    return "hb" if terminal else "b"


class Output:
    """What to print, decided from the flags and whether stdout is a terminal."""

    def __init__(self, args: argparse.Namespace, printer: Printer, terminal: bool) -> None:
        self.printer = printer
        self.what = _what(args, terminal)
        if (args.download or args.output) and not args.print_:
            self.what = self.what.replace("b", "")
        if args.quiet:
            self.what = ""
        self.history = "" if args.quiet else args.history_print or self.what
        self.all = bool(args.all or args.verbose)
        self.warnings = args.quiet < 2

    def request(self, request: Request, what: str | None = None) -> None:
        what = self.what if what is None else what
        if "H" in what:
            self.printer.request_head(request)
        if "B" in what:
            self.printer.request_body(request)

    def intermediary(self, response: Response) -> None:
        if response.request is not None:
            self.request(response.request, self.history)
        if "h" in self.history:
            self.printer.response_head(response)
        if "b" in self.history:
            response.read()
            self.printer.response_body(response)
        if "m" in self.history:
            self.printer.meta(response)

    def warn(self, text: str) -> None:
        if self.warnings:
            sys.stderr.write(f"transom http: warning: {text}\n")


def offline(request: Request, auth: Auth | None, output: Output) -> int:
    """``--offline``: print the request as it would go out; send nothing."""
    if auth is not None and not isinstance(auth, DigestAuth):
        request = next(auth.auth_flow(request))
    output.request(request)
    return 0


class _Recording(Auth):
    """Wraps an auth flow, keeping every response it is shown (for ``--all``)."""

    def __init__(self, inner: Auth, seen: list[Response]) -> None:
        self.inner = inner
        self.seen = seen
        self.requires_response_body = inner.requires_response_body

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        flow = self.inner.auth_flow(request)
        request = next(flow)
        while True:
            response = yield request
            self.seen.append(response)
            try:
                request = flow.send(response)
            except StopIteration:
                return


def exchange(client: Client, request: Request, args: argparse.Namespace, output: Output) -> int:
    """Send ``request``, print (or save) the answer; returns the exit code."""
    seen: list[Response] = []
    if output.all and client.auth is not None:
        client.auth = _Recording(client.auth, seen)
    offset = 0
    if args.continue_:
        if not (args.download and args.output):
            raise UsageError("--continue needs --download and --output")
        offset = resume_from(args.output)
        if offset:
            request.headers["range"] = f"bytes={offset}-"
    if args.max_headers < 0:
        raise UsageError("--max-headers wants a number >= 0 (0: the client default, 256)")
    if args.max_headers:
        # Enforced by the connection as it parses each head (redirects included).
        request.extensions[MAX_HEADERS_EXTENSION] = args.max_headers
    response = client.send(request, stream=True)
    try:
        if output.all:
            for earlier in _intermediaries(response, seen):
                output.intermediary(earlier)
        output.request(response.request or request)
        return _show(response, args, output, offset)
    finally:
        response.close()


def _intermediaries(final: Response, seen: list[Response]) -> list[Response]:
    ordered = [r for r in seen if r is not final]
    ordered += [r for r in final.history if all(r is not s for s in ordered)]
    return ordered


def _show(response: Response, args: argparse.Namespace, output: Output, offset: int) -> int:
    printer = output.printer
    if "h" in output.what:
        printer.response_head(response)
    status = f"HTTP {response.status_code} {response.reason_phrase}"
    if args.download:
        if not response.is_success:
            sys.stderr.write(f"transom http: error: {status}; nothing downloaded\n")
            return max(response.status_code // 100, 1)
        download(response, args.output, sys.stderr, offset)
    elif args.output:
        with open(args.output, "wb") as f:
            for chunk in response.iter_bytes():
                f.write(chunk)
    elif "b" in output.what and args.stream:
        printer.stream_body(response)
    elif "b" in output.what:
        response.read()
        printer.response_body(response)
    if "m" in output.what:
        response.read()
        printer.meta(response)
    if args.check_status and response.status_code >= 300:
        output.warn(status)
        return response.status_code // 100
    return 0
