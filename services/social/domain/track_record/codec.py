"""A state as bytes and back: canonical JSON, so equal states are equal bytes.

Keys sorted, no whitespace, decimals as their exact strings (``str(Decimal)`` round-trips
value and exponent), instruments and days in ascending order, lots oldest first. A version
field lets a later layout be read next to this one. Bad bytes raise ``StateCorrupt`` saying
what is wrong, never an arbitrary exception.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from services.social.domain.track_record.series import DayStats, Segment
from services.social.domain.track_record.state import (
    EXCLUSION_REASONS,
    Instrument,
    Lot,
    QuoteBook,
    TrackState,
)

VERSION = 1


class StateCorrupt(ValueError):
    """Stored bytes that are not a track-record state of a version this code reads."""


def _stats(s: DayStats) -> list[Any]:
    p = s.path
    return [s.closed, s.wins, str(s.pnl), str(s.cost),
            [str(p.total), str(p.high), str(p.low), str(p.drawdown)]]


def encode(state: TrackState) -> bytes:
    """``state`` as canonical bytes."""
    doc = {
        "v": VERSION,
        "user": state.user_id,
        "last_ms": state.last_ms,
        "instruments": [
            [i.base, i.quote, i.last_ms, i.last_id,
             [[lot.fill_id, str(lot.quantity), str(lot.cost)] for lot in i.lots]]
            for _, i in sorted(state.instruments.items())
        ],
        "books": [
            {"quote": b.quote, "fills": b.fills, "excluded": dict(sorted(b.excluded.items())),
             "unmatched": b.unmatched_sells, "last_ms": b.last_ms, "last_id": b.last_id,
             "days": [[d, _stats(b.days[d])] for d in sorted(b.days)],
             "older": _stats(b.older), "pending_ms": b.pending_ms,
             "pending_pnl": str(b.pending_pnl)}
            for _, b in sorted(state.books.items())
        ],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _dec(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise StateCorrupt(f"expected a decimal string, got {value!r}")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise StateCorrupt(f"not a decimal: {value!r}") from None
    if not d.is_finite():
        raise StateCorrupt(f"not a finite decimal: {value!r}")
    return d


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StateCorrupt(f"expected an integer, got {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise StateCorrupt(f"expected a string, got {value!r}")
    return value


def _read_stats(raw: Any) -> DayStats:
    closed, wins, pnl, cost, path = raw
    total, high, low, drawdown = path
    stats = DayStats(_int(closed), _int(wins), _dec(pnl), _dec(cost),
                     Segment(_dec(total), _dec(high), _dec(low), _dec(drawdown)))
    if not 0 <= stats.wins <= stats.closed:
        raise StateCorrupt(f"wins {stats.wins} outside 0..{stats.closed}")
    return stats


def _read_instrument(raw: Any) -> Instrument:
    base, quote, last_ms, last_id, lots = raw
    instrument = Instrument(_str(base), _str(quote))
    instrument.last_ms, instrument.last_id = _int(last_ms), _str(last_id)
    for fill_id, quantity, cost in lots:
        lot = Lot(_str(fill_id), _dec(quantity), _dec(cost))
        if lot.quantity <= 0:
            raise StateCorrupt(f"lot {lot.fill_id} holds {lot.quantity}")
        instrument.lots.append(lot)
    return instrument


def _read_book(raw: Any) -> QuoteBook:
    if not isinstance(raw, dict):
        raise StateCorrupt("a book must be an object")
    book = QuoteBook(_str(raw["quote"]))
    book.fills, book.unmatched_sells = _int(raw["fills"]), _int(raw["unmatched"])
    excluded = raw["excluded"]
    if not isinstance(excluded, dict) or not set(excluded) <= set(EXCLUSION_REASONS):
        raise StateCorrupt(f"unknown exclusion reasons in {excluded!r}")
    book.excluded = {_str(k): _int(v) for k, v in excluded.items()}
    book.last_ms, book.last_id = _int(raw["last_ms"]), _str(raw["last_id"])
    days = [(_int(d), _read_stats(s)) for d, s in raw["days"]]
    if [d for d, _ in days] != sorted({d for d, _ in days}):
        raise StateCorrupt("days must be distinct and ascending")
    book.days = dict(days)
    book.older = _read_stats(raw["older"])
    pending = raw["pending_ms"]
    book.pending_ms = None if pending is None else _int(pending)
    book.pending_pnl = _dec(raw["pending_pnl"])
    return book


def decode(data: bytes) -> TrackState:
    """The state ``encode`` wrote; StateCorrupt with the reason for anything else."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StateCorrupt(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise StateCorrupt(f"not a version {VERSION} track-record state")
    try:
        state = TrackState(_str(doc["user"]))
        state.last_ms = _int(doc["last_ms"])
        for raw in doc["instruments"]:
            instrument = _read_instrument(raw)
            state.instruments[(instrument.base, instrument.quote)] = instrument
        for raw in doc["books"]:
            book = _read_book(raw)
            state.books[book.quote] = book
    except StateCorrupt:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise StateCorrupt(f"malformed state: {exc!r}") from None
    return state
