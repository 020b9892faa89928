"""The fast parser backend: llhttp (through httptools) tokenises heads in C.

Same interface and same verdicts as ``parser.PythonParser``:

* llhttp reads one complete head per call (the connection found its end).
  After a head that announces a body, llhttp would wait for the body, which
  the connection decodes itself; the connection says so (``body_follows``)
  and the parser is replaced by a fresh one. Bodiless requests (the common
  case) reuse the parser.
* The reference parser is the judge of anything llhttp rejects: on an llhttp
  error the head is parsed again by the reference parser, which either
  raises the precise error (with its status code) or returns the tokens
  (llhttp knows only registered methods, the reference accepts any token).
  The error path is rare, so this costs nothing on the hot path and keeps
  the verdicts of both backends identical.
* Where llhttp is more lenient than the reference, a cheap check after the
  parse hands the head to the reference too: more than one space between
  the parts of the request line (llhttp skips them), a request line without
  a version (HTTP/0.9), empty lines before a status line. Whitespace after a
  field value llhttp keeps and the reference strips (it is OWS): the sink
  strips it too.
  The differential tests in tests/http/test_smuggling.py (a corpus, splits
  at every byte, and fuzzing) keep the two aligned.
* Trailer sections are parsed by ``parser.parse_fields`` for both backends;
  llhttp never sees a body.

Why llhttp is the default for heads, by measurement (the parse call alone,
interleaved runs, CPython 3.11): for a head with one field (what load
generators send) the reference takes about 1.0 us and llhttp 1.25 us; for a
browser's head (eight fields, about 330 bytes) the reference takes 2.9 us
(one regular expression over the head, then a split per line) and llhttp
2.6 us, although it pays a Python callback per field. Splitting the
validated field block with one ``findall`` instead of a loop was slower
still (2.1 us against 1.6 us for the split alone). Real traffic looks like
the browser's head, so llhttp stays the default; the connection's whole
per-request cost differs by less than either figure's noise between the two
backends (``benchmarks/http_core.py``).
"""

from __future__ import annotations

from typing import Final

import httptools

from transom.http.events import HeaderList
from transom.http.parser import PythonParser, RequestHead, ResponseHead

__all__ = ["LlhttpParser"]


_OWS: Final = frozenset((b" ", b"\t"))


class _Sink:
    """The callbacks httptools calls while it parses one head."""

    __slots__ = ("headers", "reason", "target")

    def __init__(self) -> None:
        self.headers: HeaderList = []
        self.target = b""
        self.reason = b""

    def on_url(self, url: bytes) -> None:
        # One call per head: the whole head is fed at once.
        self.target = url

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if value[-1:] in _OWS:
            # llhttp keeps whitespace after a value; RFC 9112 §5 makes it OWS.
            value = value.rstrip(b" \t")
        self.headers.append((name.lower(), value))


class LlhttpParser:
    """Heads tokenised by llhttp; see the module docstring."""

    __slots__ = ("_reference", "_request", "_request_sink", "_response_sink")

    name = "llhttp"

    def __init__(self) -> None:
        self._reference = PythonParser()
        self._request_sink = _Sink()
        self._request = httptools.HttpRequestParser(self._request_sink)
        self._response_sink = _Sink()

    def parse_request_head(self, buffer: bytes, start: int, end: int) -> RequestHead:
        sink = self._request_sink
        parser = self._request
        headers: HeaderList = []
        sink.headers = headers
        try:
            if start == 0 and end + 4 == len(buffer):
                parser.feed_data(buffer)
            else:
                # A copy of a head is cheaper than a memoryview and its slice.
                parser.feed_data(buffer[start : end + 4])
        except httptools.HttpParserUpgrade:
            pass  # Upgrade / CONNECT: llhttp stops after the head, all we need.
        except httptools.HttpParserError:
            self._request = httptools.HttpRequestParser(sink)
            return self._reference.parse_request_head(buffer, start, end)
        method: bytes = parser.get_method()
        target = sink.target
        # With single spaces the request line ends exactly here; extra spaces
        # move the CRLF further on, a missing version (HTTP/0.9) moves it back.
        line_end = start + len(method) + len(target) + 10
        # (Slices and == are cheaper than startswith with a position.)
        if (
            buffer[line_end : line_end + 2] != b"\r\n"
            or buffer[line_end - 9 : line_end - 3] != b" HTTP/"
        ):
            return self._reference.parse_request_head(buffer, start, end)
        return method, target, buffer[line_end - 3 : line_end], headers

    def body_follows(self) -> None:
        # llhttp now waits for the body, which the connection decodes: start afresh.
        self._request = httptools.HttpRequestParser(self._request_sink)

    def parse_response_head(self, buffer: bytes, start: int, end: int) -> ResponseHead:
        # A response parser never survives a head (the body follows, or llhttp
        # waits for EOF), so each head gets a fresh one; the client is not the
        # hot path.
        sink = self._response_sink
        sink.reason = b""
        headers: HeaderList = []
        sink.headers = headers
        parser = httptools.HttpResponseParser(sink)
        try:
            parser.feed_data(buffer[start : end + 4])  # a copy costs less than a view
        except httptools.HttpParserUpgrade:
            pass  # a 101 with Upgrade: llhttp stops after the head, all we need
        except httptools.HttpParserError:
            return self._reference.parse_response_head(buffer, start, end)
        if buffer[start : start + 5] != b"HTTP/":
            # llhttp skips empty lines before a status line.
            return self._reference.parse_response_head(buffer, start, end)
        version = buffer[start + 5 : start + 8]
        status: int = parser.get_status_code()
        return version, status, sink.reason.strip(b" \t"), headers
