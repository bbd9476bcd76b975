"""The group socket's changes (reactions, and the edits of messages a catch-up or a gap read
showed) over the real app and a real GroupHub, the service stood in by a list of facts that
answers History with changes: a message a read shows in its current form does not get its
reaction again, while a message that comes live as posted does (no count lost or doubled)."""

from __future__ import annotations

from google.protobuf.message import Message

from gateway.auth import Principal
from gateway.group_hub import GroupHub
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from tests.unit.gateway.test_group_socket import Room, _app, _never_started, _on_loop, _socket

_CHANGES = {ev.MessageEdited: "edited", ev.ReactionSet: "reaction_set",
            ev.ReactionRemoved: "reaction_removed", ev.MessagePinned: "pinned"}


class ChangesRoom(Room):
    """History as the service answers it with ``with_changes``: messages in their current
    form (text and reaction counts after every fact so far), and the changes after the
    position, all in one page."""

    async def history(self, caller: Principal, request: rpc.HistoryRequest) -> rpc.HistoryPage:
        views: dict[int, rpc.MessageView] = {}
        changes: list[rpc.ConversationChange] = []
        for f in self.facts:
            if isinstance(f, ev.MessagePosted):
                views[f.seq] = rpc.MessageView(seq=f.seq, author_id=f.actor_id, text=f.text)
                continue
            view = views[getattr(f, "message_seq")]  # noqa: B009
            seq: int = getattr(f, "seq")  # noqa: B009
            if isinstance(f, ev.MessageEdited):
                view.text = f.text
            elif isinstance(f, ev.ReactionSet):
                view.reactions[f.emoji] = view.reactions.get(f.emoji, 0) + 1
            if seq >= request.around_seq and type(f) in _CHANGES:
                change = rpc.ConversationChange()
                getattr(change, _CHANGES[type(f)]).CopyFrom(f)
                changes.append(change)
        last = len(self.facts)
        return rpc.HistoryPage(
            messages=[v for s, v in sorted(views.items()) if s >= request.around_seq],
            changes=changes if request.with_changes else [], last_seq=last, through_seq=last)


def _react(room: Room, seq: int, who: str = "bob") -> Message:
    return room.add(ev.ReactionSet(message_seq=seq, emoji="👍", actor_id=who, at_ms=5))


def test_a_gap_read_shows_counts_once_and_a_live_message_gets_its_reactions() -> None:
    room, hub = ChangesRoom(), GroupHub(_never_started, "t", 1)
    with _app(room, hub) as client, _socket(client, "alice") as ws:
        ws.send_json({"after": 0})
        assert ws.receive_json() == {"type": "caught_up", "last_seq": 0}
        # 1 and 2 posted, 2 reacted to; the feed misses 1: the gap (up to 1) is read again,
        # and that read already shows 2 with its reaction.
        room.post("bob", "one")
        two = room.post("bob", "two")
        reaction = _react(room, 2)
        _on_loop(client, hub.deliver, two)
        first = ws.receive_json()
        assert (first["type"], first["seq"]) == ("message", 1)
        live_two = ws.receive_json()
        assert (live_two["type"], live_two["seq"]) == ("message", 2)
        assert live_two["message"]["reactions"] == {}  # as posted
        # So the reaction still comes: the live message did not show it.
        _on_loop(client, hub.deliver, reaction)
        got = ws.receive_json()
        assert (got["type"], got["seq"], got["message_seq"], got["emoji"], got["user_id"],
                got["removed"]) == ("reaction", 3, 2, "👍", "bob", False)


def test_a_catch_up_sends_older_messages_changes_but_not_what_a_message_shows() -> None:
    room = ChangesRoom()
    hub = GroupHub(_never_started, "t", 1)
    room.post("bob", "one")
    room.post("bob", "two")
    room.add(ev.MessageEdited(message_seq=1, text="one!", actor_id="bob"))
    _react(room, 1)
    room.post("bob", "three")
    _react(room, 5, who="alice")
    with _app(room, hub) as client, _socket(client, "alice") as ws:
        ws.send_json({"after": 2})
        got = [ws.receive_json() for _ in range(4)]
    assert [(m["type"], m.get("seq", m.get("last_seq"))) for m in got] == [
        ("edit", 3), ("reaction", 4), ("message", 5), ("caught_up", 6)]
    assert got[0]["text"] == "one!" and got[1]["message_seq"] == 1
    assert got[2]["message"]["reactions"] == {"👍": 1}  # its reaction (6) is not sent again
