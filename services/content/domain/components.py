"""Trading components beyond their shape: the exchange's instrument list they are checked
against, trade-idea timeframes, and what a component shows when read (the instrument's current
price, the server-built deep links with attribution). Pure: the list is handed in.

Instruments come from the exchange (planet.exchange.instruments.v1, its simulator here); every
replica keeps the whole small list (adapters/instrument_store.py). A component naming a symbol
the list does not hold, or one that is delisted, is refused naming the symbol:

- a ticker names a coin (``BTC``): known when a listed instrument has it as its base; it shows
  the price of ``<coin>/USDT`` when listed, else of the first listed pair of that base;
- a trade idea and a trade link name a pair (``BTC/USDT``): known when listed as such.

Deep links (built on read, never taken from a client, so a client cannot point a card at
another creator or strip the attribution):

- trade this: ``<exchange base>/trade/<BASE>_<QUOTE>?side=buy|sell&ref=planet&ref_post=<post
  id>&ref_creator=<creator id>`` (long -> buy, short -> sell);
- copy trade: ``<exchange base>/copy-trading/<creator id>?ref=planet&ref_post=<post id>``.

Both are assembled by urllib (path segments quoted, query urlencoded), never by string
formatting of client text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

# The shape rules (a pair, a timeframe) are shared with group messages.
from planetkit.trading_components import pair_problem, timeframe_problem
from services.content.domain.model import (
    CoinTicker,
    CopyTrade,
    TradeIdea,
    TradeLink,
    TradeSide,
    TradingComponent,
)

# A ticker's price is shown in this quote when the coin is listed against it.
PREFERRED_QUOTE = "USDT"
_SIDE_PARAM = {TradeSide.LONG: "buy", TradeSide.SHORT: "sell"}


class InstrumentStatus(Enum):
    """Whether components may name an instrument."""

    TRADING = "trading"
    HALTED = "halted"
    DELISTED = "delisted"


@dataclass(frozen=True)
class Instrument:
    """One listed instrument as the exchange last reported it."""

    symbol: str  # "BTC/USDT"
    base: str
    quote: str
    status: InstrumentStatus
    last_price: Decimal | None
    at_ms: int

    @property
    def listed(self) -> bool:
        """Components may name it (trading or halted; not delisted)."""
        return self.status is not InstrumentStatus.DELISTED


class Instruments:
    """The instrument list as one replica holds it: symbol -> latest state (a small table)."""

    def __init__(self, by_symbol: Mapping[str, Instrument] | None = None) -> None:
        self._by_symbol: dict[str, Instrument] = dict(by_symbol or {})

    def put(self, instrument: Instrument) -> None:
        """The latest report of a symbol replaces the previous one."""
        self._by_symbol[instrument.symbol] = instrument

    def get(self, symbol: str) -> Instrument | None:
        """The instrument called ``symbol``, listed or not."""
        return self._by_symbol.get(symbol)

    def all(self) -> list[Instrument]:
        """Every instrument, by symbol."""
        return [self._by_symbol[s] for s in sorted(self._by_symbol)]

    def for_coin(self, coin: str) -> Instrument | None:
        """The listed instrument a ticker of ``coin`` shows: coin/USDT, else the first listed
        pair with that base."""
        preferred = self._by_symbol.get(f"{coin}/{PREFERRED_QUOTE}")
        if preferred is not None and preferred.listed:
            return preferred
        for symbol in sorted(self._by_symbol):
            found = self._by_symbol[symbol]
            if found.base == coin and found.listed:
                return found
        return None

    def __len__(self) -> int:
        return len(self._by_symbol)


def instrument_problems(
    components: tuple[TradingComponent, ...], instruments: Instruments
) -> list[str]:
    """Every component naming a symbol the exchange does not list, each naming the symbol."""
    problems: list[str] = []
    for i, comp in enumerate(components, start=1):
        where = f"component {i}"
        if isinstance(comp, CoinTicker):
            if instruments.for_coin(comp.symbol) is None:
                problems.append(f"{where}: unknown symbol {comp.symbol!r}: the exchange lists "
                                "no pair of that coin")
        elif isinstance(comp, (TradeIdea, TradeLink)):
            found = instruments.get(comp.pair)
            if found is None:
                problems.append(f"{where}: unknown symbol {comp.pair!r}: not an instrument "
                                "the exchange lists")
            elif not found.listed:
                problems.append(f"{where}: symbol {comp.pair!r} is delisted")
    return problems


@dataclass(frozen=True)
class Rendered:
    """What a component shows when read now."""

    instrument: str = ""
    last_price: str = ""
    last_price_at_ms: int = 0
    link: str = ""


def render(
    comp: TradingComponent, post_id: str, creator_id: str, instruments: Instruments,
    exchange_url: str,
) -> Rendered:
    """The instrument, its current price (exact decimal text, when reported) and the link."""
    if isinstance(comp, CopyTrade):
        return Rendered(link=copy_trade_link(exchange_url, creator_id, post_id))
    found = (instruments.for_coin(comp.symbol) if isinstance(comp, CoinTicker)
             else instruments.get(comp.pair))
    price = "" if found is None or found.last_price is None else _plain(found.last_price)
    at = 0 if found is None or found.last_price is None else found.at_ms
    symbol = found.symbol if found is not None else (
        comp.symbol if isinstance(comp, CoinTicker) else comp.pair)
    link = (trade_link(exchange_url, comp.pair, comp.side, post_id, creator_id)
            if isinstance(comp, TradeLink) else "")
    return Rendered(symbol, price, at, link)


def _plain(value: Decimal) -> str:
    """Plain notation (never 1E+3), exactly the digits the exchange sent."""
    return format(value, "f")


def _base(exchange_url: str) -> tuple[str, str, str]:
    parts = urlsplit(exchange_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"exchange URL {exchange_url!r} must be an absolute http(s) URL")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def trade_link(exchange_url: str, pair: str, side: TradeSide, post_id: str,
               creator_id: str) -> str:
    """The "trade this" deep link with its attribution parameters."""
    scheme, netloc, path = _base(exchange_url)
    market = quote(pair.replace("/", "_"), safe="")
    query = urlencode({"side": _SIDE_PARAM[side], "ref": "planet", "ref_post": post_id,
                       "ref_creator": creator_id})
    return urlunsplit((scheme, netloc, f"{path}/trade/{market}", query, ""))


def copy_trade_link(exchange_url: str, creator_id: str, post_id: str) -> str:
    """The creator's copy-trading profile, attributed to the post."""
    scheme, netloc, path = _base(exchange_url)
    query = urlencode({"ref": "planet", "ref_post": post_id})
    return urlunsplit((scheme, netloc, f"{path}/copy-trading/{quote(creator_id, safe='')}",
                       query, ""))


def parse_price(raw: str) -> Decimal | None:
    """An exchange price: a positive exact decimal in plain notation, or None (absent/bad)."""
    if not raw or len(raw) > 40 or not all(c.isdigit() or c == "." for c in raw) \
            or raw.count(".") > 1 or raw.startswith(".") or raw.endswith("."):
        return None
    if not all("0" <= c <= "9" or c == "." for c in raw):
        return None  # other Unicode digits
    value = Decimal(raw)
    return value if value > 0 else None


def checked_extra(comp: TradingComponent, where: str, problems: list[str]
                  ) -> TradingComponent | None:
    """A trade link or copy-trade card normalised (validation.py's hook for the component
    kinds it does not know); None, with the problem added, when malformed."""
    if isinstance(comp, TradeLink):
        pair = comp.pair.strip().upper()
        problem = pair_problem(pair)
        if problem:
            problems.append(f"{where}: {problem}")
            return None
        return TradeLink(pair, comp.side)
    if isinstance(comp, CopyTrade):
        return comp
    problems.append(f"{where}: must be a ticker, a trade idea, a trade link or a copy-trade card")
    return None


def checked_timeframe(idea: TradeIdea, where: str, problems: list[str]) -> str:
    """A trade idea's timeframe, trimmed ("" when none was given: ideas published before
    timeframes existed, and clients that do not send one); the problem added otherwise."""
    timeframe = idea.timeframe.strip()
    if timeframe and (problem := timeframe_problem(timeframe)):
        problems.append(f"{where}: {problem}")
    return timeframe
