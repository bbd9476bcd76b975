"""The reconciliation's SQL (chdb) against the model's stage 1 on random weeks, no Kafka.

The same decoded records go to scoring.week_inputs (the settlement's input) and to the SQL's
raw tables; the model's Engagement and the SQL's pairs, discounts and item counts must agree
exactly. The weeks are small and dense so that every rule meets its edge cases: redelivered
events with other content, ties in time for likes and follows, caps, removed and restored
items, items without a status, stale status records, sanctions and KYC after the close, and (in
half of them) consumers engaging with their own items.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest

from planet.incentive.v1.facts_pb2 import DayFees, ItemStatus, Period, UserStatus
from planetkit.fact_rows import (
    COMMENT,
    FOLLOW,
    GROUP_MESSAGE,
    GROUP_REACTION,
    LIKE,
    QA,
    REPLY,
    SHARE,
    TIP,
    VIEW,
    FactRow,
    build_facts,
    iter_facts,
)
from services.incentive.domain.facts import MS_PER_DAY, IsoWeek
from services.incentive.domain.policy import (
    ScoringPolicy,
    default_policy,
    group_engagement_policy,
)
from services.incentive.domain.settlement import score_week
from services.incentive.reconcile import compare, sql
from services.incentive.reconcile.engine import SqlEngine, open_engine
from services.incentive.reconcile.loader import RawLoader
from services.incentive.reconcile.run import sql_stage1
from services.incentive.scoring.week_inputs import WeekInputs

WEEK = IsoWeek.parse("2026-W48")
START, END = WEEK.start_ms, WEEK.end_ms
CLOSE = END + 3_600_000
# Group kinds too: 0 points under the launch policy (it does not list them), points under
# the group-engagement one; a group message is a text kind.
KINDS = (VIEW, VIEW, VIEW, LIKE, LIKE, COMMENT, REPLY, SHARE, FOLLOW, FOLLOW, TIP, QA,
         GROUP_MESSAGE, GROUP_REACTION)


@pytest.fixture(scope="module", params=["chdb", "server"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[SqlEngine]:
    """The embedded backend, and the server backend's code on clickhouse-connect's in-process
    chdb interface (pytest runs one param's tests, closes it, then the other's: one engine
    directory per process at a time)."""
    url = "" if request.param == "chdb" else f"chdb://{tmp_path_factory.mktemp('server')}"
    with open_engine(url) as opened:
        yield opened


def _period(rng: random.Random) -> Period:
    start = START + rng.randrange(-2, 9) * MS_PER_DAY + rng.randrange(MS_PER_DAY)
    until = 0 if rng.random() < 0.6 else start + rng.randrange(1, 4) * MS_PER_DAY
    return Period(from_ms=start, until_ms=until)


def _user(rng: random.Random, user: str) -> UserStatus:
    kyc = rng.choice([0, START - MS_PER_DAY, START + 2 * MS_PER_DAY, CLOSE + 1, CLOSE])
    fees = [DayFees(day=START // MS_PER_DAY - rng.randrange(-2, 35),
                    quote_minor=rng.choice([0, 500, 2_000, 25_000, -300]),
                    quote_asset=rng.choice(["USDT", "USDT", "BTC"]))
            for _ in range(rng.randrange(4))]
    return UserStatus(
        user_id=user, kyc_verified_at_ms=kyc,
        identity_open=[_period(rng) for _ in range(rng.choice([0, 1, 1, 1, 2]))] or (
            [Period(from_ms=START - 10 * MS_PER_DAY)] if rng.random() < 0.7 else []),
        sanctioned=[_period(rng) for _ in range(rng.choice([0, 0, 0, 1]))],
        fees=fees)


def _item(rng: random.Random, item: str, owner: str) -> ItemStatus:
    removed = [_period(rng) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    return ItemStatus(item_id=item, creator_id=owner if rng.random() > 0.05 else "",
                      item_kind="post", removed=removed)


def _week(rng: random.Random, n_events: int,
          self_engagement: bool = False) -> tuple[list, list, list]:
    """(fact records, user statuses, item statuses), each in log order."""
    users = [f"u{i}" for i in range(rng.randrange(4, 14))]
    creators = users[: rng.randrange(2, len(users))]
    items = {f"p{i}": rng.choice(creators) for i in range(rng.randrange(3, 20))}
    user_records = [_user(rng, u) for u in users for _ in range(rng.choice([1, 1, 2]))]
    rng.shuffle(user_records)
    item_records = [_item(rng, i, o) for i, o in items.items() if rng.random() < 0.85]
    # Times: few distinct values per day, so likes and follows tie on time.
    times = [START + d * MS_PER_DAY + rng.choice([0, 1, 5_000, 80_000_000]) for d in range(7)]
    times += [START - 1, END, START - MS_PER_DAY]  # outside the week
    fact_records = []
    seen: list[FactRow] = []
    for n in range(rng.randrange(3, 12)):
        consumer = rng.choice(users)
        rows = []
        for k in range(rng.randrange(1, max(2, n_events // 6))):
            kind = rng.choice(KINDS)
            if seen and rng.random() < 0.08:  # redelivered: same event id, maybe other content
                again = rng.choice(seen)
                if again.creator_id == consumer and not self_engagement:
                    continue
                rows.append(again if rng.random() < 0.5 else again._replace(
                    occurred_at_ms=rng.choice(times)))
                continue
            if kind == FOLLOW:
                creator = rng.choice(creators)
                item = f"home:{creator}"
            else:
                item = rng.choice(list(items))
                creator = items[item] if rng.random() > 0.05 else rng.choice(creators)
            if creator == consumer and not self_engagement:
                continue
            row = FactRow(
                event_id=f"e{n}-{k}-{rng.randrange(10**6)}", item_id=item, creator_id=creator,
                occurred_at_ms=rng.choice(times), kind=kind,
                dwell_seconds=rng.choice([0, 3, 5, 60, 300, 700]) if kind == VIEW else 0,
                text_length=rng.choice([0, 5, 19, 20, 80]) if kind != VIEW else 0)
            rows.append(row)
            seen.append(row)
        fact_records.append(build_facts(f"r{n}", consumer, rows))
    return fact_records, user_records, item_records


def _policy(rng: random.Random) -> ScoringPolicy:
    base = default_policy() if rng.random() < 0.5 else group_engagement_policy(str(WEEK))
    if rng.random() < 0.5:
        return base
    return base.evolve(version="t", unverified_weight=rng.choice([0, 1]),
                       interaction_cap_points=rng.choice([30, 200]),
                       dwell_cap_seconds=rng.choice([100, 600]),
                       min_text_length=rng.choice([5, 20]), dwell_points_per_second=2)


def _both(engine: SqlEngine, case: str, records: list, users: list, items: list,
          policy: ScoringPolicy) -> tuple[compare.Stage1, compare.Stage1]:
    inputs = WeekInputs(WEEK)
    for rec in records:
        inputs.add_facts(rec)
    for status in users:
        inputs.set_user(status)
    for item in items:
        inputs.set_item(item)
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT",
                         status_at_ms=CLOSE)
    model = compare.model_stage1(score_week(built.facts, policy).engagement, built.ids)

    case = f"{case}_{uuid.uuid4().hex[:6]}"
    engine.execute(f"CREATE DATABASE {case}")
    engine.database = case
    for statement in sql.ddl(case):
        engine.execute(statement)
    raw = RawLoader(engine)
    for offset, rec in enumerate(records):
        raw.facts("facts", offset % 3, offset, rec)
    for offset, status in enumerate(users):
        raw.user(0, offset, status)
    for offset, item in enumerate(items):
        raw.item(0, offset, item)
    raw.flush()
    params = sql.WeekParams(START, END, CLOSE, "USDT", policy)
    ours, counts = sql_stage1(engine, params)
    assert counts["rows of the week"] == built.rows
    return ours, model


@pytest.mark.parametrize("seed", range(30))
def test_sql_stage1_equals_the_model(engine: SqlEngine, seed: int) -> None:
    rng = random.Random(seed)
    records, users, items = _week(rng, rng.choice([12, 60, 200]),
                                  self_engagement=seed % 2 == 1)
    ours, model = _both(engine, f"case{seed}", records, users, items, _policy(rng))
    assert compare.compare_stage1(ours, model) == []
    assert ours.pairs or ours.discounts  # something happened


def test_every_rule_is_exercised(engine: SqlEngine) -> None:
    """Over the random weeks, every stage 1 reason occurs (else the test above is weak)."""
    reasons: set[str] = set()
    for seed in range(6):
        rng = random.Random(1000 + seed)
        records, users, items = _week(rng, 200, self_engagement=True)
        ours, _ = _both(engine, f"rules{seed}", records, users, items, _policy(rng))
        reasons |= {r for _, _, r in ours.discounts}
    assert reasons >= {"duplicate_event", "self_interaction", "unknown_item", "item_removed",
                       "creator_ineligible", "sanctioned_account", "no_value_weight",
                       "below_min_dwell", "short_text", "repeat_interaction", "dwell_cap",
                       "interaction_cap"}


def test_sql_excludes_self_interaction(engine: SqlEngine) -> None:
    """A consumer engaging with their own items: the SQL discounts every such row (the rule
    compares the user ids)."""
    rng = random.Random(7)
    records, users, items = _week(rng, 200, self_engagement=True)
    ours, _ = _both(engine, "selfcase", records, users, items, default_policy())
    selves = {(r.event_id, rec.consumer_id) for rec in records for r in iter_facts(rec)
              if r.creator_id == rec.consumer_id and START <= r.occurred_at_ms < END}
    assert selves
    assert any(reason == "self_interaction" for _, _, reason in ours.discounts)
    assert not any(consumer == creator for consumer, creator in ours.pairs)


def test_model_excludes_self_interaction_too(engine: SqlEngine) -> None:
    """Consumers and creators share the model's id space (id_map's ``user``), so the model's
    consumer == creator rule and the SQL's user-id rule agree."""
    rng = random.Random(7)
    records, users, items = _week(rng, 200, self_engagement=True)
    ours, model = _both(engine, "selfmodel", records, users, items, default_policy())
    assert compare.compare_stage1(ours, model) == []
