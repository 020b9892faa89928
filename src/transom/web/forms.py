"""Form bodies: ``FormData``, ``UploadFile`` and their limits.

Theory of operation
-------------------
``request.form()`` reads the body through ``request.stream()`` (so the
body limit applies to forms too: raise it per route for big uploads, as in
``@app.post("/upload", max_body_size=200 * 2**20)``) and decodes it:

- ``application/x-www-form-urlencoded``: parsed as a query string;
- ``multipart/form-data``: fed chunk by chunk to the streaming
  ``transom.http.multipart.MultipartParser``. A part with a ``filename``
  becomes an ``UploadFile``. Up to ``SPOOL_MAX_SIZE`` (1 MiB) it keeps the
  very ``bytes`` the parser handed out, which for the middle of a part are
  the body chunks as received: no copy, no growing buffer, no thread hop,
  no event object dispatched per chunk. Past the limit it rolls over to a
  temporary file, all it holds written in one batch, and later data goes
  to disk through the thread pool in batches of up to 256 KiB, so a large
  upload never blocks the event loop on disk I/O. The pieces are joined
  into an ``io.BytesIO`` only if someone asks for ``UploadFile.file``.
  Other parts become ``str`` values (UTF-8).

Limits (``FormLimits``, from ``App(form_limits=...)`` or per call) bound
every number a client controls: fields, files, the size of a field, of a
file and of a part's headers. A breach answers 413, a malformed body 400,
another content type 415, each with a message saying what was wrong. On
any failure the files created so far are closed (and so deleted).

Files are closed after the response has been sent; ``UploadFile.save()``
copies one where it should stay: a file in memory with one ``os.writev``
on the event loop (for up to 1 MiB that costs less than a thread hop), a
file on disk in the thread pool with ``os.copy_file_range``. Either way
an existing target is rewritten in place and then cut to size, not
truncated first (see ``_open_for_replace``).

Filenames: ``UploadFile.filename`` is exactly what the client sent, and
may be ``../../etc/passwd``. Never join it to a directory yourself:
``save(directory)`` stores the file under ``safe_filename(filename)``,
which keeps only the last path component and safe characters.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from transom.exceptions import ConfigurationError, HTTPError, MultipartError
from transom.http.headers import Headers, parse_options_header
from transom.http.multidict import ImmutableMultiDict
from transom.http.multipart import (
    MultipartLimits,
    MultipartParser,
    PartBegin,
    PartData,
    PartEnd,
)
from transom.http.url import QueryParams
from transom.web.concurrency import run_sync

if TYPE_CHECKING:
    from transom.web.requests import Request

__all__ = ["FormData", "FormLimits", "UploadFile", "parse_form", "safe_filename"]

#: Files up to this size stay in memory; larger ones spill to a temporary file.
SPOOL_MAX_SIZE = 1024 * 1024
#: Data for a file already on disk is written in batches of this size, off the event loop.
_WRITE_BATCH = 256 * 1024
#: Buffers per ``os.writev`` call (POSIX guarantees at least 16; Linux takes 1024).
_IOV_MAX = 1024


@dataclass(frozen=True, slots=True)
class FormLimits:
    """Bounds on a form body. ``None`` means no bound (the body limit still holds).

    >>> App(form_limits=FormLimits(max_files=5, max_file_size=50 * 2**20))
    """

    max_fields: int = 1000
    max_files: int = 100
    max_field_size: int = 1024 * 1024
    max_file_size: int | None = None
    max_part_header_size: int = 16 * 1024

    def __post_init__(self) -> None:
        for name in ("max_fields", "max_files", "max_field_size", "max_part_header_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"FormLimits.{name} must be a non-negative int")
        if self.max_file_size is not None and self.max_file_size < 0:
            raise ConfigurationError("FormLimits.max_file_size must be a non-negative int or None")


_DEFAULT_LIMITS = FormLimits()

_UNSAFE_CHARS = re.compile(r"[^\w.\- ]")


def safe_filename(filename: str | None, default: str = "upload") -> str:
    """A name safe to create in a directory: no path, no control or odd characters.

    >>> safe_filename("../../etc/passwd"), safe_filename("C:\\\\x\\\\résumé (1).pdf")
    ('passwd', 'résumé _1_.pdf')
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    name = name[:255]
    return name or default


class UploadFile:
    """An uploaded file: its metadata and its content, spooled to disk past 1 MiB.

    ``filename`` is the client's, as sent (see ``safe_filename``); ``size``
    counts the bytes written so far. ``file`` is the content as a binary
    file object: an ``io.BytesIO`` up to ``SPOOL_MAX_SIZE``, a temporary
    file past it.

    >>> photo = form["photo"]
    >>> data = await photo.read()
    >>> saved = await photo.save("uploads/")     # uploads/<safe name>
    """

    __slots__ = (
        "_chunks",
        "_file",
        "_offset",
        "_spool",
        "content_type",
        "filename",
        "headers",
        "size",
    )

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        size: int = 0,
    ) -> None:
        # Without a file, the content is kept as the pieces that arrived (no
        # copy, no growing buffer) until it passes SPOOL_MAX_SIZE or someone
        # asks for ``file``; ``_offset`` is the position a file would have.
        self._chunks: list[bytes] | None = [] if file is None else None
        self._file = file
        self._offset = 0
        self._spool = file is None  # ours to move to disk when it grows
        self.filename = filename
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = size

    @property
    def file(self) -> IO[bytes]:
        """The content as a binary file object (joined into memory on first use)."""
        return self._materialize() if self._file is None else self._file

    def _materialize(self) -> io.BytesIO:
        """Join the kept pieces into an ``io.BytesIO`` at the current position."""
        memory = io.BytesIO(b"".join(self._chunks or ()))
        memory.seek(self._offset)
        self._file, self._chunks = memory, None
        return memory

    @property
    def _in_memory(self) -> bool:
        return self._file is None or isinstance(self._file, io.BytesIO)

    def _keep(self, data: bytes) -> bool:
        """Append ``data`` to the in-memory pieces if it fits under the spool limit."""
        chunks = self._chunks
        if chunks is None or self.size + len(data) > SPOOL_MAX_SIZE or self._offset != self.size:
            return False
        chunks.append(data)
        self.size += len(data)
        self._offset = self.size
        return True

    async def write(self, data: bytes | bytearray) -> None:
        """Write ``data`` at the current position (the end, unless you seeked).

        In memory while the file stays under ``SPOOL_MAX_SIZE``; past it the
        content moves to a temporary file and writes go through the thread
        pool, off the event loop.
        """
        if self._keep(bytes(data)):
            return
        await self._write_pieces([bytes(data)])

    def write_in_memory(self, data: bytes | bytearray) -> None:
        """Append ``data`` while the file is small enough to stay in memory.

        ``ValueError`` when it would pass ``SPOOL_MAX_SIZE`` or the file is
        not in memory: use ``await write(data)`` then.
        """
        if self._keep(bytes(data)):
            return
        if not self._in_memory or self.size + len(data) > SPOOL_MAX_SIZE:
            raise ValueError(
                "write_in_memory() on a file on disk or past SPOOL_MAX_SIZE: use await write()"
            )
        self.file.write(data)
        self.size += len(data)

    async def _write_pieces(self, pieces: list[bytes]) -> None:
        """Write ``pieces`` in order at the current position, moving to disk if needed."""
        added = sum(map(len, pieces))
        if self._file is None and self.size + added <= SPOOL_MAX_SIZE:
            self._materialize()  # not at the end (a seek): write into the joined bytes
        file = self._file
        if file is None or (
            self._spool and isinstance(file, io.BytesIO) and self.size + added > SPOOL_MAX_SIZE
        ):
            if file is None:  # the pieces kept so far, in one batch with the new ones
                head, offset = list(self._chunks or ()), self._offset
            else:
                head, offset = [file.getvalue()], file.tell()
            self._file = await run_sync(_spill, head, offset, pieces)
            self._chunks = None
        elif isinstance(file, io.BytesIO) and self.size + added <= SPOOL_MAX_SIZE:
            for piece in pieces:
                file.write(piece)
        else:
            await run_sync(_write_each, file, pieces)
        self.size += added

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default) from the current position."""
        if self._in_memory:
            return self.file.read(size)
        return await run_sync(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to ``offset`` (``0`` to read again from the start)."""
        if self._file is None:
            self._offset = offset
        else:
            self._file.seek(offset)

    async def close(self) -> None:
        """Close the file; a temporary file is deleted."""
        if self._file is None:
            self._chunks = None
            self._file = io.BytesIO()  # a closed file, as after any other close()
            self._file.close()
        elif self._in_memory:
            self._file.close()
        else:
            await run_sync(self._file.close)

    async def save(self, destination: str | os.PathLike[str]) -> Path:
        """Copy the whole file to ``destination`` and return the path written.

        An existing directory gets the file under ``safe_filename(filename)``,
        never a path the client chose; any other path is used as given. A
        file in memory (up to ``SPOOL_MAX_SIZE``) is written at once, on the
        event loop: a write of up to 1 MiB into the page cache costs less
        than handing it to a thread. A file on disk is copied in the thread
        pool, by the kernel where it can.
        """
        target = Path(destination)
        if target.is_dir():
            target = target / safe_filename(self.filename)
        file = self._file
        if file is None:
            _replace_contents(target, self._chunks or [])
            return target
        if isinstance(file, io.BytesIO):
            value = file.getvalue()  # no copy for the bytes an upload was joined into
            if len(value) <= SPOOL_MAX_SIZE:
                _replace_contents(target, [value])
                return target
        await run_sync(self._copy_to, target)
        return target

    def _copy_to(self, target: Path) -> None:
        file = self.file
        position = file.tell()
        file.flush()
        size = file.seek(0, os.SEEK_END)  # the whole file, whatever size says
        try:
            with _open_for_replace(target) as out:
                if not _copy_in_kernel(file, out, size):
                    file.seek(0)
                    shutil.copyfileobj(file, out, 1024 * 1024)
                _cut(out, size)
        finally:
            file.seek(position)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size}, "
            f"content_type={self.content_type!r})"
        )


def _spill(head: list[bytes], offset: int, pieces: list[bytes]) -> IO[bytes]:
    """A temporary file holding ``head``, then ``pieces`` written at ``offset``."""
    file = tempfile.TemporaryFile()  # noqa: SIM115  # closed by UploadFile.close()
    try:
        _write_each(file, head)
        file.seek(offset)
        _write_each(file, pieces)
    except BaseException:
        file.close()
        raise
    return file


def _write_each(file: IO[bytes], pieces: list[bytes]) -> None:
    for piece in pieces:
        file.write(piece)


def _open_for_replace(target: Path) -> IO[bytes]:
    """``target`` opened for writing from its start, *not* truncated.

    Rewriting an existing file in place and cutting it to the new size
    afterwards (``_cut``) spares the file system freeing every block on
    open and allocating them again on write; ext4 also starts writeback
    when a file truncated to zero is closed (its ``auto_da_alloc``). The
    result is the same file as ``open(target, "wb")`` would give.
    """
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    return open(fd, "wb", buffering=0)  # the caller's with-block closes it


def _cut(out: IO[bytes], size: int) -> None:
    """End a file written by ``_open_for_replace`` after its first ``size`` bytes."""
    if stat.S_ISREG(os.fstat(out.fileno()).st_mode):
        out.truncate(size)


def _replace_contents(target: Path, pieces: list[bytes]) -> None:
    """Make ``target`` hold exactly ``pieces``: one ``writev`` where it can."""
    size = sum(map(len, pieces))
    with _open_for_replace(target) as out:
        fd = out.fileno()
        index, skip = 0, 0
        while index < len(pieces):
            batch: list[bytes | memoryview] = list(pieces[index : index + _IOV_MAX])
            if skip:
                batch[0] = memoryview(batch[0])[skip:]
            done = os.writev(fd, batch) if hasattr(os, "writev") else out.write(batch[0])
            done += skip
            while index < len(pieces) and done >= len(pieces[index]):
                done -= len(pieces[index])
                index += 1
            skip = done
        _cut(out, size)


def _copy_in_kernel(source: IO[bytes], target: IO[bytes], size: int) -> bool:
    """Copy file to file without passing the bytes through Python (Linux).

    ``os.copy_file_range`` lets the kernel move the data (or share blocks
    on file systems that can); False when unavailable, so the caller copies.
    """
    copy_file_range = getattr(os, "copy_file_range", None)
    if copy_file_range is None:
        return False
    try:
        source_fd, target_fd = source.fileno(), target.fileno()
        offset = 0
        while offset < size:
            copied = copy_file_range(source_fd, target_fd, size - offset, offset, offset)
            if copied == 0:
                break
            offset += copied
    except OSError:
        target.seek(0)
        target.truncate()
        return False
    return offset == size


class FormData(ImmutableMultiDict[str, "str | UploadFile"]):
    """Form fields in order: ``str`` values, and ``UploadFile`` for files.

    ``form["title"]`` is the first value, ``form.get_list("tag")`` all.
    """

    __slots__ = ()

    async def close(self) -> None:
        """Close every uploaded file."""
        for _, value in self.multi_items():
            if isinstance(value, UploadFile):
                await value.close()


async def parse_form(
    request: Request,
    *,
    max_files: int | None = None,
    max_fields: int | None = None,
    max_part_size: int | None = None,
) -> FormData:
    """Read and decode ``request``'s body as a form (``request.form()`` calls this)."""
    app_limits = getattr(request.app, "form_limits", None)
    if app_limits is not None and not isinstance(app_limits, FormLimits):
        raise ConfigurationError("App(form_limits=...) must be a transom.web.forms.FormLimits")
    limits = app_limits or _DEFAULT_LIMITS
    fields = limits.max_fields if max_fields is None else max_fields
    files = limits.max_files if max_files is None else max_files
    file_size = limits.max_file_size if max_part_size is None else max_part_size
    field_size = limits.max_field_size if max_part_size is None else max_part_size
    content_type = request.headers.get("content-type", "")
    media_type, options = parse_options_header(content_type)
    if media_type == "application/x-www-form-urlencoded":
        params = QueryParams(await request.body())
        if len(params.multi_items()) > fields:
            raise HTTPError(413, f"the form has more than {fields} fields")
        return FormData(params.multi_items())
    if media_type == "multipart/form-data":
        boundary = options.get("boundary")
        if not boundary:
            raise HTTPError(400, "multipart/form-data body without a boundary parameter")
        reader = _MultipartReader(fields, files, file_size, field_size, limits)
        return await reader.read(request, boundary)
    raise HTTPError(
        415,
        "expected a form body (application/x-www-form-urlencoded or multipart/form-data), "
        f"got {content_type or 'no Content-Type'!r}",
    )


@functools.lru_cache(maxsize=64)
def _parser_limits(
    max_parts: int, max_header_bytes: int, max_part_size: int | None, max_field_size: int
) -> MultipartLimits:
    # Cached: the same few limits serve every request, and a frozen dataclass
    # costs microseconds to build.
    return MultipartLimits(
        max_parts=max_parts,
        max_header_bytes=max_header_bytes,
        max_part_size=max_part_size,
        max_field_size=max_field_size,
        max_total=None,  # the request body limit bounds the total
    )


class _MultipartReader:
    """Turns multipart events into form items, holding every limit."""

    def __init__(
        self,
        max_fields: int,
        max_files: int,
        max_file_size: int | None,
        max_field_size: int,
        limits: FormLimits,
    ) -> None:
        self.max_fields = max_fields
        self.max_files = max_files
        self.max_file_size = max_file_size
        self.max_field_size = max_field_size
        self.limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self.fields = 0
        self.files = 0
        self.name = ""
        self.upload: UploadFile | None = None
        self.buffer = bytearray()  # a field's value
        self.pending: list[bytes] = []  # a file's data not yet written to disk
        self.pending_size = 0

    def _parser_limits(self) -> MultipartLimits:
        return _parser_limits(
            self.max_fields + self.max_files,
            self.limits.max_part_header_size,
            self.max_file_size,
            self.max_field_size,
        )

    async def read(self, request: Request, boundary: str) -> FormData:
        parser = MultipartParser(boundary, self._parser_limits())
        try:
            async for chunk in request.stream():
                events = parser.feed(chunk)
                # The middle of a file under the spool limit, most of an upload's
                # chunks: one event, kept in memory, no further call.
                if len(events) == 1 and not self.pending:
                    event, upload = events[0], self.upload
                    if type(event) is PartData and upload is not None and upload._keep(event.data):
                        continue
                for event in events:
                    await self._handle(event)
            for event in parser.close() or ():
                await self._handle(event)
        except MultipartError as exc:
            await self._discard()
            raise HTTPError(exc.status_code, f"invalid multipart body: {exc}") from None
        except BaseException:
            await self._discard()
            raise
        return FormData(self.items)

    async def _handle(self, event: Any) -> None:
        if isinstance(event, PartData):
            await self._data(event.data)
        elif isinstance(event, PartBegin):
            self._begin(event)
        elif isinstance(event, PartEnd):
            await self._end()

    def _begin(self, event: PartBegin) -> None:
        self.name = event.name or ""
        self.buffer.clear()
        if event.filename is None:
            self.fields += 1
            if self.fields > self.max_fields:
                raise HTTPError(413, f"the form has more than {self.max_fields} fields")
            self.upload = None
            return
        self.files += 1
        if self.files > self.max_files:
            raise HTTPError(413, f"the form has more than {self.max_files} files")
        headers = event.headers if isinstance(event.headers, Headers) else Headers(event.headers)
        self.upload = UploadFile(
            filename=event.filename,
            content_type=event.content_type or "application/octet-stream",
            headers=headers,
        )
        self.items.append((self.name, self.upload))

    async def _data(self, data: bytes) -> None:
        # Part sizes are bounded by the parser (MultipartLimits), not here.
        upload = self.upload
        if upload is None:
            self.buffer += data
        elif self.pending or not upload._keep(data):  # past the spool limit: to disk, in order
            self.pending.append(data)
            self.pending_size += len(data)
            if self.pending_size >= _WRITE_BATCH:
                await self._flush()

    async def _flush(self) -> None:
        if self.upload is not None and self.pending:
            await self.upload._write_pieces(self.pending)
            self.pending = []
            self.pending_size = 0

    async def _end(self) -> None:
        if self.upload is None:
            try:
                value = self.buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPError(400, f"form field {self.name!r} is not valid UTF-8") from None
            self.items.append((self.name, value))
        else:
            await self._flush()
            await self.upload.seek(0)
            self.upload = None
        self.buffer.clear()

    async def _discard(self) -> None:
        for _, value in self.items:
            if isinstance(value, UploadFile):
                await value.close()
