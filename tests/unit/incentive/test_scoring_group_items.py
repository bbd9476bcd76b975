"""A group item through the week's reading (scoring.week_inputs) and the model (issue 15): what
the intake's group fold writes is what a settlement counts.

- A closure is a removal period: engagement from the closure on earns nothing (item_removed);
  a granted appeal says the closure was wrong, and the week earns as if it never was (as a
  restored post's).
- The owner credited is the one the group item's status names as of the week's close, and a
  fact counts for the owner it names: after a transfer, the new owner earns the facts from the
  transfer on; facts of the still open week before the transfer name the earlier owner and
  are discounted (unknown_item), as any fact naming another creator than its item's status.
"""

from __future__ import annotations

from intake_events import raw

from planet.groups.v1 import group_events_pb2 as ev
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planetkit import topics as registry
from planetkit.envelope import decode
from planetkit.fact_rows import VIEW, FactRow, build_facts
from planetkit.group_items import group_item
from planetkit.service_identities import GROUPS
from services.incentive.domain.breakdown import CreatorResult
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.id_map import IdKind
from services.incentive.domain.policy import group_engagement_policy
from services.incentive.domain.reasons import Reason
from services.incentive.domain.settlement import settle
from services.incentive.intake.dispatch import on_group_record
from services.incentive.scoring.week_inputs import WeekInputs

WEEK = IsoWeek.parse("2026-W48")
T0 = WEEK.start_ms
HOUR = 3_600_000
CLOSE = WEEK.end_ms + HOUR
G = "gfeedfacefeedfacefeedface"
ITEM = group_item(G)
TEXT = "a message long enough to count as engagement"


def _user(uid: str) -> UserStatus:
    return UserStatus(user_id=uid, kyc_verified_at_ms=T0 - 10 * HOUR,
                      identity_open=[Period(from_ms=T0 - 20 * HOUR)])


def _settle(events: list[ev.GroupCreated | ev.MessagePosted | ev.GroupClosed
                         | ev.AppealDecided | ev.OwnershipTransferred | ev.ReactionSet
                         | ev.ReactionRemoved],
            views: list[FactRow]) -> dict[str, CreatorResult]:
    """The group's events through the intake's fold, plus a member's views as the aggregator
    writes them, settled under the group-engagement policy."""
    inputs = WeekInputs(WEEK)
    groups: dict[str, bytes] = {}
    for seq, payload in enumerate(events, start=1):
        payload.group_id, payload.seq = G, seq
        for out in on_group_record(raw(payload, f"rq.{seq}.0", source=GROUPS, key=G), groups):
            if out.topic.name == registry.INTERACTION_FACTS.name:
                inputs.add_facts(decode(out.value, FactRows).payload)
            else:
                inputs.set_item(decode(out.value, ItemStatus).payload)
    if views:
        inputs.add_facts(build_facts("views", "mia", views))
    for uid in ("owen", "tom", "mia"):
        inputs.set_user(_user(uid))
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT",
                         status_at_ms=CLOSE)
    result = settle(built.facts, group_engagement_policy(str(WEEK)))
    return {built.ids.name(IdKind.CREATOR, c.creator_id): c for c in result.creators}


def _discounted(creator: CreatorResult, reason: Reason) -> int:
    return sum(d.events for d in creator.discounts if d.reason == reason)


def test_a_closed_group_earns_nothing_from_its_closure_unless_the_appeal_is_granted() -> None:
    events = [ev.GroupCreated(actor_id="owen", at_ms=T0 + HOUR),
              ev.MessagePosted(actor_id="mia", text=TEXT, at_ms=T0 + 2 * HOUR),
              ev.GroupClosed(actor_id="op", at_ms=T0 + 3 * HOUR)]
    views = [FactRow("v1", ITEM, "owen", T0 + 2 * HOUR, VIEW, 120),
             FactRow("v2", ITEM, "owen", T0 + 4 * HOUR, VIEW, 120)]  # while closed
    closed = _settle(list(events), views)["owen"]
    assert closed.allocated_minor == 10_000
    assert _discounted(closed, Reason.ITEM_REMOVED) == 1
    [item] = closed.items
    assert (item.dwell_seconds, item.interaction_milli_points) == (120, 10 * 1000)
    # A granted appeal says the closure was wrong: the week earns as if it never was (as a
    # restored post's), and messages after the reopening count too.
    reopened = _settle([*events, ev.AppealDecided(actor_id="op", granted=True,
                                                  at_ms=T0 + 5 * HOUR),
                        ev.MessagePosted(actor_id="mia", text=TEXT, at_ms=T0 + 6 * HOUR)],
                       views)["owen"]
    assert _discounted(reopened, Reason.ITEM_REMOVED) == 0
    [item] = reopened.items
    assert (item.dwell_seconds, item.interaction_milli_points) == (240, 2 * 10 * 1000)


def test_after_a_transfer_the_new_owner_earns_and_the_open_weeks_earlier_facts_do_not() -> None:
    results = _settle(
        [ev.GroupCreated(actor_id="owen", at_ms=T0 + HOUR),
         ev.MessagePosted(actor_id="mia", text=TEXT, at_ms=T0 + 2 * HOUR),
         ev.OwnershipTransferred(actor_id="owen", new_owner_id="tom", at_ms=T0 + 3 * HOUR),
         ev.MessagePosted(actor_id="mia", text=TEXT, at_ms=T0 + 4 * HOUR)],
        [FactRow("v1", ITEM, "owen", T0 + 2 * HOUR, VIEW, 60),
         FactRow("v2", ITEM, "tom", T0 + 5 * HOUR, VIEW, 60)])
    tom = results["tom"]
    assert tom.allocated_minor == 10_000
    [item] = tom.items
    assert item.dwell_seconds == 60 and item.interaction_milli_points == 10 * 1000
    # The two facts naming owen (a message and a view before the transfer) count for nobody:
    # the discount is on owen's breakdown, the creator they name.
    owen = results["owen"]
    assert owen.allocated_minor == 0 and _discounted(owen, Reason.UNKNOWN_ITEM) == 2


def test_a_toggled_reaction_counts_once_in_a_week() -> None:
    results = _settle(
        [ev.GroupCreated(actor_id="owen", at_ms=T0 + HOUR),
         ev.ReactionSet(actor_id="mia", message_seq=7, emoji="👍", author_id="tom",
                        at_ms=T0 + 2 * HOUR),
         ev.ReactionRemoved(actor_id="mia", message_seq=7, emoji="👍", at_ms=T0 + 3 * HOUR),
         ev.ReactionSet(actor_id="mia", message_seq=7, emoji="👍", author_id="tom",
                        at_ms=T0 + 4 * HOUR),
         ev.ReactionSet(actor_id="mia", message_seq=7, emoji="🔥", author_id="tom",
                        at_ms=T0 + 5 * HOUR)], [])
    [item] = results["owen"].items
    assert item.interaction_milli_points == 2 * 2 * 1000  # 👍 once, 🔥 once
