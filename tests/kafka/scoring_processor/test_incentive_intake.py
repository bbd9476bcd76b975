"""The incentive service's intake against the real broker: source events in, facts and whole
statuses out (read back committed-only, as the scoring job reads them), exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from intake_harness import SourceEvents, TopicReader, latest, letters, payloads
from scoring_harness import ProcessorProcess

from planet.content.v1 import interactions_pb2 as ix
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1.events_pb2 import PostKind, PostPublished
from planet.exchange.v1.events_pb2 import KycVerified, TradeFeeCharged
from planet.exchange.v2 import events_pb2 as v2
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.social.v1 import events_pb2 as social
from planet.social.v1 import graph_pb2 as graph
from planetkit import topics as registry
from planetkit.fact_rows import COMMENT, FOLLOW, LIKE, REPLY, SHARE, iter_facts

pytestmark = pytest.mark.kafka

DAY = 86_400_000


def usdt_fee(user: str, fee_id: str, value: int, at_ms: int, asset: str = "USDT",
             amount: int | None = None) -> v2.TradeFeeCharged:
    return v2.TradeFeeCharged(
        fee_id=fee_id, user_id=user, fee=v2.Money(amount_minor=amount or value, asset=asset),
        quote_value=v2.Money(amount_minor=value, asset="USDT"), charged_at_ms=at_ms)


async def produce_a_small_world(e: SourceEvents, s: str) -> None:
    """A creator's two posts, everything one can do with them, and the users' standing."""
    t = e.now
    creator, u1, u2 = f"cr-{s}", f"u1-{s}", f"u2-{s}"
    p1, p2, c1, c2 = f"post_1{s}", f"post_2{s}", f"cmt_1{s}", f"cmt_2{s}"
    post, mod, ixs = registry.POSTS, registry.MODERATION, registry.INTERACTIONS
    await e.send(post, PostPublished(post_id=p1, creator_id=creator,
                                     kind=PostKind.POST_KIND_SHORT, published_at_ms=t), "pub1", p1)
    await e.send(post, PostPublished(post_id=p2, creator_id=creator,
                                     kind=PostKind.POST_KIND_ARTICLE, published_at_ms=t),
                 "pub2", p2)
    await e.garbage(post, p1)  # dead-lettered: not an envelope
    await e.send(ixs, ix.CommentPosted(comment_id=c1, post_id=p1, post_author_id=creator,
                                       author_id=u1, text="hello", text_length=5, at_ms=t + 1),
                 "c1", p1)
    await e.send(ixs, ix.CommentPosted(comment_id=c2, post_id=p1, post_author_id=creator,
                                       author_id=u2, parent_comment_id=c1, text="hi",
                                       text_length=2, at_ms=t + 2), "c2", p1)
    await e.send(ixs, ix.ItemLiked(item_id=p1, item_author_id=creator, user_id=u1, at_ms=t + 3,
                                   post_id=p1), "like1", p1)
    await e.send(ixs, ix.ItemUnliked(item_id=p1, item_author_id=creator, user_id=u1,
                                     at_ms=t + 4, post_id=p1), "unlike1", p1)
    await e.send(ixs, ix.CommentEdited(comment_id=c1, post_id=p1, author_id=u1, text="hey",
                                       text_length=3, at_ms=t + 5), "edit1", p1)
    await e.send(ixs, ix.ItemShared(share_id=f"shr_{s}", item_id=p2, item_author_id=creator,
                                    user_id=u2, quote="q" * 9, at_ms=t + 6, post_id=p2,
                                    quote_length=9), "share1", p2)
    await e.send(ixs, ix.ItemLiked(item_id=c1, item_author_id=u1, user_id=creator, at_ms=t + 7,
                                   post_id=p1), "likec1", p1)
    await e.send(registry.SOCIAL_GRAPH, graph.Followed(follower_id=u1, followee_id=creator,
                                                       at_ms=t + 8), "follow1", u1)
    await e.send(registry.SOCIAL_GRAPH, graph.Unfollowed(follower_id=u1, followee_id=creator,
                                                         at_ms=t + 9), "unfollow1", u1)
    await e.send(mod, reports.ItemRemoved(item_id=p2, kind=reports.MODERATED_KIND_POST,
                                          post_id=p2, author_id=creator, at_ms=t + DAY),
                 "rm2", p2)
    await e.send(mod, reports.ItemRestored(item_id=p2, kind=reports.MODERATED_KIND_POST,
                                           post_id=p2, author_id=creator, at_ms=t + 2 * DAY),
                 "rs2", p2)
    # Dead-lettered: p1 published again for another creator.
    await e.send(post, PostPublished(post_id=p1, creator_id=u2, kind=PostKind.POST_KIND_SHORT,
                                     published_at_ms=t), "pub1-other", p1)
    await e.send(registry.KYC, KycVerified(user_id=u1, verified_at_ms=t), "kyc1", u1)
    ids = registry.SOCIAL_IDENTITIES
    await e.send(ids, social.CreatorIdentityOpened(user_id=creator, handle=f"h{s}",
                                                   opened_at_ms=t), "open", creator)
    await e.send(ids, social.AccountSanctioned(user_id=u2, sanction_id="s1", reason="spam",
                                               at_ms=t + 10), "sanction", u2)
    await e.send(ids, social.SanctionLifted(user_id=u2, sanction_id="s1", at_ms=t + 20),
                 "lift", u2)
    fees = registry.TRADE_FEES
    await e.send(fees, usdt_fee(u1, "f1", 100, t), "fee1", u1)
    await e.send(fees, usdt_fee(u1, "f1", 100, t), "fee1-republished", u1)  # same fee id
    await e.send(fees, usdt_fee(u1, "f2", 200, t, asset="BTC", amount=3), "fee2", u1)
    # Dead-lettered: a v1 fee in BTC has no value in the pool's quote asset.
    await e.send(fees, TradeFeeCharged(fee_id="f3", user_id=u1, amount_minor=7, currency="BTC",
                                       charged_at_ms=t), "fee3", u1)


async def test_source_events_become_facts_and_whole_statuses_and_bad_ones_dead_letters(
    processor: ProcessorProcess, events: SourceEvents, kafka_bootstrap: str
) -> None:
    s, t = events.suffix, events.now
    creator, u1, u2 = f"cr-{s}", f"u1-{s}", f"u2-{s}"
    await produce_a_small_world(events, s)

    def reader(topic: registry.Topic) -> TopicReader:
        return TopicReader(kafka_bootstrap, events.topic(topic))

    facts = payloads(await reader(registry.INTERACTION_FACTS).until(
        lambda v: len(v) >= 6, 90, "interaction facts", processor.log_tail), FactRows)
    rows = {r.event_id: (f.consumer_id, r.item_id, r.creator_id, r.kind, r.text_length)
            for f in facts for r in iter_facts(f)}
    assert rows == {
        "c1": (u1, f"post_1{s}", creator, COMMENT, 5),
        "c2": (u2, f"post_1{s}", creator, REPLY, 2),
        "like1": (u1, f"post_1{s}", creator, LIKE, 0),
        "share1": (u2, f"post_2{s}", creator, SHARE, 9),
        "likec1": (creator, f"cmt_1{s}", u1, LIKE, 0),
        "follow1": (u1, f"home:{creator}", creator, FOLLOW, 0),
    }
    assert len(facts) == 6  # one record per act; unlike, edit, unfollow wrote none

    def items_done(values: list[bytes]) -> bool:
        got = latest(values, ItemStatus, lambda i: i.item_id)
        return len(got) == 4 and len(got[f"post_2{s}"].removed) == 1 and \
            got[f"post_2{s}"].removed[0].until_ms != 0

    items = latest(await reader(registry.ITEM_STATUS).until(items_done, 60, "item statuses",
                                                            processor.log_tail),
                   ItemStatus, lambda i: i.item_id)
    p1, p2 = items[f"post_1{s}"], items[f"post_2{s}"]
    assert (p1.creator_id, p1.item_kind, p1.published_at_ms, list(p1.removed)) == \
        (creator, "post", t, [])
    assert (p2.item_kind, list(p2.removed)) == ("article",
                                                [Period(from_ms=t + DAY, until_ms=t + 2 * DAY)])
    assert (items[f"cmt_2{s}"].creator_id, items[f"cmt_2{s}"].item_kind) == (u2, "comment")

    def users_done(values: list[bytes]) -> bool:
        got = latest(values, UserStatus, lambda u: u.user_id)
        return (set(got) == {creator, u1, u2}
                and sum(d.quote_minor for d in got[u1].fees) == 300
                and bool(got[u2].sanctioned) and got[u2].sanctioned[0].until_ms != 0)

    users = latest(await reader(registry.USER_STATUS).until(users_done, 60, "user statuses",
                                                            processor.log_tail),
                   UserStatus, lambda u: u.user_id)
    assert users[u1].kyc_verified_at_ms == t
    assert [(d.day, d.quote_minor, d.quote_asset) for d in users[u1].fees] == \
        [(t // DAY, 300, "USDT")]  # f1 once, f2's quote value, f3 refused
    assert list(users[creator].identity_open) == [Period(from_ms=t)]
    assert list(users[u2].sanctioned) == [Period(from_ms=t + 10, until_ms=t + 20)]

    dead = letters(await reader(registry.DLQ_SCORING).until(
        lambda v: len(v) >= 3, 30, "dead letters", processor.log_tail))
    reasons = {(d.source_topic, d.value == b"\xff\xfenot an envelope"): d.reason for d in dead}
    assert len(dead) == 3 and {d.consumer for d in dead} == {"incentive"}
    assert "Envelope" in reasons[(events.topic(registry.POSTS), True)]
    assert "already published for" in reasons[(events.topic(registry.POSTS), False)]
    assert "no value in the quote asset USDT" in reasons[(events.topic(registry.TRADE_FEES),
                                                          False)]


@pytest.mark.slow
async def test_kill9_mid_stream_writes_every_fact_and_fee_exactly_once(
    processor: ProcessorProcess, events: SourceEvents, kafka_bootstrap: str
) -> None:
    s, t = events.suffix, events.now
    creator, trader = f"cr-{s}", f"tr-{s}"
    total = 400

    async def stream(first: int, last: int, pause_s: float) -> None:
        for i in range(first, last):
            post = f"post_{i % 16}{s}"
            await events.send(registry.INTERACTIONS, ix.ItemLiked(
                item_id=post, item_author_id=creator, user_id=f"u{i}-{s}", at_ms=t + i,
                post_id=post), f"like{i}", post)
            if i % 4 == 0:
                await events.send(registry.TRADE_FEES, usdt_fee(trader, f"f{i}", 10, t),
                                  f"fee{i}", trader)
            if i % 10 == 0:
                await asyncio.sleep(pause_s)  # keep the stream going while we kill the worker

    facts_reader = TopicReader(kafka_bootstrap, events.topic(registry.INTERACTION_FACTS))
    await stream(0, 100, 0)
    await facts_reader.until(lambda v: len(v) >= 10, 90, "no facts", processor.log_tail)
    producing = asyncio.create_task(stream(100, total, 0.05))
    await asyncio.sleep(1.0)
    assert not producing.done(), "stream finished before the kill; make it longer"
    processor.kill9()
    await producing
    processor.start()

    values = await TopicReader(kafka_bootstrap, events.topic(registry.INTERACTION_FACTS)).until(
        lambda v: len({e for f in payloads(v, FactRows) for e in f.event_ids}) >= total, 120,
        "facts after the restart", processor.log_tail)
    await asyncio.sleep(3)  # a duplicate, if any, would be committed right behind
    values = await TopicReader(kafka_bootstrap, events.topic(registry.INTERACTION_FACTS)).until(
        lambda v: len(v) >= len(values), 30, "facts re-read")
    per_event = Counter(e for f in payloads(values, FactRows) for e in f.event_ids)
    assert set(per_event) == {f"like{i}" for i in range(total)}
    assert max(per_event.values()) == 1, [e for e, n in per_event.items() if n > 1][:10]

    def fees_of(values: list[bytes]) -> int:
        got = latest(values, UserStatus, lambda u: u.user_id).get(trader)
        return 0 if got is None else sum(d.quote_minor for d in got.fees)

    users = await TopicReader(kafka_bootstrap, events.topic(registry.USER_STATUS)).until(
        lambda v: fees_of(v) >= 10 * total // 4, 60, "fees after the restart",
        processor.log_tail)
    assert fees_of(users) == 10 * total // 4
    assert len(users) == total // 4  # one whole status per fee, none twice
