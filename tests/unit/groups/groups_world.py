"""A pure stand-in for the groups handler: decide, number, fold, keep the log (no I/O).

What the service process will do per command (load the keys ``reads`` names, decide, append
the facts in order, fold them into its store) done in memory, so tests drive whole
scenarios through the real decide and evolve.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from google.protobuf.message import Message

from planet.content.v1.reports_pb2 import POLICY_REASON_SPAM
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain import rights as r
from services.groups.domain.decide import Decision, decide, load
from services.groups.domain.evolve import apply
from services.groups.domain.refusals import Refusal
from services.groups.domain.state import (
    GroupInfo,
    Keyed,
    Membership,
    MessageRecord,
    header,
    info_key,
    member_key,
    message_key,
    nobody,
)

G = "g1"
T0 = 1_800_000_000_000


def profile(**overrides: object) -> ev.GroupProfile:
    """A valid public, free profile, with overrides."""
    fields: dict[str, object] = {
        "name": "Traders", "description": "talk", "visibility": ev.GROUP_VISIBILITY_PUBLIC,
        "join_mode": ev.JOIN_MODE_FREE, "member_limit": 1_000}
    return ev.GroupProfile(**{**fields, **overrides})  # type: ignore[arg-type]


@dataclass
class World:
    """One or more groups in memory, with their log."""

    store: Keyed = field(default_factory=Keyed)
    log: list[Message] = field(default_factory=list)
    now: int = T0

    def run(self, command: c.Command, *, operator: bool = False, creator_open: bool = True,
            at: int | None = None) -> Decision:
        """Decide ``command`` at ``at`` (default: now), append and fold what it decides."""
        when = self.now if at is None else at
        ctx = load(command, self.store.get, operator=operator, creator_open=creator_open)
        out = decide(command, ctx, when)
        if not isinstance(out, Refusal):
            for fact in out:
                self.log.append(fact)
                assert apply(self.store, fact)
        return out

    def ok(self, command: c.Command, **kwargs: object) -> list[Message]:
        """Run ``command``, which must be accepted."""
        out = self.run(command, **kwargs)  # type: ignore[arg-type]
        assert not isinstance(out, Refusal), out
        return out

    def info(self, group: str = G) -> GroupInfo:
        value = self.store.get(info_key(group))
        assert isinstance(value, GroupInfo)
        return value

    def member(self, user: str, group: str = G) -> Membership:
        value = self.store.get(member_key(group, user))
        return value if isinstance(value, Membership) else nobody(group, user)

    def message(self, seq: int, group: str = G) -> MessageRecord:
        value = self.store.get(message_key(group, seq))
        assert isinstance(value, MessageRecord)
        return value

    def post(self, user: str, text: str = "hello", group: str = G, **kwargs: object) -> int:
        """Post as ``user``; the new message's seq."""
        facts = self.ok(c.PostMessage(user, group, text, **kwargs))  # type: ignore[arg-type]
        return header(facts[-1]).seq


def seeded(*, join_mode: ev.JoinMode.ValueType = ev.JOIN_MODE_FREE,
           visibility: ev.GroupVisibility.ValueType = ev.GROUP_VISIBILITY_PUBLIC) -> World:
    """A group owned by "owner" with one member of every kind the matrix needs.

    admin: every right; admin_no_<right>: every right but one; mod: moderator; member;
    muted (muted for an hour); target (a plain member to act on); banned (banned); nonmember
    and operator never joined.
    """
    w = World()
    w.ok(c.CreateGroup("owner", G, profile(join_mode=ev.JOIN_MODE_FREE)))
    users = ["admin", "mod", "member", "muted", "target", "banned",
             *[f"admin_no_{r.right_name(x)}" for x in sorted(r.ALL_RIGHTS)]]
    for user in users:
        w.ok(c.AddMember("owner", G, user))
    w.ok(c.SetRole("owner", G, "admin", r.ADMIN, r.ALL_RIGHTS))
    for right in r.ALL_RIGHTS:
        w.ok(c.SetRole("owner", G, f"admin_no_{r.right_name(right)}", r.ADMIN,
                       r.ALL_RIGHTS - {right}))
    w.ok(c.SetRole("owner", G, "mod", r.MODERATOR))
    w.ok(c.Mute("owner", G, "muted", 3_600))
    w.ok(c.Ban("owner", G, "banned", "spam"))
    if (join_mode, visibility) != (ev.JOIN_MODE_FREE, ev.GROUP_VISIBILITY_PUBLIC):
        w.ok(c.UpdateInfo("owner", G, profile(join_mode=join_mode, visibility=visibility)))
    return w


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


def random_world(seed: int, n: int = 600) -> World:
    """A group after ``n`` random commands by six users (a filter holds, another blocks)."""
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
