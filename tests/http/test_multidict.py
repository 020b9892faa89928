"""ImmutableMultiDict and MultiDict."""

from __future__ import annotations

import pytest

from transom.http.multidict import ImmutableMultiDict, MultiDict

PAIRS = [("tag", "a"), ("q", "x"), ("tag", "b")]


@pytest.mark.parametrize(
    "source",
    [PAIRS, ImmutableMultiDict(PAIRS), MultiDict(PAIRS), iter(PAIRS)],
    ids=["list", "immutable", "mutable", "iterator"],
)
def test_multidict_built_from_pairs_keeps_every_pair(source: object) -> None:
    md: ImmutableMultiDict[str, str] = ImmutableMultiDict(source)  # type: ignore[arg-type]
    assert md.multi_items() == PAIRS


def test_multidict_built_from_mapping() -> None:
    assert ImmutableMultiDict({"a": 1, "b": 2}).multi_items() == [("a", 1), ("b", 2)]


def test_multidict_empty() -> None:
    md: ImmutableMultiDict[str, str] = ImmutableMultiDict()
    assert len(md) == 0
    assert md.multi_items() == []


def test_multidict_getitem_is_first_value() -> None:
    assert ImmutableMultiDict(PAIRS)["tag"] == "a"


def test_multidict_getitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        ImmutableMultiDict(PAIRS)["nope"]


def test_multidict_get_with_default() -> None:
    md = ImmutableMultiDict(PAIRS)
    assert md.get("q") == "x"
    assert md.get("nope") is None
    assert md.get("nope", "d") == "d"


def test_multidict_get_list() -> None:
    md = ImmutableMultiDict(PAIRS)
    assert md.get_list("tag") == ["a", "b"]
    assert md.get_list("nope") == []


def test_multidict_mapping_views_see_each_key_once_with_first_value() -> None:
    md = ImmutableMultiDict(PAIRS)
    assert list(md) == ["tag", "q"]
    assert list(md.keys()) == ["tag", "q"]
    assert list(md.values()) == ["a", "x"]
    assert list(md.items()) == [("tag", "a"), ("q", "x")]
    assert len(md) == 2
    assert "tag" in md
    assert "nope" not in md
    assert dict(md) == {"tag": "a", "q": "x"}


def test_multidict_to_dict_has_every_value() -> None:
    assert ImmutableMultiDict(PAIRS).to_dict() == {"tag": ["a", "b"], "q": ["x"]}


def test_multidict_multi_items_is_a_copy() -> None:
    md = ImmutableMultiDict(PAIRS)
    md.multi_items().append(("z", "z"))
    assert "z" not in md


def test_multidict_equality_is_by_pairs_in_order() -> None:
    assert ImmutableMultiDict(PAIRS) == MultiDict(PAIRS)
    assert ImmutableMultiDict(PAIRS) != ImmutableMultiDict(list(reversed(PAIRS)))


def test_multidict_equality_with_plain_mapping() -> None:
    assert ImmutableMultiDict([("a", "1")]) == {"a": "1"}
    assert ImmutableMultiDict([("a", "1"), ("a", "2")]) != {"a": "1"}
    assert ImmutableMultiDict([("a", "1")]) != 1


def test_multidict_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(ImmutableMultiDict(PAIRS))


def test_multidict_repr_shows_pairs() -> None:
    assert repr(ImmutableMultiDict([("a", "1")])) == "ImmutableMultiDict([('a', '1')])"
    assert repr(MultiDict([("a", "1")])) == "MultiDict([('a', '1')])"


def test_multidict_immutable_has_no_setitem() -> None:
    md = ImmutableMultiDict(PAIRS)
    with pytest.raises(TypeError):
        md["q"] = "y"  # type: ignore[index]


def test_multidict_add_appends() -> None:
    md = MultiDict([("a", "1")])
    md.add("a", "2")
    md.add("b", "3")
    assert md.multi_items() == [("a", "1"), ("a", "2"), ("b", "3")]
    assert md["a"] == "1"
    assert md["b"] == "3"


def test_multidict_setitem_replaces_all_at_first_position() -> None:
    md = MultiDict(PAIRS)
    md["tag"] = "z"
    assert md.multi_items() == [("tag", "z"), ("q", "x")]
    assert md["tag"] == "z"


def test_multidict_set_new_key_appends() -> None:
    md = MultiDict(PAIRS)
    md.set("n", "1")
    assert md.multi_items()[-1] == ("n", "1")


def test_multidict_set_list_replaces_values() -> None:
    md = MultiDict(PAIRS)
    md.set_list("tag", ["c", "d"])
    assert md.multi_items() == [("q", "x"), ("tag", "c"), ("tag", "d")]
    assert md["tag"] == "c"


def test_multidict_delitem_removes_all() -> None:
    md = MultiDict(PAIRS)
    del md["tag"]
    assert md.multi_items() == [("q", "x")]
    assert "tag" not in md


def test_multidict_delitem_missing_raises_keyerror() -> None:
    with pytest.raises(KeyError):
        del MultiDict(PAIRS)["nope"]


def test_multidict_pop_returns_first_and_removes_all() -> None:
    md = MultiDict(PAIRS)
    assert md.pop("tag") == "a"
    assert md.multi_items() == [("q", "x")]


def test_multidict_pop_missing() -> None:
    md = MultiDict(PAIRS)
    assert md.pop("nope", None) is None
    with pytest.raises(KeyError):
        md.pop("nope")


def test_multidict_pop_list() -> None:
    md = MultiDict(PAIRS)
    assert md.pop_list("tag") == ["a", "b"]
    assert md.pop_list("tag") == []


def test_multidict_clear() -> None:
    md = MultiDict(PAIRS)
    md.clear()
    assert md.multi_items() == []
    assert len(md) == 0


def test_multidict_update_replaces_keys_with_all_values() -> None:
    md = MultiDict(PAIRS)
    md.update([("tag", "c"), ("tag", "d")], n="1")
    assert md.multi_items() == [("q", "x"), ("tag", "c"), ("tag", "d"), ("n", "1")]


def test_multidict_update_rejects_two_sources() -> None:
    with pytest.raises(TypeError, match="at most 1 positional"):
        MultiDict(PAIRS).update({}, {})


def test_multidict_copy_is_independent() -> None:
    md = MultiDict(PAIRS)
    copy = md.copy()
    copy.add("n", "1")
    assert "n" not in md
    assert copy.get_list("tag") == ["a", "b"]


def test_multidict_setdefault_from_mutable_mapping() -> None:
    md = MultiDict(PAIRS)
    assert md.setdefault("tag", "z") == "a"
    assert md.setdefault("n", "1") == "1"


def test_multidict_update_with_keywords_only() -> None:
    md = MultiDict(PAIRS)
    md.update(q="y")
    assert md.multi_items() == [("tag", "a"), ("tag", "b"), ("q", "y")]
