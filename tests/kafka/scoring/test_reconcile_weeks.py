"""`python -m services.incentive.reconcile` on the real broker, against weeks settled here.

The weeks are produced straight to the pool's topics (facts, statuses, fundings), closed with a
cut taken from the broker, then settled with the scoring modules (fact_log.load_week, settle,
results) and their records written by this test, not by the scoring job. Each week carries
redelivered events (one event id in two records), facts written after the cut (late), a
removed item, an ineligible creator, a sanctioned and a weightless consumer, caps and repeats.
- 2026-W44: reconciles with no difference (exit 0).
- 2026-W45: as W44 plus a creator engaging with their own items (self_interaction on both
  sides): no difference either.
- 2026-W46: one creator's amount corrupted in its record: reported (exit 1).
- 2026-W47 (closed, not settled), an unknown and a malformed week: one line, exit 2.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.protobuf.message import Message

from planet.incentive.v1.facts_pb2 import DayFees, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import PoolFunded, WeekClosed
from planetkit.envelope import encode, wrap
from planetkit.fact_rows import COMMENT, FOLLOW, LIKE, SHARE, VIEW, FactRow, build_facts
from planetkit.kafka.producer import WriterBoundProducer, make_producer
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, INCENTIVE
from services.incentive.domain.facts import MS_PER_DAY, IsoWeek
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import (
    PoolTopics,
    cut_now,
    cut_of,
    load_week,
    read_pool_book,
)
from services.incentive.scoring.results import creator_results, week_settled

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
ASSET = "USDT"
GRACE_MS = 3_600_000
CREATORS = ("ada", "bo", "cy", "dee")  # dee: no KYC (ineligible)
CONSUMERS = ("carol", "dan", "fay", "gus", "sam", "eve")  # sam: sanctioned; eve: unverified
ITEMS = {"post-a1": "ada", "post-a2": "ada", "post-b1": "bo", "post-b2": "bo",
         "post-c1": "cy", "post-d1": "dee"}
REMOVED_ITEM = "post-b2"  # removed on the fourth day of each week
SELF = "ada"


class Writers:
    """The two writers of the pool's input topics, and how records are stamped."""

    def __init__(self, bootstrap: str, topics: PoolTopics) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.aggregator = make_producer(bootstrap, writer=ENGAGEMENT_AGGREGATOR)
        self.incentive = make_producer(bootstrap, writer=INCENTIVE)
        self._n = 0

    async def start(self) -> None:
        await self.aggregator.start()
        await self.incentive.start()

    async def stop(self) -> None:
        await self.aggregator.stop()
        await self.incentive.stop()

    async def send(self, producer: WriterBoundProducer, topic: str, key: str, payload: Message,
                   at_ms: int | None = None) -> None:
        """One enveloped record; ``at_ms`` is its Kafka timestamp (when it was written)."""
        self._n += 1
        envelope = wrap(payload, event_id=f"rec-{self._n}-{time.time_ns()}", source=(
            producer.writer), aggregate_id=key, occurred_at_ms=at_ms or int(time.time() * 1000))
        await producer.send_and_wait(topic, encode(envelope), key=key.encode(),
                                     timestamp_ms=at_ms)

    async def facts(self, consumer: str, rows: list[FactRow], *, views: bool,
                    late: bool = False) -> None:
        """A FactRows record written when its first row happened (as the writers do), or now
        when ``late``."""
        if not rows:
            return
        producer = self.aggregator if views else self.incentive
        topic = self.topics.view_facts if views else self.topics.interaction_facts
        self._n += 1
        await self.send(producer, topic, consumer, build_facts(f"rows-{self._n}", consumer, rows),
                        at_ms=None if late else min(r.occurred_at_ms for r in rows))


async def produce_statuses(w: Writers, first_week: IsoWeek) -> None:
    """Users and items as of the first week (and every later one); stale values first."""
    t0 = first_week.start_ms
    open_ = [Period(from_ms=t0 - 30 * MS_PER_DAY)]
    for user in (*CREATORS, *CONSUMERS):
        # A stale record first: the latest value per user must win.
        await w.send(w.incentive, w.topics.user_status, user, UserStatus(user_id=user))
        kyc = 0 if user in ("dee", "eve") else t0 - 20 * MS_PER_DAY
        fees = [DayFees(day=t0 // MS_PER_DAY - d, quote_minor=2_500, quote_asset=ASSET)
                for d in (1, 2)] if user == "carol" else []
        sanctioned = [Period(from_ms=t0 - MS_PER_DAY)] if user == "sam" else []
        await w.send(w.incentive, w.topics.user_status, user, UserStatus(
            user_id=user, kyc_verified_at_ms=kyc, identity_open=open_, sanctioned=sanctioned,
            fees=fees, updated_at_ms=t0))
    for item, owner in ITEMS.items():
        await w.send(w.incentive, w.topics.item_status, item, ItemStatus(
            item_id=item, creator_id=owner, item_kind="post", published_at_ms=t0 - MS_PER_DAY))


async def remove_item(w: Writers, week: IsoWeek) -> None:
    """The removed item's status: removed from the fourth day of ``week``."""
    await w.send(w.incentive, w.topics.item_status, REMOVED_ITEM, ItemStatus(
        item_id=REMOVED_ITEM, creator_id=ITEMS[REMOVED_ITEM], item_kind="post",
        removed=[Period(from_ms=week.start_ms + 3 * MS_PER_DAY)]))


def week_facts(week: IsoWeek, seed: int, *, self_engagement: bool
               ) -> dict[tuple[str, bool], list[FactRow]]:
    """(consumer, is views) -> rows of the week: fixed cases plus random engagement."""
    t0 = week.start_ms
    rng = random.Random(seed)
    out: dict[tuple[str, bool], list[FactRow]] = {}
    n = 0

    def add(consumer: str, item: str, at: int, kind: int, dwell: int = 0,
            text: int = 0, event: str | None = None) -> None:
        nonlocal n
        n += 1
        creator = item.removeprefix("home:") if kind == FOLLOW else ITEMS[item]
        out.setdefault((consumer, kind == VIEW), []).append(FactRow(
            event or f"{week}-ev{n}", item, creator, at, kind, dwell, text))

    add("carol", "post-a1", t0 + 1000, VIEW, dwell=240)
    add("carol", "post-a1", t0 + 2000, COMMENT, text=50)
    add("carol", "post-b1", t0 + 3000, VIEW, dwell=900)  # capped at 600
    add("carol", "post-b1", t0 + 4000, VIEW, dwell=3)  # below the minimum
    add("dan", "post-a1", t0 + 5000, LIKE)
    add("dan", "post-a1", t0 + 6000, LIKE)  # a repeat
    add("carol", "home:ada", t0 + 7000, FOLLOW)
    add("carol", "home:ada", t0 + 7000, FOLLOW)  # same time: the smaller event id counts
    add("sam", "post-c1", t0 + 8000, VIEW, dwell=300)  # sanctioned
    add("eve", "post-b1", t0 + 9000, VIEW, dwell=300)  # no value weight
    add("carol", REMOVED_ITEM, t0 + MS_PER_DAY, VIEW, dwell=120)  # before the removal
    add("carol", REMOVED_ITEM, t0 + 4 * MS_PER_DAY, VIEW, dwell=120)  # after it
    add("dan", "post-d1", t0 + 10_000, VIEW, dwell=100)  # creator without KYC
    add("dan", "post-c1", t0 + 11_000, SHARE, text=2)
    for k in range(8):  # interactions over the day's cap
        add("fay", "post-c1", t0 + 2 * MS_PER_DAY + k, COMMENT, text=40)
    for _ in range(120):
        consumer = rng.choice(CONSUMERS)
        item = rng.choice(list(ITEMS))
        kind = rng.choice((VIEW, VIEW, VIEW, LIKE, COMMENT, SHARE, FOLLOW))
        if kind == FOLLOW:
            item = f"home:{ITEMS[item]}"
        add(consumer, item, t0 + rng.randrange(7 * MS_PER_DAY), kind,
            dwell=rng.choice((2, 30, 400, 800)) if kind == VIEW else 0,
            text=rng.choice((0, 10, 60)) if kind in (COMMENT, SHARE) else 0)
    if self_engagement:
        add(SELF, "post-a2", t0 + 12_000, VIEW, dwell=200)
        add(SELF, "post-a1", t0 + 13_000, COMMENT, text=80)
    return out


async def produce_week(w: Writers, week: IsoWeek, seed: int, *, self_engagement: bool) -> None:
    """The week's facts; one event delivered in two records (a redelivery)."""
    rows = week_facts(week, seed, self_engagement=self_engagement)
    for (consumer, views), facts in sorted(rows.items()):
        await w.facts(consumer, facts, views=views)
    again = rows[("carol", True)][0]
    await w.facts("carol", [again], views=True)


async def close_week(w: Writers, week: IsoWeek) -> WeekClosed:
    """WeekClosed with the broker's ends now as the cut."""
    closed = WeekClosed(week=str(week), closed_at_ms=week.end_ms + GRACE_MS,
                        cuts=await cut_now(w.bootstrap, w.topics),
                        cause="grace")
    await w.send(w.incentive, w.topics.weeks, str(week), closed)
    return closed


async def late_facts(w: Writers, week: IsoWeek) -> None:
    """Facts of the week written after its cut: never counted."""
    t0 = week.start_ms
    await w.facts("dan", [FactRow(f"{week}-late-1", "post-c1", "cy", t0 + 6 * MS_PER_DAY,
                                  VIEW, 500)], views=True, late=True)
    await w.facts("dan", [FactRow(f"{week}-late-2", "post-c1", "cy", t0 + 6 * MS_PER_DAY,
                                  COMMENT, 0, 70)], views=False, late=True)


async def settle_and_write(w: Writers, bootstrap: str, week: IsoWeek,
                           corrupt: str | None = None) -> None:
    """Settle as the scoring job does and write WeekSettled and the creator results; with
    ``corrupt``, that creator's amount is one unit higher in its record."""
    book = await read_pool_book(bootstrap, w.topics, ASSET)
    closed = book.closed(str(week))
    assert closed is not None
    built = await load_week(bootstrap, w.topics, week, cut_of(closed), book, ASSET,
                            status_at_ms=closed.closed_at_ms)
    result = settle(built.facts, book.policy_for(str(week)))
    settled = week_settled(result, ASSET, settled_at_ms=int(time.time() * 1000),
                           facts_counted=built.rows, facts_late=2)
    await w.send(w.incentive, w.topics.weeks, str(week), settled)
    for record in creator_results(result, built, ASSET):
        if record.creator_id == corrupt:
            assert record.allocated_minor > 0 and record.items
            record.allocated_minor += 1
            record.payable_minor += 1
            record.items[0].amount_minor += 1
            record.items[0].dwell_minor += 1
        await w.send(w.incentive, w.topics.creator_weeks, record.creator_id, record)


async def build_weeks(bootstrap: str, topics: PoolTopics) -> None:
    weeks = [IsoWeek.parse(f"2026-W{n}") for n in (44, 45, 46, 47)]
    w = Writers(bootstrap, topics)
    await w.start()
    try:
        await produce_statuses(w, weeks[0])
        for n, week in enumerate(weeks):
            await w.send(w.incentive, topics.operations, str(week), PoolFunded(
                funding_id=f"fund-{week}", week=str(week), amount_minor=10_000 + 1_000 * n,
                asset=ASSET, operator_id="op-1", at_ms=weeks[0].start_ms))
        for n, week in enumerate(weeks):
            await remove_item(w, week)
            await produce_week(w, week, seed=n, self_engagement=week == weeks[1])
            await close_week(w, week)
            await late_facts(w, week)
            if week != weeks[3]:  # W47 stays closed but unsettled
                await settle_and_write(w, bootstrap, week,
                                       corrupt="bo" if week == weeks[2] else None)
    finally:
        await w.stop()


def reconcile(bootstrap: str, suffix: str, week: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix}
    env.pop("CLICKHOUSE_URL", None)
    return subprocess.run([sys.executable, "-m", "services.incentive.reconcile", "--week", week],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_reconcile_settled_weeks(kafka_bootstrap: str, registered_topics: str) -> None:
    suffix = registered_topics
    asyncio.run(build_weeks(kafka_bootstrap, PoolTopics.named(suffix)))

    clean = reconcile(kafka_bootstrap, suffix, "2026-W44")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "DIFF" not in clean.stdout
    assert "reconcile 2026-W44: OK" in clean.stdout
    # Every row produced for the week plus the redelivered one; the late rows stayed out.
    produced = sum(map(len, week_facts(IsoWeek.parse("2026-W44"), 0,
                                       self_engagement=False).values()))
    assert f"rows of the week {produced + 1}," in clean.stdout
    reasons = next(ln for ln in clean.stdout.splitlines() if ln.startswith("discounts "))
    for reason in ("duplicate_event 1/1", "item_removed", "creator_ineligible",
                   "sanctioned_account", "no_value_weight", "below_min_dwell", "dwell_cap",
                   "short_text", "repeat_interaction", "interaction_cap"):
        assert reason in reasons, reasons

    selfish = reconcile(kafka_bootstrap, suffix, "2026-W45")
    assert selfish.returncode == 0, selfish.stdout + selfish.stderr
    assert "DIFF" not in selfish.stdout
    assert "self_interaction 2/2" in selfish.stdout

    corrupted = reconcile(kafka_bootstrap, suffix, "2026-W46")
    assert corrupted.returncode == 1, corrupted.stdout + corrupted.stderr
    diff = [ln for ln in corrupted.stdout.splitlines() if ln.startswith("DIFF")]
    assert any("creator 'bo': Merkle proof" in ln for ln in diff), "\n".join(diff)
    assert any(ln.startswith("DIFF week: Σ payable") for ln in diff), "\n".join(diff)
    assert any("records vs model creator 'bo'" in ln for ln in diff), "\n".join(diff)
    assert all("'bo'" in ln or ln.startswith("DIFF week:") for ln in diff), "\n".join(diff)

    for week, says in (("2026-W47", "closed but not settled"),
                       ("2026-W40", "unknown"), ("2026-W99", "not an ISO week")):
        bad = reconcile(kafka_bootstrap, suffix, week)
        assert bad.returncode == 2, bad.stdout + bad.stderr
        assert says in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
