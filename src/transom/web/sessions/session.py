"""``Session``: the dict a handler sees as ``request.session``.

It records what happened to it so the session manager does only the work
needed (see ``transom.web.sessions.manager``):

- ``accessed``: something was read; the response then varies by ``Cookie``;
- ``modified``: something was written, cleared or regenerated; only then
  is the session saved and its cookie sent;
- ``regenerate()``: the next save uses a new id and deletes the record of
  the old one, so an id an attacker planted or saw before log-in is worth
  nothing after it (session fixation, OWASP ASVS 3.2.1).

Values must be JSON-serialisable (str, int, float, bool, None, lists and
dicts of them): sessions are stored as JSON, never pickled. Changing a
nested value in place (``session["cart"].append(x)``) is not seen: assign
the key again, or set ``session.modified = True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

__all__ = ["Session"]


class Session(MutableMapping[str, Any]):
    """The session data of one request; a ``dict`` that knows when it changed.

    >>> request.session["cart"] = [3, 7]
    >>> request.session.get("cart")
    [3, 7]
    >>> request.session.regenerate()   # new id at the next save, old record dropped
    """

    __slots__ = (
        "_bound",
        "_check",
        "_data",
        "_room",
        "accessed",
        "created",
        "id",
        "last_seen",
        "modified",
        "previous_id",
        "regenerated",
    )

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        session_id: str | None = None,
        created: float | None = None,
        last_seen: float | None = None,
        check: Callable[[dict[str, Any]], int] | None = None,
        room: int = 0,
        bound: int = 2,
    ) -> None:
        self._data: dict[str, Any] = {} if data is None else data
        #: The id the client sent (server-side stores), ``None`` for a new session.
        self.id = session_id
        #: The id to delete at the next save, after ``regenerate()``.
        self.previous_id: str | None = None
        self.created = created
        self.last_seen = last_seen
        self.accessed = False
        self.modified = False
        self.regenerated = False
        # A size limit (the CookieStore's): ``check(data)`` raises if the data no longer
        # fits, else gives its JSON length. It runs only when ``_bound``, an upper bound on
        # that length kept cheaply per assignment, passes ``room``.
        self._check = check
        self._room = room
        self._bound = bound

    @property
    def new(self) -> bool:
        """Whether the client sent no valid session (nothing was loaded)."""
        return self.created is None

    def regenerate(self) -> None:
        """Keep the data under a new id; the old id's record is deleted at the save.

        ``login()`` and ``logout()`` call this; call it yourself whenever the
        privilege of a session changes.
        """
        if self.id is not None:
            self.previous_id = self.id
        self.id = None
        self.regenerated = True
        self.modified = True

    def clear(self) -> None:
        """Drop every key (one write, unlike ``MutableMapping.clear``)."""
        self._data.clear()
        self.modified = True

    def to_dict(self) -> dict[str, Any]:
        """The data itself (not a copy), for the manager to serialise."""
        return self._data

    # -- the mapping ---------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        data = self._data
        if self._check is None:
            data[key] = value
            return
        missing = object()
        previous = data.get(key, missing)
        data[key] = value
        self._bound += _json_length_bound(key) + _json_length_bound(value) + 2
        if self._bound <= self._room:
            return
        try:
            self._bound = self._check(data)
        except BaseException:  # the session stays as it was before the assignment
            if previous is missing:
                del data[key]
            else:
                data[key] = previous
            raise

    def __delitem__(self, key: str) -> None:
        self.accessed = True
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return self._data.get(key, default)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"


def _json_length_bound(value: Any) -> int:
    """At least the length of ``value`` in JSON; exact work only for containers."""
    kind = type(value)
    if kind is str:  # ASCII: at most a 6-character escape per character; else \uXXXX pairs
        return (6 if value.isascii() else 12) * len(value) + 2
    if kind is int or kind is bool or value is None:
        return len(repr(value)) + 1  # True -> true, None -> null: never longer
    if kind is float:
        return 24
    return 1 << 30  # a container or another type: let the exact check measure it
