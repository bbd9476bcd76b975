"""One ISO week's stored facts and statuses folded into the model's input (``WeekFacts``).

Pure: decoded protobuf values in, model values out; the settlement, the estimate, the shadow
comparison and the reconciliation all build their input here, so they cannot disagree.

- Rows are kept when their ``occurred_at_ms`` lies in the week (a fact of another week in the
  same record belongs to that week's settlement, or is late for it). Duplicates are kept: the
  model counts them as ``duplicate_event`` and keeps one.
- Rows are folded column by column (a record holds thousands): numpy for the numbers, one
  dict lookup per id string (a week repeats the same consumers, creators and items).
- Ids become the model's ints by ``domain/id_map.py`` (consumers, creators, items: an IdMap that
  refuses collisions). Event ids are hashed in their own space (``planetkit.fact_rows``:
  the aggregator writes the keys with its views; a record without them is hashed here), with
  an independent check digest per row: rows on one event key with different checks are two
  event ids on one int, refused (``EventIdCollision``), never merged. No event id string is
  kept (10 M of them were ~1 GB); the refusal names the int, and ``fact_log.load_week``
  re-reads the week for the strings.
- Status comes from the latest UserStatus / ItemStatus value per id, read *as of* a time
  (``status_at_ms``: the week's close for a settlement, now for an estimate) from their periods,
  so a later sanction, removal or KYC cannot change a settled week when the log is replayed.
- Every item gets an ``ItemStatus`` (the model refuses items without one that name several
  creators): from ITEM_STATUS when content published it, else the creator the earliest fact
  names (follows of ``home:<creator>``).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import WeekActivity
from planetkit.fact_rows import FOLLOW, VIEW, Columns, checked_columns, event_key, event_keys
from services.incentive.domain import facts as model
from services.incentive.domain.id_map import IdKind, IdMap

MS_PER_DAY = 86_400_000
# Days of fees before the week that weigh a consumer (the policy's fee_per_weight_minor is per
# trailing 30-day fees: docs/incentives.md).
FEE_WINDOW_DAYS = 30
# The model's columns, and the check digest kept beside the event ids.
_COLUMNS = ("event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
            "dwell_seconds", "text_length")
_CHECK = "event_check"
_ALL = (*_COLUMNS, _CHECK)
# Columns held as dense codes (0, 1, 2 … in first-seen order, per kind) until the build.
_CODED = {"consumer_id": IdKind.CONSUMER, "creator_id": IdKind.CREATOR, "item_id": IdKind.ITEM}
T = TypeVar("T")


class EventIdCollision(ValueError):
    """Two different event ids hash to one model event id: refused, never merged."""

    def __init__(self, event_key: int, names: Iterable[str] = ()) -> None:
        self.event_key, self.names = event_key, sorted(set(names))
        named = " and ".join(repr(n) for n in self.names) or "two different event ids"
        super().__init__(f"event ids {named} both map to model event id {event_key} (their "
                         "check digests differ): refusing to merge them")


def event_int(text: str) -> int:
    """The model's event id of an envelope event id (BLAKE2b-64, its own space)."""
    return event_key(text)


def event_names(rows: FactRows, key: int) -> list[str]:
    """The event ids of a record's rows on model event id ``key`` (naming a collision)."""
    keys = list(rows.event_keys) or [event_int(e) for e in rows.event_ids]
    return [e for e, k in zip(rows.event_ids, keys, strict=True) if k == key]


# A period as (from_ms, until_ms): [from, until), until 0 = open.
Span = tuple[int, int]


class UserFacts(NamedTuple):
    """What a week reads of a UserStatus, as plain tuples. A parsed protobuf message costs
    ~1 KB (its own arena): the job holds every user's status all week, 1.1 M of them in the
    10 M-event bench (1.1 GB as messages, a quarter of that as these)."""

    kyc_verified_at_ms: int
    identity_open: tuple[Span, ...]
    sanctioned: tuple[Span, ...]
    # (UTC day, quote asset, quote minor) per day of fees the status lists.
    fees: tuple[tuple[int, str, int], ...]


class ItemFacts(NamedTuple):
    """What a week reads of an ItemStatus (see UserFacts)."""

    creator_id: str
    removed: tuple[Span, ...]


def _spans(periods: Iterable[Period]) -> tuple[Span, ...]:
    return tuple((p.from_ms, p.until_ms) for p in periods)


def user_facts(status: UserStatus) -> UserFacts:
    """The plain form of a user's status."""
    return UserFacts(status.kyc_verified_at_ms, _spans(status.identity_open),
                     _spans(status.sanctioned),
                     tuple((d.day, d.quote_asset, d.quote_minor) for d in status.fees))


def item_facts(status: ItemStatus) -> ItemFacts:
    """The plain form of an item's status."""
    return ItemFacts(status.creator_id, _spans(status.removed))


def holds_at(periods: Iterable[Span], at_ms: int) -> bool:
    """Whether one of ``periods`` ([from, until), until 0 = open) holds at ``at_ms``."""
    return any(start <= at_ms and (until == 0 or at_ms < until) for start, until in periods)


def removed_at(status: ItemFacts, at_ms: int) -> int | None:
    """When the removal standing at ``at_ms`` began, or None (never removed, or restored by
    then: a restored item was wrongly removed and earns for the whole week)."""
    standing = [start for start, until in status.removed
                if start <= at_ms and (until == 0 or at_ms < until)]
    return min(standing) if standing else None


@dataclass(frozen=True)
class BuiltWeek:
    """The model's input for one week, how to name its ints, and the week's raw activity."""

    facts: model.WeekFacts
    ids: IdMap
    activity: Mapping[str, WeekActivity]
    # Rows of the week given to the model (duplicates included).
    rows: int


# A record of more rows is folded through numpy (a fixed cost of some microseconds a column,
# then next to nothing a row); smaller ones through lists, gathered into numpy chunks of
# _CHUNK_ROWS rows (an int64 array holds a row in 8 bytes, a list of ints in ~40).
_NUMPY_ROWS = 256
_CHUNK_ROWS = 1 << 16


def _dtype(name: str) -> type:
    # The check digest is unsigned (all 64 bits); consumers, creators and items are held as
    # dense codes (see WeekInputs); the model's other columns are int64.
    if name == _CHECK:
        return np.uint64
    return np.int32 if name in _CODED else np.int64


class WeekInputs:
    """Folds fact records and statuses into one ISO week's model input."""

    def __init__(self, week: model.IsoWeek) -> None:
        self.week = week
        self._start, self._end = week.start_ms, week.end_ms
        self._ids = IdMap()
        # The rows so far, column by column: numpy chunks (after a build, one: the columns it
        # built, read-only, shared with that week), then small records' rows not yet chunked.
        self._chunks: dict[str, list[np.ndarray]] = {name: [] for name in _ALL}
        self._pending: dict[str, list[int]] = {name: [] for name in _ALL}
        self._pending_rows = 0
        self._rows = 0
        self._users: dict[str, UserFacts] = {}
        self._items: dict[str, ItemFacts] = {}
        # Owners named by the week's item statuses: users whose status the week needs too.
        self._owners: set[str] = set()
        # string -> dense code, per kind (a week repeats the same creators and items millions
        # of times, and IdMap.intern hashes on every call), and code -> model id / string.
        # Rows hold codes: grouping by consumer, creator or item is then a bincount or one
        # sort of a combined key, not a lexsort of 63-bit hashes. The hot paths use the three
        # dicts by name (an Enum key hashes in Python: ~1 µs a lookup, millions a week).
        self._known: dict[IdKind, dict[str, int]] = {kind: {} for kind in IdKind}
        self._model: dict[IdKind, list[int]] = {kind: [] for kind in IdKind}
        self._names: dict[IdKind, list[str]] = {kind: [] for kind in IdKind}
        self._known_consumers = self._known[IdKind.CONSUMER]
        self._known_creators = self._known[IdKind.CREATOR]
        self._known_items = self._known[IdKind.ITEM]
        # Creators named by the last build's item statuses.
        self._owner_codes: set[int] = set()

    def _intern(self, kind: IdKind, text: str) -> int:
        """``text``'s dense code in ``kind`` (IdCollision from the IdMap)."""
        known = self._known[kind]
        code = known.get(text)
        if code is None:
            model_id = self._ids.intern(kind, text)
            code = known[text] = len(self._model[kind])
            self._model[kind].append(model_id)
            self._names[kind].append(text)
        return code

    def _intern_new(self, kind: IdKind, texts: Iterable[str]) -> None:
        """Intern the strings of ``texts`` not seen before, all at once (IdMap.intern_many:
        a week's million first-seen consumers in one loop)."""
        known = self._known[kind]
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if not new:
            return
        model = self._model[kind]
        first = len(model)
        model += self._ids.intern_many(kind, new)
        self._names[kind] += new
        known.update(zip(new, range(first, first + len(new)), strict=True))

    def _model_id(self, kind: IdKind, text: str) -> int:
        return self._model[kind][self._intern(kind, text)]

    def _int_array(self, known: dict[str, int], kind: IdKind, texts: list[str]) -> np.ndarray:
        """``_ints`` as an array."""
        try:
            return np.fromiter(map(known.__getitem__, texts), dtype=np.int32, count=len(texts))
        except KeyError:
            self._intern_new(kind, texts)
            return np.fromiter(map(known.__getitem__, texts), dtype=np.int32, count=len(texts))

    def _ints(self, known: dict[str, int], kind: IdKind, texts: Iterable[str]) -> list[int]:
        """The codes of a column of strings (``known``: ``kind``'s): one dict lookup each (a
        C loop), the strings not seen before interned first."""
        try:
            return list(map(known.__getitem__, texts))
        except KeyError:
            self._intern_new(kind, texts)
            return list(map(known.__getitem__, texts))

    def __len__(self) -> int:
        return self._rows

    def add_facts(self, rows: FactRows) -> int:
        """Keep the record's rows of this week; ValueError for a malformed record.

        Whole columns at a time (numpy on a protobuf column, map() through a dict: C loops),
        so a record of thousands of rows costs no Python per row, and one of a few rows
        little more than its decode (bench/settle_from_log.py)."""
        cols = checked_columns(rows)
        big = len(cols.event_ids) > _NUMPY_ROWS
        count = self._add_numpy(cols, rows.consumer_id) if big else self._add_lists(
            cols, rows.consumer_id)
        self._rows += count
        return count

    def _add_numpy(self, rows: Columns, consumer: str) -> int:
        at = np.asarray(rows.occurred_at_ms, dtype=np.int64)
        inside = (at >= self._start) & (at < self._end)
        count = int(np.count_nonzero(inside))
        if not count:
            return 0
        pick = None if count == len(at) else np.flatnonzero(inside)

        def texts(column: Iterable[str]) -> list[str]:
            whole = list(column)
            return whole if pick is None else [whole[i] for i in pick.tolist()]

        def numbers(column: Iterable[int], dtype: type = np.int64) -> np.ndarray:
            whole: np.ndarray = np.asarray(column, dtype=dtype)
            return whole if pick is None else whole[pick]

        if len(rows.event_keys):
            # Written by the aggregator (check_facts verified the first against its id).
            keys = numbers(rows.event_keys, np.uint64).astype(np.int64)
            checks = numbers(rows.event_checks, np.uint64)
        else:
            key_list, check_list = event_keys(texts(rows.event_ids))
            keys = np.array(key_list, dtype=np.int64)
            checks = np.array(check_list, dtype=np.uint64)
        if len(rows.consumer_ids):
            consumers = self._int_array(self._known_consumers, IdKind.CONSUMER,
                                        texts(rows.consumer_ids))
        else:
            consumers = np.full(count, self._intern(IdKind.CONSUMER, consumer),
                                dtype=np.int32)
        values = {
            "event_id": keys, _CHECK: checks, "consumer_id": consumers,
            "creator_id": self._int_array(self._known_creators, IdKind.CREATOR,
                                          texts(rows.creator_ids)),
            "item_id": self._int_array(self._known_items, IdKind.ITEM, texts(rows.item_ids)),
            "occurred_at_ms": at if pick is None else at[pick],
            "kind": numbers(rows.kinds), "dwell_seconds": numbers(rows.dwell_seconds),
            "text_length": numbers(rows.text_lengths)}
        self._flush()  # the small records before it first: every column in the same order
        for name, column in values.items():
            self._chunks[name].append(column)
        return count

    def _add_lists(self, rows: Columns, consumer: str) -> int:
        # Most records are small (an interaction record holds one act): list.extend straight
        # from the protobuf columns (C loops), no per-row Python unless some rows lie outside
        # the week.
        at = rows.occurred_at_ms
        n = len(at)
        if not n:
            return 0
        start, end = self._start, self._end
        inside = start <= at[0] < end if n == 1 else start <= min(at) and max(at) < end
        if not inside:
            return self._add_picked(rows, consumer)
        cols = self._pending
        if len(rows.event_keys):
            cols["event_id"].extend(rows.event_keys)
            cols[_CHECK].extend(rows.event_checks)
        else:
            keys, checks = event_keys(rows.event_ids)
            cols["event_id"] += keys
            cols[_CHECK] += checks
        if len(rows.consumer_ids):
            cols["consumer_id"] += self._ints(self._known_consumers, IdKind.CONSUMER,
                                              rows.consumer_ids)
        else:
            code = self._known_consumers.get(consumer)
            if code is None:
                code = self._intern(IdKind.CONSUMER, consumer)
            cols["consumer_id"] += [code] * n
        cols["creator_id"] += self._ints(self._known_creators, IdKind.CREATOR, rows.creator_ids)
        cols["item_id"] += self._ints(self._known_items, IdKind.ITEM, rows.item_ids)
        cols["occurred_at_ms"].extend(at)
        cols["kind"].extend(rows.kinds)
        cols["dwell_seconds"].extend(rows.dwell_seconds)
        cols["text_length"].extend(rows.text_lengths)
        self._pending_rows += n
        if self._pending_rows >= _CHUNK_ROWS:
            self._flush()
        return n

    def _add_picked(self, rows: Columns, consumer: str) -> int:
        """A small record's rows of the week when some lie outside it."""
        start, end = self._start, self._end
        at = list(rows.occurred_at_ms)
        keep = [i for i, t in enumerate(at) if start <= t < end]
        if not keep:
            return 0

        def picked(column: Iterable[T]) -> list[T]:
            whole = list(column)
            return [whole[i] for i in keep]

        cols = self._pending
        if len(rows.event_keys):
            cols["event_id"] += picked(rows.event_keys)
            cols[_CHECK] += picked(rows.event_checks)
        else:
            keys, checks = event_keys(picked(rows.event_ids))
            cols["event_id"] += keys
            cols[_CHECK] += checks
        count = len(keep)
        if len(rows.consumer_ids):
            cols["consumer_id"] += self._ints(self._known_consumers, IdKind.CONSUMER,
                                              picked(rows.consumer_ids))
        else:
            cols["consumer_id"] += [self._intern(IdKind.CONSUMER, consumer)] * count
        cols["creator_id"] += self._ints(self._known_creators, IdKind.CREATOR,
                                         picked(rows.creator_ids))
        cols["item_id"] += self._ints(self._known_items, IdKind.ITEM, picked(rows.item_ids))
        cols["occurred_at_ms"] += [at[i] for i in keep]
        cols["kind"] += picked(rows.kinds)
        cols["dwell_seconds"] += picked(rows.dwell_seconds)
        cols["text_length"] += picked(rows.text_lengths)
        self._pending_rows += count
        if self._pending_rows >= _CHUNK_ROWS:
            self._flush()
        return count

    def _flush(self) -> None:
        """The small records' rows as one numpy chunk per column."""
        if not self._pending_rows:
            return
        for name, values in self._pending.items():
            self._chunks[name].append(np.array(values, dtype=_dtype(name)))
            self._pending[name] = []
        self._pending_rows = 0

    def set_user(self, status: UserStatus) -> None:
        """The user's latest status (a compacted topic's value: the later one wins)."""
        self._users[status.user_id] = user_facts(status)

    def set_item(self, status: ItemStatus) -> None:
        """The item's latest status."""
        self.set_item_facts(status.item_id, item_facts(status))

    def set_user_facts(self, user_id: str, facts: UserFacts) -> None:
        """``set_user`` of a status already in its plain form."""
        self._users[user_id] = facts

    def set_item_facts(self, item_id: str, facts: ItemFacts) -> None:
        """``set_item`` of a status already in its plain form."""
        self._items[item_id] = facts
        if facts.creator_id and item_id in self._known_items:
            self._owners.add(facts.creator_id)

    def item_names(self) -> Container[str]:
        """The items the week's facts name (live: grows with the facts)."""
        return self._known_items

    def user_names(self) -> tuple[Container[str], Container[str], Container[str]]:
        """Consumers, creators and item owners the week names (live; ``needs_user`` is
        ``in`` one of them)."""
        return self._known_consumers, self._known_creators, self._owners

    def needs_item(self, item_id: str) -> bool:
        """Whether the week's facts so far name the item (its status matters)."""
        return item_id in self._known_items

    def needs_user(self, user_id: str) -> bool:
        """Whether the week so far names the user: a consumer or creator of its facts, or
        an owner named by one of its items' statuses (set those first)."""
        return (user_id in self._known_consumers or user_id in self._known_creators
                or user_id in self._owners)

    def _columns(self) -> dict[str, np.ndarray]:
        """Every row so far, one read-only array per column, kept as the single chunk the
        next build appends to (a column is copied once per build, not kept twice)."""
        self._flush()
        out = {}
        for name, chunks in self._chunks.items():
            if len(chunks) == 1:
                whole = chunks[0]
            elif chunks:
                whole = np.concatenate(chunks)
            else:
                whole = np.zeros(0, dtype=_dtype(name))
            chunks[:] = [whole]
            whole.flags.writeable = False
            out[name] = whole
        return out

    def build(self, *, pool_minor: int, rollovers: Mapping[str, int], quote_asset: str,
              status_at_ms: int) -> BuiltWeek:
        """The model's input with statuses as of ``status_at_ms``; UnrepresentableInput /
        IdCollision / EventIdCollision for what the model must not be given."""
        codes = self._columns()
        model_of = {kind: np.array(self._model[kind], dtype=np.int64) for kind in IdKind}
        columns = dict(codes)
        for name, kind in _CODED.items():
            columns[name] = model_of[kind][codes[name]]
        self._check_event_ids(columns["event_id"], columns[_CHECK])
        events = model.EngagementColumns(**{name: columns[name] for name in _COLUMNS})
        consumers = self._consumers(self._present(IdKind.CONSUMER, codes["consumer_id"]),
                                    quote_asset, status_at_ms)
        items = self._item_statuses(codes, columns, status_at_ms)
        # Creators: of the facts, of the rollovers, and item owners (their eligibility decides
        # an item's events).
        creator_codes = set(self._present(IdKind.CREATOR, codes["creator_id"]))
        creator_codes |= {self._intern(IdKind.CREATOR, c) for c in rollovers}
        creator_codes |= self._owner_codes
        by_id = self._model[IdKind.CREATOR].__getitem__
        creators = tuple(self._creator(c, status_at_ms) for c in sorted(creator_codes, key=by_id))
        carried = tuple(model.Rollover(self._model_id(IdKind.CREATOR, c), amount)
                        for c, amount in sorted(rollovers.items()) if amount > 0)
        facts = model.WeekFacts(self.week, pool_minor, events, consumers, creators, items,
                                carried)
        return BuiltWeek(facts, self._ids, self._activity(codes), self._rows)

    def _present(self, kind: IdKind, codes: np.ndarray) -> list[int]:
        """The distinct codes of a column, in model id order (the model's tuples' order)."""
        present = np.flatnonzero(np.bincount(codes, minlength=len(self._model[kind])))
        model_ids = np.array(self._model[kind], dtype=np.int64)[present]
        return present[np.argsort(model_ids)].tolist()  # type: ignore[no-any-return]

    @staticmethod
    def _check_event_ids(keys: np.ndarray, checks: np.ndarray) -> None:
        """EventIdCollision when rows on one event key carry different check digests (equal
        keys with equal checks are one event delivered twice: the model drops the copy).

        One argsort of the keys puts the rows of each key together (any order within it:
        if two of a key's checks differ, two neighbours do); a week's ~1 % redelivered
        copies made a second pass over every row (np.isin against the repeated keys) cost
        more than the sort itself."""
        order = np.argsort(keys)
        on = keys[order]
        same = on[1:] == on[:-1]
        if not same.any():
            return
        check = checks[order]
        differ = same & (check[1:] != check[:-1])
        if differ.any():
            raise EventIdCollision(int(on[1:][differ][0]))

    def _consumers(self, consumers: list[int], quote_asset: str,
                   at_ms: int) -> tuple[model.ConsumerValue, ...]:
        """Each consumer's value as of ``at_ms`` (a million a week: one tight loop, the
        periods and fees looked at only when the status has any)."""
        model_ids, names = self._model[IdKind.CONSUMER], self._names[IdKind.CONSUMER]
        first_day = self._start // MS_PER_DAY - FEE_WINDOW_DAYS
        last_day = self._start // MS_PER_DAY  # exclusive: fees before the week
        value = model.ConsumerValue
        get = self._users.get
        out: list[model.ConsumerValue] = []
        append = out.append
        for code in consumers:
            consumer, status = model_ids[code], get(names[code])
            if status is None:
                append(value(consumer, 0, False))
                continue
            kyc_at, _, sanctioned, days = status
            fees = 0
            if days:
                for day, asset, minor in days:
                    if first_day <= day < last_day and asset == quote_asset:
                        fees += minor
            append(value(consumer, fees, 0 < kyc_at <= at_ms,
                         bool(sanctioned) and holds_at(sanctioned, at_ms)))
        return tuple(out)

    def _creator(self, code: int, at_ms: int) -> model.CreatorStatus:
        creator = self._model[IdKind.CREATOR][code]
        status = self._users.get(self._names[IdKind.CREATOR][code])
        if status is None:
            return model.CreatorStatus(creator, kyc_verified=False, identity_open=False)
        return model.CreatorStatus(
            creator,
            kyc_verified=0 < status.kyc_verified_at_ms <= at_ms,
            identity_open=holds_at(status.identity_open, at_ms),
            sanctioned=holds_at(status.sanctioned, at_ms))

    def _item_statuses(self, codes: Mapping[str, np.ndarray], columns: Mapping[str, np.ndarray],
                       at_ms: int) -> tuple[model.ItemStatus, ...]:
        """One status per item of the week, in item id order. An item without a status from
        content belongs to the creator its earliest fact names (time, then event id, then
        the order read). Sets ``_owner_codes``: the creators the statuses name."""
        self._owner_codes = set()
        item_col = codes["item_id"]
        if not len(item_col):
            return ()
        # The earliest time of each item in one pass (minimum.at by item code); the rows at
        # their item's earliest time (about one an item) are then ordered by (item, event id,
        # row), not every row.
        at = columns["occurred_at_ms"]
        never = np.iinfo(np.int64).max
        earliest = np.full(len(self._model[IdKind.ITEM]), never, dtype=np.int64)
        np.minimum.at(earliest, item_col, at)
        tied = np.flatnonzero(at == earliest[item_col])
        tied = tied[np.lexsort((tied, columns["event_id"][tied], item_col[tied]))]
        tied_items = item_col[tied]
        first = tied[np.concatenate(([True], tied_items[1:] != tied_items[:-1]))]
        first = first[np.argsort(columns["item_id"][first])]
        items = columns["item_id"][first].tolist()
        creators = columns["creator_id"][first].tolist()
        names, get = self._names[IdKind.ITEM], self._items.get
        known, creator_ids = self._known_creators, self._model[IdKind.CREATOR]
        owners = self._owner_codes
        item_status = model.ItemStatus
        out = []
        for item, creator, code in zip(items, creators, item_col[first].tolist(), strict=True):
            status = get(names[code])
            owner_name = status.creator_id if status is not None else ""
            if status is not None and owner_name:
                owner = known.get(owner_name)
                if owner is None:
                    owner = self._intern(IdKind.CREATOR, owner_name)
                owners.add(owner)
                removed = removed_at(status, at_ms) if status.removed else None
                out.append(item_status(item, creator_ids[owner], removed))
            else:
                out.append(item_status(item, creator))
        return tuple(out)

    def _activity(self, codes: Mapping[str, np.ndarray]) -> dict[str, WeekActivity]:
        """Raw activity per creator and item (before the policy): views, unique viewers,
        dwell, followers gained. Sorted runs of one combined key per row (creator, item and
        consumer codes), not a Python pass per event (10 M events)."""
        creator_names, item_names = self._names[IdKind.CREATOR], self._names[IdKind.ITEM]
        creator_ids, item_ids = self._model[IdKind.CREATOR], self._model[IdKind.ITEM]
        n_items, n_who = len(item_ids), len(self._model[IdKind.CONSUMER])
        out: dict[str, WeekActivity] = {}
        kind = codes["kind"]
        views = kind == int(VIEW)
        creator = codes["creator_id"][views].astype(np.int64)
        item = codes["item_id"][views].astype(np.int64)
        consumer = codes["consumer_id"][views].astype(np.int64)
        if len(creator):
            dwell = codes["dwell_seconds"][views]
            if len(creator_ids) * n_items * n_who < 1 << 62:
                # One value sort of the combined key (np.sort is several times faster than
                # an argsort); each row's dwell then goes to its pair by a binary search.
                pair_of_row = creator * n_items + item
                ordered = np.sort(pair_of_row * n_who + consumer)
                pair = ordered // n_who
                c, i = pair // n_items, pair % n_items
                new_pair = np.concatenate(([True], pair[1:] != pair[:-1]))
                new_viewer = np.concatenate(([True], ordered[1:] != ordered[:-1]))
                starts = np.flatnonzero(new_pair)
                dwell_sums = np.zeros(len(starts), dtype=np.int64)
                np.add.at(dwell_sums, np.searchsorted(pair[starts], pair_of_row), dwell)
                who = ordered % n_who
            else:
                order = np.lexsort((consumer, item, creator))
                c, i, who = creator[order], item[order], consumer[order]
                new_pair = np.concatenate(([True], (c[1:] != c[:-1]) | (i[1:] != i[:-1])))
                new_viewer = new_pair | np.concatenate(([True], who[1:] != who[:-1]))
                starts = np.flatnonzero(new_pair)
                dwell_sums = np.add.reduceat(dwell[order], starts)
            counts = np.diff(np.append(starts, len(c)))
            viewer_counts = np.add.reduceat(new_viewer.astype(np.int64), starts)
            pair_c, pair_i = c[starts], i[starts]
            # Creators in id order, each one's items in id order (the records' bytes).
            model_c = np.array(creator_ids, dtype=np.int64)[pair_c]
            model_i = np.array(item_ids, dtype=np.int64)[pair_i]
            by_id = np.lexsort((model_i, model_c))
            for cr, it, n, d, u in zip(pair_c[by_id].tolist(), pair_i[by_id].tolist(),
                                       counts[by_id].tolist(), dwell_sums[by_id].tolist(),
                                       viewer_counts[by_id].tolist(), strict=True):
                act = out.get(cr_name := creator_names[cr])
                if act is None:
                    act = out[cr_name] = WeekActivity()
                act.items.add(item_id=item_names[it], views=n, unique_viewers=u,
                              dwell_seconds=d)
                act.views += n
                act.dwell_seconds += d
            for cr, n in _distinct_per(c[new_viewer], who[new_viewer], n_who).items():
                out[creator_names[cr]].unique_viewers = n
        follows = kind == int(FOLLOW)
        gained = _distinct_per(codes["creator_id"][follows].astype(np.int64),
                               codes["consumer_id"][follows].astype(np.int64), n_who)
        for cr, n in gained.items():
            out.setdefault(creator_names[cr], WeekActivity()).followers_gained = n
        return out


def _distinct_per(owner: np.ndarray, other: np.ndarray, n_other: int) -> dict[int, int]:
    """owner -> number of distinct ``other`` among the (owner, other) rows (codes)."""
    if not len(owner):
        return {}
    pairs = np.unique(owner * n_other + other)
    per_owner = np.bincount(pairs // n_other)
    present = np.flatnonzero(per_owner)
    return dict(zip(present.tolist(), per_owner[present].tolist(), strict=True))
