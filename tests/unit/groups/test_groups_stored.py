"""The store's layout: every state of a long random history survives encode/decode, keys
round-trip and sort a group's messages in seq order (history scans a range)."""

from __future__ import annotations

from planet.content.v1.reports_pb2 import POLICY_REASON_SCAM
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain.state import message_key, reactions_key
from services.groups.domain.stored import (
    decode,
    encode,
    key_bytes,
    key_from_bytes,
    message_range,
)
from tests.unit.groups.groups_world import G, random_world, seeded


def test_every_value_and_key_round_trips() -> None:
    kinds = {k[0] for k in random_world(1, n=1_000).store.values}
    assert kinds == {"info", "member", "link", "message", "reactions", "rate"}
    asking = seeded(join_mode=ev.JOIN_MODE_REQUEST)
    asking.ok(c.RequestJoin("applicant", G, "hello"))
    asking.ok(c.CloseGroup("op", G, POLICY_REASON_SCAM, "note"), operator=True)
    for w in (random_world(1, n=1_000), asking):
        for key, value in w.store.values.items():
            raw = key_bytes(key)
            assert key_from_bytes(raw) == key
            assert decode(key, encode(value)) == value
            assert encode(decode(key, encode(value))) == encode(value)


def test_message_keys_sort_by_seq_and_a_range_covers_them() -> None:
    keys = sorted(key_bytes(message_key(G, s)) for s in (1, 2, 10, 255, 256, 70_000))
    assert [int(key_from_bytes(k)[2]) for k in keys] == [1, 2, 10, 255, 256, 70_000]
    low, high = message_range(G, 2, 256)
    assert [int(key_from_bytes(k)[2]) for k in keys if low <= k < high] == [2, 10, 255, 256]
    # Another group's keys never fall in the range, nor do reactions.
    assert not low <= key_bytes(message_key("g10", 5)) < high
    assert not low <= key_bytes(reactions_key(G, 5, "u")) < high
    assert key_from_bytes(key_bytes(reactions_key(G, 5, "a\0b"))) == ("reactions", G, "5",
                                                                      "a\0b")
