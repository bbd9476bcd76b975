"""Exact decimal arithmetic for the track record: one fixed context, and the only roundings.

Every sum and product runs in ``EXACT``: 60 significant digits with ``Inexact`` trapped, so an
addition or multiplication that would have to round raises instead of losing a digit (no
price or quantity the exchange quotes comes near 60 digits). Floats are refused
(``FloatOperation`` trapped). The few places that must divide round explicitly, half-even, at
a stated number of decimal places, computed with exact integer division (never a rounded
quotient rounded again):

- a lot's cost (or a sell's proceeds) split pro rata when only part is matched:
  ``SPLIT_PLACES`` = 18 decimal places, the remainder staying with what is left, so a lot's
  cost is never created or lost by rounding;
- figures shown: money to the asset's minor unit (``to_minor``), ratios to ``RATIO_PLACES``.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
)

EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN,
                traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, FloatOperation])
# Pro-rata splits: far below any asset's minor unit (satoshi is 8 places, wei-like 18).
SPLIT_PLACES = 18
# Ratios shown (ROI, win rate, drawdown ratio) as fractions: 0.000001 = 0.0001 %.
RATIO_PLACES = 6
ZERO = Decimal(0)
ONE = Decimal(1)


def div_round(numerator: Decimal, denominator: Decimal, places: int) -> Decimal:
    """``numerator / denominator`` rounded half-even to ``places`` decimal places, exactly.

    Integer division of the scaled numerator, then the remainder decides (twice the remainder
    against the divisor), so the result is the correctly rounded quotient, not a rounding of
    an already rounded one. Runs in ``EXACT``: a result beyond 60 digits raises.
    """
    if denominator == 0:
        raise ZeroDivisionError("division by zero in the track record")
    negative = (numerator < 0) != (denominator < 0)
    n = EXACT.scaleb(abs(numerator), Decimal(places))
    d = abs(denominator)
    q = EXACT.divide_int(n, d)
    r = EXACT.subtract(n, EXACT.multiply(q, d))
    twice = EXACT.multiply(r, Decimal(2))
    if twice > d or (twice == d and int(q) % 2 == 1):
        q = EXACT.add(q, ONE)
    result = EXACT.scaleb(q, Decimal(-places))
    return EXACT.minus(result) if negative else result


def from_minor(amount_minor: int, digits: int) -> Decimal:
    """``amount_minor`` minor units of an asset with ``digits`` decimal digits, in whole units."""
    return EXACT.scaleb(Decimal(amount_minor), Decimal(-digits))


def to_minor(amount: Decimal, digits: int) -> int:
    """``amount`` whole units in minor units, rounded half-even: the one rounding of money."""
    return int(div_round(EXACT.scaleb(amount, Decimal(digits)), ONE, 0))


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A fraction shown to ``RATIO_PLACES`` places, half-even."""
    return div_round(numerator, denominator, RATIO_PLACES)
