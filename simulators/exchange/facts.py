"""Publishing exchange facts: one enveloped record per fact, keyed by user id."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from planet.exchange.v1.events_pb2 import KycVerified, OrderFilled, TradeFeeCharged
from planetkit.clock import now_ms
from planetkit.envelope import wrap
from planetkit.ids import new_id
from planetkit.kafka.producer import publish
from planetkit.topics import FILLS, KYC, TRADE_FEES, Topic, with_suffix

SOURCE = "exchange"


@dataclass(frozen=True)
class ExchangeTopics:
    """Where the exchange's facts go (suffixed for tests)."""

    kyc: Topic
    fees: Topic
    fills: Topic

    @classmethod
    def with_suffix(cls, suffix: str) -> ExchangeTopics:
        """The registry's exchange topics under ``suffix``."""
        return cls(with_suffix(KYC, suffix), with_suffix(TRADE_FEES, suffix),
                   with_suffix(FILLS, suffix))

    def all(self) -> list[Topic]:
        """Every exchange topic."""
        return [self.kyc, self.fees, self.fills]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


async def publish_kyc(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                      verified_at_ms: int | None = None) -> KycVerified:
    """A user passed KYC; the event id is per user, as a user is verified once."""
    _require(bool(user_id), "user id is required")
    at = verified_at_ms if verified_at_ms is not None else now_ms()
    fact = KycVerified(user_id=user_id, verified_at_ms=at)
    await publish(producer, topics.kyc, wrap(
        fact, event_id=f"kyc_{user_id}", source=SOURCE, aggregate_id=user_id, occurred_at_ms=at
    ))
    return fact


async def publish_fee(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                      amount_minor: int, currency: str = "USDT", fee_id: str | None = None,
                      charged_at_ms: int | None = None) -> TradeFeeCharged:
    """A trade fee charged to a user, in integer minor units of ``currency``."""
    _require(bool(user_id), "user id is required")
    _require(isinstance(amount_minor, int) and amount_minor > 0,
             f"amount must be a positive integer of minor units, not {amount_minor!r}")
    _require(currency.isalnum() and currency.isupper() and 2 <= len(currency) <= 10,
             f"currency must be an upper-case code like USDT, not {currency!r}")
    at = charged_at_ms if charged_at_ms is not None else now_ms()
    fact = TradeFeeCharged(fee_id=fee_id or new_id("fee"), user_id=user_id,
                           amount_minor=amount_minor, currency=currency, charged_at_ms=at)
    await publish(producer, topics.fees, wrap(
        fact, event_id=fact.fee_id, source=SOURCE, aggregate_id=user_id, occurred_at_ms=at
    ))
    return fact


async def publish_fill(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                       pair: str, side: str, price: str, quantity: str, fee_minor: int,
                       fill_id: str | None = None, filled_at_ms: int | None = None) -> OrderFilled:
    """An order of a user filled; price and quantity are exact decimal strings."""
    _require(bool(user_id), "user id is required")
    _require(side in ("buy", "sell"), f"side must be buy or sell, not {side!r}")
    _require("/" in pair, f"pair must look like BTC/USDT, not {pair!r}")
    for name, value in (("price", price), ("quantity", quantity)):
        _require(_positive_decimal(value), f"{name} must be a positive decimal, not {value!r}")
    _require(fee_minor >= 0, f"fee must be a non-negative integer, not {fee_minor!r}")
    at = filled_at_ms if filled_at_ms is not None else now_ms()
    fact = OrderFilled(fill_id=fill_id or new_id("fill"), user_id=user_id, pair=pair, side=side,
                       price=price, quantity=quantity, fee_minor=str(fee_minor), filled_at_ms=at)
    await publish(producer, topics.fills, wrap(
        fact, event_id=fact.fill_id, source=SOURCE, aggregate_id=user_id, occurred_at_ms=at
    ))
    return fact


def _positive_decimal(value: str) -> bool:
    try:
        d = Decimal(value)
    except ArithmeticError:
        return False
    return d.is_finite() and d > 0


@dataclass(frozen=True)
class RandomRun:
    """What a random run published."""

    users: list[str]
    fees: int
    fee_total_minor: int
    fills: int


async def publish_random(producer: AIOKafkaProducer, topics: ExchangeTopics, *, users: int,
                         fees: int, fills: int = 0, seed: int = 0, currency: str = "USDT",
                         user_prefix: str = "user") -> RandomRun:
    """KYC for ``users`` users, then ``fees`` fees and ``fills`` fills spread among them.

    Ids derive from the seed, so running the same seed twice re-publishes the same facts
    (which consumers drop as duplicates) rather than new ones.
    """
    _require(users > 0, "users must be positive")
    _require(fees >= 0 and fills >= 0, "fees and fills must not be negative")
    rng = random.Random(seed)
    ids = [f"{user_prefix}_{seed}_{i}" for i in range(users)]
    for user_id in ids:
        await publish_kyc(producer, topics, user_id)
    total = 0
    for i in range(fees):
        # Fees are heavy-tailed: most trades are small, a few whales pay a lot.
        amount = max(1, int(rng.paretovariate(1.5) * 100))
        total += amount
        await publish_fee(producer, topics, rng.choice(ids), amount, currency,
                          fee_id=f"fee_{seed}_{i}")
    for i in range(fills):
        price = f"{rng.randint(20_000, 120_000)}.{rng.randint(0, 99):02d}"
        await publish_fill(producer, topics, rng.choice(ids), "BTC/USDT",
                           rng.choice(("buy", "sell")), price, f"0.{rng.randint(1, 9999):04d}",
                           rng.randint(1, 500), fill_id=f"fill_{seed}_{i}")
    return RandomRun(ids, fees, total, fills)
