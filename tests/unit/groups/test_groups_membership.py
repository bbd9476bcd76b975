"""Creating, joining and leaving: creator identity, invite links (expiry, use limit, revoke),
join requests, the member limit, bans that no link gets around, ownership transfer, and an
operator's closure with its one appeal."""

from __future__ import annotations

from planet.content.v1.reports_pb2 import POLICY_REASON_SCAM, POLICY_REASON_UNSPECIFIED
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain import rights as r
from services.groups.domain.refusals import Code, Refusal
from tests.unit.groups.groups_world import G, World, profile, seeded

LINK = "a" * 16
LINK2 = "b" * 16


def _refused(out: object, code: Code) -> Refusal:
    assert isinstance(out, Refusal), out
    assert out.code is code, out
    return out


def test_creating_needs_an_open_creator_identity_and_a_valid_profile() -> None:
    w = World()
    _refused(w.run(c.CreateGroup("u", G, profile()), creator_open=False), Code.NOT_CREATOR)
    _refused(w.run(c.CreateGroup("u", "Bad Id", profile())), Code.INVALID)
    _refused(w.run(c.CreateGroup("u", G, profile(name=" "))), Code.INVALID)
    _refused(w.run(c.CreateGroup("u", G, profile(avatar_url="http://x.example/a.png"))),
             Code.INVALID)
    _refused(w.run(c.CreateGroup("u", G, profile(visibility=ev.GROUP_VISIBILITY_PRIVATE))),
             Code.INVALID)
    _refused(w.run(c.CreateGroup("u", G, profile(member_limit=0))), Code.INVALID)
    facts = w.ok(c.CreateGroup("u", G, profile(topics=["#BTC", "btc", "ＥＴＨ"])))
    assert [type(f).__name__ for f in facts] == ["GroupCreated", "MemberJoined"]
    assert [f.seq for f in facts] == [1, 2]  # type: ignore[attr-defined]
    assert w.info().profile.topics == ("btc", "eth") and w.info().owner_id == "u"
    assert w.member("u").role == r.OWNER and w.info().member_count == 1
    _refused(w.run(c.CreateGroup("v", G, profile())), Code.ALREADY_EXISTS)
    _refused(w.run(c.Join("x", "nope")), Code.NOT_FOUND)


def test_invite_links_expire_run_out_and_can_be_revoked() -> None:
    w = seeded(join_mode=ev.JOIN_MODE_INVITE_ONLY)
    _refused(w.run(c.Join("x", G)), Code.JOIN_MODE)
    _refused(w.run(c.CreateInviteLink("owner", G, "short")), Code.INVALID)
    _refused(w.run(c.CreateInviteLink("owner", G, LINK, expires_at_ms=w.now)), Code.INVALID)
    w.ok(c.CreateInviteLink("admin", G, LINK, expires_at_ms=w.now + 60_000, use_limit=2,
                            name="twitter"))
    _refused(w.run(c.CreateInviteLink("admin", G, LINK)), Code.ALREADY_EXISTS)
    facts = w.ok(c.JoinByLink("x1", G, LINK))
    assert isinstance(facts[0], ev.MemberJoined) and facts[0].how == ev.JOIN_HOW_LINK
    assert facts[0].link_id == LINK
    w.ok(c.JoinByLink("x2", G, LINK))
    _refused(w.run(c.JoinByLink("x3", G, LINK)), Code.LINK_USED_UP)
    w.ok(c.CreateInviteLink("admin", G, LINK2, expires_at_ms=w.now + 60_000))
    _refused(w.run(c.JoinByLink("x3", G, LINK2), at=w.now + 60_000), Code.LINK_EXPIRED)
    w.ok(c.JoinByLink("x3", G, LINK2), at=w.now + 59_999)
    w.ok(c.RevokeInviteLink("owner", G, LINK2, "leaked"))
    assert w.run(c.RevokeInviteLink("owner", G, LINK2)) == []
    _refused(w.run(c.JoinByLink("x4", G, LINK2)), Code.LINK_REVOKED)
    _refused(w.run(c.JoinByLink("x4", G, "c" * 16)), Code.LINK_NOT_FOUND)
    _refused(w.run(c.RevokeInviteLink("owner", G, "c" * 16)), Code.LINK_NOT_FOUND)


def test_a_banned_user_cannot_rejoin_by_any_way_until_unbanned() -> None:
    w = seeded()
    w.ok(c.CreateInviteLink("owner", G, LINK))
    w.ok(c.Ban("admin", G, "target", "spam"))
    assert w.info().member_count == 16 and not w.member("target").is_member
    # A link made before the ban, one made after, a free join, a request, an invite.
    w.ok(c.CreateInviteLink("owner", G, LINK2))
    for command in (c.JoinByLink("target", G, LINK), c.JoinByLink("target", G, LINK2),
                    c.Join("target", G)):
        _refused(w.run(command), Code.BANNED)
    _refused(w.run(c.AddMember("admin", G, "target")), Code.TARGET_BANNED)
    # Banning someone who never joined keeps them out too (and counts no member).
    w.ok(c.Ban("admin", G, "stranger"))
    assert w.info().member_count == 16
    _refused(w.run(c.JoinByLink("stranger", G, LINK)), Code.BANNED)
    assert w.run(c.Ban("admin", G, "stranger")) == []
    w.ok(c.Unban("admin", G, "target", "appeal accepted"))
    assert w.run(c.Unban("admin", G, "target")) == []
    assert not w.member("target").is_member  # an unban does not re-add
    w.ok(c.JoinByLink("target", G, LINK))
    # A kick is not a ban: the kicked member may come back.
    w.ok(c.Kick("admin", G, "target", "cool off"))
    w.ok(c.Join("target", G))


def test_join_requests_wait_for_an_approver() -> None:
    w = seeded(join_mode=ev.JOIN_MODE_REQUEST)
    _refused(w.run(c.Join("x", G)), Code.JOIN_MODE)
    w.ok(c.RequestJoin("x", G, "I trade BTC"))
    _refused(w.run(c.RequestJoin("x", G)), Code.REQUEST_PENDING)
    _refused(w.run(c.DecideJoinRequest("mod", G, "y", True)), Code.NO_REQUEST)
    facts = w.ok(c.DecideJoinRequest("mod", G, "x", False, "no bio"))
    assert [type(f).__name__ for f in facts] == ["JoinRequestDecided"]
    assert not w.member("x").is_member
    w.ok(c.RequestJoin("x", G, "please"))
    facts = w.ok(c.DecideJoinRequest("mod", G, "x", True))
    assert [type(f).__name__ for f in facts] == ["JoinRequestDecided", "MemberJoined"]
    assert isinstance(facts[1], ev.MemberJoined)
    assert facts[1].how == ev.JOIN_HOW_REQUEST_APPROVED and facts[1].actor_id == "mod"
    assert w.member("x").is_member
    # A user banned while waiting is not let in by an approval.
    w.ok(c.RequestJoin("z", G))
    w.ok(c.Ban("admin", G, "z"))
    _refused(w.run(c.DecideJoinRequest("mod", G, "z", True)), Code.TARGET_BANNED)


def test_the_member_limit_holds_for_every_way_in() -> None:
    w = World()
    w.ok(c.CreateGroup("owner", G, profile(member_limit=3, join_mode=ev.JOIN_MODE_REQUEST)))
    w.ok(c.CreateInviteLink("owner", G, LINK))
    w.ok(c.AddMember("owner", G, "a"))
    w.ok(c.RequestJoin("r", G))
    w.ok(c.JoinByLink("b", G, LINK))
    assert w.info().member_count == 3
    _refused(w.run(c.JoinByLink("c", G, LINK)), Code.MEMBER_LIMIT)
    _refused(w.run(c.AddMember("owner", G, "c")), Code.MEMBER_LIMIT)
    _refused(w.run(c.DecideJoinRequest("owner", G, "r", True)), Code.MEMBER_LIMIT)
    # The limit cannot go below the members there are.
    _refused(w.run(c.UpdateInfo("owner", G, profile(member_limit=2,
                                                    join_mode=ev.JOIN_MODE_REQUEST))),
             Code.INVALID)
    w.ok(c.Leave("b", G))
    w.ok(c.DecideJoinRequest("owner", G, "r", True))


def test_ownership_transfer_hands_over_every_right() -> None:
    w = seeded()
    _refused(w.run(c.TransferOwnership("owner", G, "nonmember")), Code.TARGET_NOT_MEMBER)
    _refused(w.run(c.TransferOwnership("owner", G, "owner")), Code.INVALID)
    w.ok(c.TransferOwnership("owner", G, "member"))
    assert w.info().owner_id == "member"
    assert w.member("member").role == r.OWNER
    assert w.member("owner").role == r.ADMIN and w.member("owner").rights == r.ALL_RIGHTS
    # The new owner outranks the old one; the old one may leave now, the new one may not.
    w.ok(c.Mute("member", G, "owner", 60))
    _refused(w.run(c.Mute("owner", G, "member", 60)), Code.FORBIDDEN)
    w.ok(c.Leave("owner", G))
    _refused(w.run(c.Leave("member", G)), Code.OWNER_MUST_TRANSFER)
    _refused(w.run(c.TransferOwnership("admin", G, "target")), Code.FORBIDDEN)


def test_an_operator_closes_a_group_and_the_owner_appeals_once() -> None:
    w = seeded()
    _refused(w.run(c.CloseGroup("op", G, POLICY_REASON_UNSPECIFIED), operator=True),
             Code.INVALID)
    w.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM, "pump and dump"), operator=True)
    assert w.run(c.CloseGroup("op", G, POLICY_REASON_SCAM), operator=True) == []
    for command in (c.PostMessage("member", G, "hi"), c.Join("x", G),
                    c.UpdateInfo("owner", G, profile()), c.Ban("owner", G, "target")):
        _refused(w.run(command), Code.GROUP_CLOSED)
    _refused(w.run(c.DecideAppeal("op", G, True), operator=True), Code.NO_APPEAL)
    w.ok(c.Leave("member", G))  # leaving is always possible
    _refused(w.run(c.AppealClosure("owner", G, "")), Code.INVALID)
    w.ok(c.AppealClosure("owner", G, "we removed the pumpers"))
    _refused(w.run(c.AppealClosure("owner", G, "again")), Code.APPEAL_EXISTS)
    w.ok(c.DecideAppeal("op", G, False, "still pumping"), operator=True)
    _refused(w.run(c.DecideAppeal("op", G, True), operator=True), Code.APPEAL_EXISTS)
    assert w.info().closed
    # A new closure after a reopening gets its own appeal.
    w2 = seeded()
    w2.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM), operator=True)
    w2.ok(c.AppealClosure("owner", G, "sorry"))
    w2.ok(c.DecideAppeal("op", G, True, "ok"), operator=True)
    assert not w2.info().closed
    w2.post("member", "we are back")
    _refused(w2.run(c.AppealClosure("owner", G, "x")), Code.NOT_CLOSED)
    w2.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM), operator=True)
    w2.ok(c.AppealClosure("owner", G, "again"))


def test_leaving_and_rejoining_escapes_neither_a_mute_nor_slow_mode() -> None:
    w = seeded()
    w.ok(c.SetSlowMode("owner", G, 60))
    w.post("member", "first")
    w.ok(c.Mute("mod", G, "member", 600))
    until = w.member("member").muted_until_ms
    w.ok(c.Leave("member", G))
    w.ok(c.Join("member", G))
    out = _refused(w.run(c.PostMessage("member", G, "I'm back")), Code.MUTED)
    assert out.until_ms == until
    w.ok(c.Unmute("mod", G, "member"))
    _refused(w.run(c.PostMessage("member", G, "now?")), Code.SLOW_MODE)


def test_a_report_names_the_member_or_the_message_author() -> None:
    w = seeded()
    seq = w.post("target", "scam link")
    facts = w.ok(c.Report("member", G, "", POLICY_REASON_SCAM, message_seq=seq, detail="scam",
                          to_operators=True))
    assert isinstance(facts[0], ev.MemberReported)
    assert facts[0].user_id == "target" and facts[0].to_operators
    _refused(w.run(c.Report("target", G, "", POLICY_REASON_SCAM, message_seq=seq)),
             Code.INVALID)
    _refused(w.run(c.Report("member", G, "nobody", POLICY_REASON_SCAM)),
             Code.TARGET_NOT_MEMBER)
    _refused(w.run(c.Report("member", G, "target", POLICY_REASON_UNSPECIFIED)), Code.INVALID)
