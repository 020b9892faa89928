"""The options of ``transom http`` (HTTPie's names), and its config file.

The config file is ``$XDG_CONFIG_HOME/transom/config.json`` (``~/.config``
by default; ``$TRANSOM_CONFIG_DIR`` names another directory), read as
HTTPie reads its ``config.json``::

    {"default_options": ["--style=monokai", "--follow"]}

The default options come before the command line's. ``--no-OPTION`` (for
example ``--no-follow``) turns an option back to its default, whether the
config file or the command line set it.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import NoReturn

__all__ = ["UsageError", "config_dir", "parse_args"]


class UsageError(Exception):
    """Bad usage: the message goes to stderr and the exit code is 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def config_dir() -> Path:
    explicit = os.environ.get("TRANSOM_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "transom"


def _default_options() -> list[str]:
    path = config_dir() / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    options = data.get("default_options", []) if isinstance(data, dict) else None
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise UsageError(f"{path}: default_options must be a list of strings")
    return options


def _content(p: argparse.ArgumentParser) -> None:
    body = p.add_mutually_exclusive_group()
    body.add_argument("--json", "-j", action="store_true", help="data items as JSON (default)")
    body.add_argument("--form", "-f", action="store_true", help="data items as a form")
    p.add_argument("--multipart", action="store_true", help="send a multipart form")
    p.add_argument("--boundary", help="the multipart boundary")
    p.add_argument("--raw", metavar="TEXT", help="the request body as given")
    p.add_argument("--compress", "-x", action="count", default=0, help="deflate the body")
    p.add_argument("--chunked", action="store_true", help="send the body in chunks")


def _output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pretty", choices=["all", "colors", "format", "none"])
    p.add_argument("--style", "-s", metavar="STYLE", help="colour scheme")
    p.add_argument("--unsorted", dest="sort", action="store_false", default=None)
    p.add_argument("--sorted", dest="sort", action="store_true", default=None)
    p.add_argument("--response-charset", metavar="ENCODING")
    p.add_argument("--response-mime", metavar="MIME_TYPE")
    p.add_argument("--format-options", action="append", default=[], metavar="OPTIONS")
    p.add_argument("--print", "-p", dest="print_", metavar="WHAT", help="HBhbm: what to print")
    p.add_argument("--headers", "-h", action="store_true", help="print response headers only")
    p.add_argument("--meta", "-m", action="store_true", help="print the metadata only")
    p.add_argument("--body", "-b", action="store_true", help="print response body only")
    p.add_argument("--verbose", "-v", action="count", default=0, help="print everything")
    p.add_argument("--all", action="store_true", help="print intermediary messages too")
    p.add_argument("--history-print", "-P", metavar="WHAT", help="--print for intermediaries")
    p.add_argument("--stream", "-S", action="store_true", help="print the body as it arrives")
    p.add_argument("--output", "-o", metavar="FILE")
    p.add_argument("--download", "-d", action="store_true", help="save the body to a file")
    p.add_argument("--continue", "-c", dest="continue_", action="store_true")
    p.add_argument(
        "--quiet", "-q", action="count", default=0, help="print nothing (-qq: no warnings)"
    )


def _network(p: argparse.ArgumentParser) -> None:
    p.add_argument("--session", metavar="NAME", help="keep headers, cookies and auth")
    p.add_argument("--session-read-only", metavar="NAME")
    p.add_argument("--auth", "-a", metavar="USER:PASS", help="credentials (or a token)")
    p.add_argument("--auth-type", "-A", choices=["basic", "digest", "bearer"], default=None)
    p.add_argument("--ignore-netrc", action="store_true", help="do not read ~/.netrc")
    p.add_argument("--offline", action="store_true", help="print the request, do not send it")
    p.add_argument("--proxy", action="append", default=[], metavar="PROTOCOL:URL")
    p.add_argument("--follow", "-F", action="store_true", help="follow redirects")
    p.add_argument("--max-redirects", type=int, default=30)
    p.add_argument("--max-headers", type=int, default=0, metavar="N")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    p.add_argument("--check-status", action="store_true", help="exit 3/4/5 on 3xx/4xx/5xx")
    p.add_argument("--path-as-is", action="store_true", help="keep . and .. in the path")
    p.add_argument("--verify", default="yes", metavar="yes|no|PATH")
    p.add_argument("--ssl", choices=["ssl2.3", "tls1", "tls1.1", "tls1.2", "tls1.3"])
    p.add_argument("--ciphers", metavar="CIPHERS")
    p.add_argument("--cert", metavar="FILE", help="client certificate (PEM)")
    p.add_argument("--cert-key", metavar="FILE", help="its private key")
    p.add_argument("--cert-key-pass", metavar="PASSWORD")
    p.add_argument("--ws", action="store_true", help="open a WebSocket: stdin lines go out")
    p.add_argument(
        "--subprotocol", action="append", default=[], metavar="NAME", help="offer (with --ws)"
    )


def _misc(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ignore-stdin", "-I", action="store_true", help="do not read stdin")
    p.add_argument("--help", action="store_true", help="show this help and exit")
    p.add_argument("--version", action="store_true", help="show the version and exit")
    p.add_argument("--traceback", action="store_true", help="show the traceback of an error")
    p.add_argument("--debug", action="store_true", help="--traceback, and versions")
    p.add_argument("--default-scheme", default=None, metavar="SCHEME")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="transom http",
        add_help=False,
        description="Send an HTTP request, HTTPie-style.",
        epilog="Items: Header:Value  Header;  name==query  field=value  field:=json  "
        "field@file  @file  field=@file  field:=@file",
    )
    p.add_argument("args", nargs="*", metavar="[METHOD] URL [ITEM ...]")
    for group in (_content, _output, _network, _misc):
        group(p)
    return p


def _negations(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], list[str]]:
    """``--no-X`` tokens taken out of argv: (the rest, the dests to reset)."""
    by_flag = {flag: action.dest for action in parser._actions for flag in action.option_strings}
    rest: list[str] = []
    dests: list[str] = []
    for token in argv:
        flag = "--" + token[5:] if token.startswith("--no-") else None
        if flag is not None and flag in by_flag:
            dests.append(by_flag[flag])
        else:
            rest.append(token)
    return rest, dests


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options: the config file's defaults, then ``argv``; ``--no-X`` applied last."""
    parser = build_parser()
    words, resets = _negations(parser, [*_default_options(), *argv])
    args = parser.parse_intermixed_args(words)
    for dest in resets:
        setattr(args, dest, parser.get_default(dest))
    args.parser = parser
    return args
