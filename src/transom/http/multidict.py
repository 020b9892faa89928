"""Ordered multi-valued mappings for query parameters and form data.

A query string or a form may repeat a key (``?tag=a&tag=b``). These classes
keep every ``(key, value)`` pair in order and answer the plain-mapping
questions with the *first* value of a key:

- ``md[key]`` and ``md.get(key)`` give the first value, the one most
  clients treat as authoritative, and the same answer however many
  duplicates a peer appends (so a repeated parameter cannot override an
  earlier one);
- ``md.get_list(key)`` gives every value; ``md.multi_items()`` every pair;
- ``keys()``, ``values()``, ``items()``, ``iter()`` and ``len()`` see each
  key once (with its first value), so ``dict(md)`` is the first-value view
  and ``md.to_dict()`` the all-values one.

``ImmutableMultiDict`` is for received data; ``MultiDict`` adds mutation.

>>> md = MultiDict([("tag", "a"), ("q", "x"), ("tag", "b")])
>>> md["tag"], md.get_list("tag"), list(md)
('a', ['a', 'b'], ['tag', 'q'])
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Generic, TypeAlias, TypeVar, overload

__all__ = ["ImmutableMultiDict", "MultiDict", "MultiDictInput"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_T = TypeVar("_T")

MultiDictInput: TypeAlias = "ImmutableMultiDict[K, V] | Mapping[K, V] | Iterable[tuple[K, V]]"

_MISSING: Any = object()


class ImmutableMultiDict(Mapping[K, V], Generic[K, V]):
    """An ordered multi-valued mapping that cannot change once built."""

    __slots__ = ("_first", "_list")
    _first: dict[K, V]
    _list: list[tuple[K, V]]

    def __init__(self, data: MultiDictInput[K, V] | None = None) -> None:
        items: list[tuple[K, V]]
        if data is None:
            items = []
        elif type(data) is list:  # pairs, checked by the unpacking below
            items = [(k, v) for k, v in data]
        elif isinstance(data, ImmutableMultiDict):
            items = list(data._list)
        elif isinstance(data, Mapping):
            items = list(data.items())
        else:
            items = [(k, v) for k, v in data]
        self._take(items)

    def _take(self, items: list[tuple[K, V]]) -> None:
        """Own ``items`` (a fresh list of pairs) and index their first values."""
        self._list = items
        # dict() keeps each key where it first came but with its last value;
        # only when a key repeats are the first values put back.
        first: dict[K, V] = dict(items)
        if len(first) != len(items):
            first = {}
            for key, value in items:
                if key not in first:
                    first[key] = value
        self._first = first

    def __getitem__(self, key: K) -> V:
        """The first value of ``key``; ``KeyError`` if there is none."""
        return self._first[key]

    def __contains__(self, key: object) -> bool:
        return key in self._first

    def __iter__(self) -> Iterator[K]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def get_list(self, key: K) -> list[V]:
        """Every value of ``key`` in order (an empty list when there is none)."""
        if key not in self._first:
            return []
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[K, V]]:
        """Every ``(key, value)`` pair, duplicates included, in order."""
        return list(self._list)

    def to_dict(self) -> dict[K, list[V]]:
        """Every key with all its values (``dict(md)`` gives first values)."""
        result: dict[K, list[V]] = {}
        for key, value in self._list:
            result.setdefault(key, []).append(value)
        return result

    def __eq__(self, other: object) -> bool:
        """Equal to another multidict with the same pairs in the same order.

        Compared with a plain mapping, it is equal when it has no duplicate
        keys and the same items.
        """
        if isinstance(other, ImmutableMultiDict):
            return self._list == other._list
        if isinstance(other, Mapping):
            return len(self._list) == len(self._first) and self._first == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compares by content

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class MultiDict(ImmutableMultiDict[K, V], MutableMapping[K, V]):
    """An ``ImmutableMultiDict`` that can change: ``add``, ``set``, ``pop``...

    ``md[key] = value`` (or ``md.set(key, value)``) replaces every value of
    ``key`` by one, keeping the position of the first; ``md.add`` appends.
    """

    __slots__ = ()

    def add(self, key: K, value: V) -> None:
        """Append a value, keeping any the key already has."""
        self._list.append((key, value))
        self._first.setdefault(key, value)

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self._first:
            self.add(key, value)
            return
        index = next(i for i, (k, _) in enumerate(self._list) if k == key)
        self._list[index] = (key, value)
        self._list[index + 1 :] = [p for p in self._list[index + 1 :] if p[0] != key]
        self._first[key] = value

    set = __setitem__

    def set_list(self, key: K, values: Iterable[V]) -> None:
        """Replace every value of ``key`` by ``values`` (appended at the end)."""
        self._drop(key)
        for value in values:
            self.add(key, value)

    def __delitem__(self, key: K) -> None:
        """Remove every value of ``key``; ``KeyError`` if there is none."""
        if key not in self._first:
            raise KeyError(key)
        self._drop(key)

    def _drop(self, key: K) -> None:
        if key in self._first:
            self._list[:] = [p for p in self._list if p[0] != key]
            del self._first[key]

    @overload
    def pop(self, key: K) -> V: ...
    @overload
    def pop(self, key: K, default: V | _T) -> V | _T: ...
    def pop(self, key: K, default: object = _MISSING) -> object:
        """Remove every value of ``key`` and return the first (or ``default``)."""
        if key not in self._first:
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self._first[key]
        self._drop(key)
        return value

    def pop_list(self, key: K) -> list[V]:
        """Remove every value of ``key`` and return them all."""
        values = self.get_list(key)
        self._drop(key)
        return values

    def clear(self) -> None:
        self._list.clear()
        self._first.clear()

    def update(self, *args: Any, **kwargs: V) -> None:
        """Replace the keys found in ``other`` by all of ``other``'s values for them.

        (Signature widened from ``MutableMapping.update``: one positional
        source of any shape ``MultiDict()`` accepts, plus keyword pairs.)
        """
        if len(args) > 1:
            raise TypeError(f"update() takes at most 1 positional argument ({len(args)} given)")
        incoming: list[tuple[Any, V]] = []
        if args:
            incoming.extend(ImmutableMultiDict(args[0])._list)
        incoming.extend(kwargs.items())
        for key in dict.fromkeys(k for k, _ in incoming):
            self._drop(key)
        for key, value in incoming:
            self.add(key, value)

    def copy(self) -> MultiDict[K, V]:
        """An independent copy."""
        return MultiDict(self._list)
