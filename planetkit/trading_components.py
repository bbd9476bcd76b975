"""The shape rules of a trading component (a coin ticker, a trade idea, a trade link, a
copy-trade card), shared by posts (services/content) and group messages (services/groups) so
both refuse the same inputs with the same words. Pure and on plain strings: content checks its
domain model with it, groups the protobuf components a message carries.

Shape only: whether the exchange lists the instrument is content's own check (it holds the
instrument list, ``services/content/domain/components.py``).

Each function takes the raw input and answers the problems (empty: fine), without saying
which component: the caller prefixes its ``component <n>``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The chart timeframes a trade idea may name (what the exchange's charts offer).
TIMEFRAMES = ("15m", "1h", "4h", "1d", "1w")
MAX_PRICE_CHARS = 40
SIDES = ("long", "short")

_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}$")
# A trade idea's pair: BTC/USDT, or a bare coin (ideas published before pairs were required).
_IDEA_PAIR = re.compile(r"^[A-Z0-9]{1,20}(/[A-Z0-9]{1,20})?$")
# Plain notation only: "1e3" or "Infinity" would survive Decimal() but confuse every reader.
_PRICE = re.compile(r"^\d+(\.\d+)?$")


def ticker_problem(symbol: str) -> str:
    """Why a ticker's symbol (raw) is refused ("" when its normal form is fine)."""
    if _SYMBOL.match(symbol.strip().upper()):
        return ""
    return f"ticker symbol {symbol[:21]!r} is not 1-20 A-Z/0-9"


def positive_decimal(raw: str) -> Decimal | None:
    """A price: a positive decimal in plain notation (trimmed by the caller), else None."""
    if len(raw) > MAX_PRICE_CHARS or not _PRICE.match(raw):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value > 0 else None


def trade_idea_problems(pair: str, side: str, entry: str, target: str, stop: str) -> list[str]:
    """Why a trade idea's pair, prices and their order are refused (raw values; ``side``
    "long" or "short"). The timeframe is ``timeframe_problem``'s."""
    problems: list[str] = []
    if not _IDEA_PAIR.match(pair.strip().upper()):
        problems.append(f"pair {pair[:42]!r} is not like BTC/USDT")
    if side not in SIDES:
        problems.append("side must be long or short")
    prices: dict[str, Decimal] = {}
    for name, raw in (("entry", entry), ("target", target), ("stop", stop)):
        price = positive_decimal(raw.strip())
        if price is None:
            problems.append(f"{name} {raw[:MAX_PRICE_CHARS + 1]!r} is not a positive decimal")
        else:
            prices[name] = price
    if problems:
        return problems
    low, high = (prices["stop"], prices["target"]) if side == "long" else (
        prices["target"], prices["stop"])
    if not low < prices["entry"] < high:
        problems.append("a long idea needs stop < entry < target" if side == "long"
                        else "a short idea needs target < entry < stop")
    return problems


def timeframe_problem(timeframe: str) -> str:
    """Why a trade idea's timeframe is refused ("" when it is one of TIMEFRAMES)."""
    if timeframe in TIMEFRAMES:
        return ""
    return f"timeframe {timeframe[:10]!r} is not one of {', '.join(TIMEFRAMES)}"


def _asset_code(code: str) -> bool:
    return 1 <= len(code) <= 20 and all("A" <= c <= "Z" or "0" <= c <= "9" for c in code)


def pair_problem(pair: str) -> str:
    """Why a trade link's ``pair`` (normalised: trimmed, upper case) is not shaped like
    BTC/USDT ("" when it is)."""
    base, slash, quote_ = pair.partition("/")
    if slash and _asset_code(base) and _asset_code(quote_):
        return ""
    return f"pair {pair[:42]!r} is not like BTC/USDT"
