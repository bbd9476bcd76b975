"""Publishing exchange facts: one enveloped record per fact, keyed by user id.

Fees and fills are published in schema 2 (planet.exchange.v2: every amount a Money with its
asset, values in the quote asset as the exchange reports them); KYC stays v1 (no money).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from aiokafka import AIOKafkaProducer

from planet.exchange.v1.events_pb2 import KycVerified
from planet.exchange.v2 import events_pb2 as v2
from planetkit.assets import MINOR_DIGITS
from planetkit.clock import now_ms
from planetkit.envelope import wrap
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


async def publish_fill(producer: AIOKafkaProducer, topics: ExchangeTopics, user_id: str,
                       pair: str, side: str, price: str, quantity: str, fee_minor: int,
                       fill_id: str | None = None, filled_at_ms: int | None = None, *,
                       fee_asset: str | None = None, fee_quote_value_minor: int | None = None
                       ) -> v2.OrderFilled:
    """An order of a user filled: exact decimal price and quantity, the fee in ``fee_asset``
    (the pair's quote asset unless given), and values in the quote asset."""
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
    fact = v2.OrderFilled(fill_id=fill_id or new_id("fill"), user_id=user_id, base_asset=base,
                          quote_asset=quote, side=_SIDES[side], price=price, quantity=quantity,
                          fee=_wire(fee), quote_value=_wire(worth),
                          fee_quote_value=_wire(fee_value), filled_at_ms=at)
    await publish(producer, topics.fills, wrap(
        fact, event_id=fact.fill_id, source=SOURCE, aggregate_id=user_id, occurred_at_ms=at
    ))
    return fact


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
