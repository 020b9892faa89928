"""The interface of a session store, and the in-process ``MemoryStore``.

A store keeps opaque records (bytes, written by the session manager) under
session ids, each with a time to live, and answers as though a record past
its time were not there. It also keeps counters for rate limits and log-in
throttling (``hit``), so that everything several instances must share
lives in one backend: the session store the app already configured.

Stores are called from the event loop. A store whose backend blocks (the
embedded SQLite store) keeps each call short; one that talks to a server
(Redis) is asynchronous all the way.

``MemoryStore`` is for development and tests: one process, nothing kept
across a restart, and not shared between ``--workers``.
"""

from __future__ import annotations

import heapq
import time
from abc import ABC, abstractmethod
from typing import ClassVar

from transom.exceptions import StoreUnavailable

__all__ = ["MemoryStore", "SessionStore", "StoreUnavailable"]


class SessionStore(ABC):
    """Where server-side sessions and rate-limit counters live.

    Implement ``load``, ``save``, ``delete`` and ``hit``; ids and keys are
    ASCII strings of at most 200 characters, records are bytes.
    """

    #: Whether session data lives in the store (False: in the cookie itself).
    server_side: ClassVar[bool] = True

    @abstractmethod
    async def load(self, session_id: str) -> bytes | None:
        """The record saved under ``session_id``, or ``None`` if absent or expired."""

    @abstractmethod
    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        """Keep ``record`` under ``session_id`` for ``ttl`` seconds (replacing any)."""

    @abstractmethod
    async def delete(self, session_id: str) -> None:
        """Forget ``session_id``; no error if it is not there."""

    @abstractmethod
    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        """Add ``cost`` to counter ``key`` of a fixed window of ``window`` seconds.

        Returns the count in the current window including this hit, and the
        seconds until the window ends (when the count starts again at 0).
        ``cost=0`` reads the counter without adding to it.
        """

    async def reset(self, key: str) -> None:  # noqa: B027 - optional, a no-op by default
        """Set counter ``key`` back to 0 (a successful log-in clears its failures)."""

    async def ping(self) -> None:  # noqa: B027 - nothing to reach by default
        """Raise ``StoreUnavailable`` if the backend cannot be reached (health checks)."""

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections; the app calls it at shutdown."""


class MemoryStore(SessionStore):
    """Sessions and counters in this process's memory (development, tests).

    >>> app = App(secret_key=KEY, session_store=MemoryStore())

    ``max_sessions`` bounds memory: past it, the session closest to
    expiry is dropped first.
    """

    def __init__(self, *, max_sessions: int = 100_000) -> None:
        self.max_sessions = max_sessions
        self._records: dict[str, tuple[bytes, float]] = {}
        self._expiry: list[tuple[float, str]] = []  # heap of (deadline, id); may hold stale pairs
        self._counters: dict[str, tuple[int, float]] = {}

    async def load(self, session_id: str) -> bytes | None:
        found = self._records.get(session_id)
        if found is None:
            return None
        record, deadline = found
        if deadline <= time.monotonic():
            del self._records[session_id]
            return None
        return record

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        deadline = time.monotonic() + ttl
        self._records[session_id] = (record, deadline)
        heapq.heappush(self._expiry, (deadline, session_id))
        self._prune()

    async def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        now = time.monotonic()
        count, end = self._counters.get(key, (0, 0.0))
        if end <= now:
            count, end = 0, now + window
            if len(self._counters) >= self.max_sessions:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        count += cost
        self._counters[key] = (count, end)
        return count, end - now

    async def reset(self, key: str) -> None:
        self._counters.pop(key, None)

    def _prune(self) -> None:
        """Drop expired records, then the soonest to expire while over ``max_sessions``."""
        now = time.monotonic()
        heap, records = self._expiry, self._records
        while heap and (heap[0][0] <= now or len(records) > self.max_sessions):
            deadline, session_id = heapq.heappop(heap)
            found = records.get(session_id)
            if found is not None and found[1] == deadline:
                del records[session_id]
        if len(heap) > 2 * len(records) + 64:  # stale pairs from re-saves: rebuild
            self._expiry = [(d, s) for s, (_, d) in records.items()]
            heapq.heapify(self._expiry)
