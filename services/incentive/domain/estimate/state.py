"""Table values: plain dataclasses, serialized explicitly as compact JSON of ints and strings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from planetkit.money import Money

# Bounds on remembered ids. Posts per creator-week are few; fees per consumer-week can be many,
# and duplicates come from retries close together, so the oldest ids are forgotten first.
MAX_POST_IDS = 10_000
MAX_FEE_IDS = 4_096
MAX_APPLIED_RECORDS = 512


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Engagement:
    """Views, dwell and interactions, summed."""

    views: int = 0
    dwell_seconds: int = 0
    interactions: int = 0

    def plus(self, other: Engagement) -> Engagement:
        """The sum of two engagements."""
        return Engagement(
            self.views + other.views,
            self.dwell_seconds + other.dwell_seconds,
            self.interactions + other.interactions,
        )


@dataclass(frozen=True)
class CreatorWeek:
    """A creator's engagement in a week: totals and per consumer."""

    total: Engagement = Engagement()
    consumers: dict[str, Engagement] = field(default_factory=dict)

    def encode(self) -> bytes:
        """Compact JSON: {"t": [v, d, i], "c": {consumer: [v, d, i]}}."""
        consumers = {k: _triple(v) for k, v in self.consumers.items()}
        return _dumps({"t": _triple(self.total), "c": consumers})

    @staticmethod
    def decode(raw: bytes | None) -> CreatorWeek:
        """The value stored by ``encode``; empty when absent."""
        if raw is None:
            return CreatorWeek()
        obj = json.loads(raw)
        return CreatorWeek(Engagement(*obj["t"]), {k: Engagement(*v) for k, v in obj["c"].items()})

    def apply(self, deltas: dict[str, Engagement]) -> CreatorWeek:
        """This week plus per-consumer deltas."""
        consumers = dict(self.consumers)
        total = self.total
        for consumer_id, delta in deltas.items():
            consumers[consumer_id] = consumers.get(consumer_id, Engagement()).plus(delta)
            total = total.plus(delta)
        return CreatorWeek(total, consumers)


def _triple(e: Engagement) -> list[int]:
    return [e.views, e.dwell_seconds, e.interactions]


@dataclass(frozen=True)
class IdTally:
    """A sum with the ids already counted in it (bounded, oldest forgotten first)."""

    amount: int = 0
    ids: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """Compact JSON: {"a": amount, "i": [ids...]}."""
        return _dumps({"a": self.amount, "i": list(self.ids)})

    @staticmethod
    def decode(raw: bytes | None) -> IdTally:
        """The value stored by ``encode``; empty when absent."""
        if raw is None:
            return IdTally()
        obj = json.loads(raw)
        return IdTally(int(obj["a"]), tuple(obj["i"]))

    def add(self, item_id: str, amount: int, max_ids: int) -> IdTally | None:
        """This tally with ``amount`` counted under ``item_id``; None if that id was counted."""
        if item_id in self.ids:
            return None
        return IdTally(self.amount + amount, (*self.ids, item_id)[-max_ids:])


@dataclass(frozen=True)
class MoneyTally:
    """A sum of money in one asset with the ids already counted in it (bounded, oldest
    forgotten first). Adding money of another asset raises planetkit.money.AssetMismatch."""

    total: Money
    ids: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """Compact JSON: {"a": amount_minor, "q": asset, "i": [ids...]} ("a"/"i" as IdTally)."""
        return _dumps({"a": self.total.amount_minor, "q": self.total.asset, "i": list(self.ids)})

    @staticmethod
    def decode(raw: bytes | None, asset: str) -> MoneyTally:
        """The value stored by ``encode``; zero of ``asset`` when absent.

        A value written before tallies named their asset (no "q") was summed as the quote
        asset of its day; it is read as ``asset``, the quote asset now.
        """
        if raw is None:
            return MoneyTally(Money.zero(asset))
        obj = json.loads(raw)
        return MoneyTally(Money(int(obj["a"]), str(obj.get("q", asset))), tuple(obj["i"]))

    def add(self, item_id: str, amount: Money, max_ids: int) -> MoneyTally | None:
        """This tally with ``amount`` counted under ``item_id``; None if that id was counted."""
        if item_id in self.ids:
            return None
        return MoneyTally(self.total + amount, (*self.ids, item_id)[-max_ids:])


@dataclass(frozen=True)
class RecentIds:
    """A bounded memory of recently seen ids, oldest forgotten first."""

    ids: tuple[str, ...] = ()

    def encode(self) -> bytes:
        """Compact JSON list of ids."""
        return _dumps(list(self.ids))

    @staticmethod
    def decode(raw: bytes | None) -> RecentIds:
        """The value stored by ``encode``; empty when absent."""
        return RecentIds(tuple(json.loads(raw))) if raw is not None else RecentIds()

    def remember(self, item_id: str, max_ids: int) -> RecentIds | None:
        """These ids plus ``item_id``; None if it was already seen."""
        if item_id in self.ids:
            return None
        return RecentIds((*self.ids, item_id)[-max_ids:])


def encode_kyc(verified_at_ms: int) -> bytes:
    """The kyc table value: when the user was verified."""
    return _dumps({"v": verified_at_ms})


def decode_kyc(raw: bytes | None) -> bool:
    """Whether the kyc table value says the user is verified."""
    return raw is not None
