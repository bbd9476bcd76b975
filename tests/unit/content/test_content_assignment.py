"""Partition ownership: balanced, deterministic, and it keeps a partition where its state is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.content.domain.assignment import (
    Claim,
    assign,
    decode_claim,
    decode_owners,
    encode_claim,
    encode_owners,
)


def test_every_partition_has_exactly_one_owner_and_counts_differ_by_at_most_one() -> None:
    result = assign([0, 1, 2, 3], {"a": Claim("a:1"), "b": Claim("b:1"), "c": Claim("c:1")})
    owned = sorted(p for ps in result.values() for p in ps)
    assert owned == [0, 1, 2, 3]
    assert sorted(len(ps) for ps in result.values()) == [1, 1, 2]


def test_a_restarted_replica_gets_back_the_partitions_its_store_holds() -> None:
    claims = {"new-1": Claim("a:1", {2: 900, 3: 800}), "new-2": Claim("b:1", {0: 10, 1: 5})}
    assert assign([0, 1, 2, 3], claims) == {"new-1": [2, 3], "new-2": [0, 1]}


def test_the_most_caught_up_store_wins_within_balance() -> None:
    claims = {"a": Claim("a:1", {0: 100, 1: 100, 2: 100, 3: 100}), "b": Claim("b:1", {0: 500})}
    result = assign([0, 1, 2, 3], claims)
    assert 0 in result["b"] and len(result["a"]) == len(result["b"]) == 2


def test_the_survivor_of_two_owns_everything() -> None:
    assert assign([0, 1, 2, 3], {"a": Claim("a:1", {0: 3, 2: 4})}) == {"a": [0, 1, 2, 3]}


@given(st.integers(1, 16), st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.dictionaries(st.integers(0, 20), st.integers(0, 1000), max_size=6),
    min_size=1, max_size=6))
def test_assignment_is_a_balanced_partition_of_the_topic(
    partitions: int, stored: dict[str, dict[int, int]]
) -> None:
    claims = {m: Claim(f"{m}:1", s) for m, s in stored.items()}
    result = assign(list(range(partitions)), claims)
    owned = sorted(p for ps in result.values() for p in ps)
    assert owned == list(range(partitions))
    sizes = [len(ps) for ps in result.values()]
    assert max(sizes) - min(sizes) <= 1
    assert result == assign(list(range(partitions)), dict(reversed(claims.items())))


def test_claims_and_owner_maps_survive_the_wire_and_garbage_is_harmless() -> None:
    claim = Claim("10.0.0.7:50051", {0: 12, 3: 7})
    assert decode_claim(encode_claim(claim)) == claim
    assert decode_claim(b"\xff not json") == Claim("")
    assert decode_owners(encode_owners({0: "a:1", 1: "b:2"})) == {0: "a:1", 1: "b:2"}
    assert decode_owners(b"") == {}
