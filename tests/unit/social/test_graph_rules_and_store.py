"""Graph rules and the graph store on a real RocksDB in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planet.social.v1.graph_pb2 import UNFOLLOW_CAUSE_BLOCK, Followed
from services.social.adapters.graph_store import GraphStore
from services.social.domain.graph import rules
from services.social.domain.graph.apply import Side, UnknownFact

T = 1_700_000_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    s = GraphStore(tmp_path / "graph")
    yield s
    s.close()


def act(store: GraphStore, rule: str, actor: str, other: str, *args: bool) -> list[str]:
    """Run a rule against the store's view and apply its facts; the fact names."""
    fn = getattr(rules, rule)
    facts = fn(actor, other, *args, store.view(actor, other), T)
    store.apply(facts, Side.BOTH)
    return [type(f).__name__ for f in facts]


def test_follow_counts_once_and_unfollow_is_idempotent(store: GraphStore) -> None:
    assert act(store, "follow", "ann", "bob") == ["Followed"]
    assert act(store, "follow", "ann", "bob") == []
    assert store.following_count("ann") == 1 and store.follower_count("bob") == 1
    # Replaying the same fact (a redelivery) changes nothing either.
    store.apply([Followed(follower_id="ann", followee_id="bob", at_ms=T)], Side.BOTH)
    assert store.follower_count("bob") == 1
    assert act(store, "unfollow", "ann", "bob") == ["Unfollowed"]
    assert act(store, "unfollow", "ann", "bob") == []
    assert store.following_count("ann") == 0 and store.follower_count("bob") == 0
    assert store.followers("bob").ids == []


def test_no_self_follow_block_or_mute(store: GraphStore) -> None:
    for rule in ("follow", "block", "mute"):
        with pytest.raises(rules.SelfAction):
            act(store, rule, "ann", "ann")
    with pytest.raises(rules.GraphRuleError):
        rules.follow("", "bob", rules.EdgeView(), T)


def test_block_removes_follows_both_ways_and_stops_following(store: GraphStore) -> None:
    act(store, "follow", "ann", "bob")
    act(store, "follow", "bob", "ann")
    act(store, "set_bell", "ann", "bob", True)
    facts = rules.block("bob", "ann", store.view("bob", "ann"), T)
    store.apply(facts, Side.BOTH)
    unfollows = [f for f in facts if type(f).__name__ == "Unfollowed"]
    assert len(unfollows) == 2
    assert all(u.cause == UNFOLLOW_CAUSE_BLOCK for u in unfollows)  # type: ignore[attr-defined]
    assert store.follower_count("ann") == store.follower_count("bob") == 0
    assert store.bell_subscribers("bob").ids == []
    with pytest.raises(rules.BlockedPair, match="cannot follow"):
        act(store, "follow", "ann", "bob")  # the blocked user
    with pytest.raises(rules.BlockedPair, match="unblock"):
        act(store, "follow", "bob", "ann")  # the blocker
    assert act(store, "block", "bob", "ann") == []
    assert store.blocked("bob").ids == ["ann"]
    assert act(store, "unblock", "bob", "ann") == ["Unblocked"]
    assert act(store, "follow", "ann", "bob") == ["Followed"]
    assert store.follower_count("bob") == 1


def test_bell_needs_a_follow_and_goes_with_it(store: GraphStore) -> None:
    with pytest.raises(rules.NotFollowing):
        act(store, "set_bell", "ann", "cat", True)
    assert act(store, "set_bell", "ann", "cat", False) == []
    act(store, "follow", "ann", "cat")
    assert act(store, "set_bell", "ann", "cat", True) == ["BellSet"]
    assert act(store, "set_bell", "ann", "cat", True) == []
    assert store.view("ann", "cat").bell
    assert store.bell_subscribers("cat").ids == ["ann"]
    act(store, "unfollow", "ann", "cat")
    assert store.bell_subscribers("cat").ids == []
    act(store, "follow", "ann", "cat")
    assert not store.view("ann", "cat").bell  # a new follow starts with the bell off


def test_mute_hides_without_unfollowing(store: GraphStore) -> None:
    act(store, "follow", "ann", "cat")
    act(store, "set_bell", "ann", "cat", True)
    assert act(store, "mute", "ann", "cat") == ["Muted"]
    assert act(store, "mute", "ann", "cat") == []
    assert store.view("ann", "cat").following and store.follower_count("cat") == 1
    assert store.relation("ann", "cat").mutes
    assert store.muted_by("cat", ["ann", "zed"]) == {"ann"}
    assert store.muted("ann").ids == ["cat"]
    assert act(store, "unmute", "ann", "cat") == ["Unmuted"]
    assert store.muted_by("cat", ["ann"]) == set()


def test_sides_keep_only_their_keys(tmp_path: Path) -> None:
    actor, other = GraphStore(tmp_path / "a"), GraphStore(tmp_path / "o")
    fact = [Followed(follower_id="ann", followee_id="bob", at_ms=T)]
    actor.apply(fact, Side.ACTOR, source="planet.social.graph.v1/0", next_offset=8)
    other.apply(fact, Side.OTHER, source="planet.social.graph-inbound.v1/1", next_offset=3)
    assert (actor.following_count("ann"), actor.follower_count("bob")) == (1, 0)
    assert (other.following_count("ann"), other.follower_count("bob")) == (0, 1)
    assert actor.applied("planet.social.graph.v1/0") == 8
    assert other.applied("planet.social.graph-inbound.v1/1") == 3
    with pytest.raises(UnknownFact):
        actor.apply([rules.EdgeView()], Side.ACTOR)  # type: ignore[list-item]
    actor.close()
    other.close()


def test_state_and_offset_survive_a_reopen(tmp_path: Path) -> None:
    s = GraphStore(tmp_path / "g")
    s.apply([Followed(follower_id="ann", followee_id="bob", at_ms=T)], Side.BOTH,
            source="t/0", next_offset=1)
    s.close()
    s = GraphStore(tmp_path / "g")
    assert s.applied("t/0") == 1 and s.followers("bob").ids == ["ann"]
    s.close()


def test_bad_ids_and_page_sizes_are_refused(store: GraphStore) -> None:
    with pytest.raises(ValueError, match="NUL"):
        store.followers("a\x00b")
    with pytest.raises(ValueError, match="page"):
        store.followers("bob", limit=0)


def test_pages_have_no_gap_and_no_duplicate(store: GraphStore) -> None:
    followers = [f"u{i:03d}" for i in range(250)] + ["u1", "u10", "u10a"]
    store.apply([Followed(follower_id=f, followee_id="star", at_ms=T) for f in followers],
                Side.BOTH)
    seen: list[str] = []
    cursor = ""
    while True:
        page = store.followers("star", after=cursor, limit=7)
        seen += page.ids
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        # An edge added before the cursor mid-walk does not shift later pages.
        store.apply([Followed(follower_id="a-late", followee_id="star", at_ms=T)], Side.BOTH)
    assert seen == sorted(set(followers))
    assert store.follower_count("star") == len(followers) + 1


USERS = st.sampled_from(["ann", "bob", "cat", "dan"])
OPS = st.lists(st.tuples(st.sampled_from(["follow", "unfollow", "block", "unblock", "mute"]),
                         USERS, USERS), max_size=60)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_counts_equal_the_edge_set_under_any_interleaving(
        tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, str]]) -> None:
    store = GraphStore(tmp_path_factory.mktemp("g") / "graph")
    edges: set[tuple[str, str]] = set()
    blocks: set[tuple[str, str]] = set()
    try:
        for rule, a, b in ops:
            try:
                facts = getattr(rules, rule)(a, b, store.view(a, b), T)
            except rules.GraphRuleError:
                continue
            # Apply every accepted batch twice: a redelivery changes nothing.
            store.apply(facts, Side.BOTH)
            store.apply(facts, Side.BOTH)
            if rule == "follow":
                assert (b, a) not in blocks and (a, b) not in blocks
                edges.add((a, b))
            elif rule == "unfollow":
                edges.discard((a, b))
            elif rule == "block":
                blocks.add((a, b))
                edges -= {(a, b), (b, a)}
            elif rule == "unblock":
                blocks.discard((a, b))
        for u in ("ann", "bob", "cat", "dan"):
            following = {b for a, b in edges if a == u}
            followers = {a for a, b in edges if b == u}
            assert store.following_count(u) == len(following)
            assert store.follower_count(u) == len(followers)
            assert set(store.following(u).ids) == following
            assert set(store.followers(u).ids) == followers
    finally:
        store.close()
