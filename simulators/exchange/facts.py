"""Publishing exchange facts: one enveloped record per fact, keyed by user id.

Fees and fills are published in schema 2 (planet.exchange.v2: every amount a Money with its
asset, values in the quote asset as the exchange reports them); KYC stays v1 (no money).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from aiokafka import AIOKafkaProducer

from planet.events.v1.envelope_pb2 import Envelope
from planet.exchange.v1.events_pb2 import KycVerified
from planet.exchange.v2 import events_pb2 as v2
from planetkit.assets import MINOR_DIGITS
from planetkit.clock import now_ms
from planetkit.envelope import encode, wrap
from planetkit.ids import new_id
from planetkit.kafka.producer import publish
from planetkit.money import Money, check_asset, total
from planetkit.service_identities import EXCHANGE
from planetkit.topics import FILLS, KYC, TRADE_FEES, Topic, with_suffix

SOURCE = EXCHANGE
# The pool's quote asset unless told otherwise (PLANET_INCENTIVE_QUOTE_ASSET on the reader).
DEFAULT_QUOTE_ASSET = "USDT"
_SIDES = {"buy": v2.SIDE_BUY, "sell": v2.SIDE_SELL}
_PLAIN_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


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


def _asset(code: str, what: str) -> str:
    try:
        return check_asset(code)
    except ValueError:
        raise ValueError(f"{what} must be an upper-case code like USDT, not {code!r}") from None


def _wire(value: Money) -> v2.Money:
    return v2.Money(amount_minor=value.amount_minor, asset=value.asset)


def to_minor(amount: Decimal, asset: str) -> int:
    """``amount`` whole units of ``asset`` in its minor units, rounded half-even as we book."""
    digits = MINOR_DIGITS.get(asset)
    _require(digits is not None,
             f"the simulated exchange has no minor unit for {asset}; give the quote value")
    return int((amount * (Decimal(10) ** (digits or 0))).to_integral_value(ROUND_HALF_EVEN))


async def publish_fee(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                      amount_minor: int, currency: str = "USDT", fee_id: str | None = None,
                      charged_at_ms: int | None = None, *, quote_value_minor: int | None = None,
                      quote_asset: str = DEFAULT_QUOTE_ASSET) -> v2.TradeFeeCharged:
    """A trade fee charged to a user: ``amount_minor`` of ``currency``, worth
    ``quote_value_minor`` of ``quote_asset`` (the exchange's valuation).

    A fee charged in the quote asset is its own quote value, so that value may be left out;
    a fee in any other asset needs it (the exchange values it, the simulator will not guess).
    """
    _require(bool(user_id), "user id is required")
    _require(isinstance(amount_minor, int) and amount_minor > 0,
             f"amount must be a positive integer of minor units, not {amount_minor!r}")
    fee = Money(amount_minor, _asset(currency, "currency"))
    _asset(quote_asset, "quote asset")
    if quote_value_minor is None:
        _require(fee.asset == quote_asset,
                 f"a fee in {fee.asset} needs its quote value in {quote_asset} "
                 f"(--quote-value-minor): the exchange reports it, nobody converts")
        quote_value = fee
    else:
        _require(isinstance(quote_value_minor, int) and quote_value_minor >= 0,
                 f"quote value must be a non-negative integer of minor units, "
                 f"not {quote_value_minor!r}")
        quote_value = Money(quote_value_minor, quote_asset)
        _require(fee.asset != quote_asset or quote_value == fee,
                 f"a fee in the quote asset {quote_asset} is its own quote value "
                 f"({fee.amount_minor}), not {quote_value_minor}")
    at = charged_at_ms if charged_at_ms is not None else now_ms()
    fact = v2.TradeFeeCharged(fee_id=fee_id or new_id("fee"), user_id=user_id, fee=_wire(fee),
                              quote_value=_wire(quote_value), charged_at_ms=at)
    await publish(producer, topics.fees, wrap(
        fact, event_id=fact.fee_id, source=SOURCE, aggregate_id=user_id, occurred_at_ms=at
    ))
    return fact


def fill_values(pair: str, price: str, quantity: str, fee_minor: int, fee_asset: str | None,
                fee_quote_value_minor: int | None = None) -> tuple[Money, Money, Money]:
    """The fill's fee, its value and its fee's value in the quote asset, as this exchange books
    them: price x quantity rounded half-even to the quote's minor unit; a fee in the base asset
    valued at the fill's price; a fee in a third asset only as given."""
    base, quote = _split_pair(pair)
    fee = Money(fee_minor, _asset(fee_asset or quote, "fee asset"))
    value = Money(to_minor(Decimal(price) * Decimal(quantity), quote), quote)
    if fee_quote_value_minor is not None:
        _require(fee_quote_value_minor >= 0, "fee quote value must not be negative")
        fee_value = Money(fee_quote_value_minor, quote)
        _require(fee.asset != quote or fee_value == Money(fee.amount_minor, quote),
                 f"a fee in the quote asset {quote} is its own quote value")
    elif fee.asset == quote:
        fee_value = Money(fee.amount_minor, quote)
    elif fee.asset == base:
        whole = Decimal(fee.amount_minor) / (Decimal(10) ** MINOR_DIGITS.get(base, 0))
        _require(base in MINOR_DIGITS, f"the simulated exchange has no minor unit for {base}")
        fee_value = Money(to_minor(whole * Decimal(price), quote), quote)
    else:
        raise ValueError(f"a fill fee in {fee.asset} needs its quote value in {quote} "
                         f"(--fee-quote-value-minor)")
    return fee, value, fee_value


def _split_pair(pair: str) -> tuple[str, str]:
    base, slash, quote = pair.partition("/")
    _require(slash == "/" and "/" not in quote, f"pair must look like BTC/USDT, not {pair!r}")
    return _asset(base, "pair's base"), _asset(quote, "pair's quote")


def make_fill(user_id: str, pair: str, side: str, price: str, quantity: str, fee_minor: int,
              fill_id: str | None = None, filled_at_ms: int | None = None, *,
              fee_asset: str | None = None, fee_quote_value_minor: int | None = None
              ) -> v2.OrderFilled:
    """A checked fill as the exchange reports it: exact decimal price and quantity, the fee in
    ``fee_asset`` (the pair's quote asset unless given) and values in the quote asset."""
    _require(bool(user_id), "user id is required")
    _require(side in _SIDES, f"side must be buy or sell, not {side!r}")
    for name, value in (("price", price), ("quantity", quantity)):
        _require(_positive_decimal(value), f"{name} must be a positive decimal, not {value!r}")
    _require(isinstance(fee_minor, int) and fee_minor >= 0,
             f"fee must be a non-negative integer, not {fee_minor!r}")
    base, quote = _split_pair(pair)
    fee, worth, fee_value = fill_values(pair, price, quantity, fee_minor, fee_asset,
                                        fee_quote_value_minor)
    at = filled_at_ms if filled_at_ms is not None else now_ms()
    return v2.OrderFilled(fill_id=fill_id or new_id("fill"), user_id=user_id, base_asset=base,
                          quote_asset=quote, side=_SIDES[side], price=price, quantity=quantity,
                          fee=_wire(fee), quote_value=_wire(worth),
                          fee_quote_value=_wire(fee_value), filled_at_ms=at)


def fill_envelope(fact: v2.OrderFilled) -> Envelope:
    """The enveloped record of a fill: event id = fill id, keyed by the user."""
    return wrap(fact, event_id=fact.fill_id, source=SOURCE, aggregate_id=fact.user_id,
                occurred_at_ms=fact.filled_at_ms)


async def publish_fill(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                       pair: str, side: str, price: str, quantity: str, fee_minor: int,
                       fill_id: str | None = None, filled_at_ms: int | None = None, *,
                       fee_asset: str | None = None, fee_quote_value_minor: int | None = None
                       ) -> v2.OrderFilled:
    """Publish one fill (``make_fill``) and wait for the broker's ack."""
    fact = make_fill(user_id, pair, side, price, quantity, fee_minor, fill_id, filled_at_ms,
                     fee_asset=fee_asset, fee_quote_value_minor=fee_quote_value_minor)
    await publish(producer, topics.fills, fill_envelope(fact))
    return fact


async def publish_fills(producer: AIOKafkaProducer, topics: ExchangeTopics,
                        facts: Iterable[v2.OrderFilled], in_flight: int = 20_000) -> int:
    """Publish many fills, keyed by user, without a round trip per record: up to
    ``in_flight`` sends are outstanding, then their acks are awaited (order per key is kept:
    the producer is idempotent). Returns how many were published."""
    name, pending, n = topics.fills.name, [], 0
    for fact in facts:
        pending.append(await producer.send(name, encode(fill_envelope(fact)),
                                           key=fact.user_id.encode()))
        n += 1
        if len(pending) >= in_flight:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    return n


# (pair, starting price, price places, quantity places) of the random traders.
_RANDOM_PAIRS = (("BTC/USDT", 60_000, 2, 4), ("ETH/USDT", 3_000, 2, 3),
                 ("SOL/USDT", 150, 3, 2))


def random_fills(users: int, count: int, *, seed: int = 0, start_ms: int | None = None,
                 user_prefix: str = "trader") -> Iterator[v2.OrderFilled]:
    """``count`` plausible spot fills of ``users`` traders, in exchange-time order (one ms
    apart): prices walk, a trader mostly sells what they hold (sometimes all of it), fees
    are in the quote asset, the base asset (satoshi-like) or a third asset with its value.
    Deterministic for a seed; lazily generated, so a million never sit in memory."""
    _require(users > 0 and count >= 0, "users must be positive and count not negative")
    rng = random.Random(seed)
    at = start_ms if start_ms is not None else now_ms() - count
    prices = [Decimal(p[1]) for p in _RANDOM_PAIRS]
    held: dict[tuple[int, int], int] = {}
    for i in range(count):
        trader = rng.randrange(users)
        k = rng.randrange(len(_RANDOM_PAIRS))
        pair, _, price_places, qty_places = _RANDOM_PAIRS[k]
        prices[k] = max(prices[k] * Decimal(1000 + rng.randint(-20, 20)) / 1000,
                        Decimal(1)).quantize(Decimal(1).scaleb(-price_places))
        units = held.get((trader, k), 0)
        sell = units > 0 and rng.random() < 0.5
        qty_units = (units if rng.random() < 0.3 else rng.randint(1, units)) if sell \
            else rng.randint(1, 1000)
        held[(trader, k)] = units - qty_units if sell else units + qty_units
        quantity = str(Decimal(qty_units).scaleb(-qty_places))
        price = str(prices[k])
        value_minor = to_minor(Decimal(price) * Decimal(quantity), "USDT")
        kind = rng.random()
        fee_asset, fee_minor, valued = "USDT", max(1, value_minor // 1000), None
        if kind < 0.25 and not sell and qty_units >= 10:
            # A base fee on a buy: ~0.1 % of the quantity, whole quantity steps, so the
            # trader holds (and later sells) exactly what the lot holds.
            base = pair.split("/")[0]
            fee_units = max(1, qty_units // 1000)
            held[(trader, k)] -= fee_units
            fee_asset = base
            fee_minor = fee_units * 10 ** (MINOR_DIGITS[base] - qty_places)
        elif kind < 0.35:
            fee_asset, fee_minor, valued = "BGB", rng.randint(1, 500), max(1, value_minor // 1250)
        yield make_fill(f"{user_prefix}_{seed}_{trader}", pair, "sell" if sell else "buy",
                        price, quantity, fee_minor, f"fill_{seed}_{i}", at + i,
                        fee_asset=fee_asset, fee_quote_value_minor=valued)


def _positive_decimal(value: str) -> bool:
    # Plain notation only: "1e3" and " 1" are decimals to Python, not to the wire contract.
    if not _PLAIN_DECIMAL.match(value):
        return False
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
    # Every fee was charged in the run's currency, so this sum is of one asset.
    fee_total: Money
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
    charged: list[Money] = []
    for i in range(fees):
        # Fees are heavy-tailed: most trades are small, a few whales pay a lot.
        amount = max(1, int(rng.paretovariate(1.5) * 100))
        fact = await publish_fee(producer, topics, rng.choice(ids), amount, currency,
                                 fee_id=f"fee_{seed}_{i}", quote_asset=currency)
        charged.append(Money(fact.fee.amount_minor, fact.fee.asset))
    for i in range(fills):
        price = f"{rng.randint(20_000, 120_000)}.{rng.randint(0, 99):02d}"
        # Half the fills pay their fee in the base asset (satoshi), half in the quote asset.
        in_base = rng.random() < 0.5
        await publish_fill(producer, topics, rng.choice(ids), "BTC/USDT",
                           rng.choice(("buy", "sell")), price, f"0.{rng.randint(1, 9999):04d}",
                           rng.randint(1, 500), fill_id=f"fill_{seed}_{i}",
                           fee_asset="BTC" if in_base else "USDT")
    return RandomRun(ids, fees, total(charged, currency), fills)
