"""The log is the truth: facts are numbered 1, 2, 3... per group with no gap, a store rebuilt
from the log equals the live one, a redelivered fact changes nothing, and a store keeping
only some keys folds them the same way (per-key state)."""

from __future__ import annotations

import random
from dataclasses import replace

from google.protobuf.message import Message

from planet.content.v1.reports_pb2 import POLICY_REASON_SPAM
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain import rights as r
from services.groups.domain.evolve import apply, evolve, touched
from services.groups.domain.refusals import Refusal
from services.groups.domain.state import Keyed, header
from tests.unit.groups.groups_world import G, World, profile, seeded

USERS = ("owner", "u1", "u2", "u3", "u4", "u5")


def _random_commands(rng: random.Random, w: World, n: int) -> int:
    """Run ``n`` random commands (many refused); how many were accepted."""
    accepted = 0
    for _ in range(n):
        a, b = rng.choice(USERS), rng.choice(USERS)
        last = w.info().last_seq
        seq = rng.randint(1, max(1, last))
        options: list[c.Command] = [
            c.Join(a, G), c.Leave(a, G), c.PostMessage(a, G, rng.choice(
                ["gm", "buy now", "see https://spam.example", "**bold** move", "wen moon"]),
                reply_to=rng.choice([0, seq])),
            c.EditMessage(a, G, seq, "edited"), c.DeleteMessage(a, G, seq, "x"),
            c.SetReaction(a, G, seq, rng.choice(["👍", "🔥", "❤️", "🚀"])),
            c.RemoveReaction(a, G, seq, "👍"), c.Pin(a, G, seq), c.Unpin(a, G, seq),
            c.Mute(a, G, b, rng.randint(1, 120)), c.Unmute(a, G, b), c.Kick(a, G, b),
            c.Ban(a, G, b), c.Unban(a, G, b), c.SetReadPosition(a, G, seq),
            c.SetRole(a, G, b, rng.choice([r.MEMBER, r.MODERATOR])),
            c.SetRole(a, G, b, r.ADMIN, frozenset(rng.sample(sorted(r.ALL_RIGHTS), 3))),
            c.SetSlowMode(a, G, rng.choice([0, 5])), c.DecideHeld(a, G, seq, rng.random() < .5),
            c.Report(a, G, b, POLICY_REASON_SPAM, message_seq=rng.choice([0, seq])),
            c.CreateInviteLink(a, G, f"link{rng.randint(0, 3):012d}", use_limit=2),
            c.JoinByLink(a, G, f"link{rng.randint(0, 3):012d}"),
            c.RevokeInviteLink(a, G, f"link{rng.randint(0, 3):012d}"),
        ]
        # Mostly joins, posts, reactions and reads; the owner does most of the moderating.
        weights = [6, 1, 12, 2, 2, 5, 1, 1, 1, 2, 2, 1, 1, 3, 3, 2, 1, 1, 2, 1, 1, 2, 1]
        command = rng.choices(options, weights)[0]
        if rng.random() < 0.5 and not isinstance(command, c.Join | c.Leave | c.PostMessage):
            command = replace(command, actor_id="owner")
        w.now += rng.choice([0, 300, 2_000, 10_000])
        if not isinstance(w.run(command), Refusal):
            accepted += 1
    return accepted


def _world(seed: int, n: int = 600) -> World:
    rng = random.Random(seed)
    w = World()
    w.ok(c.CreateGroup("owner", G, profile()))
    w.ok(c.SetFilters("owner", G, (
        ev.FilterRule(kind=ev.FILTER_KIND_KEYWORD, pattern="buy now",
                      action=ev.FILTER_ACTION_HOLD),
        ev.FilterRule(kind=ev.FILTER_KIND_LINK_DOMAIN, pattern="spam.example",
                      action=ev.FILTER_ACTION_BLOCK))))
    assert _random_commands(rng, w, n) > n // 10
    return w


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
        w = _world(seed)
        assert [header(f).seq for f in w.log] == list(range(1, len(w.log) + 1))
        assert w.info().last_seq == len(w.log)
        assert all(header(f).group_id == G and header(f).at_ms for f in w.log)


def test_rebuilt_from_the_log_equals_live_and_redelivery_changes_nothing() -> None:
    for seed in range(3):
        w = _world(seed)
        rebuilt = _rebuild([_wire(f) for f in w.log])
        assert rebuilt.values == w.store.values
        # Fold the whole log a second time over the rebuilt store: every fact is a repeat.
        assert not any(apply(rebuilt, _wire(f)) for f in w.log)
        assert rebuilt.values == w.store.values


def test_a_store_of_some_keys_folds_them_exactly_as_the_whole_store() -> None:
    w = _world(7)
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
    w = _world(11, n=1_500)
    info = w.info()
    assert len(info.pinned) <= 20 and len(info.filters) <= 100
    for key, value in w.store.values.items():
        if key[0] == "reactions":
            assert len(value.emojis) <= 3  # type: ignore[union-attr]
    # Nothing in the info grows with the membership: it holds counts, not lists of members.
    assert isinstance(info.member_count, int)


def test_a_command_decided_on_a_rebuilt_store_gets_the_same_answer() -> None:
    w = _world(5)
    rebuilt = World(store=_rebuild(w.log), log=list(w.log), now=w.now)
    for command in (c.PostMessage("u3", G, "gm"), c.Join("u9", G), c.SetSlowMode("owner", G, 9),
                    c.Mute("owner", G, "u1", 30)):
        assert repr(w.run(command)) == repr(rebuilt.run(command))
    assert rebuilt.store.values == w.store.values


def test_seeded_world_numbering() -> None:
    w = seeded()
    assert [header(f).seq for f in w.log] == list(range(1, w.info().last_seq + 1))
