"""Post once, earn forever: each item's append-only ledger of weekly amounts."""

from __future__ import annotations

from dataclasses import dataclass

from services.incentive.domain.breakdown import WeekResult
from services.incentive.domain.facts import IsoWeek


@dataclass(frozen=True)
class LedgerEntry:
    """What an item earned in one final week, and under which policy."""

    week: str
    amount_minor: int
    policy_hash: str


@dataclass(frozen=True)
class ItemLedger:
    """An item's weekly earnings, oldest first, and their lifetime total."""

    item_id: int
    creator_id: int
    entries: tuple[LedgerEntry, ...] = ()

    @property
    def lifetime_minor(self) -> int:
        """Everything the item has earned, over any number of weeks."""
        return sum(e.amount_minor for e in self.entries)

    def append(self, entry: LedgerEntry) -> ItemLedger:
        """A new ledger with one more week; weeks only move forward, nothing is rewritten."""
        if self.entries and IsoWeek.parse(entry.week) <= IsoWeek.parse(self.entries[-1].week):
            raise ValueError(f"ledger of item {self.item_id} already has {self.entries[-1].week}")
        if entry.amount_minor < 0:
            raise ValueError("amounts are non-negative")
        return ItemLedger(self.item_id, self.creator_id, (*self.entries, entry))


def ledger_entries(result: WeekResult) -> dict[int, tuple[int, LedgerEntry]]:
    """item id -> (creator id, entry) for every item that earned in a final result."""
    if result.mode != "final":
        raise ValueError("only a final result is written to ledgers")
    return {i.item_id: (c.creator_id, LedgerEntry(result.week, i.amount_minor, result.policy_hash))
            for c in result.creators for i in c.items if i.amount_minor > 0}


def post_week(ledgers: dict[int, ItemLedger], result: WeekResult) -> dict[int, ItemLedger]:
    """Append a final week's item amounts to the ledgers (new mapping; inputs untouched)."""
    out = dict(ledgers)
    for item_id, (creator_id, entry) in ledger_entries(result).items():
        out[item_id] = out.get(item_id, ItemLedger(item_id, creator_id)).append(entry)
    return out
