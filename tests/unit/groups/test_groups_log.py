"""The log is the truth: facts are numbered 1, 2, 3... per group with no gap, a store rebuilt
from the log equals the live one, a redelivered fact changes nothing, and a store keeping
only some keys folds them the same way (per-key state)."""

from __future__ import annotations

from google.protobuf.message import Message

from services.groups.domain import commands as c
from services.groups.domain.evolve import apply, evolve, touched
from services.groups.domain.state import Keyed, header
from tests.unit.groups.groups_world import G, World, random_world, seeded


def _rebuild(log: list[Message]) -> Keyed:
    store = Keyed()
    for fact in log:
        apply(store, fact)
    return store


def _wire(fact: Message) -> Message:
    """The fact as a consumer reads it back from Kafka (serialized and parsed)."""
    return type(fact).FromString(fact.SerializeToString())


def test_seq_numbers_have_no_gap_and_match_the_info() -> None:
    for seed in range(3):
        w = random_world(seed)
        assert [header(f).seq for f in w.log] == list(range(1, len(w.log) + 1))
        assert w.info().last_seq == len(w.log)
        assert all(header(f).group_id == G and header(f).at_ms for f in w.log)


def test_rebuilt_from_the_log_equals_live_and_redelivery_changes_nothing() -> None:
    for seed in range(3):
        w = random_world(seed)
        rebuilt = _rebuild([_wire(f) for f in w.log])
        assert rebuilt.values == w.store.values
        # Fold the whole log a second time over the rebuilt store: every fact is a repeat.
        assert not any(apply(rebuilt, _wire(f)) for f in w.log)
        assert rebuilt.values == w.store.values


def test_a_store_of_some_keys_folds_them_exactly_as_the_whole_store() -> None:
    w = random_world(7)
    # Only one member's keys (and the info): what a cache of one user's view would keep.
    mine = {k for k in w.store.values if k[0] == "info" or "u2" in k}
    partial: dict[tuple[str, ...], object] = {}
    for fact in w.log:
        for key in touched(fact):
            if key in mine:
                value = evolve(key, partial.get(key), fact)  # type: ignore[arg-type]
                if value is None:
                    partial.pop(key, None)
                else:
                    partial[key] = value
    assert partial == {k: v for k, v in w.store.values.items() if k in mine}


def test_every_value_stays_bounded_whatever_the_history() -> None:
    w = random_world(11, n=1_500)
    info = w.info()
    assert len(info.pinned) <= 20 and len(info.filters) <= 100
    for key, value in w.store.values.items():
        if key[0] == "reactions":
            assert len(value.emojis) <= 3  # type: ignore[union-attr]
    # Nothing in the info grows with the membership: it holds counts, not lists of members.
    assert isinstance(info.member_count, int)


def test_a_command_decided_on_a_rebuilt_store_gets_the_same_answer() -> None:
    w = random_world(5)
    rebuilt = World(store=_rebuild(w.log), log=list(w.log), now=w.now)
    for command in (c.PostMessage("u3", G, "gm"), c.Join("u9", G), c.SetSlowMode("owner", G, 9),
                    c.Mute("owner", G, "u1", 30)):
        assert repr(w.run(command)) == repr(rebuilt.run(command))
    assert rebuilt.store.values == w.store.values


def test_seeded_world_numbering() -> None:
    w = seeded()
    assert [header(f).seq for f in w.log] == list(range(1, w.info().last_seq + 1))
