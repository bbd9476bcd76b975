"""Envelope ids to model ids: a pure function of (kind, string), in the model's id range, kinds
kept apart, collisions refused by name (forced with a narrow width), never merged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.incentive.domain.facts import MAX_ID
from services.incentive.domain.id_map import IdCollision, IdKind, IdMap, int_id

ROOT = Path(__file__).resolve().parents[3]


def test_an_id_is_a_pure_function_of_kind_and_string_in_the_models_range() -> None:
    ids = [int_id(IdKind.CONSUMER, f"user-{n}") for n in range(10_000)]
    assert all(0 <= i <= MAX_ID for i in ids) and len(set(ids)) == len(ids)
    # One person as consumer and as creator is one int (self-interaction is found by it);
    # an item spelled like a user is another.
    assert int_id(IdKind.CONSUMER, "frank") == int_id(IdKind.CREATOR, "frank")
    assert int_id(IdKind.ITEM, "frank") != int_id(IdKind.CREATOR, "frank")
    # Another process (another hash seed) gives the same ints: settlement is reproducible.
    code = ("from services.incentive.domain.id_map import IdKind, int_id; "
            "print(int_id(IdKind.ITEM, 'post_03df7951ef90a756fc12959c'))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""}, cwd=ROOT)
    assert int(other.stdout) == int_id(IdKind.ITEM, "post_03df7951ef90a756fc12959c")


def test_a_collision_is_refused_naming_both_strings_and_never_merged() -> None:
    ids = IdMap(bits=8)  # 256 values: a collision within a few dozen strings
    seen: dict[int, str] = {}
    for n in range(1000):
        text = f"item-{n}"
        value = int_id(IdKind.ITEM, text, bits=8)
        if value in seen:
            with pytest.raises(IdCollision) as refused:
                ids.intern(IdKind.ITEM, text)
            assert (refused.value.first, refused.value.second) == (seen[value], text)
            assert ids.name(IdKind.ITEM, value) == seen[value]  # the first keeps its id
            break
        seen[value] = text
        assert ids.intern(IdKind.ITEM, text) == value
        assert ids.intern(IdKind.ITEM, text) == value  # interning again is no collision
    else:
        pytest.fail("no collision in 1000 strings over 256 values")
    # The same string in another space is no collision.
    assert ids.intern(IdKind.CREATOR, seen[next(iter(seen))]) >= 0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        int_id(IdKind.CREATOR, "")
    with pytest.raises(ValueError, match="bits"):
        int_id(IdKind.CREATOR, "x", bits=64)


def test_interning_many_gives_the_ints_of_interning_one_by_one() -> None:
    texts = [f"user-{n}" for n in range(2_000)]
    one, many = IdMap(), IdMap()
    assert many.intern_many(IdKind.CONSUMER, texts) == [one.intern(IdKind.CONSUMER, t)
                                                         for t in texts]
    assert many.intern_many(IdKind.CREATOR, texts[:5]) == [int_id(IdKind.CREATOR, t)
                                                           for t in texts[:5]]
    assert many.names(IdKind.CONSUMER) == one.names(IdKind.CONSUMER)
    items = IdMap(bits=20)
    assert items.intern_many(IdKind.ITEM, ["a", "b"]) == [int_id(IdKind.ITEM, t, bits=20)
                                                         for t in ("a", "b")]


def test_interning_many_refuses_a_collision_and_an_empty_id() -> None:
    ids = IdMap(bits=8)
    with pytest.raises(IdCollision) as refused:
        ids.intern_many(IdKind.ITEM, [f"item-{n}" for n in range(300)])
    assert refused.value.first != refused.value.second
    assert int_id(IdKind.ITEM, refused.value.first, bits=8) == refused.value.value
    with pytest.raises(ValueError, match="empty"):
        IdMap().intern_many(IdKind.CONSUMER, ["u1", ""])
