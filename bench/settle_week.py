"""Settle a synthetic, heavy-tailed week and print the time and peak memory of each stage.

    python bench/settle_week.py                  # 10M events, 1M consumers, 100k creators, 1M items
    python bench/settle_week.py --events 100000  # quick check (other sizes scale down with it)
    python bench/settle_week.py --hashed-ids     # the same week with ids spread over 63 bits

Random numbers only shape the synthetic input; the model itself sees int64 columns only.

With ``--hashed-ids`` every id (event, user = consumer and creator, item) goes through a
seeded random bijection of [0, 2**63) (a splitmix64-style mixer cut to 63 bits) so the ids look
like the live system's (domain/id_map.py: BLAKE2b-64 with the top bit cleared) without hashing
twelve million strings: the same week renamed, so the counts match the compact week's while
the ranks (ascending by id) and so the root differ.

Peak memory is the process's peak resident set (ru_maxrss) after each stage. The Merkle root
and the SHA-256 of the canonical encoding printed at the end must not change with speed work
(docs/incentives.md, "Speed", records them for the default week).
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.incentive.domain.allocation import allocate_budgets
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.engagement import count_engagement
from services.incentive.domain.facts import (
    MS_PER_WEEK,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EventKind,
    IsoWeek,
    ItemStatus,
    Rollover,
    WeekFacts,
)
from services.incentive.domain.gc_pause import paused_gc
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import Scored, creator_scores, settle_scored

T = TypeVar("T")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str, fn: Callable[[], T]) -> T:
    """Run one stage and print its wall time and the peak RSS so far."""
    t0 = time.perf_counter()
    out = fn()
    print(f"{name:<28} {time.perf_counter() - t0:8.2f} s   peak RSS {_peak_mib():8.0f} MiB",
          flush=True)
    return out


def _zipf_index(rng: np.random.Generator, n: int, size: int, a: float) -> np.ndarray:
    """Heavy-tailed indices in [0, n): a few are very popular, most are rare."""
    ranks = rng.zipf(a, size=size)
    ranks -= 1
    ranks %= n
    perm = rng.permutation(n)  # so popularity is not correlated with id
    return perm[ranks].astype(np.int64, copy=False)


def synthetic_week(events: int, consumers: int, creators: int, items: int,
                   seed: int = 7) -> WeekFacts:
    """A week of engagement that looks like real traffic: Zipf consumers, items and creators."""
    with paused_gc():  # a million ConsumerValue objects: see gc_pause
        return _synthetic_week(events, consumers, creators, items, seed)


def _synthetic_week(events: int, consumers: int, creators: int, items: int,
                    seed: int) -> WeekFacts:
    # The random draws (their order and sizes) define the week: change none of them, or the
    # bench's Merkle root (recorded in docs/incentives.md) changes.
    rng = np.random.default_rng(seed)
    week = IsoWeek(2026, 10)
    item_creator = _zipf_index(rng, creators, items, 1.3) + 1_000_000
    cons = _zipf_index(rng, consumers, events, 1.2) + 10_000_000
    item = _zipf_index(rng, items, events, 1.15)
    kind = rng.choice(np.arange(8, dtype=np.int64), size=events,
                      p=[0.62, 0.2, 0.06, 0.04, 0.03, 0.02, 0.015, 0.015]).astype(np.int64)
    dwell = np.where(kind == int(EventKind.VIEW),
                     rng.geometric(1 / 45, size=events), 0).astype(np.int64)
    text = np.where(kind >= 2, rng.integers(0, 400, size=events), 0).astype(np.int64)
    at = week.start_ms + rng.integers(0, MS_PER_WEEK, size=events, dtype=np.int64)
    event_id = rng.permutation(events).astype(np.int64) + 1
    dup = rng.integers(0, events, size=events // 100)  # 1% redelivered duplicates
    cols = EngagementColumns(
        event_id=np.concatenate([event_id, event_id[dup]]),
        consumer_id=np.concatenate([cons, cons[dup]]),
        creator_id=np.concatenate([item_creator[item], item_creator[item[dup]]]),
        item_id=np.concatenate([item, item[dup]]),
        occurred_at_ms=np.concatenate([at, at[dup]]),
        kind=np.concatenate([kind, kind[dup]]),
        dwell_seconds=np.concatenate([dwell, dwell[dup]]),
        text_length=np.concatenate([text, text[dup]]),
    )
    fees = (rng.pareto(1.1, size=consumers) * 500).astype(np.int64)
    kyc = rng.random(consumers) < 0.8
    sanctioned = rng.random(consumers) < 0.001
    consumer_values = tuple(map(ConsumerValue, range(10_000_000, 10_000_000 + consumers),
                                fees.tolist(), kyc.tolist(), sanctioned.tolist()))
    creator_status = tuple(CreatorStatus(1_000_000 + i, i % 50 != 0, True, i % 997 == 0)
                           for i in range(creators))
    removed = rng.choice(items, size=max(1, items // 1000), replace=False).tolist()
    item_status = tuple(ItemStatus(i, int(item_creator[i]), week.start_ms + MS_PER_WEEK // 2)
                        for i in sorted(removed))
    rollovers = tuple(Rollover(1_000_000 + i, 37) for i in range(0, creators, 10))
    return WeekFacts(week, 50_000_000_00, cols, consumer_values, creator_status, item_status,
                     rollovers)


# Seeds of the id renaming, one per id space (consumers and creators are one: users, so a
# self-interaction stays consumer == creator).
_EVENT_SALT, _USER_SALT, _ITEM_SALT = 0x5EED_E7E7, 0x5EED_0123, 0x5EED_17E4
_MASK63 = np.uint64((1 << 63) - 1)


def mix63(ids: np.ndarray, salt: int) -> np.ndarray:
    """A random-looking bijection of [0, 2**63) (ids in, ids out; int64).

    Each step is invertible modulo 2**63 (adding a constant, x ^= x >> k, multiplying by an
    odd number), so distinct ids stay distinct: a renaming, never a merge.
    """
    x = (ids.astype(np.uint64) + np.uint64(salt)) & _MASK63
    for shift, mul in ((31, 0xBF58476D1CE4E5B9), (29, 0x94D049BB133111EB)):
        x ^= x >> np.uint64(shift)
        x *= np.uint64(mul)
        x &= _MASK63
    x ^= x >> np.uint64(32)
    return x.astype(np.int64)


def hashed_ids(facts: WeekFacts) -> WeekFacts:
    """The same week with every id renamed by mix63 (ids spread over 63 bits, as hashes)."""
    ev = facts.events

    def user(ids: list[int]) -> list[int]:
        out: list[int] = mix63(np.array(ids, dtype=np.int64), _USER_SALT).tolist()
        return out

    cons, cre, items = facts.consumers, facts.creators, facts.items
    with paused_gc():
        return WeekFacts(
            facts.week, facts.pool_minor,
            replace(ev, event_id=mix63(ev.event_id, _EVENT_SALT),
                    consumer_id=mix63(ev.consumer_id, _USER_SALT),
                    creator_id=mix63(ev.creator_id, _USER_SALT),
                    item_id=mix63(ev.item_id, _ITEM_SALT)),
            tuple(map(ConsumerValue, user([c.consumer_id for c in cons]),
                      [c.trailing_fees_minor for c in cons], [c.kyc_verified for c in cons],
                      [c.sanctioned for c in cons])),
            tuple(map(CreatorStatus, user([c.creator_id for c in cre]),
                      [c.kyc_verified for c in cre], [c.identity_open for c in cre],
                      [c.sanctioned for c in cre])),
            tuple(map(ItemStatus,
                      mix63(np.array([i.item_id for i in items], dtype=np.int64),
                            _ITEM_SALT).tolist(),
                      user([i.creator_id for i in items]), [i.removed_at_ms for i in items])),
            tuple(map(Rollover, user([r.creator_id for r in facts.rollovers]),
                      [r.amount_minor for r in facts.rollovers])))


def main() -> None:
    """Parse sizes, build the week, settle it stage by stage."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--consumers", type=int)
    ap.add_argument("--creators", type=int)
    ap.add_argument("--items", type=int)
    ap.add_argument("--hashed-ids", action="store_true",
                    help="rename every id by a random 63-bit bijection (ids like hashes)")
    args = ap.parse_args()
    scale = args.events / 10_000_000
    consumers = args.consumers or max(10, int(1_000_000 * scale))
    creators = args.creators or max(5, int(100_000 * scale))
    items = args.items or max(10, int(1_000_000 * scale))
    print(f"events={args.events:,} consumers={consumers:,} creators={creators:,} "
          f"items={items:,}{' hashed ids' if args.hashed_ids else ''}")
    policy = default_policy()
    t_all = time.perf_counter()
    facts = stage("generate synthetic week", lambda: synthetic_week(args.events, consumers,
                                                                     creators, items))
    if args.hashed_ids:
        facts = stage("hash the ids", lambda: hashed_ids(facts))
    t_model = time.perf_counter()
    eng = stage("1 count engagement", lambda: count_engagement(facts, policy))
    alloc = stage("2 allocate budgets", lambda: allocate_budgets(eng, policy))

    scored = stage("3 creator scores", lambda: Scored(eng, alloc, creator_scores(eng, alloc)))
    result = stage("4 money, breakdown, merkle", lambda: settle_scored(facts, policy, scored))
    blob = stage("5 canonical encoding", lambda: encode_result(result))
    model_s = time.perf_counter() - t_model
    paid = sum(c.allocated_minor for c in result.creators)
    assert paid + result.unallocated_minor == facts.pool_minor
    print(f"pairs={len(eng.pair_points):,} item-rows={len(eng.row_item):,} "
          f"creators paid={len(result.leaves()):,} encoded={len(blob) / 2**20:.0f} MiB")
    print(f"model (stages 1-5) {model_s:.2f} s; end to end {time.perf_counter() - t_all:.2f} s;"
          f" peak RSS {_peak_mib():.0f} MiB")
    print(f"merkle root {result.merkle_root}; sha256 of encoding "
          f"{hashlib.sha256(blob).hexdigest()}")


if __name__ == "__main__":
    main()
