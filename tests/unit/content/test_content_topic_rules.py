"""Topic normalisation, the topic index's keys, and the most-engaged ranking (pure)."""

from __future__ import annotations

import pytest

from services.content.domain.author_index import Cursor
from services.content.domain.topics import (
    DAY_MS,
    WINDOW_7D_MS,
    WINDOW_24H_MS,
    Engagement,
    InvalidTopic,
    days_in_window,
    engaged_key,
    engaged_prefix,
    entry_key,
    normalise_topic,
    rank_engaged,
    split_engaged_key,
    start_after,
    topic_prefix,
    topics_of,
)


@pytest.mark.parametrize(("raw", "topic"), [
    ("btc", "btc"),
    ("BTC", "btc"),
    ("#BTC", "btc"),
    ("ＢＴＣ", "btc"),          # fullwidth -> ASCII by NFKC, then casefold
    ("＃ＢＴＣ", "btc"),        # a fullwidth sigil too
    ("Straße", "strasse"),      # casefold, not lower()
    ("ﬁnance", "finance"),      # a ligature folded by NFKC
    ("rwa_2026", "rwa_2026"),
    ("比特币", "比特币"),
    ("Ⅻ", "xii"),               # a compatibility numeral: NFKC, then casefold
])
def test_normalisation(raw: str, topic: str) -> None:
    assert normalise_topic(raw) == topic


@pytest.mark.parametrize("raw", ["", "#", "bt c", "btc!", "btc\u200d", "🚀", "a/b", "x" * 51,
                                 "btc\x00", "a-b"])
def test_refused(raw: str) -> None:
    with pytest.raises(InvalidTopic):
        normalise_topic(raw)


def test_refusal_names_the_character() -> None:
    with pytest.raises(InvalidTopic, match="U\\+200D ZERO WIDTH JOINER"):
        normalise_topic("btc\u200d")


def test_one_topic_for_spellings() -> None:
    assert topics_of(["ＢＴＣ", "btc", "#Btc", "eth"]) == ("btc", "eth")


def test_keys_sort_newest_first_and_topics_apart() -> None:
    older = entry_key("btc", 1_000, "post_" + "0" * 24)
    newer = entry_key("btc", 2_000, "post_" + "1" * 24)
    assert newer < older
    assert older.startswith(topic_prefix("btc"))
    assert not entry_key("btcx", 1_000, "post_" + "0" * 24).startswith(topic_prefix("btc"))
    after = start_after("btc", Cursor(2_000, "post_" + "1" * 24))
    assert newer < after < older


def test_engaged_keys_round_trip() -> None:
    prefix = engaged_prefix("btc", 20_000)
    key = engaged_key("btc", 20_000, "post_" + "a" * 24, "user:ü")
    assert key.startswith(prefix)
    assert split_engaged_key(key, prefix) == ("post_" + "a" * 24, "user:ü")


def test_days_in_window() -> None:
    now = 10 * DAY_MS + 5
    assert list(days_in_window(now, WINDOW_24H_MS)) == [9, 10]
    assert list(days_in_window(now, WINDOW_7D_MS)) == list(range(3, 11))


NOW = 100 * DAY_MS
POSTS = {"p1": ("alice", NOW - 3 * DAY_MS), "p2": ("bob", NOW - 2 * DAY_MS),
         "p3": ("carol", NOW - DAY_MS)}


def test_distinct_users_rank_posts() -> None:
    engagements = [
        Engagement("p1", "u1", NOW - 10), Engagement("p1", "u2", NOW - 10),
        Engagement("p1", "u1", NOW - 5),   # the same user again: counted once
        Engagement("p2", "u3", NOW - 10),
    ]
    ranked = rank_engaged(POSTS, engagements, NOW, WINDOW_24H_MS, lambda _: False)
    assert [(r.post_id, r.engaged_users) for r in ranked] == [("p1", 2), ("p2", 1), ("p3", 0)]


def test_self_engagement_and_sanctioned_users_excluded() -> None:
    engagements = [
        Engagement("p2", "bob", NOW - 10),   # bob on his own post
        Engagement("p2", "bob", NOW - 11),
        Engagement("p1", "mallory", NOW - 10), Engagement("p1", "eve", NOW - 10),
        Engagement("p1", "u1", NOW - 10),
        Engagement("p3", "u1", NOW - 10), Engagement("p3", "u2", NOW - 10),
    ]
    ranked = rank_engaged(POSTS, engagements, NOW, WINDOW_24H_MS,
                          lambda user: user in {"mallory", "eve"})
    assert [(r.post_id, r.engaged_users) for r in ranked] == [("p3", 2), ("p1", 1), ("p2", 0)]


def test_windows_and_ties() -> None:
    engagements = [
        Engagement("p1", "u1", NOW - 2 * DAY_MS), Engagement("p1", "u2", NOW - 3 * DAY_MS),
        Engagement("p2", "u1", NOW - 100),
        Engagement("p3", "u1", NOW - 8 * DAY_MS),   # outside even 7 days
        Engagement("p3", "u2", NOW + 1),            # in the future: not yet
        Engagement("p9", "u1", NOW - 1),            # not a post of the topic
    ]
    day = rank_engaged(POSTS, engagements, NOW, WINDOW_24H_MS, lambda _: False)
    assert [(r.post_id, r.engaged_users) for r in day] == [("p2", 1), ("p3", 0), ("p1", 0)]
    week = rank_engaged(POSTS, engagements, NOW, WINDOW_7D_MS, lambda _: False)
    assert [(r.post_id, r.engaged_users) for r in week] == [("p1", 2), ("p2", 1), ("p3", 0)]
