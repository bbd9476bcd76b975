"""The week's model input from stored facts: what the settlement, the estimate and the
reconciliation all build on (services/incentive/scoring/week_inputs.py)."""

from __future__ import annotations

import random

import pytest

from planet.incentive.v1.facts_pb2 import (
    DayFees,
    FactKind,
    FactRows,
    ItemStatus,
    Period,
    UserStatus,
)
from planetkit.fact_rows import (
    COMMENT,
    FOLLOW,
    LIKE,
    VIEW,
    FactRow,
    build_facts,
    event_check,
    event_key,
    event_keys,
)
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.id_map import IdKind
from services.incentive.domain.merkle import ProofStep, verify_proof
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring import week_inputs
from services.incentive.scoring.results import creator_results, week_settled
from services.incentive.scoring.week_inputs import (
    EventIdCollision,
    WeekInputs,
    item_facts,
    removed_at,
)

WEEK = IsoWeek.parse("2026-W48")
T0 = WEEK.start_ms
HOUR = 3_600_000
CLOSE = WEEK.end_ms + HOUR


def _user(uid: str, *, kyc: bool = True, open_: bool = True, fees: int = 0,
          sanctioned_from: int | None = None) -> UserStatus:
    s = UserStatus(user_id=uid, kyc_verified_at_ms=T0 - 10 * HOUR if kyc else 0)
    if open_:
        s.identity_open.append(Period(from_ms=T0 - 20 * HOUR))
    if fees:
        s.fees.append(DayFees(day=T0 // 86_400_000 - 3, quote_minor=fees, quote_asset="USDT"))
    if sanctioned_from is not None:
        s.sanctioned.append(Period(from_ms=sanctioned_from))
    return s


def _week_rows() -> list[tuple[str, FactRow]]:
    """(consumer, row): views, a comment, a like, a follow of a home page."""
    return [
        ("carol", FactRow("e1", "post-1", "ada", T0 + HOUR, VIEW, 240)),
        ("carol", FactRow("e2", "post-1", "ada", T0 + HOUR + 5, COMMENT, 0, 50)),
        ("carol", FactRow("e3", "post-2", "bo", T0 + 2 * HOUR, VIEW, 900)),
        ("dan", FactRow("e4", "post-1", "ada", T0 + 3 * HOUR, LIKE)),
        ("dan", FactRow("e5", "home:bo", "bo", T0 + 3 * HOUR, FOLLOW)),
        ("dan", FactRow("e6", "post-2", "bo", T0 + 4 * HOUR, VIEW, 30)),
        # Another week's fact in the same record: not this week's.
        ("dan", FactRow("e7", "post-2", "bo", T0 - HOUR, VIEW, 30)),
    ]


def _inputs(rows: list[tuple[str, FactRow]], chunk: int = 100) -> WeekInputs:
    inputs = WeekInputs(WEEK)
    for n in range(0, len(rows), chunk):
        part = rows[n:n + chunk]
        for consumer in sorted({c for c, _ in part}):
            inputs.add_facts(build_facts(f"r{n}-{consumer}", consumer,
                                         [r for c, r in part if c == consumer]))
    for uid, fees in (("ada", 0), ("bo", 0), ("carol", 50_00), ("dan", 0)):
        inputs.set_user(_user(uid, fees=fees))
    inputs.set_item(ItemStatus(item_id="post-1", creator_id="ada", item_kind="post"))
    inputs.set_item(ItemStatus(item_id="post-2", creator_id="bo", item_kind="post"))
    return inputs


def _encoded(inputs: WeekInputs, **policy: int) -> bytes:
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT",
                         status_at_ms=CLOSE)
    p = default_policy().evolve(version="t", **policy) if policy else default_policy()
    return encode_result(settle(built.facts, p))


def test_rows_outside_the_week_are_left_out_and_the_rest_kept() -> None:
    inputs = _inputs(_week_rows())
    assert len(inputs) == 6
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    assert len(built.facts.events) == 6
    result = settle(built.facts, default_policy())
    amounts = {built.ids.name(IdKind.CREATOR, c): a for c, a in result.amounts().items()}
    assert sum(amounts.values()) + result.unallocated_minor == 10_000
    assert amounts["ada"] > 0 and amounts["bo"] > 0


@pytest.mark.parametrize("policy", [{}, {"min_dwell_seconds": 60, "dwell_cap_seconds": 300}])
def test_any_split_into_records_and_any_order_gives_the_same_bytes(policy: dict[str, int]) \
        -> None:
    rows = _week_rows()
    want = _encoded(_inputs(rows), **policy)
    rng = random.Random(7)
    for chunk in (1, 2, 3):
        shuffled = rows[:]
        rng.shuffle(shuffled)
        assert _encoded(_inputs(shuffled, chunk), **policy) == want


def test_a_redelivered_fact_changes_nothing_but_the_duplicate_counter() -> None:
    rows = _week_rows()
    once = settle(_inputs(rows).build(pool_minor=10_000, rollovers={}, quote_asset="USDT",
                                      status_at_ms=CLOSE).facts, default_policy())
    twice = settle(_inputs(rows + rows[:2]).build(pool_minor=10_000, rollovers={},
                                                  quote_asset="USDT",
                                                  status_at_ms=CLOSE).facts, default_policy())
    assert once.amounts() == twice.amounts()
    assert once.merkle_root == twice.merkle_root


def test_statuses_are_read_as_of_the_close() -> None:
    inputs = _inputs(_week_rows())
    # Sanctioned only after the close: the week settles as if not sanctioned.
    inputs.set_user(_user("bo", sanctioned_from=CLOSE + 1))
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    bo = built.ids.intern(IdKind.CREATOR, "bo")
    assert not next(c for c in built.facts.creators if c.creator_id == bo).sanctioned
    # Sanctioned before the close: held.
    inputs.set_user(_user("bo", sanctioned_from=T0))
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    result = settle(built.facts, default_policy())
    held = result.creator(bo)
    assert held is not None and held.status == "held" and held.held_minor > 0


def test_removed_then_restored_item_earns_and_a_standing_removal_stops_it() -> None:
    status = ItemStatus(item_id="post-1", creator_id="ada")
    status.removed.append(Period(from_ms=T0 + 2 * HOUR, until_ms=T0 + 5 * HOUR))
    assert removed_at(item_facts(status), CLOSE) is None
    status.removed.append(Period(from_ms=T0 + 6 * HOUR))
    assert removed_at(item_facts(status), CLOSE) == T0 + 6 * HOUR
    assert removed_at(item_facts(status), T0 + 5 * HOUR + 1) is None


def test_items_without_status_belong_to_the_creator_their_earliest_fact_names() -> None:
    inputs = _inputs(_week_rows())
    built = inputs.build(pool_minor=10_000, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    home = built.ids.intern(IdKind.ITEM, "home:bo")
    bo = built.ids.intern(IdKind.CREATOR, "bo")
    assert any(i.item_id == home and i.creator_id == bo for i in built.facts.items)
    assert len(built.facts.items) == len({i.item_id for i in built.facts.items}) == 3


def test_an_item_without_status_goes_to_the_creator_of_its_earliest_fact_by_time_then_id() \
        -> None:
    rng = random.Random(5)
    inputs = WeekInputs(WEEK)
    rows = []
    for k in range(400):
        # Few times, so ties on time are many and the event id decides.
        at = T0 + rng.randrange(0, 4) * HOUR
        rows.append(FactRow(f"x{k}", f"item-{rng.randrange(20)}", rng.choice(["ada", "bo", "cy"]),
                            at, VIEW, 5))
    for n in range(0, 400, 50):
        inputs.add_facts(build_facts(f"r{n}", "carol", rows[n:n + 50]))
    built = inputs.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    want: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: (r.occurred_at_ms, week_inputs.event_int(r.event_id))):
        want.setdefault(r.item_id, r.creator_id)
    got = {built.ids.name(IdKind.ITEM, i.item_id): built.ids.name(IdKind.CREATOR, i.creator_id)
           for i in built.facts.items}
    assert got == want


def test_an_event_delivered_twice_names_its_items_creator_by_the_order_read() -> None:
    # Equal time and event id: the row read first decides (the same event, redelivered with
    # another creator, must not make the owner depend on how rows were sorted).
    inputs = WeekInputs(WEEK)
    first = FactRow("dup", "item-1", "bo", T0, VIEW, 5)
    inputs.add_facts(build_facts("r1", "carol", [FactRow("z", "item-1", "cy", T0 + HOUR,
                                                         VIEW, 5), first]))
    inputs.add_facts(build_facts("r2", "dan", [first._replace(creator_id="ada")]))
    built = inputs.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    (item,) = built.facts.items
    assert built.ids.name(IdKind.CREATOR, item.creator_id) == "bo"


def test_trailing_fees_count_only_the_window_before_the_week_in_the_pool_asset() -> None:
    inputs = _inputs(_week_rows())
    carol = _user("carol")
    day = T0 // 86_400_000
    carol.fees.extend([DayFees(day=day - 1, quote_minor=100, quote_asset="USDT"),
                       DayFees(day=day - 30, quote_minor=10, quote_asset="USDT"),
                       DayFees(day=day - 31, quote_minor=1_000, quote_asset="USDT"),
                       DayFees(day=day, quote_minor=1_000, quote_asset="USDT"),
                       DayFees(day=day - 2, quote_minor=1_000, quote_asset="BTC")])
    inputs.set_user(carol)
    built = inputs.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    cid = built.ids.intern(IdKind.CONSUMER, "carol")
    assert next(c for c in built.facts.consumers if c.consumer_id == cid) \
        .trailing_fees_minor == 110


def test_activity_counts_views_viewers_dwell_and_followers() -> None:
    built = _inputs(_week_rows()).build(pool_minor=1, rollovers={}, quote_asset="USDT",
                                        status_at_ms=CLOSE)
    bo = built.activity["bo"]
    assert (bo.views, bo.unique_viewers, bo.dwell_seconds, bo.followers_gained) == \
        (2, 2, 930, 1)
    assert [(i.item_id, i.views, i.dwell_seconds) for i in bo.items] == [("post-2", 2, 930)]


def test_results_name_creators_and_every_proof_verifies() -> None:
    inputs = _inputs(_week_rows())
    built = inputs.build(pool_minor=10_000, rollovers={"cy": 80}, quote_asset="USDT",
                         status_at_ms=CLOSE)
    result = settle(built.facts, default_policy())
    records = creator_results(result, built, "USDT")
    by_name = {r.creator_id: r for r in records}
    assert by_name["cy"].status == "rolled_over" and by_name["cy"].rollover_out_minor == 80
    summary = week_settled(result, "USDT", settled_at_ms=CLOSE, facts_counted=6, facts_late=0)
    assert summary.payable_minor + summary.rollover_out_minor + summary.held_minor \
        + summary.unallocated_minor == summary.pool_minor + summary.rollover_in_minor
    for r in records:
        assert r.allocated_minor == sum(i.amount_minor for i in r.items)
        if r.allocated_minor:
            proof = [ProofStep(bytes.fromhex(s.sibling), s.sibling_is_left) for s in r.proof]
            assert verify_proof(bytes.fromhex(summary.merkle_root), r.creator_int_id,
                                r.allocated_minor, proof)


def test_two_event_ids_on_one_model_id_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hashed by the reader (a record without event keys): both ids on 42, checks differ.
    monkeypatch.setattr(week_inputs, "event_keys",
                        lambda ids: ([42] * len(ids), event_keys(ids)[1]))
    inputs = WeekInputs(WEEK)
    record = build_facts("r", "carol", [FactRow("a", "post-1", "ada", T0, VIEW, 9),
                                        FactRow("b", "post-1", "ada", T0, VIEW, 9)])
    inputs.add_facts(record)
    with pytest.raises(EventIdCollision, match="model event id 42") as refused:
        inputs.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    assert refused.value.event_key == 42
    # The names come from re-reading the records (fact_log.load_week does).
    record.event_keys.extend([42, 42])
    assert week_inputs.event_names(record, 42) == ["a", "b"]
    assert "'a' and 'b'" in str(EventIdCollision(42, ["b", "a"]))


def test_writer_keys_on_one_model_id_with_different_checks_are_refused() -> None:
    key, check = event_key("a"), event_check("a")
    record = build_facts("r", "carol", [FactRow("a", "post-1", "ada", T0, VIEW, 9),
                                        FactRow("b", "post-1", "ada", T0 + 1, VIEW, 9)])
    record.event_keys.extend([key, key])
    record.event_checks.extend([check, event_check("b")])
    inputs = WeekInputs(WEEK)
    inputs.add_facts(record)
    with pytest.raises(EventIdCollision, match=str(key)):
        inputs.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    # The same event twice (equal key, equal check) is a duplicate, not a collision.
    again = WeekInputs(WEEK)
    del record.event_checks[1]
    record.event_checks.append(check)
    again.add_facts(record)
    built = again.build(pool_minor=1, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    assert built.rows == 2


def test_writer_keys_equal_reader_keys_and_either_record_form_builds_the_same_week() -> None:
    rows = _week_rows()
    want = _encoded(_inputs(rows))
    inputs = WeekInputs(WEEK)
    ids = [r.event_id for _, r in rows]
    keys, checks = event_keys(ids)
    assert keys == [week_inputs.event_int(e) for e in ids]
    inputs.add_facts(FactRows(
        rows_id="p0", consumer_ids=[c for c, _ in rows], event_ids=ids,
        item_ids=[r.item_id for _, r in rows], creator_ids=[r.creator_id for _, r in rows],
        occurred_at_ms=[r.occurred_at_ms for _, r in rows],
        kinds=[FactKind.ValueType(r.kind) for _, r in rows],
        dwell_seconds=[r.dwell_seconds for _, r in rows],
        text_lengths=[r.text_length for _, r in rows], event_keys=keys, event_checks=checks))
    for uid, fees in (("ada", 0), ("bo", 0), ("carol", 50_00), ("dan", 0)):
        inputs.set_user(_user(uid, fees=fees))
    inputs.set_item(ItemStatus(item_id="post-1", creator_id="ada", item_kind="post"))
    inputs.set_item(ItemStatus(item_id="post-2", creator_id="bo", item_kind="post"))
    assert _encoded(inputs) == want


def _many_rows(n: int) -> list[tuple[str, FactRow]]:
    rng = random.Random(3)
    out = []
    for k in range(n):
        post = rng.choice(["post-1", "post-2"])
        at = T0 + rng.randrange(-HOUR, 7 * 24 * HOUR + HOUR)  # some outside the week
        consumer = rng.choice(["carol", "dan", "eve"])
        if rng.random() < 0.7:
            row = FactRow(f"m{k}", post, "ada" if post == "post-1" else "bo", at, VIEW,
                          rng.randrange(0, 600))
        else:
            row = FactRow(f"m{k}", post, "ada" if post == "post-1" else "bo", at, LIKE)
        out.append((consumer, row))
    return out


def _partition_record(rows: list[tuple[str, FactRow]], *, keys: bool) -> FactRows:
    ids = [r.event_id for _, r in rows]
    record = FactRows(
        rows_id="p0", consumer_ids=[c for c, _ in rows], event_ids=ids,
        item_ids=[r.item_id for _, r in rows], creator_ids=[r.creator_id for _, r in rows],
        occurred_at_ms=[r.occurred_at_ms for _, r in rows],
        kinds=[FactKind.ValueType(r.kind) for _, r in rows],
        dwell_seconds=[r.dwell_seconds for _, r in rows],
        text_lengths=[r.text_length for _, r in rows])
    if keys:
        record.event_keys[:], record.event_checks[:] = event_keys(ids)
    return record


@pytest.mark.parametrize("keys", [True, False])
def test_large_records_fold_like_small_ones(keys: bool) -> None:
    rows = _many_rows(900)  # several records past the numpy threshold, and small ones
    small = _inputs(rows, chunk=7)
    large = WeekInputs(WEEK)
    for part in (rows[:300], rows[300:310], rows[310:]):
        large.add_facts(_partition_record(part, keys=keys))
    for uid, fees in (("ada", 0), ("bo", 0), ("carol", 50_00), ("dan", 0)):
        large.set_user(_user(uid, fees=fees))
    large.set_item(ItemStatus(item_id="post-1", creator_id="ada", item_kind="post"))
    large.set_item(ItemStatus(item_id="post-2", creator_id="bo", item_kind="post"))
    assert len(large) == len(small) < 900
    assert _encoded(large) == _encoded(small)
    assert _encoded(large, min_dwell_seconds=60) == _encoded(small, min_dwell_seconds=60)


def test_a_build_then_more_facts_then_a_build_equals_one_build() -> None:
    rows = _week_rows()
    whole = _inputs(rows)
    part = _inputs(rows[:3])
    first = part.build(pool_minor=10_000, rollovers={}, quote_asset="USDT", status_at_ms=CLOSE)
    for n, (consumer, row) in enumerate(rows[3:]):
        part.add_facts(build_facts(f"late{n}", consumer, [row]))
    assert len(first.facts.events) == 3
    assert _encoded(part) == _encoded(whole)


def test_the_statuses_a_week_needs_are_its_ids_and_its_items_owners() -> None:
    inputs = _inputs(_week_rows())
    assert inputs.needs_user("carol") and inputs.needs_user("bo")
    assert inputs.needs_item("post-1") and not inputs.needs_item("post-9")
    assert not inputs.needs_user("zed")
    inputs.set_item(ItemStatus(item_id="post-1", creator_id="zed"))
    inputs.set_item(ItemStatus(item_id="post-9", creator_id="yan"))
    assert inputs.needs_user("zed") and not inputs.needs_user("yan")


def test_a_malformed_record_is_refused_with_its_reason() -> None:
    bad = FactRows(rows_id="x", consumer_id="carol", event_ids=["a"], item_ids=[])
    with pytest.raises(ValueError, match="columns"):
        WeekInputs(WEEK).add_facts(bad)


def test_a_creator_engaging_with_their_own_item_is_self_interaction() -> None:
    # Consumers and creators share one id space: ada liking her own post is found and paid
    # nothing (with separate spaces it would have counted like anyone's like).
    rows = [*_week_rows(), ("ada", FactRow("e9", "post-1", "ada", T0 + HOUR, LIKE))]
    built = _inputs(rows).build(pool_minor=10_000, rollovers={}, quote_asset="USDT",
                                status_at_ms=CLOSE)
    result = settle(built.facts, default_policy())
    ada = result.creator(built.ids.intern(IdKind.CREATOR, "ada"))
    assert ada is not None
    assert [(d.reason, d.events) for d in ada.discounts if d.reason == "self_interaction"] \
        == [("self_interaction", 1)]
