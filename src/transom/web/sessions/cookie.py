"""``CookieStore``: the session data itself, signed, in the cookie.

The default store with a ``secret_key``: nothing to set up and nothing to
share between instances, at the price of the size limit and of logout
being client-side only (a copied cookie stays valid until it expires;
use a server-side store where that matters).

The cookie holds ``[created, last_seen, data]`` as JSON, signed with
HMAC-SHA256 (``transom.web.signing``), not encrypted: the client can
read its session, so keep secrets out of it. Browsers keep cookies of
at most 4096 bytes, name and value together (RFC 6265 §6.1); a session
that would pass that raises ``SessionTooLarge`` when the value is set,
instead of a cookie the browser silently drops.

Rate-limit counters have no shared backend here: they are kept in this
process's memory (a ``MemoryStore``), per worker.
"""

from __future__ import annotations

from typing import ClassVar

from transom.web.sessions.store import MemoryStore, SessionStore

__all__ = ["CookieStore"]


class CookieStore(SessionStore):
    """Sessions signed into the cookie; counters in process memory.

    >>> app = App(secret_key=KEY)                      # CookieStore() is the default
    >>> app = App(secret_key=KEY, session_store=CookieStore(max_size=4096))
    """

    server_side: ClassVar[bool] = False

    def __init__(self, *, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._counters = MemoryStore()

    async def load(self, session_id: str) -> bytes | None:
        return None  # the data comes from the cookie itself

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        return None

    async def delete(self, session_id: str) -> None:
        return None

    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        return await self._counters.hit(key, window, cost)

    async def reset(self, key: str) -> None:
        await self._counters.reset(key)
