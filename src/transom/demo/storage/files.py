"""Attachment files under one directory, named by the store, never by the client.

A client's filename is kept in the database for display and for
``Content-Disposition``; on disk a file is named by a random key (SQLite
mode) or by its SHA-256 (the PostgreSQL mode's local copies). Keys are
checked to be lowercase hex before they become paths, so no stored value
can reach outside the directory. A file is written under a temporary name
and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from transom.web.concurrency import run_sync

__all__ = ["AttachmentFiles"]

_HEX = frozenset("0123456789abcdef")
_INLINE_WRITE = 2**20  # smaller writes go straight to the page cache, on the loop


def _check_key(key: str) -> str:
    if not (16 <= len(key) <= 64 and set(key) <= _HEX):
        raise ValueError(f"not an attachment key: {key[:70]!r}")
    return key


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as file:
            file.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


class AttachmentFiles:
    """Files named by hex keys in ``root`` (made if missing, mode 0700)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    async def write(self, data: bytes, key: str | None = None) -> str:
        """Store ``data`` under ``key`` (a new random one by default); the key."""
        key = _check_key(key) if key is not None else secrets.token_hex(16)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if len(data) <= _INLINE_WRITE:
            _write(self.root / key, data)
        else:
            await run_sync(_write, self.root / key, data)
        return key

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
