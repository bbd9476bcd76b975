"""One reconciliation: load the week, recompute stage 1 in SQL, compare, check the records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.settlement import score_week, settle_scored
from services.incentive.reconcile import compare, loader, sql
from services.incentive.reconcile.engine import SqlEngine, open_engine
from services.incentive.scoring.fact_log import PoolTopics, cut_of, load_week, read_pool_book
from services.incentive.scoring.pool_book import previous_week
from services.incentive.scoring.results import result_sha256


@dataclass
class Report:
    """The differences found and what was looked at."""

    week: str
    differences: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # The SQL's discounts summed per reason: (events, quantity).
    reasons: dict[str, tuple[int, int]] = field(default_factory=dict)

    def reasons_line(self) -> str:
        """One line: the week's stage 1 discounts by reason, as the SQL counted them."""
        parts = ", ".join(f"{r} {e}/{q}" for r, (e, q) in sorted(self.reasons.items()))
        return f"discounts {self.week} (reason events/quantity): {parts or 'none'}"

    def summary(self) -> str:
        """One line: the verdict, the sizes, the time per phase."""
        sizes = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        times = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        verdict = "OK" if not self.differences else f"{len(self.differences)} DIFFERENCES"
        return f"reconcile {self.week}: {verdict} ({sizes}; {times})"


def sql_stage1(engine: SqlEngine,
               params: sql.WeekParams) -> tuple[compare.Stage1, dict[str, int]]:
    """Build the week's tables from the loaded raw rows and read stage 1 back."""
    db = engine.database
    for statement in sql.steps(db, params):
        engine.execute(statement)
    pairs = {(c, r): int(p) for c, r, p in engine.rows(sql.query(sql.PAIRS, db, params))}
    discounts = {(c, i, r): (int(e), int(q))
                 for c, i, r, e, q in engine.rows(sql.query(sql.DISCOUNTS, db, params))}
    items = {(c, i): (int(s), int(m))
             for c, i, s, m in engine.rows(sql.query(sql.ITEMS, db, params))}
    read_rows, week_rows, counted = engine.rows(sql.query(sql.COUNTS, db, params))[0]
    return compare.Stage1(pairs, discounts, items), {
        "fact rows read": int(read_rows), "rows of the week": int(week_rows),
        "counted": int(counted)}


async def reconcile(bootstrap: str, topics: PoolTopics, week_text: str,
                    clickhouse_url: str | None = None) -> Report:
    """Reconcile a settled week; loader.BadInput when it cannot be (unknown, not settled)."""
    try:
        week = IsoWeek.parse(week_text)
    except ValueError as exc:
        raise loader.BadInput(f"not an ISO week: {week_text!r} ({exc})") from None
    name = str(week)
    report = Report(name)
    clock = time.monotonic()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.monotonic()
        report.seconds[phase] = now - clock
        clock = now

    records = await loader.read_week_records(bootstrap, topics, name, previous_week(name))
    settled, closed = records.settled, records.closed
    book = await read_pool_book(bootstrap, topics, settled.asset)
    policy = book.policy_for(name)
    cut = cut_of(closed)
    params = sql.WeekParams(week.start_ms, week.end_ms, closed.closed_at_ms, settled.asset,
                            policy)
    with open_engine(clickhouse_url) as engine:
        for statement in sql.ddl(engine.database):
            engine.execute(statement)
        raw = loader.RawLoader(engine)
        await loader.load_facts(bootstrap, topics, raw, week.start_ms, cut, records)
        await loader.load_statuses(bootstrap, topics, raw, cut, records)
        raw.flush()
        lap("load")
        sql_side, counts = sql_stage1(engine, params)
        lap("sql")
    report.differences += records.problems
    for (_, _, reason), (events, quantity) in sql_side.discounts.items():
        e, q = report.reasons.get(reason, (0, 0))
        report.reasons[reason] = (e + events, q + quantity)

    # The model on the settlement's own input (scoring.fact_log.load_week).
    try:
        built = await load_week(bootstrap, topics, week, cut, book, settled.asset,
                                status_at_ms=closed.closed_at_ms)
        scored = score_week(built.facts, policy)
    except ValueError as exc:  # the settlement itself could not have used this input
        report.differences.append(f"model: the week's input is refused: {exc}")
        report.differences += compare.check_week(
            [r for _, _, r in records.results], settled, policy)
        return report
    lap("model load+stage1")
    model_side = compare.model_stage1(scored.engagement, built.ids)
    report.differences += compare.compare_stage1(sql_side, model_side)
    results = [r for _, _, r in records.results]
    report.differences += compare.check_week(results, settled, policy)
    report.differences += compare.check_records_against_sql(results, sql_side)
    report.differences += compare.check_carried(
        results, records.previous, book.settled(previous_week(name)) is not None, settled,
        book.pool_minor(name))
    model_result = settle_scored(built.facts, policy, scored)
    report.differences += compare.check_records_against_model(
        results, settled, model_result, built.ids, result_sha256(model_result))
    if counts["rows of the week"] != built.rows:
        report.differences.append(f"rows of the week: sql {counts['rows of the week']} "
                                  f"model input {built.rows}")
    if settled.facts_counted != counts["rows of the week"]:
        report.differences.append(f"week: WeekSettled.facts_counted {settled.facts_counted} "
                                  f"!= rows of the week {counts['rows of the week']}")
    lap("compare")
    report.counts = {"fact records": records.fact_records, **counts,
                     "pairs": len(sql_side.pairs), "discount lines": len(sql_side.discounts),
                     "creator records": len(results)}
    return report
