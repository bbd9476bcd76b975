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

import numpy as np
import numpy.typing as npt

from planetkit.weeks import iso_week_of_ms, parse_iso_week, week_start_ms

Int64Array = npt.NDArray[np.int64]

MS_PER_DAY = 86_400_000
MS_PER_WEEK = 7 * MS_PER_DAY
MAX_ID = (1 << 63) - 1


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


INTERACTION_KINDS: tuple[EventKind, ...] = tuple(k for k in EventKind if k is not EventKind.VIEW)
# Kinds that count once per (consumer, item) or once per (consumer, creator) in a week.
ONCE_PER_ITEM: frozenset[EventKind] = frozenset({EventKind.LIKE})
ONCE_PER_CREATOR: frozenset[EventKind] = frozenset({EventKind.FOLLOW})
TEXT_KINDS: frozenset[EventKind] = frozenset({EventKind.COMMENT, EventKind.REPLY, EventKind.QA})


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


@dataclass(frozen=True)
class ConsumerValue:
    """A consumer's standing carried into the week: fees over the trailing window, KYC, sanction."""

    consumer_id: int
    trailing_fees_minor: int
    kyc_verified: bool
    sanctioned: bool = False


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
            if col.dtype != np.int64 or col.ndim != 1 or len(col) != n:
                raise ValueError(f"column {name} must be a 1-d int64 array of length {n}")

    def __len__(self) -> int:
        return len(self.event_id)

    @classmethod
    def from_facts(cls, facts: Iterable[EngagementFact]) -> EngagementColumns:
        """Columns from plain fact values (any order, duplicates allowed)."""
        rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        for f in facts:
            if isinstance(f, ViewFact):
                rows.append((f.event_id, f.consumer_id, f.creator_id, f.item_id,
                             f.occurred_at_ms, int(EventKind.VIEW), f.dwell_seconds, 0))
            else:
                if f.kind is EventKind.VIEW:
                    raise ValueError("an InteractionFact cannot be a VIEW")
                rows.append((f.event_id, f.consumer_id, f.creator_id, f.item_id,
                             f.occurred_at_ms, int(f.kind), 0, f.text_length))
        table = np.array(rows, dtype=np.int64).reshape(len(rows), 8)
        return cls(*(np.ascontiguousarray(table[:, i]) for i in range(8)))


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
        if self.pool_minor < 0:
            raise ValueError("pool must be non-negative")
        for what, ids in (("consumer", [c.consumer_id for c in self.consumers]),
                          ("creator", [c.creator_id for c in self.creators]),
                          ("item", [i.item_id for i in self.items]),
                          ("rollover", [r.creator_id for r in self.rollovers])):
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {what} id in week facts")
            if any(not 0 <= i <= MAX_ID for i in ids):
                raise ValueError(f"{what} ids must be in [0, 2**63)")
        if any(r.amount_minor < 0 for r in self.rollovers):
            raise ValueError("rollovers must be non-negative")
