"""The groups service's facts → group engagement facts and the group item's status (issue 15).

A group is the item ``group:<group id>`` (planetkit.group_items) of its owner. Interactions are
facts, not claims: a message or a reaction counts only as the groups service's own event on
planet.groups.events.v1, never as client telemetry (telemetry carries a reader's dwell only).

- MessagePosted by a member who is not the owner: one GROUP_MESSAGE fact (text length only:
  the text, the mentions and the attachments are private and are never copied). A reply in a
  thread is a message like any other (no kind of its own: in a chat every message answers
  someone; one kind keeps the points table and the owner's breakdown plain). A held message
  counts once, when it is released (its MessagePosted); MessageHeld itself is no act yet.
- ReactionSet by a member on another member's message, not by the owner: one GROUP_REACTION
  fact. Removing a reaction withdraws nothing (a fact is the act, as an unlike). Its event id
  is the reaction's, not the record's (a digest of group, message, member and emoji): setting
  a removed reaction again is the same event, which a week counts once (the model drops
  duplicate event ids), so toggling a reaction earns nothing more.
- GroupCreated, OwnershipTransferred, GroupClosed, AppealDecided (granted): the item's whole
  ItemStatus. The owner named is the CURRENT owner; a settlement reads the status as it stood
  at the week's close, and facts name the owner at their time. A closure (an operator's, for a
  policy violation) starts a removal period, as a removed post's; a granted appeal (the one
  way a group reopens) ends it.

The owner's own messages and reactions write no fact (the model would discount them as
self-interaction anyway; a busy owner would otherwise write most of a group's facts).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as ev
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus
from planetkit.envelope import DomainEvent, UndecodableEvent
from planetkit.fact_rows import GROUP_MESSAGE, GROUP_REACTION, FactRow, build_facts
from planetkit.group_items import group_item
from services.incentive.intake import periods
from services.incentive.intake.interaction_facts import occurred_at

GROUP_ITEM_KIND = "group"
# Text lengths are uint32 in the contract; groups caps messages far below this.
_MAX_TEXT = 2**32 - 1


@dataclass(frozen=True)
class GroupChange:
    """What one group event gives: a fact, the item's new whole status, or neither."""

    facts: FactRows | None = None
    status: ItemStatus | None = None


def group_key(event: DomainEvent[Message]) -> str:
    """The group item an event of planet.groups.events.v1 is about."""
    group_id = getattr(event.payload, "group_id", "")
    if not isinstance(group_id, str) or not group_id:
        raise UndecodableEvent(f"{type(event.payload).__name__} {event.event_id} lacks group_id")
    return group_item(group_id)


def fold_group(current: ItemStatus | None, event: DomainEvent[Message]) -> GroupChange:
    """The fact and the new whole status after ``event`` (``current`` is left untouched).

    UndecodableEvent for a record that cannot be read as the groups service writes it: a fact
    of a group never created, a missing actor or time."""
    p = event.payload
    item_id = group_key(event)
    if isinstance(p, ev.GroupCreated):
        status = ItemStatus(item_id=item_id)
        if current is not None:
            status.CopyFrom(current)
        owner = _required(event, p.actor_id, "actor_id")
        if status.creator_id and status.creator_id != owner:
            raise UndecodableEvent(f"GroupCreated {event.event_id}: {item_id} was created by "
                                   f"{status.creator_id!r} already")
        status.creator_id = owner
        status.item_kind = GROUP_ITEM_KIND
        status.published_at_ms = status.published_at_ms or occurred_at(event, p.at_ms)
        return GroupChange(status=_changed(current, status, event, p.at_ms))
    if current is None or not current.creator_id:
        if isinstance(p, ev.MessagePosted | ev.ReactionSet | ev.OwnershipTransferred
                      | ev.GroupClosed | ev.AppealDecided):
            raise UndecodableEvent(f"{type(p).__name__} {event.event_id}: group {item_id} was "
                                   "never created")
        return GroupChange()
    owner = current.creator_id
    if isinstance(p, ev.MessagePosted):
        author = _required(event, p.actor_id, "actor_id")
        if author == owner:
            return GroupChange()
        return GroupChange(facts=_fact(event, author, item_id, owner, p.at_ms, GROUP_MESSAGE,
                                       len(p.text)))
    if isinstance(p, ev.ReactionSet):
        reactor = _required(event, p.actor_id, "actor_id")
        if reactor in (owner, p.author_id):
            return GroupChange()
        return GroupChange(facts=_fact(event, reactor, item_id, owner, p.at_ms, GROUP_REACTION,
                                       0, fact_id=reaction_id(p.group_id, p.message_seq,
                                                              reactor, p.emoji)))
    status = ItemStatus()
    status.CopyFrom(current)
    if isinstance(p, ev.OwnershipTransferred):
        status.creator_id = _required(event, p.new_owner_id, "new_owner_id")
    elif isinstance(p, ev.GroupClosed):
        periods.start(status.removed, occurred_at(event, p.at_ms),
                      f"GroupClosed {event.event_id}")
    elif isinstance(p, ev.AppealDecided) and p.granted:
        periods.end_open(status.removed, occurred_at(event, p.at_ms),
                         f"AppealDecided {event.event_id}")
    else:
        return GroupChange()
    return GroupChange(status=_changed(current, status, event, p.at_ms))


def _changed(current: ItemStatus | None, status: ItemStatus, event: DomainEvent[Message],
             at_ms: int) -> ItemStatus | None:
    before = b"" if current is None else current.SerializeToString(deterministic=True)
    if status.SerializeToString(deterministic=True) == before:
        return None
    status.updated_at_ms = max(status.updated_at_ms, occurred_at(event, at_ms))
    return status


def reaction_id(group_id: str, message_seq: int, user_id: str, emoji: str) -> str:
    """The event id of a member's reaction (one per group, message, member and emoji)."""
    digest = hashlib.sha256(f"{group_id}\0{message_seq}\0{user_id}\0{emoji}".encode())
    return f"group-reaction:{digest.hexdigest()[:32]}"


def _fact(event: DomainEvent[Message], consumer: str, item: str, owner: str, at_ms: int,
          kind: int, text_length: int, fact_id: str = "") -> FactRows:
    when = occurred_at(event, at_ms)
    what = type(event.payload).__name__
    if when <= 0:
        raise UndecodableEvent(f"{what} {event.event_id} has no time")
    if not 0 <= text_length <= _MAX_TEXT:
        raise UndecodableEvent(f"{what} {event.event_id}: text length {text_length} out of range")
    row = FactRow(event_id=fact_id or event.event_id, item_id=item, creator_id=owner,
                  occurred_at_ms=when, kind=kind, text_length=text_length)
    return build_facts(f"{event.event_id}:0", consumer, [row], keyed=True)


def _required(event: DomainEvent[Message], value: str, name: str) -> str:
    if not value:
        raise UndecodableEvent(f"{type(event.payload).__name__} {event.event_id} lacks {name}")
    return value
