"""The exchange's instrument list: one enveloped InstrumentListed per symbol, keyed by symbol on
planet.exchange.instruments.v1 (compacted: the latest record of a symbol is its state).

``DEFAULT_INSTRUMENTS`` is the list ``make run``'s seed and the system test stack publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from aiokafka import AIOKafkaProducer

from planet.exchange.v2 import instruments_pb2 as pb
from planetkit.clock import now_ms
from planetkit.envelope import wrap
from planetkit.kafka.producer import publish
from planetkit.money import check_asset
from planetkit.service_identities import EXCHANGE
from planetkit.topics import INSTRUMENTS, Topic, with_suffix

STATUSES = {"trading": pb.INSTRUMENT_STATUS_TRADING, "halted": pb.INSTRUMENT_STATUS_HALTED,
            "delisted": pb.INSTRUMENT_STATUS_DELISTED}
# symbol -> last price (exact decimal strings, as the exchange reports them).
DEFAULT_INSTRUMENTS: dict[str, str] = {
    "BTC/USDT": "64000.25",
    "ETH/USDT": "3150.40",
    "SOL/USDT": "182.35",
    "ETH/BTC": "0.04922",
    "XRP/USDT": "0.5821",
    "ONDO/USDT": "1.0432",   # RWA
    "FET/USDT": "1.512",     # AI
}


@dataclass(frozen=True)
class InstrumentSpec:
    """One instrument to publish."""

    symbol: str
    last_price: str = ""
    status: str = "trading"


def instruments_topic(suffix: str) -> Topic:
    """The registry's instruments topic under ``suffix``."""
    return with_suffix(INSTRUMENTS, suffix)


def make_instrument(spec: InstrumentSpec, at_ms: int | None = None) -> pb.InstrumentListed:
    """The InstrumentListed a spec describes; ValueError naming what is wrong."""
    base, slash, quote = spec.symbol.partition("/")
    try:
        if not slash:
            raise ValueError
        check_asset(base)
        check_asset(quote)
    except ValueError:
        raise ValueError(f"symbol must be BASE/QUOTE of upper-case codes like BTC/USDT, "
                         f"not {spec.symbol!r}") from None
    if spec.status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {spec.status!r}")
    if spec.last_price:
        if not all("0" <= c <= "9" or c == "." for c in spec.last_price):
            raise ValueError(f"last price must be a plain positive decimal, not "
                             f"{spec.last_price!r}")
        try:
            value = Decimal(spec.last_price)
        except InvalidOperation:
            raise ValueError(f"last price {spec.last_price!r} is not a decimal") from None
        if value <= 0:
            raise ValueError(f"last price must be positive, not {spec.last_price!r}")
    return pb.InstrumentListed(symbol=spec.symbol, base=base, quote=quote,
                               status=STATUSES[spec.status], last_price=spec.last_price,
                               at_ms=at_ms if at_ms is not None else now_ms())


async def publish_instruments(producer: AIOKafkaProducer, topic: Topic,
                              specs: list[InstrumentSpec]) -> list[pb.InstrumentListed]:
    """Publish each instrument's current state (all checked before any is sent)."""
    facts = [make_instrument(spec) for spec in specs]
    for fact in facts:
        await publish(producer, topic, wrap(
            fact, event_id=f"instrument_{fact.symbol}_{fact.at_ms}", source=EXCHANGE,
            aggregate_id=fact.symbol, occurred_at_ms=fact.at_ms))
    return facts


def default_specs() -> list[InstrumentSpec]:
    """The default list."""
    return [InstrumentSpec(symbol, price) for symbol, price in DEFAULT_INSTRUMENTS.items()]
