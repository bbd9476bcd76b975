"""The week's inputs as plain frozen values, plus their columnar form for the bulk stages.

numpy is used here (and in engagement.py / allocation.py) only for int64 columns: a week holds
about ten million events and pure-Python loops over them would take minutes. No float dtype is
ever created; every column is int64.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from planetkit.weeks import iso_week_of_ms, parse_iso_week, week_start_ms

Int64Array = npt.NDArray[np.int64]

MS_PER_DAY = 86_400_000
MS_PER_WEEK = 7 * MS_PER_DAY
MAX_ID = (1 << 63) - 1
# What the model can represent. Every count, sum and product the stages form from these is
# bounded by them (and by the policy's bounds, policy.py) so that it fits int64; inputs
# beyond them are refused where they enter (UnrepresentableInput), never wrapped.
# - A week holds at most MAX_EVENTS events (2**32: 256 GiB of columns, far beyond any host).
# - One view dwells at most a week of seconds (telemetry accepts at most a day): sums of
#   dwell then stay below MAX_EVENTS * MAX_DWELL_SECONDS < 2**52.
# - Money (pool, rollovers, and so every amount) is int64 minor units, as stored downstream;
#   the Merkle leaf's 8-byte amount holds it.
MAX_EVENTS = 1 << 32
MAX_DWELL_SECONDS = MS_PER_WEEK // 1000
MAX_MONEY_MINOR = MAX_ID
INT64_MIN = -(1 << 63)


class UnrepresentableInput(ValueError):
    """An input the model cannot represent: `field` (a path into the input) holds `value`,
    outside `allowed`. Raised where facts and policies enter the model, before any stage runs,
    so a bad value never wraps, indexes a table from its end or is silently reinterpreted."""

    def __init__(self, field: str, value: object, allowed: str, note: str = "") -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {value!r} is outside {allowed}"
                         + (f" ({note})" if note else ""))


def check_int(field: str, value: object, lo: int, hi: int, note: str = "") -> None:
    """Refuse anything but an integer in [lo, hi]: Python or numpy ints, not bool (True
    would pass as 1), float or str (they would hash, then fail or truncate deep inside)."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_) \
            or not lo <= int(value) <= hi:
        raise UnrepresentableInput(field, value, f"[{lo}, {hi}]", note)


def check_ints(field: str, values: list[int], lo: int, hi: int) -> None:
    """check_int for each of `values` (field has a {} for the index). A million values are
    checked as one array: a float, bool or out-of-range one makes numpy choose another dtype
    or refuse; only then are they looked at one by one, to name the first bad one."""
    try:
        arr = np.array(values)
        fine = not values or (arr.dtype == np.int64 and int(arr.min()) >= lo
                              and int(arr.max()) <= hi)
    except OverflowError:
        fine = False
    if not fine:
        for k, v in enumerate(values):
            check_int(field.format(k), v, lo, hi)


class EventKind(IntEnum):
    """Kinds of engagement; VIEW carries dwell, the rest are interactions. Never renumber."""

    VIEW = 0
    LIKE = 1
    COMMENT = 2
    REPLY = 3
    SHARE = 4
    FOLLOW = 5
    TIP = 6
    QA = 7
    # Group chats (issue 15): the groups service's own facts, never client telemetry. Dwell
    # on a group is a VIEW of the group's item.
    GROUP_MESSAGE = 8
    GROUP_REACTION = 9


INTERACTION_KINDS: tuple[EventKind, ...] = tuple(k for k in EventKind if k is not EventKind.VIEW)
# The interaction kinds of the launch model: every points table lists them. Kinds added later
# may be left out of a table (they then earn 0 points), so a policy published before they
# existed keeps its encoding, its hash and its results (policy._check_points_table).
FIRST_KINDS: tuple[EventKind, ...] = tuple(k for k in INTERACTION_KINDS if k <= EventKind.QA)
# Kinds that count once per (consumer, item) or once per (consumer, creator) in a week.
ONCE_PER_ITEM: frozenset[EventKind] = frozenset({EventKind.LIKE})
ONCE_PER_CREATOR: frozenset[EventKind] = frozenset({EventKind.FOLLOW})
# A group message counts only with min_text_length characters, as a comment does ("ok" and
# "+1" are not engagement worth points).
TEXT_KINDS: frozenset[EventKind] = frozenset({EventKind.COMMENT, EventKind.REPLY, EventKind.QA,
                                              EventKind.GROUP_MESSAGE})


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO-8601 week (UTC), e.g. 2026-W05; computed from given timestamps, never a clock."""

    year: int
    week: int

    def __post_init__(self) -> None:
        dt.date.fromisocalendar(self.year, self.week, 1)  # raises on an invalid week

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse 'YYYY-Www'."""
        return cls(*parse_iso_week(text))

    @classmethod
    def containing(cls, epoch_ms: int) -> IsoWeek:
        """The ISO week that contains a UTC epoch-millisecond timestamp."""
        return cls.parse(iso_week_of_ms(epoch_ms))

    @property
    def start_ms(self) -> int:
        """Monday 00:00 UTC of this week, in epoch ms."""
        return week_start_ms(str(self))

    @property
    def end_ms(self) -> int:
        """The first millisecond after this week."""
        return self.start_ms + MS_PER_WEEK

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


@dataclass(frozen=True)
class ViewFact:
    """A consumer spent `dwell_seconds` on an item (post, article, live, group)."""

    event_id: int
    consumer_id: int
    creator_id: int
    item_id: int
    occurred_at_ms: int
    dwell_seconds: int


@dataclass(frozen=True)
class InteractionFact:
    """A consumer interacted with an item; `text_length` counts characters for text kinds."""

    event_id: int
    consumer_id: int
    creator_id: int
    item_id: int
    occurred_at_ms: int
    kind: EventKind
    text_length: int = 0


EngagementFact = ViewFact | InteractionFact


@dataclass(frozen=True, slots=True)
class ConsumerValue:
    """A consumer's standing carried into the week: fees over the trailing window, KYC, sanction."""

    consumer_id: int
    trailing_fees_minor: int
    kyc_verified: bool
    sanctioned: bool = False


@dataclass(frozen=True, slots=True)
class CreatorStatus:
    """A creator's eligibility for the week."""

    creator_id: int
    kyc_verified: bool
    identity_open: bool
    sanctioned: bool = False

    @property
    def eligible(self) -> bool:
        """Creators need KYC and an open identity to earn at all."""
        return self.kyc_verified and self.identity_open


@dataclass(frozen=True, slots=True)
class ItemStatus:
    """An item's owner and, if removed after a confirmed report, when."""

    item_id: int
    creator_id: int
    removed_at_ms: int | None = None


@dataclass(frozen=True)
class Rollover:
    """An amount below the minimum payout carried into this week for a creator."""

    creator_id: int
    amount_minor: int


@dataclass(frozen=True)
class EngagementColumns:
    """The week's engagement events as parallel int64 columns (kind 0 = view)."""

    event_id: Int64Array
    consumer_id: Int64Array
    creator_id: Int64Array
    item_id: Int64Array
    occurred_at_ms: Int64Array
    kind: Int64Array
    dwell_seconds: Int64Array
    text_length: Int64Array

    def __post_init__(self) -> None:
        n = len(self.event_id)
        for name in self.__dataclass_fields__:
            col = getattr(self, name)
            if not isinstance(col, np.ndarray) or col.dtype != np.int64 or col.ndim != 1 \
                    or len(col) != n:
                raise UnrepresentableInput(
                    f"events.{name}", getattr(col, "dtype", type(col).__name__),
                    f"1-d int64 arrays of one length ({n})")
        check_int("len(events)", n, 0, MAX_EVENTS)
        # Keep read-only views: what was checked is what the stages read (writing through
        # this value is refused; the caller's own arrays stay as they were).
        for name in self.__dataclass_fields__:
            view = getattr(self, name).view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Every value in its range, by whole-column reductions (a few ms per column at ten
        million events); the offending row is looked for only once a column has one."""
        for name, lo, hi in _COLUMN_RANGES:
            col: Int64Array = getattr(self, name)
            if len(col) and (int(col.min()) < lo or int(col.max()) > hi):
                _refuse_row(name, col, (col < lo) | (col > hi), f"[{lo}, {hi}]")
        # The model keeps dwell for views and text for interactions only; the other would be
        # ignored silently, so a producer that swapped or misfilled columns is refused.
        is_view = self.kind == int(EventKind.VIEW)
        for name, on, what in (("dwell_seconds", ~is_view, "an interaction carries no dwell"),
                               ("text_length", is_view, "a view carries no text")):
            col = getattr(self, name)
            stray = np.logical_and(on, col != 0)
            if stray.any():
                _refuse_row(name, col, stray, "[0, 0]", what)

    def __len__(self) -> int:
        return len(self.event_id)

    @classmethod
    def from_facts(cls, facts: Iterable[EngagementFact]) -> EngagementColumns:
        """Columns from plain fact values (any order, duplicates allowed); checked like any
        columns (row i is facts[i])."""
        rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        interaction_kinds = f"an EventKind other than VIEW (1-{int(max(EventKind))})"
        for i, f in enumerate(facts):
            if isinstance(f, ViewFact):
                rows.append((f.event_id, f.consumer_id, f.creator_id, f.item_id,
                             f.occurred_at_ms, int(EventKind.VIEW), f.dwell_seconds, 0))
            else:
                # A plain int passes the type hint at run time: map it to a kind or refuse it.
                try:
                    kind = EventKind(f.kind)
                except ValueError:
                    raise UnrepresentableInput(f"facts[{i}].kind", f.kind,
                                               interaction_kinds) from None
                if kind is EventKind.VIEW:
                    raise UnrepresentableInput(f"facts[{i}].kind", f.kind, interaction_kinds,
                                               "a view is a ViewFact")
                rows.append((f.event_id, f.consumer_id, f.creator_id, f.item_id,
                             f.occurred_at_ms, int(kind), 0, f.text_length))
        if not rows:
            return cls(*(np.zeros(0, dtype=np.int64) for _ in range(8)))
        # No dtype given: numpy then picks float64 or object for a float or an int beyond
        # int64 (with dtype=int64 it would truncate 5.7 s to 5 s), and the value is named.
        try:
            table = np.array(rows)
        except OverflowError:
            table = np.zeros(0)
        if table.dtype != np.int64:
            _refuse_fact_value(rows)
        table = table.reshape(len(rows), 8)
        return cls(*(np.ascontiguousarray(table[:, i]) for i in range(8)))


# Column -> inclusive range; occurred_at_ms may be any int64 (outside the week is a discount).
_COLUMN_RANGES: tuple[tuple[str, int, int], ...] = (
    ("event_id", 0, MAX_ID), ("consumer_id", 0, MAX_ID), ("creator_id", 0, MAX_ID),
    ("item_id", 0, MAX_ID),
    # Kinds index the points table: a negative one would read it from its end.
    ("kind", 0, int(max(EventKind))),
    ("dwell_seconds", 0, MAX_DWELL_SECONDS),
    ("text_length", 0, MAX_ID),
)
_ROW_FIELDS = ("event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
               "dwell_seconds", "text_length")


def _refuse_row(name: str, col: Int64Array, bad: npt.NDArray[np.bool_], allowed: str,
                note: str = "") -> NoReturn:
    row = int(np.flatnonzero(bad)[0])
    raise UnrepresentableInput(f"events.{name}[{row}]", int(col[row]), allowed, note)


def _refuse_fact_value(rows: list[tuple[int, int, int, int, int, int, int, int]]) -> NoReturn:
    """Name the first fact value that is not an int64 integer (numpy found one)."""
    for i, row in enumerate(rows):
        for name, value in zip(_ROW_FIELDS, row, strict=True):
            check_int(f"facts[{i}].{name}", value, INT64_MIN, MAX_ID)
    raise AssertionError("numpy refused values that are all int64 integers")


@dataclass(frozen=True)
class WeekFacts:
    """Everything a settlement depends on besides the policy: a pure value."""

    week: IsoWeek
    pool_minor: int
    events: EngagementColumns
    consumers: tuple[ConsumerValue, ...] = ()
    creators: tuple[CreatorStatus, ...] = ()
    items: tuple[ItemStatus, ...] = ()
    rollovers: tuple[Rollover, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.week, IsoWeek):
            raise UnrepresentableInput("week", self.week, "an IsoWeek")
        if not isinstance(self.events, EngagementColumns):
            raise UnrepresentableInput("events", type(self.events).__name__,
                                       "EngagementColumns")
        check_int("pool_minor", self.pool_minor, 0, MAX_MONEY_MINOR)
        for what, attr, ids, unique in (
                ("consumers", "consumer_id", [c.consumer_id for c in self.consumers], True),
                ("creators", "creator_id", [c.creator_id for c in self.creators], True),
                ("items", "item_id", [i.item_id for i in self.items], True),
                # An owner outside the ids would read as 'no status' (-1) in the item lookup.
                ("items", "creator_id", [i.creator_id for i in self.items], False),
                ("rollovers", "creator_id", [r.creator_id for r in self.rollovers], True)):
            check_ints(f"{what}[{{}}].{attr}", ids, 0, MAX_ID)
            if unique and len(set(ids)) != len(ids):  # two facts about one id: which holds?
                first_at: dict[int, int] = {}
                k, dup = next((k, i) for k, i in enumerate(ids)
                              if first_at.setdefault(i, k) != k)
                raise UnrepresentableInput(f"{what}[{k}].{attr}", dup, "distinct ids",
                                           f"duplicate {what[:-1]} id in week facts")
        # Fees may exceed int64 (weights.py takes them exactly) and be negative (rebates weigh
        # as no fees), but a float would be truncated by the vectorised weights.
        fees = [c.trailing_fees_minor for c in self.consumers]
        if fees and np.array(fees).dtype != np.int64:
            for k, fee in enumerate(fees):
                if not isinstance(fee, int | np.integer) or isinstance(fee, bool | np.bool_):
                    raise UnrepresentableInput(f"consumers[{k}].trailing_fees_minor", fee,
                                               "integers (minor units)")
        check_ints("items[{}].removed_at_ms", [0 if i.removed_at_ms is None else i.removed_at_ms
                                               for i in self.items], INT64_MIN, MAX_ID)
        # Every amount a creator is given or carries is part of pool + rollovers in, so their
        # total bounds them all.
        amounts = [r.amount_minor for r in self.rollovers]
        check_ints("rollovers[{}].amount_minor", amounts, 0, MAX_MONEY_MINOR)
        if self.pool_minor + sum(amounts) > MAX_MONEY_MINOR:
            total = self.pool_minor
            for k, amount in enumerate(amounts):
                check_int(f"rollovers[{k}].amount_minor", amount, 0, MAX_MONEY_MINOR - total,
                          "pool and rollovers together fit int64 money")
                total += amount
