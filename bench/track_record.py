"""The track-record computation in-process: many traders, many fills each, one at a time.

    python bench/track_record.py                      # 10 000 traders x 1 000 fills = 10 M fills
    python bench/track_record.py --traders 100        # quick check

Each trader's fills are generated deterministically from the seed (four pairs in two quote
assets, a price random walk, sells only of what is held most of the time, fees in quote, base
or a third asset with its exchange value), one trader at a time so memory holds one trader's
fills, not ten million. Stages are timed apart: generating the fills (not the model's cost),
folding them (``apply``, the service's per-fill work), reading the figures, and encoding the
state for a per-key store. Prints fills/s, totals, state sizes and peak RSS (ru_maxrss).
A SHA-256 over every trader's encoded state is printed: it must not change with speed work.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planetkit.money import Money
from services.social.domain.track_record import (
    Fill,
    Side,
    apply,
    encode,
    figures,
    new_state,
)

DAY = 86_400_000
START = 1_704_067_200_000  # 2024-01-01T00:00:00Z
# (base, quote, starting price, price tick places, quantity places)
PAIRS = (("BTC", "USDT", 60_000, 2, 5), ("ETH", "USDT", 3_000, 2, 4),
         ("SOL", "USDT", 150, 3, 2), ("BTC", "USDC", 60_000, 2, 5))


def trader_fills(trader: int, count: int, seed: int) -> list[Fill]:
    """``count`` fills of one trader over a year, in exchange-time order."""
    rng = random.Random(seed * 1_000_003 + trader)
    user = f"trader_{trader}"
    prices = [Decimal(p[2]) for p in PAIRS]
    held = [0] * len(PAIRS)  # quantity in units of the pair's quantity step
    at = START + rng.randrange(DAY)
    step = 365 * DAY // count
    out = []
    for i in range(count):
        k = rng.randrange(len(PAIRS))
        base, quote, _, price_places, qty_places = PAIRS[k]
        prices[k] = max(prices[k] * Decimal(1000 + rng.randint(-30, 30)) / 1000,
                        Decimal(1)).quantize(Decimal(1).scaleb(-price_places))
        units = rng.randint(1, 500)
        # mostly sell what is held; sometimes more (that part is unmatched)
        sell = held[k] > 0 and rng.random() < 0.5
        if sell:
            units = min(units, held[k]) if rng.random() < 0.95 else units
            held[k] = max(0, held[k] - units)
        else:
            held[k] += units
        quantity = Decimal(units).scaleb(-qty_places)
        value = prices[k] * quantity
        kind = rng.random()
        fee_value = Money(max(1, int(value / 10)), quote)  # ~0.1 % in cents
        if kind < 0.5:
            fee = fee_value
        elif kind < 0.8:  # in base: 0.1 % of the quantity, in satoshi-like minor units
            fee = Money(max(1, int(quantity.scaleb(8) / 1000)), base)
        else:
            fee = Money(rng.randint(1, 10**8), "BGB")
        out.append(Fill(f"{user}_{i:05}", user, base, quote, Side.SELL if sell else Side.BUY,
                        prices[k], quantity, fee, fee_value, at))
        at += rng.randrange(1, 2 * step)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=10_000)
    parser.add_argument("--fills", type=int, default=1_000, help="fills per trader")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    gen_s = fold_s = figures_s = encode_s = 0.0
    digest = hashlib.sha256()
    state_bytes, largest, lots, closed = 0, 0, 0, 0
    started = time.perf_counter()
    for trader in range(args.traders):
        t0 = time.perf_counter()
        fills = trader_fills(trader, args.fills, args.seed)
        t1 = time.perf_counter()
        state = new_state(fills[0].user_id)
        for fill in fills:
            apply(state, fill)
        t2 = time.perf_counter()
        record = figures(state, fills[-1].filled_at_ms)
        t3 = time.perf_counter()
        data = encode(state)
        t4 = time.perf_counter()
        gen_s, fold_s, figures_s, encode_s = (gen_s + t1 - t0, fold_s + t2 - t1,
                                              figures_s + t3 - t2, encode_s + t4 - t3)
        digest.update(data)
        state_bytes += len(data)
        largest = max(largest, len(data))
        lots += sum(len(i.lots) for i in state.instruments.values())
        closed += sum(w.closed_trades for r in record.rows for w in r.windows
                      if w.window == "all")
    total = time.perf_counter() - started
    n = args.traders * args.fills
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"traders={args.traders} fills_per_trader={args.fills} fills={n} seed={args.seed}")
    print(f"generate: {gen_s:.1f} s (input only, not the model)")
    print(f"fold (apply): {fold_s:.1f} s = {n / fold_s:,.0f} fills/s "
          f"({fold_s / n * 1e6:.1f} us/fill)")
    print(f"figures: {figures_s:.2f} s = {figures_s / args.traders * 1e6:.0f} us/trader")
    print(f"encode: {encode_s:.2f} s = {encode_s / args.traders * 1e6:.0f} us/trader")
    print(f"model total (fold + figures + encode): {fold_s + figures_s + encode_s:.1f} s = "
          f"{n / (fold_s + figures_s + encode_s):,.0f} fills/s")
    print(f"wall total: {total:.1f} s")
    print(f"closed trades: {closed}  open lots at end: {lots}")
    print(f"state bytes: mean {state_bytes / args.traders:,.0f}  max {largest:,}")
    print(f"peak RSS: {rss_mib:.0f} MiB")
    print(f"states sha256: {digest.hexdigest()}")


if __name__ == "__main__":
    main()
