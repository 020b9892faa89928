"""How ``transom http`` prints messages: heads, bodies, JSON pretty-printing, colours.

Colours and formatting are on when stdout is a terminal and off when it is
piped, so ``transom http ... > file`` writes the body exactly as received;
``--pretty all|colors|format|none`` overrides.
"""

from __future__ import annotations

import json
import re
from typing import BinaryIO

from transom.client._content import BodyStream
from transom.client.models import Request, Response

__all__ = ["Printer"]

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_BLUE = "\x1b[34m"
_CYAN = "\x1b[36m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_RED = "\x1b[31m"
_MAGENTA = "\x1b[35m"

# JSON tokens of json.dumps output: a key, a string, a number or a literal.
_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<lit>true|false|null)"
)
_TOKEN_COLOURS = {"key": _BLUE, "str": _GREEN, "num": _YELLOW, "lit": _MAGENTA}
_BINARY_NOTE = (
    b"+-----------------------------------------+\n"
    b"| NOTE: binary data not shown in terminal |\n"
    b"+-----------------------------------------+\n"
)


def _status_colour(status: int) -> str:
    if status < 300:
        return _GREEN
    if status < 400:
        return _YELLOW
    return _RED


class Printer:
    """Writes messages to ``out`` with or without colours and formatting."""

    def __init__(self, out: BinaryIO, *, colors: bool, format: bool, terminal: bool) -> None:
        self._out = out
        self._colors = colors
        self._format = format
        self._terminal = terminal

    def _paint(self, text: str, colour: str) -> str:
        return f"{colour}{text}{_RESET}" if self._colors else text

    def _write(self, text: str) -> None:
        self._out.write(text.encode("utf-8", "replace"))
        self._out.flush()

    def _headers(self, pairs: list[tuple[str, str]]) -> str:
        return "".join(f"{self._paint(name, _CYAN)}: {value}\n" for name, value in pairs)

    def request_head(self, request: Request) -> None:
        line = f"{self._paint(request.method, _BOLD)} {request.url.target} HTTP/1.1\n"
        pairs = [(k.decode("latin-1").title(), v.decode("latin-1")) for k, v in request.headers.raw]
        self._write(line + self._headers(pairs) + "\n")

    def request_body(self, request: Request) -> None:
        body = request.body
        if isinstance(body, BodyStream):
            self._write("[streamed body: file upload or file contents]\n\n")
        elif body:
            self._body(body, request.headers.get("content-type", ""))
            self._write("\n\n")

    def response_head(self, response: Response) -> None:
        status = f"{response.status_code} {response.reason_phrase}"
        line = (
            f"{response.http_version} {self._paint(status, _status_colour(response.status_code))}\n"
        )
        pairs = [
            (k.decode("latin-1").title(), v.decode("latin-1")) for k, v in response.headers.raw
        ]
        self._write(line + self._headers(pairs) + "\n")

    def response_body(self, response: Response) -> None:
        self._body(response.content, response.headers.get("content-type", ""), response.encoding)
        if self._terminal:
            self._write("\n")

    def _body(self, body: bytes, content_type: str, encoding: str = "utf-8") -> None:
        if not (self._format or self._colors):
            self._out.write(body)
            self._out.flush()
            return
        if b"\x00" in body[:4096]:
            self._out.write(_BINARY_NOTE if self._terminal else body)
            return
        text = body.decode(encoding, "replace")
        if "json" in content_type or (content_type == "" and text[:1] in "{["):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                text = json.dumps(data, indent=4, ensure_ascii=False) if self._format else text
                if self._colors:
                    text = _JSON_TOKEN.sub(self._json_token, text)
        self._write(text)

    def _json_token(self, match: re.Match[str]) -> str:
        kind = match.lastgroup or "str"
        return f"{_TOKEN_COLOURS[kind]}{match.group()}{_RESET}"
