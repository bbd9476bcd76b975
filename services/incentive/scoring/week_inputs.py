"""One ISO week's stored facts and statuses folded into the model's input (``WeekFacts``).

Pure: decoded protobuf values in, model values out; the settlement, the estimate, the shadow
comparison and the reconciliation all build their input here, so they cannot disagree.

- Rows are kept when their ``occurred_at_ms`` lies in the week (a fact of another week in the
  same record belongs to that week's settlement, or is late for it). Duplicates are kept: the
  model counts them as ``duplicate_event`` and keeps one.
- Ids become the model's ints by ``domain/id_map.py`` (consumers, creators, items: an IdMap that
  refuses collisions). Event ids are hashed the same way in their own space; two different
  event strings on one int are refused too (checked by sorting, not by a 10 M-entry dict).
- Status comes from the latest UserStatus / ItemStatus value per id, read *as of* a time
  (``status_at_ms``: the week's close for a settlement, now for an estimate) from their periods,
  so a later sanction, removal or KYC cannot change a settled week when the log is replayed.
- Every item gets an ``ItemStatus`` (the model refuses items without one that name several
  creators): from ITEM_STATUS when content published it, else the creator the earliest fact
  names (follows of ``home:<creator>``).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import ItemActivity, WeekActivity
from planetkit.fact_rows import FOLLOW, VIEW, check_facts
from services.incentive.domain import facts as model
from services.incentive.domain.id_map import IdKind, IdMap

MS_PER_DAY = 86_400_000
# Days of fees before the week that weigh a consumer (the policy's fee_per_weight_minor is per
# trailing 30-day fees: docs/incentives.md).
FEE_WINDOW_DAYS = 30
_TOP_BIT_CLEARED = (1 << 63) - 1


class EventIdCollision(ValueError):
    """Two different event ids hash to one model event id: refused, never merged."""


def event_int(text: str) -> int:
    """The model's event id of an envelope event id (BLAKE2b-64, its own space)."""
    digest = hashlib.blake2b(b"event\0" + text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _TOP_BIT_CLEARED


def holds_at(periods: Iterable[Period], at_ms: int) -> bool:
    """Whether one of ``periods`` ([from, until), until 0 = open) holds at ``at_ms``."""
    return any(p.from_ms <= at_ms and (p.until_ms == 0 or at_ms < p.until_ms)
               for p in periods)


def removed_at(status: ItemStatus, at_ms: int) -> int | None:
    """When the removal standing at ``at_ms`` began, or None (never removed, or restored by
    then: a restored item was wrongly removed and earns for the whole week)."""
    standing = [p.from_ms for p in status.removed
                if p.from_ms <= at_ms and (p.until_ms == 0 or at_ms < p.until_ms)]
    return min(standing) if standing else None


@dataclass(frozen=True)
class BuiltWeek:
    """The model's input for one week, how to name its ints, and the week's raw activity."""

    facts: model.WeekFacts
    ids: IdMap
    activity: Mapping[str, WeekActivity]
    # Rows of the week given to the model (duplicates included).
    rows: int


class WeekInputs:
    """Folds fact records and statuses into one ISO week's model input."""

    def __init__(self, week: model.IsoWeek) -> None:
        self.week = week
        self._start, self._end = week.start_ms, week.end_ms
        self._ids = IdMap()
        self._event_names: list[str] = []
        self._cols: dict[str, array[int]] = {
            name: array("q") for name in ("event_id", "consumer_id", "creator_id", "item_id",
                                          "occurred_at_ms", "kind", "dwell_seconds",
                                          "text_length")}
        self._users: dict[str, UserStatus] = {}
        self._items: dict[str, ItemStatus] = {}
        # string -> model id, per kind: a week repeats the same creators and items millions of
        # times, and IdMap.intern hashes on every call.
        self._known: dict[IdKind, dict[str, int]] = {kind: {} for kind in IdKind}

    def _intern(self, kind: IdKind, text: str) -> int:
        known = self._known[kind]
        value = known.get(text)
        if value is None:
            value = known[text] = self._ids.intern(kind, text)
        return value

    def __len__(self) -> int:
        return len(self._event_names)

    def add_facts(self, rows: FactRows) -> int:
        """Keep the record's rows of this week; ValueError for a malformed record."""
        check_facts(rows)
        start, end = self._start, self._end
        keep = [i for i, at in enumerate(rows.occurred_at_ms) if start <= at < end]
        if not keep:
            return 0
        consumer = self._intern(IdKind.CONSUMER, rows.consumer_id)
        cols = self._cols
        event_ids, item_ids, creator_ids = rows.event_ids, rows.item_ids, rows.creator_ids
        names = [event_ids[i] for i in keep]
        self._event_names.extend(names)
        cols["event_id"].extend([event_int(n) for n in names])
        cols["consumer_id"].extend([consumer] * len(keep))
        creators, items = self._known[IdKind.CREATOR], self._known[IdKind.ITEM]
        cols["creator_id"].extend([
            creators.get(t) or self._intern(IdKind.CREATOR, t)
            for t in (creator_ids[i] for i in keep)])
        cols["item_id"].extend([
            items.get(t) or self._intern(IdKind.ITEM, t) for t in (item_ids[i] for i in keep)])
        for name, col in (("occurred_at_ms", rows.occurred_at_ms), ("kind", rows.kinds),
                          ("dwell_seconds", rows.dwell_seconds),
                          ("text_length", rows.text_lengths)):
            cols[name].extend(col[i] for i in keep)
        return len(keep)

    def set_user(self, status: UserStatus) -> None:
        """The user's latest status (a compacted topic's value: the later one wins)."""
        self._users[status.user_id] = status

    def set_item(self, status: ItemStatus) -> None:
        """The item's latest status."""
        self._items[status.item_id] = status

    def build(self, *, pool_minor: int, rollovers: Mapping[str, int], quote_asset: str,
              status_at_ms: int) -> BuiltWeek:
        """The model's input with statuses as of ``status_at_ms``; UnrepresentableInput /
        IdCollision / EventIdCollision for what the model must not be given."""
        ids = self._ids
        columns = {name: np.frombuffer(col, dtype=np.int64).copy() if len(col)
                   else np.zeros(0, dtype=np.int64) for name, col in self._cols.items()}
        self._check_event_ids(columns["event_id"])
        events = model.EngagementColumns(**columns)
        consumers = tuple(self._consumer(c, quote_asset, status_at_ms)
                          for c in sorted(set(columns["consumer_id"].tolist())))
        for creator in rollovers:
            ids.intern(IdKind.CREATOR, creator)
        creator_ints = set(columns["creator_id"].tolist()) | {
            ids.intern(IdKind.CREATOR, c) for c in rollovers}
        items = self._item_statuses(columns, status_at_ms)
        # Item owners are creators too (their eligibility decides an item's events).
        creator_ints |= {i.creator_id for i in items}
        creators = tuple(self._creator(c, status_at_ms) for c in sorted(creator_ints))
        carried = tuple(model.Rollover(ids.intern(IdKind.CREATOR, c), amount)
                        for c, amount in sorted(rollovers.items()) if amount > 0)
        facts = model.WeekFacts(self.week, pool_minor, events, consumers, creators, items,
                                carried)
        return BuiltWeek(facts, ids, self._activity(columns), len(self._event_names))

    def _check_event_ids(self, event_col: np.ndarray) -> None:
        if not len(event_col):
            return
        order = np.argsort(event_col, kind="stable")
        ordered = event_col[order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1])
        for k in same.tolist():
            a, b = self._event_names[int(order[k])], self._event_names[int(order[k + 1])]
            if a != b:
                raise EventIdCollision(f"event ids {a!r} and {b!r} both map to "
                                       f"{int(ordered[k])}: refusing to merge them")

    def _consumer(self, consumer: int, quote_asset: str, at_ms: int) -> model.ConsumerValue:
        status = self._users.get(self._ids.name(IdKind.CONSUMER, consumer))
        if status is None:
            return model.ConsumerValue(consumer, 0, kyc_verified=False)
        first_day = self._start // MS_PER_DAY - FEE_WINDOW_DAYS
        last_day = self._start // MS_PER_DAY  # exclusive: fees before the week
        fees = sum(d.quote_minor for d in status.fees
                   if first_day <= d.day < last_day and d.quote_asset == quote_asset)
        return model.ConsumerValue(
            consumer, fees,
            kyc_verified=0 < status.kyc_verified_at_ms <= at_ms,
            sanctioned=holds_at(status.sanctioned, at_ms))

    def _creator(self, creator: int, at_ms: int) -> model.CreatorStatus:
        status = self._users.get(self._ids.name(IdKind.CREATOR, creator))
        if status is None:
            return model.CreatorStatus(creator, kyc_verified=False, identity_open=False)
        return model.CreatorStatus(
            creator,
            kyc_verified=0 < status.kyc_verified_at_ms <= at_ms,
            identity_open=holds_at(status.identity_open, at_ms),
            sanctioned=holds_at(status.sanctioned, at_ms))

    def _item_statuses(self, columns: Mapping[str, np.ndarray],
                       at_ms: int) -> tuple[model.ItemStatus, ...]:
        """One status per item of the week, by item id."""
        ids = self._ids
        item_col = columns["item_id"]
        if not len(item_col):
            return ()
        # The earliest fact of each item (time, then event id): one lexsort, not a scan per
        # item. An item without a status from content belongs to the creator it names.
        order = np.lexsort((columns["event_id"], columns["occurred_at_ms"], item_col))
        ordered = item_col[order]
        first = order[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        out = []
        for item, creator in zip(item_col[first].tolist(), columns["creator_id"][first].tolist(),
                                 strict=True):
            status = self._items.get(ids.name(IdKind.ITEM, item))
            if status is not None and status.creator_id:
                owner = self._intern(IdKind.CREATOR, status.creator_id)
                out.append(model.ItemStatus(item, owner, removed_at(status, at_ms)))
            else:
                out.append(model.ItemStatus(item, creator))
        return tuple(out)

    def _activity(self, columns: Mapping[str, np.ndarray]) -> dict[str, WeekActivity]:
        """Raw activity per creator and item (before the policy): views, unique viewers,
        dwell, followers gained. Sorted runs, not a Python pass per event (10 M events)."""
        creator_names = self._ids.names(IdKind.CREATOR)
        item_names = self._ids.names(IdKind.ITEM)
        out: dict[str, WeekActivity] = {}
        kind = columns["kind"]
        views = kind == int(VIEW)
        creator, item = columns["creator_id"][views], columns["item_id"][views]
        consumer, dwell = columns["consumer_id"][views], columns["dwell_seconds"][views]
        if len(creator):
            order = np.lexsort((consumer, item, creator))
            c, i, who, sec = creator[order], item[order], consumer[order], dwell[order]
            new_pair = np.concatenate(([True], (c[1:] != c[:-1]) | (i[1:] != i[:-1])))
            new_viewer = new_pair | np.concatenate(([True], who[1:] != who[:-1]))
            starts = np.flatnonzero(new_pair)
            counts = np.diff(np.append(starts, len(c)))
            dwell_sums = np.add.reduceat(sec, starts)
            viewer_counts = np.add.reduceat(new_viewer.astype(np.int64), starts)
            for cr, it, n, d, u in zip(c[starts].tolist(), i[starts].tolist(), counts.tolist(),
                                       dwell_sums.tolist(), viewer_counts.tolist(),
                                       strict=True):
                act = out.get(cr_name := creator_names[cr])
                if act is None:
                    act = out[cr_name] = WeekActivity()
                act.items.append(ItemActivity(item_id=item_names[it], views=n,
                                              unique_viewers=u, dwell_seconds=d))
                act.views += n
                act.dwell_seconds += d
            for cr, n in self._distinct_per_creator(creator, consumer).items():
                out[creator_names[cr]].unique_viewers = n
        follows = kind == int(FOLLOW)
        gained = self._distinct_per_creator(columns["creator_id"][follows],
                                            columns["consumer_id"][follows])
        for cr, n in gained.items():
            out.setdefault(creator_names[cr], WeekActivity()).followers_gained = n
        return out

    @staticmethod
    def _distinct_per_creator(creator: np.ndarray, consumer: np.ndarray) -> dict[int, int]:
        """creator -> number of distinct consumers among the (creator, consumer) rows."""
        if not len(creator):
            return {}
        order = np.lexsort((consumer, creator))
        c, who = creator[order], consumer[order]
        new_creator = np.concatenate(([True], c[1:] != c[:-1]))
        new_pair = new_creator | np.concatenate(([True], who[1:] != who[:-1]))
        starts = np.flatnonzero(new_creator)
        distinct = np.add.reduceat(new_pair.astype(np.int64), starts)
        return dict(zip(c[starts].tolist(), distinct.tolist(), strict=True))
