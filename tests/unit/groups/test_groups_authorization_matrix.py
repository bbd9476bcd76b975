"""The authorization matrix: every action x every kind of actor, with the expected outcome.

Actors: owner; admin with every right; an admin without each right in turn (11 of them);
moderator; member; muted member; banned user; non-member; platform operator (not a member).
Each cell runs the real decide on a freshly seeded group (groups_world.seeded) and checks
"ok" (facts appended) or the refusal code; an admin lacking exactly the right an action needs
is refused "forbidden" naming that right, and an admin lacking any other right is treated
like a full admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from planet.content.v1.reports_pb2 import POLICY_REASON_SCAM, POLICY_REASON_SPAM
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain import rights as r
from services.groups.domain.refusals import Refusal
from tests.unit.groups.groups_world import G, World, profile, seeded

LINK = "L" * 20
OK = "ok"

# The kinds of actor; an admin without a right is "admin_no_<right>".
KINDS = ("owner", "admin", "mod", "member", "muted", "banned", "nonmember", "operator")
ADMINS_WITHOUT = tuple(f"admin_no_{r.right_name(x)}" for x in sorted(r.ALL_RIGHTS))
ACTORS = (*KINDS, *ADMINS_WITHOUT)


def _as_able(w: World, actor: str, fn: Callable[[], object]) -> None:
    """Run ``fn`` with ``actor`` temporarily an unmuted member, then put them back."""
    m = w.member(actor)
    if m.banned:
        w.ok(c.Unban("owner", G, actor))
    if not m.is_member:
        w.ok(c.AddMember("owner", G, actor))
    if m.muted_at(w.now):
        w.ok(c.Unmute("owner", G, actor))
    fn()
    if m.muted_at(w.now):
        w.ok(c.Mute("owner", G, actor, 3_600))
    if m.banned:
        w.ok(c.Ban("owner", G, actor))
    elif not m.is_member:
        w.ok(c.Leave(actor, G))


def _own_message(w: World, actor: str) -> int:
    seqs: list[int] = []
    _as_able(w, actor, lambda: seqs.append(w.post(actor, "mine")))
    return seqs[0]


def _own_reaction(w: World, actor: str) -> int:
    seq = w.post("target", "react to me")
    _as_able(w, actor, lambda: w.ok(c.SetReaction(actor, G, seq, "👍")))
    return seq


def _held(w: World) -> int:
    w.ok(c.SetFilters("owner", G, (ev.FilterRule(kind=ev.FILTER_KIND_KEYWORD, pattern="buy now",
                                                 action=ev.FILTER_ACTION_HOLD),)))
    return w.post("target", "BUY now!")


def _closed(w: World) -> object:
    return w.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM, "pump group"), operator=True)


def _appealed(w: World) -> object:
    _closed(w)
    return w.ok(c.AppealClosure("owner", G, "we fixed it"))


def _pinned(w: World) -> int:
    seq = w.post("target", "x")
    w.ok(c.Pin("owner", G, seq))
    return seq


def _after(_done: object, command: c.Command) -> c.Command:
    """``command``, built after the setup step passed as the first argument ran."""
    return command


def _request_world() -> World:
    w = seeded(join_mode=ev.JOIN_MODE_REQUEST)
    w.ok(c.RequestJoin("applicant", G, "hi"))
    return w


def _link_world() -> World:
    w = seeded()
    w.ok(c.CreateInviteLink("owner", G, LINK))
    return w


@dataclass(frozen=True)
class Action:
    """One row: how to build the command, the right it needs, the outcome per kind."""

    name: str
    build: Callable[[World, str], c.Command]
    right: r.Right | None
    expect: dict[str, str]
    world: Callable[[], World] = seeded
    # Admins fall under "admin" unless the action is the owner's alone.
    owner_only: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _row(owner: str, admin: str, mod: str, member: str, muted: str, banned: str,
         nonmember: str, operator: str) -> dict[str, str]:
    return dict(zip(KINDS, (owner, admin, mod, member, muted, banned, nonmember, operator),
                    strict=True))


F, NM, B = "forbidden", "not_member", "banned"
STAFF_ONLY = _row(OK, OK, F, F, F, B, NM, NM)
MOD_TOO = _row(OK, OK, OK, F, F, B, NM, NM)
EVERY_MEMBER = _row(OK, OK, OK, OK, OK, B, NM, NM)
POSTING = _row(OK, OK, OK, OK, "muted", B, NM, NM)
OPERATOR_ONLY = _row(F, F, F, F, F, F, F, OK)
JOINING = _row("already_member", "already_member", "already_member", "already_member",
               "already_member", B, OK, OK)

ACTIONS = [
    Action("update_info", lambda w, a: c.UpdateInfo(a, G, profile(description="new")),
           r.CHANGE_INFO, STAFF_ONLY),
    Action("transfer_ownership", lambda w, a: c.TransferOwnership(a, G, "target"), None,
           _row(OK, F, F, F, F, B, NM, NM), owner_only=True),
    Action("join", lambda w, a: c.Join(a, G), None, JOINING),
    Action("join_by_link", lambda w, a: c.JoinByLink(a, G, LINK), None, JOINING,
           world=_link_world),
    Action("request_join", lambda w, a: c.RequestJoin(a, G), None, JOINING,
           world=lambda: seeded(join_mode=ev.JOIN_MODE_REQUEST)),
    Action("decide_join_request", lambda w, a: c.DecideJoinRequest(a, G, "applicant", True),
           r.APPROVE, MOD_TOO, world=_request_world),
    Action("add_member", lambda w, a: c.AddMember(a, G, "newbie"), r.INVITE, STAFF_ONLY),
    Action("leave", lambda w, a: c.Leave(a, G), None,
           _row("owner_must_transfer", OK, OK, OK, OK, B, NM, NM)),
    Action("set_role", lambda w, a: c.SetRole(a, G, "target", r.MODERATOR), r.PROMOTE,
           STAFF_ONLY),
    Action("mute", lambda w, a: c.Mute(a, G, "target", 60, "calm down"), r.RESTRICT, MOD_TOO),
    Action("unmute", lambda w, a: _after(w.ok(c.Mute("owner", G, "target", 60)),
                                         c.Unmute(a, G, "target")), r.RESTRICT, MOD_TOO),
    Action("kick", lambda w, a: c.Kick(a, G, "target", "rude"), r.BAN, STAFF_ONLY),
    Action("ban", lambda w, a: c.Ban(a, G, "target", "spam"), r.BAN, STAFF_ONLY),
    Action("unban", lambda w, a: _after(w.ok(c.Ban("owner", G, "target")),
                                        c.Unban(a, G, "target")), r.BAN, STAFF_ONLY),
    Action("create_invite_link", lambda w, a: c.CreateInviteLink(a, G, "N" * 20), r.INVITE,
           STAFF_ONLY),
    Action("revoke_invite_link", lambda w, a: c.RevokeInviteLink(a, G, LINK), r.INVITE,
           STAFF_ONLY, world=_link_world),
    Action("set_slow_mode", lambda w, a: c.SetSlowMode(a, G, 30), r.SLOW_MODE, STAFF_ONLY),
    Action("set_filters", lambda w, a: c.SetFilters(a, G, (ev.FilterRule(
        kind=ev.FILTER_KIND_ANY_LINK, action=ev.FILTER_ACTION_BLOCK),)), r.FILTERS,
        STAFF_ONLY),
    Action("post", lambda w, a: c.PostMessage(a, G, "gm"), None, POSTING),
    Action("post_announcement", lambda w, a: c.PostMessage(a, G, "news", announcement=True),
           r.ANNOUNCE, STAFF_ONLY),
    Action("edit_own_message", lambda w, a: c.EditMessage(a, G, _own_message(w, a), "fixed"),
           None, POSTING),
    Action("delete_own_message", lambda w, a: c.DeleteMessage(a, G, _own_message(w, a)),
           None, EVERY_MEMBER),
    Action("delete_others_message",
           lambda w, a: c.DeleteMessage(a, G, w.post("target", "oops"), "off topic"),
           r.DELETE_MESSAGES, MOD_TOO),
    Action("decide_held_message", lambda w, a: c.DecideHeld(a, G, _held(w), True),
           r.DELETE_MESSAGES, MOD_TOO),
    Action("react", lambda w, a: c.SetReaction(a, G, w.post("target", "nice"), "🔥"), None,
           POSTING),
    Action("remove_reaction",
           lambda w, a: c.RemoveReaction(a, G, _own_reaction(w, a), "👍"), None, EVERY_MEMBER),
    Action("pin", lambda w, a: c.Pin(a, G, w.post("target", "rules")), r.PIN, STAFF_ONLY),
    Action("unpin", lambda w, a: c.Unpin(a, G, _pinned(w)), r.PIN, STAFF_ONLY),
    Action("read", lambda w, a: c.SetReadPosition(a, G, w.info().last_seq), None,
           EVERY_MEMBER),
    Action("report", lambda w, a: c.Report(a, G, "target", POLICY_REASON_SPAM, detail="ads"),
           None, EVERY_MEMBER),
    Action("close_group", lambda w, a: c.CloseGroup(a, G, POLICY_REASON_SCAM, "pump"),
           None, OPERATOR_ONLY),
    Action("appeal_closure", lambda w, a: _after(_closed(w), c.AppealClosure(a, G, "fixed")),
           None, _row(OK, F, F, F, F, B, NM, NM), owner_only=True),
    Action("decide_appeal", lambda w, a: _after(_appealed(w), c.DecideAppeal(a, G, True, "ok")),
           None, OPERATOR_ONLY),
]


def _expected(action: Action, actor: str) -> tuple[str, r.Right | None]:
    if actor.startswith("admin_no_"):
        missing = next(x for x in r.ALL_RIGHTS if f"admin_no_{r.right_name(x)}" == actor)
        if action.right is not None and missing == action.right:
            return "forbidden", action.right
        return action.expect["admin"], None
    return action.expect[actor], (action.right if action.expect[actor] == "forbidden"
                                  and actor in ("mod", "member", "muted") else None)


CELLS = [(a, actor) for a in ACTIONS for actor in ACTORS]


@pytest.mark.parametrize(("action", "actor"), CELLS,
                         ids=[f"{a.name}-{actor}" for a, actor in CELLS])
def test_matrix(action: Action, actor: str) -> None:
    w = action.world()
    command = action.build(w, actor)
    out = w.run(command, operator=actor == "operator")
    expected, missing = _expected(action, actor)
    if expected == OK:
        assert not isinstance(out, Refusal), f"{action.name} by {actor}: {out}"
        assert out, f"{action.name} by {actor} appended nothing"
        return
    assert isinstance(out, Refusal), f"{action.name} by {actor} was allowed: {out}"
    assert out.code.value == expected, f"{action.name} by {actor}: {out}"
    if missing is not None:
        assert out.missing_right == missing, f"{action.name} by {actor}: {out}"


def test_the_matrix_covers_every_command_kind() -> None:
    built = {type(a.build(a.world(), "owner")).__name__ for a in ACTIONS}
    every = {t.__name__ for t in c.Command.__args__}
    # CreateGroup needs no group: tests/unit/groups/test_groups_membership.py covers it.
    assert every - built == {"CreateGroup"}


def test_a_private_group_tells_a_non_member_nothing() -> None:
    w = seeded(join_mode=ev.JOIN_MODE_INVITE_ONLY, visibility=ev.GROUP_VISIBILITY_PRIVATE)
    seq = w.post("member", "secret plans")
    for command in (c.Join("stranger", G), c.RequestJoin("stranger", G),
                    c.PostMessage("stranger", G, "hi"), c.SetReaction("stranger", G, seq, "👍"),
                    c.Report("stranger", G, "member", POLICY_REASON_SPAM),
                    c.JoinByLink("stranger", G, "X" * 20)):
        out = w.run(command)
        assert isinstance(out, Refusal) and out.code.value == "not_found", (command, out)
    # The same commands on a public group say "join first" instead.
    p = seeded()
    out = p.run(c.PostMessage("stranger", G, "hi"))
    assert isinstance(out, Refusal) and out.code.value == "not_member"


def test_rank_protects_staff_from_each_other() -> None:
    w = seeded()
    for actor, target in (("admin", "admin_no_pin"), ("mod", "admin"), ("admin", "owner"),
                          ("mod", "mod")):
        if actor == target:
            out = w.run(c.Mute(actor, G, target, 60))
            assert isinstance(out, Refusal) and out.code.value == "invalid"
            continue
        for command in (c.Mute(actor, G, target, 60), c.Kick(actor, G, target),
                        c.Ban(actor, G, target)):
            out = w.run(command)
            assert isinstance(out, Refusal) and out.code.value == "forbidden", (command, out)
    # An admin with the promote right appoints moderators, never admins.
    out = w.run(c.SetRole("admin", G, "target", r.ADMIN, frozenset({r.PIN})))
    assert isinstance(out, Refusal) and out.code.value == "forbidden"
    w.ok(c.SetRole("admin", G, "target", r.MODERATOR))
