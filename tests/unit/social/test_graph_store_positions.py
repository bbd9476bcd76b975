"""A block's facts move two topics' positions: the graph store writes both with the facts in
one batch (real RocksDB), and a reopen sees edges, counts and both positions together."""

from __future__ import annotations

from pathlib import Path

from services.social.adapters.graph_store import GraphStore
from services.social.domain.graph import rules
from services.social.domain.graph.apply import Side


def test_one_batch_holds_the_facts_and_every_position(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "graph")
    store.apply(rules.follow("b", "a", store.view("b", "a"), 1), Side.BOTH,
                source="graph/1", next_offset=5)
    facts = rules.block("a", "b", store.view("a", "b"), 2)
    store.apply(facts, Side.BOTH, offsets={"blocks/0": 3, "graph/1": 7})
    store.close()

    reopened = GraphStore(tmp_path / "graph")
    assert (reopened.applied("blocks/0"), reopened.applied("graph/1")) == (3, 7)
    assert reopened.view("b", "a") == rules.EdgeView(blocked_by=True)
    assert reopened.follower_count("a") == reopened.following_count("b") == 0
    assert reopened.blocked("a").ids == ["b"]
    reopened.close()
