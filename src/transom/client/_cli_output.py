"""How ``transom http`` prints messages: heads, bodies, metadata, formatting, colours.

Colours and formatting are on when stdout is a terminal and off when it is
piped, so ``transom http ... > file`` writes the body exactly as received;
``--pretty all|colors|format|none`` overrides. Formatting follows HTTPie's
``--format-options`` (defaults below): headers sorted by name, JSON indented
by 4 with sorted keys, XML indented by 2. ``--sorted`` / ``--unsorted`` turn
both sorts on or off. The ``--style`` palettes are in ``_cli_styles``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from transom.client._cli_styles import STYLES
from transom.client._content import BodyStream
from transom.client.models import ConnectionInfo, Request, Response

__all__ = ["STYLES", "Format", "Printer", "parse_format_options"]

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"

# JSON tokens of json.dumps output: a key, a string, a number or a literal.
_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<lit>true|false|null)"
)
_BINARY_NOTE = (
    b"+-----------------------------------------+\n"
    b"| NOTE: binary data not shown in terminal |\n"
    b"+-----------------------------------------+\n"
)


@dataclass
class Format:
    """HTTPie's ``--format-options``, with its defaults."""

    headers_sort: bool = True
    json_format: bool = True
    json_indent: int = 4
    json_sort_keys: bool = True
    xml_format: bool = True
    xml_indent: int = 2


_OPTIONS = {
    "headers.sort": "headers_sort",
    "json.format": "json_format",
    "json.indent": "json_indent",
    "json.sort_keys": "json_sort_keys",
    "xml.format": "xml_format",
    "xml.indent": "xml_indent",
}


def parse_format_options(values: Iterable[str], sort: bool | None) -> Format:
    """``headers.sort:false,json.indent:2`` (repeatable) -> a ``Format``."""
    fmt = Format()
    for value in values:
        for option in filter(None, value.split(",")):
            name, _, setting = option.partition(":")
            attr = _OPTIONS.get(name.strip())
            if attr is None:
                raise ValueError(f"--format-options: unknown option {name!r}")
            current = getattr(fmt, attr)
            if isinstance(current, bool):
                if setting not in ("true", "false"):
                    raise ValueError(f"--format-options: {name} wants true or false")
                setattr(fmt, attr, setting == "true")
            elif setting.isdigit():
                setattr(fmt, attr, int(setting))
            else:
                raise ValueError(f"--format-options: {name} wants a number")
    if sort is not None:
        fmt.headers_sort = fmt.json_sort_keys = sort
    return fmt


class Printer:
    """Writes messages to ``out`` with or without colours and formatting."""

    def __init__(
        self,
        out: BinaryIO,
        *,
        colors: bool,
        format: bool,
        terminal: bool,
        style: str = "auto",
        options: Format | None = None,
        charset: str | None = None,
        mime: str | None = None,
    ) -> None:
        self._out = out
        self._colors = colors
        self._format = format
        self._terminal = terminal
        self._palette = STYLES[style]
        self._options = options or Format()
        self._charset = charset
        self._mime = mime

    def _paint(self, text: str, role: str) -> str:
        if not self._colors:
            return text
        colour = _BOLD if role == "bold" else self._palette[role]
        return f"{colour}{text}{_RESET}"

    def _write(self, text: str) -> None:
        self._out.write(text.encode("utf-8", "replace"))
        self._out.flush()

    def _headers(self, raw: list[tuple[bytes, bytes]]) -> str:
        pairs = [(k.decode("latin-1").title(), v.decode("latin-1")) for k, v in raw]
        if self._format and self._options.headers_sort:
            pairs.sort(key=lambda pair: pair[0].lower())
        return "".join(f"{self._paint(name, 'name')}: {value}\n" for name, value in pairs)

    def request_head(self, request: Request) -> None:
        line = f"{self._paint(request.method, 'bold')} {request.url.target} HTTP/1.1\n"
        self._write(line + self._headers(request.headers.raw) + "\n")

    def request_body(self, request: Request) -> None:
        body = request.body
        if isinstance(body, BodyStream):
            self._write("[streamed body: file upload or file contents]\n\n")
        elif body:
            self._body(body, request.headers.get("content-type", ""), "utf-8")
            self._write("\n\n")

    def response_head(self, response: Response) -> None:
        code = response.status_code
        role = "ok" if code < 300 else "redirect" if code < 400 else "error"
        status = self._paint(f"{code} {response.reason_phrase}", role)
        self._write(f"{response.http_version} {status}\n" + self._headers(response.headers.raw))
        self._write("\n")

    def response_body(self, response: Response) -> None:
        self._body(response.content, self._type(response), self._encoding(response))
        if self._terminal:
            self._write("\n")

    def stream_body(self, response: Response) -> None:
        """Each line as it arrives, formatted on its own (``--stream``)."""
        if not (self._format or self._colors):
            for chunk in response.iter_bytes():
                self._out.write(chunk)
                self._out.flush()
            return
        kind, encoding = self._type(response), self._encoding(response)
        for line in _lines(response.iter_bytes()):
            self._body(line.rstrip(b"\n"), kind, encoding)
            if line.endswith(b"\n"):
                self._write("\n")

    def meta(self, response: Response) -> None:
        """Elapsed time, where the response came from and over which connection."""
        lines = [("Elapsed time", f"{response.elapsed.total_seconds():.6f}s")]
        if response.url is not None:
            lines.append(("Remote", response.url.origin))
        if response.connection is not None:
            lines += _connection(response.connection)
        lines.append(("Protocol", response.http_version))
        self._write("".join(f"{self._paint(name, 'name')}: {value}\n" for name, value in lines))
        self._write("\n")

    def _type(self, response: Response) -> str:
        return self._mime or response.headers.get("content-type") or ""

    def _encoding(self, response: Response) -> str:
        return self._charset or response.encoding or "utf-8"

    def _body(self, body: bytes, content_type: str, encoding: str) -> None:
        if not (self._format or self._colors):
            self._out.write(body)
            self._out.flush()
            return
        if b"\x00" in body[:4096]:
            self._out.write(_BINARY_NOTE if self._terminal else body)
            return
        text = body.decode(encoding, "replace")
        if "json" in content_type or (content_type == "" and text[:1] in "{["):
            text = self._json(text)
        elif "xml" in content_type and self._format and self._options.xml_format:
            text = self._xml(text)
        self._write(text)

    def _json(self, text: str) -> str:
        try:
            data = json.loads(text)
        except ValueError:
            return text
        opts = self._options
        if self._format and opts.json_format:
            text = json.dumps(
                data, indent=opts.json_indent, sort_keys=opts.json_sort_keys, ensure_ascii=False
            )
        if self._colors:
            text = _JSON_TOKEN.sub(self._json_token, text)
        return text

    def _xml(self, text: str) -> str:
        try:
            # expat (2.4+) fetches no external entity and stops entity-expansion bombs.
            document = minidom.parseString(text)  # noqa: S318
            pretty = document.toprettyxml(indent=" " * self._options.xml_indent)
        except ExpatError:
            return text
        return pretty.rstrip("\n")

    def _json_token(self, match: re.Match[str]) -> str:
        kind = match.lastgroup or "str"
        return f"{self._palette[kind]}{match.group()}{_RESET}"


def _connection(info: ConnectionInfo) -> list[tuple[str, str]]:
    lines = []
    if info.peer is not None:
        host, port = info.peer
        lines.append(("Remote address", f"[{host}]:{port}" if ":" in host else f"{host}:{port}"))
    lines.append(("Connection", "reused (kept alive)" if info.reused else "new"))
    return lines


def _lines(chunks: Iterable[bytes]) -> Iterable[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending
