"""The scoring job's loop: close weeks, settle them once, list late facts, keep the estimate,
record payout answers and held decisions. One active instance (its transactional id fences
any other), so "written once" is decided on a log only this instance writes.

Each step (every ``tick_s``):
1. fold what is new on the operations, weeks, payout-state and payout-answer logs;
2. close the weeks the clock says are due (``closing.weeks_due``): WeekClosed with the cut =
   the fact and status topics' end offsets now;
3. settle each closed, unsettled week in week order: re-read the weeks log to its end (a
   settlement already there is never repeated), load exactly the facts before the cut, settle
   (final), and write in ONE transaction the WeekSettled, every CreatorWeekResult, and the
   payout instructions and first payout states. A crash anywhere before the commit leaves
   nothing visible (the next instance's fencing aborts the open transaction) and the next
   instance settles the same facts to the same bytes;
4. answer the exchange's confirmations/refusals and operators' held decisions, once per
   payout id (``payouts.PayoutLedger``);
5. read the fact records that arrived: rows of the current week feed the live estimate,
   rows of a closed week beyond its cut become FactsLate;
6. every ``estimate_interval_s``: settle the current week as of now and write the estimates
   that changed.

Nothing here builds a client or reads the clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    FactsLate,
    HeldDecided,
    PayoutStateChanged,
    PolicyPublished,
    PoolFunded,
    TopicCut,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from planetkit.envelope import UndecodableEvent, decode, encode, wrap
from planetkit.runner import Lifecycle
from planetkit.service_identities import INCENTIVE
from planetkit.topics import (
    ESTIMATES,
    PAYOUT_INSTRUCTIONS,
    PAYOUT_STATES,
    PAYOUTS,
    with_suffix,
)
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.settlement import settle
from services.incentive.scoring.closing import (
    CloseRequests,
    current_week,
    first_week,
    weeks_due,
)
from services.incentive.scoring.estimates import EstimateTracker, LiveWeek
from services.incentive.scoring.fact_log import (
    EARLIEST_WRITE_LEAD_MS,
    PoolTopics,
    cut_of,
    end_offsets,
    load_week,
    offsets_at,
    rollovers_into,
)
from services.incentive.scoring.late_facts import LateFacts
from services.incentive.scoring.log_tail import LogTail, Record
from services.incentive.scoring.payouts import Outcome, PayoutLedger
from services.incentive.scoring.pool_book import PoolBook, previous_week
from services.incentive.scoring.results import (
    creator_results,
    estimates,
    result_parts,
    week_settled,
)
from services.incentive.scoring.warm_weeks import WarmWeeks
from services.incentive.scoring.week_inputs import BuiltWeek, WeekInputs

log = logging.getLogger(__name__)

# A week whose settlement failed (input the model refuses) is tried again after this long;
# the error is logged each time, and the weeks after it wait (weeks settle in order).
SETTLE_RETRY_MS = 300_000


@dataclass(frozen=True)
class JobTopics:
    """Every topic the job reads or writes (under a test suffix when given)."""

    pool: PoolTopics
    estimates: str
    payout_states: str
    payout_instructions: str
    payouts: str

    @classmethod
    def named(cls, suffix: str = "") -> JobTopics:
        """The registered names, suffixed."""
        return cls(PoolTopics.named(suffix), *(with_suffix(t, suffix).name for t in (
            ESTIMATES, PAYOUT_STATES, PAYOUT_INSTRUCTIONS, PAYOUTS)))


@dataclass(frozen=True)
class JobConfig:
    """How the job closes weeks and refreshes the estimate."""

    bootstrap: str
    quote_asset: str
    grace_ms: int
    early_close_policies: frozenset[str]
    estimate_interval_ms: int
    tick_s: float
    # Fault injection for kill tests only: "mid_settlement" exits the process inside the
    # settlement's transaction (records sent, nothing committed).
    crash_at: str = ""


@dataclass(frozen=True)
class Out:
    """One record to write: topic, key, payload, event id, time."""

    topic: str
    key: str
    payload: Message
    event_id: str
    at_ms: int


@dataclass
class JobStats:
    """Counters for logs and tests."""

    closes: int = 0
    settlements: int = 0
    # Of which settled from the input folded as the facts arrived (warm_weeks.py).
    settled_warm: int = 0
    late: int = 0
    estimates_written: int = 0
    estimate_runs: int = 0
    payout_states: int = 0
    skipped: int = 0
    last_estimate_ms: int = 0
    estimate_seconds: list[float] = field(default_factory=list)


class ScoringJob:
    """The loop; ``run`` until the lifecycle says stop."""

    def __init__(self, config: JobConfig, topics: JobTopics, producer: AIOKafkaProducer,
                 control: LogTail, facts: LogTail, statuses: LogTail, *,
                 now_ms: Callable[[], int], timer: Callable[[], float],
                 exit_now: Callable[[int], None]) -> None:
        self.config = config
        self.topics = topics
        self._producer = producer
        self._control = control
        self._facts = facts
        self._statuses = statuses
        self._now_ms = now_ms
        self._timer = timer
        self._exit_now = exit_now
        self.book = PoolBook(config.quote_asset)
        self.requests = CloseRequests()
        self.late = LateFacts(frozenset(topics.pool.facts))
        self.payouts = PayoutLedger()
        self.tracker = EstimateTracker()
        self.stats = JobStats()
        self._known_weeks: set[str] = set()
        self._answers: list[PayoutConfirmed | PayoutRefused] = []
        self._decisions: list[HeldDecided] = []
        self._refusals_logged: set[tuple[str, str]] = set()
        self._failed: dict[str, int] = {}
        self._live: LiveWeek | None = None
        # Why the live week's input is not the log's (a record it could not fold), or "".
        self._live_spoiled = ""
        self._warm = WarmWeeks()
        self._settled_from = ""
        self._stage_s: dict[str, float] = {}
        self._live_start: dict[str, dict[int, int]] = {}
        self._facts_behind: dict[str, dict[int, int]] | None = None
        self._late_found: list[FactsLate] = []
        self._rollover_cache: tuple[str, bool, dict[str, int]] | None = None
        self._next_estimate_ms = 0

    # ---- the loop -------------------------------------------------------------------------

    async def run(self, lifecycle: Lifecycle) -> None:
        """Fence, restore from the logs, report ready, then step until stopped."""
        # Fencing first: once our transactional id is initialised no earlier instance can
        # commit, so what we read next is everything that will ever have been written.
        await self._producer.start()
        try:
            await self._control.start()
            await self._control.catch_up(self._fold_control)
            await self._seed_estimates()
            await self._statuses.start()
            await self._statuses.catch_up(self._fold_status)
            await self._facts.start()
            await self._position_facts(self._now_ms())
            log.info("scoring job ready", extra={"closed": len(self.late.closed_weeks())})
            await lifecycle.ready()
            while not lifecycle.stopping.is_set():
                if await self.step():
                    continue  # facts still waiting to be read: no pause
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lifecycle.stopping.wait(), self.config.tick_s)
        finally:
            for closer in (self._facts.stop, self._statuses.stop, self._control.stop,
                           self._producer.stop):
                with contextlib.suppress(Exception):
                    await closer()

    def warm_weeks(self) -> list[str]:
        """The weeks whose folded input is kept for their settlement (warm_weeks.py)."""
        return sorted(self._warm.weeks)

    async def step(self) -> bool:
        """One pass over everything the job does; True when fact records are still waiting
        (the loop goes on without pausing)."""
        await self._control.catch_up(self._fold_control)
        now = self._now_ms()
        await self._close_due(now)
        await self._settle_closed()
        await self._answer_payouts()
        await self._statuses.poll(self._fold_status)
        behind = await self._read_facts(self._now_ms())
        now = self._now_ms()
        if self._estimate_due(now, behind) and await self._estimate(now):
            self._next_estimate_ms = now + self.config.estimate_interval_ms
        return behind

    def _estimate_due(self, now: int, behind: bool) -> bool:
        """A refresh is due an interval after the last one began, once the fact tail has read
        the log to its end: a refresh of a big week takes seconds, and starting the next one
        with facts still waiting would leave the tail about a tick per refresh (at 100 000
        views/s the estimate fell minutes behind the log it estimates). Under a load the tail
        cannot catch up with, it refreshes anyway after a second interval."""
        due = self._next_estimate_ms
        return now >= due and (not behind or now >= due + self.config.estimate_interval_ms)

    # ---- folding the logs -----------------------------------------------------------------

    def _fold_control(self, record: Record) -> None:
        t = self.topics
        try:
            if record.topic == t.pool.operations:
                self._fold_operation(decode(record.value, PoolFunded, PolicyPublished,
                                            WeekCloseRequested, HeldDecided).payload)
            elif record.topic == t.pool.weeks:
                self._fold_week(decode(record.value, WeekClosed, WeekSettled, FactsLate).payload)
            elif record.topic == t.payout_states:
                self.payouts.observe(decode(record.value, PayoutStateChanged).payload)
            elif record.topic == t.payouts:
                answer = decode(record.value, PayoutConfirmed, PayoutRefused).payload
                assert isinstance(answer, PayoutConfirmed | PayoutRefused)
                self._answers.append(answer)
        except UndecodableEvent as exc:
            self.stats.skipped += 1
            log.warning("record skipped", extra={"topic": record.topic,
                                                 "partition": record.partition,
                                                 "offset": record.offset, "reason": str(exc)})

    def _fold_operation(self, op: Message) -> None:
        if isinstance(op, WeekCloseRequested):
            self.requests.add(op)
            return
        if isinstance(op, PoolFunded | PolicyPublished | HeldDecided):
            before = len(self.book.ignored)
            if self.book.apply(op) and isinstance(op, HeldDecided):
                self._decisions.append(op)
            if isinstance(op, PoolFunded) and op.week:
                with contextlib.suppress(ValueError):
                    IsoWeek.parse(op.week)
                    self._known_weeks.add(op.week)
            for reason in self.book.ignored[before:]:
                log.warning("operation ignored", extra={"reason": reason})

    def _fold_week(self, message: Message) -> None:
        if isinstance(message, WeekClosed):
            if self.book.apply(message):
                self.late.closed(message)
        elif isinstance(message, WeekSettled):
            self.book.apply(message)
            self._warm.drop(message.week)
        elif isinstance(message, FactsLate):
            self.late.listed(message)

    def _fold_status(self, record: Record) -> None:
        if record.value is None:
            return  # a compaction tombstone
        try:
            if record.topic == self.topics.pool.user_status:
                user = decode(record.value, UserStatus).payload
                self._live_week().set_user(user)
                self._warm.set_user(user)
            else:
                item = decode(record.value, ItemStatus).payload
                self._live_week().set_item(item)
                self._warm.set_item(item)
        except UndecodableEvent as exc:
            self.stats.skipped += 1
            self._live_spoiled = self._live_spoiled or f"a status record was undecodable: {exc}"
            self._warm.status_unreadable(str(exc))
            log.warning("status skipped", extra={"topic": record.topic, "reason": str(exc)})

    def _live_week(self) -> LiveWeek:
        if self._live is None:
            self._live = LiveWeek(IsoWeek.parse(current_week(self._now_ms())))
        return self._live

    async def _seed_estimates(self) -> None:
        """The last estimate per creator, so a restart writes only what changed since."""
        tail = LogTail(self.config.bootstrap, [self.topics.estimates])
        await tail.start()
        try:
            def fold(record: Record) -> None:
                if record.value is not None:
                    with contextlib.suppress(UndecodableEvent):
                        self.tracker.observe(decode(record.value, CreatorEstimate).payload)
            await tail.catch_up(fold)
        finally:
            await tail.stop()

    # ---- writing --------------------------------------------------------------------------

    async def _commit(self, records: Sequence[Out],
                      before_commit: Callable[[], Awaitable[None]] | None = None) -> None:
        """Write ``records`` in one transaction."""
        if not records:
            return
        async with self._producer.transaction():
            for r in records:
                envelope = wrap(r.payload, event_id=r.event_id, source=INCENTIVE,
                                aggregate_id=r.key, occurred_at_ms=r.at_ms)
                await self._producer.send(r.topic, encode(envelope), key=r.key.encode())
            if before_commit is not None:
                await before_commit()

    def _payout_out(self, message: Message, at_ms: int) -> Out:
        if isinstance(message, PayoutInstructed):
            return Out(self.topics.payout_instructions, message.creator_id, message,
                       f"payout-instructed:{message.payout_id}", at_ms)
        assert isinstance(message, PayoutStateChanged)
        return Out(self.topics.payout_states, message.creator_id, message,
                   f"payout-state:{message.payout_id}:{message.state}", at_ms)

    # ---- closing --------------------------------------------------------------------------

    async def _close_due(self, now: int) -> None:
        closed = self.late.closed_weeks()
        start = first_week(now, self._known_weeks)
        closes, refusals = weeks_due(
            now, grace_ms=self.config.grace_ms, closed=closed, start=start,
            policy_version=lambda w: self.book.policy_for(w).version, requests=self.requests,
            early_policies=self.config.early_close_policies)
        for refusal in refusals:
            if (refusal.request_id, refusal.reason) not in self._refusals_logged:
                self._refusals_logged.add((refusal.request_id, refusal.reason))
                log.warning("early close not honoured", extra={
                    "week": refusal.week, "request_id": refusal.request_id,
                    "reason": refusal.reason})
        for close in closes:
            cuts = await self._cut(close.week)
            at = self._now_ms()
            message = WeekClosed(week=close.week, closed_at_ms=at, cuts=cuts, cause=close.cause)
            await self._commit([Out(self.topics.pool.weeks, close.week, message,
                                    f"week-closed:{close.week}", at)])
            self._fold_week(message)
            self.stats.closes += 1
            log.info("week closed", extra={"week": close.week, "cause": close.cause})

    async def _cut(self, week: str) -> list[TopicCut]:
        """The cut a close records: the fact topics' ends now, and the status topics up to
        where the status tail has folded them after reading them to their end (so the
        statuses a warm week freezes now are exactly the ones before the cut). A warm week
        of ``week`` (the live one, if an operator closes it early) stops there."""
        pool = self.topics.pool
        await self._statuses.catch_up(self._fold_status)
        folded = await self._statuses.positions()
        status_cut = {t: [folded[t][p] for p in sorted(folded[t])]
                      for t in (pool.user_status, pool.item_status)}
        fact_cut = await end_offsets(self.config.bootstrap, pool.facts)
        live = self._live_week()
        if str(live.week) == week:
            # Closed early, while current: its input so far is the warm week; the live week
            # starts again empty (a closed week is not estimated).
            self._keep_live(live.roll(live.week, estimated=False),
                            await self._facts.positions())
        self._warm.close(week, fact_cut, status_cut)
        return [TopicCut(topic=t, end_offsets=o) for t, o in {**fact_cut, **status_cut}.items()]

    def _keep_live(self, inputs: WeekInputs, positions: Mapping[str, Mapping[int, int]]
                   ) -> None:
        """Keep the live week's folded input warm (unless a record it missed spoiled it, or
        the week is closed already: closed early, it was kept at its close)."""
        if self.book.closed(str(inputs.week)) is not None:
            pass
        elif self._live_spoiled:
            log.info("week input not kept warm: its settlement will read the log",
                     extra={"week": str(inputs.week), "reason": self._live_spoiled})
        else:
            self._warm.keep(str(inputs.week), inputs, positions)
        self._live_spoiled = ""

    # ---- settling -------------------------------------------------------------------------

    async def _settle_closed(self) -> None:
        pending = sorted((w for w in self.late.closed_weeks() if self.book.settled(w) is None),
                         key=IsoWeek.parse)
        for week in pending:
            if self._now_ms() < self._failed.get(week, 0):
                return  # weeks settle in order: the later ones wait
            # Written once: read the weeks log to its end before deciding (only this instance
            # can write it now, so nothing can appear between this read and our commit).
            await self._control.catch_up(self._fold_control)
            if self.book.settled(week) is not None:
                continue
            self._stage_s = {}
            try:
                records = await self._settlement(week)
            except ValueError as exc:
                self._failed[week] = self._now_ms() + SETTLE_RETRY_MS
                log.error("week not settled: the model refused its input",
                          extra={"week": week, "reason": str(exc)})
                return

            async def crash_inside() -> None:
                if self.config.crash_at == "mid_settlement":
                    await self._producer.flush()
                    log.warning("fault injection: exiting inside the settlement transaction")
                    self._exit_now(137)

            began = self._timer()
            await self._commit(records, crash_inside)
            self._stage_s["commit_s"] = round(self._timer() - began, 2)
            for r in records:
                if isinstance(r.payload, WeekSettled):
                    self._fold_week(r.payload)
                elif isinstance(r.payload, PayoutStateChanged):
                    self.payouts.observe(r.payload)
            self.stats.settlements += 1
            # Each stage's seconds (bench/settle_warm.py prints them).
            log.info("week settled", extra={"week": week, "records": len(records),
                                            "input": self._settled_from, **self._stage_s})

    async def _settlement(self, week: str) -> list[Out]:
        closed = self.book.closed(week)
        assert closed is not None
        at = self._now_ms()
        began = self._timer()
        built = await self._week_input(week, closed)
        self._stage_s["input_s"] = round(self._timer() - began, 2)
        result = settle(built.facts, self.book.policy_for(week))
        self._stage_s["model_s"] = round(self._timer() - began - self._stage_s["input_s"], 2)
        asset = self.config.quote_asset
        summary = week_settled(result, asset, settled_at_ms=at, facts_counted=built.rows,
                               facts_late=self.late.count(week))
        began = self._timer()
        creators = creator_results(result, built, asset)
        out = [Out(self.topics.pool.weeks, week, summary, f"week-settled:{week}", at)]
        # A creator of very many items gets parts (results.result_parts); part 1 keeps the
        # event id a one-record result has.
        out.extend(Out(self.topics.pool.creator_weeks, c.creator_id, part,
                       f"creator-week:{week}:{c.creator_id}"
                       + (f":part-{part.part}" if part.part > 1 else ""), at)
                   for c in creators for part in result_parts(c))
        out.extend(self._payout_out(m, at) for m in self.payouts.settlement(creators, at))
        self._stage_s["records_s"] = round(self._timer() - began, 2)
        return out

    async def _week_input(self, week: str, closed: WeekClosed) -> BuiltWeek:
        """The closed week's model input: from its warm week when this instance kept one
        (warm_weeks.py: the same rows and statuses, without reading the week again), else
        read from the log. Same bytes either way."""
        cut = cut_of(closed)
        asset, book = self.config.quote_asset, self.book
        if self._warm.ready(week, cut) is not None:
            # Read the tail up to the cut: the records before it that are still unread.
            target = {t: dict(enumerate(o)) for t, o in cut.items() if t in self.topics.pool.facts}
            while not await self._facts.reached(target):
                await self._facts.poll(self._fold_fact, 100)
            await self._write_late()
            warm = self._warm.ready(week, cut)
            if warm is not None:
                try:
                    built = warm.inputs.build(
                        pool_minor=book.pool_minor(week),
                        rollovers=await rollovers_into(self.config.bootstrap, self.topics.pool,
                                                       week, book),
                        quote_asset=asset, status_at_ms=closed.closed_at_ms)
                    self._settled_from = "warm"
                    self.stats.settled_warm += 1
                    return built
                except ValueError as exc:
                    # The log's reader names what it refuses (an event id collision's two
                    # ids, say): let it fail with the full reason.
                    log.info("warm week refused: reading the log", extra={
                        "week": week, "reason": str(exc)})
            self._warm.drop(week)
        self._settled_from = "log"
        return await load_week(self.config.bootstrap, self.topics.pool, IsoWeek.parse(week),
                               cut, book, asset, status_at_ms=closed.closed_at_ms)

    # ---- payouts --------------------------------------------------------------------------

    async def _answer_payouts(self) -> None:
        at = self._now_ms()
        out: list[Out] = []
        answers, self._answers = self._answers, []
        for answer in answers:
            outcome = self.payouts.answer(answer, at)
            self._take(outcome, out, at, payout_id=answer.payout_id)
        waiting = []
        for decision in self._decisions:
            if self.book.settled(decision.week) is None:
                waiting.append(decision)  # decided before its week settled: wait for it
                continue
            outcome = self.payouts.decide(decision, at)
            self._take(outcome, out, at, decision_id=decision.decision_id)
        self._decisions = waiting
        await self._commit(out)

    def _take(self, outcome: Outcome, out: list[Out], at: int, **context: str) -> None:
        if outcome.note:
            # Redeliveries are routine (a restart reads every answer again): debug only.
            log.log(logging.DEBUG if outcome.duplicate else logging.INFO, "payout unchanged",
                    extra={"reason": outcome.note, **context})
        for message in outcome.records:
            # Folded now, so a second answer in the same batch sees the first.
            if isinstance(message, PayoutStateChanged):
                self.payouts.observe(message)
                self.stats.payout_states += 1
            out.append(self._payout_out(message, at))

    # ---- facts: the live week and late facts ----------------------------------------------

    async def _position_facts(self, now: int) -> None:
        """Seek the fact tail to the first record the current week's estimate or the late
        scan of the latest closed weeks needs."""
        week = IsoWeek.parse(current_week(now))
        live = self._live_week()
        if live.week != week:
            # The week that ended settles from what was folded, fed on through its grace.
            self._keep_live(live.roll(week), await self._facts.positions())
        start: dict[str, dict[int, int]] = {}
        self._live_start = {}
        for topic in self.topics.pool.facts:
            at = await offsets_at(self.config.bootstrap, topic,
                                  week.start_ms - EARLIEST_WRITE_LEAD_MS)
            self._live_start[topic] = at
            late = self.late.scan_start(topic, at) or {}
            start[topic] = {p: min(o, late.get(p, o)) for p, o in at.items()}
        await self._facts.seek(start)
        # Until the tail has read what is stored now, the live week is partial: no estimate
        # (a restarted job would otherwise publish a dip).
        self._facts_behind = await self._facts.ends()

    async def _read_facts(self, now: int) -> bool:
        """Read the fact records that arrived, for at most about a tick; True when it stopped
        at that limit with records left."""
        live = self._live_week()
        if str(live.week) != current_week(now):
            log.info("new week: estimating it from its first facts",
                     extra={"week": current_week(now)})
            await self._position_facts(now)
        deadline = self._timer() + max(self.config.tick_s, 1.0)
        behind = False
        while await self._facts.poll(self._fold_fact, 100):
            if self._timer() >= deadline:
                behind = True
                break
        if self._facts_behind is not None and await self._facts.reached(self._facts_behind):
            self._facts_behind = None
            log.info("live week read up to now", extra={"week": str(live.week),
                                                        "records": live.records})
        await self._write_late()
        return behind

    def _fold_fact(self, record: Record) -> None:
        topic, partition, offset = record.topic, record.partition, record.offset
        live = offset >= self._live_start.get(topic, {}).get(partition, 0)
        try:
            rows = decode(record.value, FactRows).payload
        except UndecodableEvent as exc:
            self._warm.unreadable(topic, partition, offset, str(exc))
            self._skip_fact(record, live, exc)
            return
        self._warm.feed(topic, partition, offset, rows)
        try:
            if live:
                self._live_week().add_facts(rows)
            self._late_found.extend(self.late.find(rows, topic, partition, offset))
        except ValueError as exc:
            self._skip_fact(record, live, exc)

    def _skip_fact(self, record: Record, live: bool, exc: ValueError) -> None:
        self.stats.skipped += 1
        if live:
            self._live_spoiled = self._live_spoiled or (
                f"{record.topic}[{record.partition}]@{record.offset}: {exc}")
        log.warning("fact record skipped", extra={
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "reason": str(exc)})

    async def _write_late(self) -> None:
        found, self._late_found = self._late_found, []
        fresh = [f for f in found if self.late.listed(f)]
        at = self._now_ms()
        await self._commit([Out(self.topics.pool.weeks, f.week, f,
                                f"facts-late:{f.week}:{f.topic}:{f.partition}:{f.offset}", at)
                            for f in fresh])
        self.stats.late += len(fresh)
        for f in fresh:
            log.info("late facts", extra={"week": f.week, "topic": f.topic,
                                          "partition": f.partition, "offset": f.offset,
                                          "rows": f.rows})

    # ---- the estimate ---------------------------------------------------------------------

    async def _rollovers(self, week: str) -> Mapping[str, int]:
        settled = self.book.settled(previous_week(week)) is not None
        cache = self._rollover_cache
        if cache is None or cache[:2] != (week, settled):
            amounts = await rollovers_into(self.config.bootstrap, self.topics.pool, week,
                                           self.book)
            cache = self._rollover_cache = (week, settled, amounts)
        return cache[2]

    async def _estimate(self, now: int) -> bool:
        """Settle the current week as of now and write what changed; False when the week
        cannot be estimated yet (its stored facts not read up to now)."""
        live = self._live_week()
        week = str(live.week)
        if self.book.closed(week) is not None:
            return True  # closed early: its settlement replaces the estimate
        if self._facts_behind is not None:
            return False  # still reading the week's stored facts
        started = self._timer()
        policy = self.book.policy_for(week)
        pool = self.book.pool_minor(week)
        asset = self.config.quote_asset
        try:
            built: BuiltWeek = live.build(pool_minor=pool, rollovers=await self._rollovers(week),
                                          quote_asset=asset, as_of_ms=now)
            result = settle(built.facts, policy, as_of_ms=now)
        except ValueError as exc:
            log.error("estimate not computed: the model refused the week's input",
                      extra={"week": week, "reason": str(exc)})
            return True
        fresh = estimates(result, built, asset, now)
        changed = self.tracker.changed(week, fresh, as_of_ms=now, pool_minor=pool, asset=asset,
                                       policy_version=policy.version, policy_hash=policy.hash)
        await self._commit([Out(self.topics.estimates, e.creator_id, e,
                                f"estimate:{e.creator_id}:{now}", now) for e in changed])
        for e in changed:
            self.tracker.observe(e)
        self.stats.estimate_runs += 1
        self.stats.estimates_written += len(changed)
        self.stats.last_estimate_ms = now
        self.stats.estimate_seconds.append(self._timer() - started)
        if changed:
            log.info("estimates written", extra={
                "week": week, "creators": len(changed), "rows": built.rows,
                "seconds": round(self._timer() - started, 3)})
        return True

