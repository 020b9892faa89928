"""``StaticFiles``: an ASGI app serving a directory, with no way out of it.

Theory of operation
-------------------
A request path is turned into a file in three steps, each of which answers
404 rather than guess:

1. **Segments.** The path (already percent-decoded by the server, so
   ``%2e%2e`` has become ``..`` and ``%2f`` a ``/``) is split on ``/``.
   Any ``..`` segment, backslash, NUL, Windows drive (``C:``) or, unless
   ``allow_dotfiles``, a segment starting with ``.`` (``.env``, ``.git``) is
   refused outright; empty and ``.`` segments are dropped. The result can
   only name something under the directory, lexically.
2. **Symlinks.** Unless ``follow_symlinks``, the resolved real path must still
   lie inside the directory's real path, so a symlink (the file or any
   directory on the way) cannot lead out of it.
3. **Kind.** Only regular files are served. A directory serves its
   ``index.html`` when ``html=True`` (after redirecting ``/dir`` to
   ``/dir/`` so relative links in the page resolve); anything else is 404,
   and with ``html=True`` a ``404.html`` at the root is the 404 page.

Serving is ``FileResponse``'s job: validators, 304/412, Range/206/416, HEAD.

Precompressed files: with ``precompressed=True`` (the default), a sibling
``name.br`` or ``name.gz`` is sent instead of ``name`` when the client's
``Accept-Encoding`` takes it, with ``Content-Encoding``, the original's
``Content-Type`` and the sibling's own ETag. Every response for a file that
has siblings carries ``Vary: Accept-Encoding``. A request with ``Range``
always gets the identity file, so byte offsets mean the same thing to every
client (a download resumed by a client that asked for identity the first
time must not get offsets into a gzip stream).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from urllib.parse import parse_qs, quote

from transom._types import Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError, FileResponseError
from transom.http.headers import Headers
from transom.web.concurrency import run_sync
from transom.web.files import FileResponse, guess_media_type
from transom.web.middleware.gzip import choose_encoding
from transom.web.responses import PlainTextResponse, Response

__all__ = ["StaticFiles"]

# A Windows drive or drive-relative path ("C:", "c:foo") in any segment.
_DRIVE = re.compile(r"^[A-Za-z]:")
# Sibling suffixes in server preference order: Brotli compresses better.
_PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))
#: Sent for a request whose ``v`` is the file's current hash (RFC 8246: one
#: year, as RFC 9111 §5.2.2.1 suggests for "never expires").
IMMUTABLE = "public, max-age=31536000, immutable"
#: Hex digits of the SHA-256 kept in a versioned URL (48 bits).
HASH_LENGTH = 12


class StaticFiles:
    """Serve the files under ``directory``; mount it at a prefix.

    >>> app.mount("/static", StaticFiles("static", cache_control="public, max-age=3600"))

    ``html=True`` serves ``index.html`` for directories and ``404.html`` for
    misses (a static site). ``check_dir`` raises ``ConfigurationError`` at
    start-up when the directory is missing. ``follow_symlinks`` lets symlinks
    point outside the directory. ``cache_control`` is sent with every file.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        html: bool = False,
        check_dir: bool = True,
        follow_symlinks: bool = False,
        precompressed: bool = True,
        allow_dotfiles: bool = False,
        cache_control: str | None = None,
    ) -> None:
        self.directory = os.path.abspath(os.fspath(directory))
        self._real_root = os.path.realpath(self.directory)
        if check_dir and not os.path.isdir(self.directory):
            raise ConfigurationError(
                f"StaticFiles: directory {os.fspath(directory)!r} does not exist "
                f"(resolved to {self.directory!r}); create it or pass check_dir=False"
            )
        self.html = html
        self.follow_symlinks = follow_symlinks
        self.precompressed = precompressed
        self.allow_dotfiles = allow_dotfiles
        self.cache_control = cache_control
        # real path -> (st_mtime_ns, st_size, hash); route path -> real path.
        self._hashes: dict[str, tuple[int, int, str]] = {}
        self._hashed_names: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = await self.get_response(scope)
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await response(scope, receive, send_tracked)
        except FileResponseError:
            if started:
                raise
            # Deleted between the stat and the open: as missing as it gets.
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    async def get_response(self, scope: Scope) -> Response:
        """The response for this request: a file, a redirect, a 404 or a 405."""
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
            )
        route_path = _route_path(scope)
        found = await run_sync(self.lookup, route_path)
        if found is not None:
            path, st = found
            if stat.S_ISREG(st.st_mode):
                return await self._file(scope, path, st, route_path)
            if self.html:
                index = await run_sync(self.lookup, route_path.rstrip("/") + "/index.html")
                if index is not None and stat.S_ISREG(index[1].st_mode):
                    if not route_path.endswith("/"):
                        return _add_slash(scope)
                    return await self._file(scope, *index, "index.html")
        return await self._not_found(scope)

    def lookup(self, route_path: str) -> tuple[str, os.stat_result] | None:
        """The real path and stat of what ``route_path`` names, or ``None`` (see module doc).

        Blocking (it stats the file system): call it in a thread.
        """
        segments = self._segments(route_path)
        if segments is None:
            return None
        return self._stat_inside(os.path.join(self.directory, *segments))

    def file_hash(self, route_path: str, *, recheck: bool = True) -> str | None:
        """The content hash of the file ``route_path`` names, or ``None`` for no file.

        >>> static.file_hash("css/site.css")
        '3f2a9c0b1d4e'

        The first call reads the file (blocking). Later calls with
        ``recheck=False`` are two dict lookups; with ``recheck=True`` the
        file is stat-ed and hashed again if its mtime or size changed (for
        development, where files change under a running server). The path
        is resolved as for a request: nothing outside the directory.
        """
        if not recheck:
            real = self._hashed_names.get(route_path)
            if real is not None:
                entry = self._hashes.get(real)
                if entry is not None:
                    return entry[2]
        found = self.lookup(route_path)
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        path, st = found
        self._hashed_names[route_path] = path
        return self._cached_hash(path, st) or self._hash(path, st)

    def _cached_hash(self, path: str, st: os.stat_result) -> str | None:
        entry = self._hashes.get(path)
        if entry is not None and entry[0] == st.st_mtime_ns and entry[1] == st.st_size:
            return entry[2]
        return None

    def _hash(self, path: str, st: os.stat_result) -> str:
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]
        self._hashes[path] = (st.st_mtime_ns, st.st_size, digest)
        return digest

    async def _cache_control(self, scope: Scope, path: str, st: os.stat_result) -> str | None:
        """``IMMUTABLE`` when the query's ``v`` is the file's current hash, else the default."""
        query: bytes = scope.get("query_string", b"")
        if b"v=" not in query:
            return self.cache_control
        asked = parse_qs(query.decode("latin-1")).get("v")
        if not asked:
            return self.cache_control
        digest = self._cached_hash(path, st)
        if digest is None:
            try:
                digest = await run_sync(self._hash, path, st)
            except OSError:  # gone since the stat: the response will say so
                return self.cache_control
        return IMMUTABLE if asked[-1] == digest else self.cache_control

    def _segments(self, route_path: str) -> list[str] | None:
        if "\x00" in route_path or "\\" in route_path:
            return None
        segments = []
        for segment in route_path.split("/"):
            if segment in ("", "."):
                continue
            if segment == ".." or _DRIVE.match(segment):
                return None
            # .env, .git...: never published by accident. RFC 8615's
            # .well-known is meant to be served.
            hidden = segment.startswith(".") and segment != ".well-known"
            if hidden and not self.allow_dotfiles:
                return None
            if os.sep != "/" and (os.sep in segment or ":" in segment):
                return None  # pragma: no cover - Windows separators and streams
            segments.append(segment)
        return segments

    def _stat_inside(self, candidate: str) -> tuple[str, os.stat_result] | None:
        if self.follow_symlinks:
            path = candidate
        else:
            path = os.path.realpath(candidate)
            root = self._real_root
            if path != root and not path.startswith(root.rstrip(os.sep) + os.sep):
                return None
        try:
            return path, os.stat(path)
        except (OSError, ValueError):
            return None

    async def _file(self, scope: Scope, path: str, st: os.stat_result, name: str) -> Response:
        headers: dict[str, str] = {}
        cache_control = await self._cache_control(scope, path, st)
        if cache_control is not None:
            headers["cache-control"] = cache_control
        media_type = guess_media_type(name)  # the name asked for, not a symlink's target
        if self.precompressed:
            request = Headers(raw=list(scope["headers"]))
            variants = await run_sync(self._siblings, path)
            if variants:
                headers["vary"] = "Accept-Encoding"
                coding = choose_encoding(request.get("accept-encoding"), list(variants))
                if coding is not None and "range" not in request:
                    headers["content-encoding"] = coding
                    path, st = variants[coding]
        return FileResponse(path, headers=headers, media_type=media_type, stat_result=st)

    def _siblings(self, path: str) -> dict[str, tuple[str, os.stat_result]]:
        found = {}
        for coding, suffix in _PRECOMPRESSED:
            sibling = self._stat_inside(path + suffix)
            if sibling is not None and stat.S_ISREG(sibling[1].st_mode):
                found[coding] = sibling
        return found

    async def _not_found(self, scope: Scope) -> Response:
        if self.html:
            page = await run_sync(self.lookup, "404.html")
            if page is not None and stat.S_ISREG(page[1].st_mode):
                return FileResponse(page[0], status_code=404, stat_result=page[1])
        return PlainTextResponse("Not Found", status_code=404)


def _route_path(scope: Scope) -> str:
    """The path below the mount point.

    ``scope["path"]`` holds the whole path and ``root_path`` the mount prefix
    (ASGI spec, 2022); a path that does not start with ``root_path`` is taken
    to be relative to it already, as older routers passed it.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :]
    return path


def _add_slash(scope: Scope) -> Response:
    # A relative reference ("./docs/") resolves against the URL the client
    # used, whatever prefix a proxy or mount put in front (RFC 3986 §5.2).
    full = scope["path"] or scope.get("root_path", "")
    segment = full.rstrip("/").rsplit("/", 1)[-1]
    location = f"./{quote(segment, safe='!$&()*+,;=@-._~')}/"
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    return Response(None, status_code=307, headers={"Location": location})
