"""Who sees what (services/groups/domain/audience.py): a private group shows nothing to a
non-member by any fact; staff-only facts and fields never reach a plain member; held
messages reach only their author and the moderators; positions are never renumbered."""

from __future__ import annotations

from google.protobuf.message import Message

from planet.content.v1.reports_pb2 import POLICY_REASON_SCAM, POLICY_REASON_SPAM
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain.audience import visible
from services.groups.domain.state import Membership, header, nobody
from tests.unit.groups.groups_world import G, World, random_world, seeded

LINK = "k" * 16


def _private_world() -> World:
    w = seeded(join_mode=ev.JOIN_MODE_INVITE_ONLY, visibility=ev.GROUP_VISIBILITY_PRIVATE)
    w.ok(c.CreateInviteLink("owner", G, LINK, name="friends"))
    w.ok(c.JoinByLink("newcomer", G, LINK))
    w.ok(c.SetFilters("admin", G, (ev.FilterRule(
        kind=ev.FILTER_KIND_KEYWORD, pattern="airdrop", action=ev.FILTER_ACTION_HOLD),)))
    seq = w.post("member", "secret plans")
    w.post("target", "airdrop scam here")
    w.ok(c.Report("member", G, "target", POLICY_REASON_SPAM, detail="my reason to report"))
    w.ok(c.Mute("mod", G, "target", 60, "rude words"))
    w.ok(c.SetReaction("newcomer", G, seq, "👍"))
    w.ok(c.SetReadPosition("newcomer", G, seq))
    w.ok(c.DeleteMessage("mod", G, seq, "rude words"))
    w.ok(c.Unban("owner", G, "banned", "rude words"))
    w.ok(c.Ban("owner", G, "banned", "rude words"))
    w.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM, "pumping"), operator=True)
    w.ok(c.AppealClosure("owner", G, "we fixed it"))
    return w


def _seen(w: World, viewer: Membership, private: bool) -> list[Message]:
    out = []
    for fact in w.log:
        shown = visible(fact, viewer, private)
        if shown is not None:
            assert header(shown).seq == header(fact).seq
            out.append(shown)
    return out


def _texts(facts: list[Message]) -> str:
    return "\n".join(str(f) for f in facts)


def test_a_private_group_shows_nothing_to_a_non_member_or_a_banned_user() -> None:
    w = _private_world()
    for viewer in (nobody(G, "stranger"), w.member("banned"), nobody(G, "operator")):
        assert _seen(w, viewer, private=True) == []
    # A member who left sees nothing any more either, not even what they saw before.
    assert _seen(w, w.member("newcomer"), private=True)
    w.ok(c.Leave("newcomer", G))
    assert _seen(w, w.member("newcomer"), private=True) == []


def test_a_plain_member_sees_the_conversation_but_no_moderation_secrets() -> None:
    w = _private_world()
    seen = _seen(w, w.member("newcomer"), private=True)
    text = _texts(seen)
    for secret in ("airdrop scam here", "my reason to report", "rude words", "we fixed it",
                   "pumping", LINK, "friends"):
        assert secret not in text, secret
    kinds = {type(f).__name__ for f in seen}
    assert {"MessagePosted", "MessageDeleted", "ReactionSet", "MemberJoined", "GroupClosed",
            "ReadPositionSet"} <= kinds
    assert not kinds & {"FilterRulesSet", "InviteLinkCreated", "MessageHeld", "MemberReported",
                        "MemberMuted", "MemberUnbanned", "GroupCloseAppealed"}
    # Their own read position only: nobody else's.
    assert all(f.actor_id == "newcomer" for f in seen if isinstance(f, ev.ReadPositionSet))
    assert not any(isinstance(f, ev.ReadPositionSet) for f in _seen(w, w.member("member"),
                                                                     private=True))


def test_staff_see_by_their_rights_and_authors_see_their_own() -> None:
    w = _private_world()
    owner = _texts(_seen(w, w.member("owner"), private=True))
    for secret in ("airdrop scam here", "my reason to report", "rude words", "we fixed it",
                   "pumping", LINK):
        assert secret in owner, secret
    mod = _seen(w, w.member("mod"), private=True)
    kinds = {type(f).__name__ for f in mod}
    assert {"MessageHeld", "MemberReported", "MemberMuted"} <= kinds
    assert not kinds & {"FilterRulesSet", "InviteLinkCreated", "GroupCloseAppealed"}
    assert LINK not in _texts(mod)
    # The held message's author sees it (and their mute); the reporter sees their report.
    target = {type(f).__name__ for f in _seen(w, w.member("target"), private=True)}
    assert {"MessageHeld", "MemberMuted"} <= target and "MemberReported" not in target
    reporter = {type(f).__name__ for f in _seen(w, w.member("member"), private=True)}
    assert "MemberReported" in reporter and "MessageHeld" not in reporter


def test_a_public_group_shows_its_conversation_but_not_its_members_to_visitors() -> None:
    w = random_world(3)
    visitor = _seen(w, nobody(G, "visitor"), private=False)
    kinds = {type(f).__name__ for f in visitor}
    assert "MessagePosted" in kinds
    assert not kinds & {"MemberJoined", "MemberLeft", "MemberBanned", "MessageHeld",
                        "ReadPositionSet", "MemberReported", "InviteLinkCreated"}
    assert all(not getattr(f, "reason", "") for f in visitor
               if isinstance(getattr(f, "reason", ""), str))
    # Whoever is banned sees nothing, even of a public group.
    banned = [m for k, m in w.store.values.items()
              if k[0] == "member" and isinstance(m, Membership) and m.banned]
    for m in banned:
        assert _seen(w, m, private=False) == []
