"""``transom http --download``: stream the body to a file, reporting on stderr.

On a terminal stderr a progress bar is redrawn in place (``\r``, the line,
then "erase to the end of the line": a shorter line leaves nothing of the
one before); otherwise (a log, a pipe) one line is written per download,
when it ends: what, where, how big and how fast. ``--continue`` resumes a
partial file with a ``Range`` request (RFC 9110 §14.2); a server that
answers 200 instead of 206 sends it all again, and the file is rewritten.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

from transom.client.models import Response
from transom.http.headers import parse_options_header

__all__ = ["download", "filename_for", "resume_from"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")
_ERASE_TO_END = "\x1b[K"  # ANSI EL: what a longer line before left on the right


def filename_for(response: Response) -> str:
    """Content-Disposition's filename, else the URL's last path segment, else index.html.

    Only the base name is kept and odd characters are replaced, so a server
    cannot make us write outside the current directory.
    """
    _, params = parse_options_header(response.headers.get("content-disposition"))
    name = params.get("filename", "")
    if not name and response.url is not None:
        name = unquote(response.url.raw_path.rstrip("/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", os.path.basename(name)).strip(" .")
    return name or "index.html"


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(1, 10000):
        candidate = path.with_name(f"{path.name}-{n}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many files named {path.name}-N")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns


def resume_from(output: str | None) -> int:
    """How many bytes of ``output`` exist already (0 when none)."""
    try:
        return os.path.getsize(output) if output else 0
    except OSError:
        return 0


def _resumed(response: Response, offset: int) -> bool:
    if not offset or response.status_code != 206:
        return False
    content_range = response.headers.get("content-range", "")
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", content_range.strip())
    return match is not None and int(match.group(1)) == offset


def download(response: Response, output: str | None, err: TextIO, offset: int = 0) -> Path:
    """Write the body to ``output`` (or a name from the response); returns the path.

    With ``offset`` (``--continue``) a matching 206 response is appended.
    """
    path = Path(output) if output else _unique(Path(filename_for(response)))
    append = _resumed(response, offset)
    done = offset if append else 0
    length = response.headers.get("content-length")
    total = int(length) + done if length and length.isdigit() else None
    terminal = err.isatty()
    started = last = time.monotonic()
    with open(path, "ab" if append else "wb") as f:
        for chunk in response.iter_bytes():
            f.write(chunk)
            done += len(chunk)
            now = time.monotonic()
            if terminal and now - last >= 0.1:
                last = now
                _progress(err, done, total, now - started)
    elapsed = max(time.monotonic() - started, 1e-6)
    got = done - (offset if append else 0)
    speed = f"{_size(got / elapsed)}/s"
    if terminal:
        _progress(err, done, total, elapsed)
        err.write(f"\nDone. {_size(done)} in {elapsed:.2f}s ({speed}) -> {path}\n")
    else:
        what = response.url if response.url is not None else "the body"
        resumed = f" (resumed at {_size(offset)})" if append else ""
        err.write(
            f"Downloaded {what} to {path}: {_size(done)}{resumed} in {elapsed:.2f}s, {speed}\n"
        )
    err.flush()
    return path


def _progress(err: TextIO, done: int, total: int | None, elapsed: float) -> None:
    rate = _size(done / max(elapsed, 1e-6)) + "/s"
    if total:
        width = 30
        filled = min(width, int(width * done / total))
        bar = "#" * filled + "-" * (width - filled)
        line = f"\r[{bar}] {done * 100 // total:3d}% {_size(done)} / {_size(total)} {rate}"
    else:
        line = f"\r{_size(done)} {rate}"
    err.write(line + _ERASE_TO_END)
    err.flush()
