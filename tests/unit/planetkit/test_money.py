"""Money: amounts of one asset add exactly; amounts of different assets never meet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planetkit.money import INT64_MAX, AssetMismatch, Money, check_asset, total

assets = st.sampled_from(["USDT", "BTC", "ETH", "USDC", "1INCH"])
amounts = st.integers(min_value=-(10**15), max_value=10**15)


@given(amounts, amounts, assets)
def test_same_asset_adds_and_subtracts_exactly(a: int, b: int, asset: str) -> None:
    x, y = Money(a, asset), Money(b, asset)
    assert (x + y) == Money(a + b, asset)
    assert (x + y) - y == x
    assert (x < y) == (a < b) and (x >= y) == (a >= b)


@given(amounts, amounts, assets, assets)
def test_different_assets_never_add_or_compare(a: int, b: int, one: str, other: str) -> None:
    if one == other:
        return
    x, y = Money(a, one), Money(b, other)
    with pytest.raises(AssetMismatch, match=f"{one} with {other}"):
        _ = x + y
    with pytest.raises(AssetMismatch):
        _ = x - y
    with pytest.raises(AssetMismatch):
        _ = x < y


@given(st.lists(amounts, max_size=20), assets)
def test_total_of_one_asset_is_the_integer_sum(values: list[int], asset: str) -> None:
    assert total((Money(v, asset) for v in values), asset) == Money(sum(values), asset)


def test_total_states_its_asset_so_a_uniform_sum_of_the_wrong_asset_fails() -> None:
    assert total([], "USDT") == Money(0, "USDT")
    with pytest.raises(AssetMismatch):
        total([Money(1, "BTC"), Money(2, "BTC")], "USDT")


@pytest.mark.parametrize("bad", ["usdt", "", "U", "US-DT", "TOOLONGASSETCODE"])
def test_bad_asset_codes_are_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="upper-case code"):
        check_asset(bad)
    with pytest.raises(ValueError, match="upper-case code"):
        Money(1, bad)


def test_amounts_are_int64_integers_never_floats_or_bools() -> None:
    with pytest.raises(ValueError, match="integer"):
        Money(1.5, "USDT")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer"):
        Money(True, "USDT")
    with pytest.raises(ValueError, match="int64"):
        Money(INT64_MAX, "USDT") + Money(1, "USDT")
    with pytest.raises(TypeError):
        Money(1, "USDT") + 1  # type: ignore[operator]
