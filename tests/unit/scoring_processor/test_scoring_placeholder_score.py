"""The placeholder score: integer milli-points, caps, and the KYC-gated fee bonus."""

from services.incentive.domain.estimate.placeholder_score import (
    ConsumerWeek,
    consumer_weight_milli,
    placeholder_score_v0,
)


def cw(dwell: int = 0, inter: int = 0, fees: int = 0, kyc: bool = False) -> ConsumerWeek:
    return ConsumerWeek(dwell_seconds=dwell, interactions=inter, fees_minor=fees, kyc_verified=kyc)


def test_units_times_weight_summed_over_consumers() -> None:
    consumers = [cw(dwell=100, inter=2, fees=50_000, kyc=True), cw(dwell=50, fees=20_000)]
    assert placeholder_score_v0(consumers) == 160 * 1500 + 50 * 1000


def test_dwell_and_interactions_are_capped() -> None:
    assert placeholder_score_v0([cw(dwell=10_000, inter=500)]) == (3600 + 30 * 20) * 1000


def test_fee_bonus_needs_kyc_and_is_capped() -> None:
    assert consumer_weight_milli(cw(fees=50_000)) == 1000
    assert consumer_weight_milli(cw(fees=50_000, kyc=True)) == 1500
    assert consumer_weight_milli(cw(fees=10**12, kyc=True)) == 10_000
    assert consumer_weight_milli(cw(fees=-500, kyc=True)) == 1000


def test_no_consumers_scores_zero_and_result_is_int() -> None:
    assert placeholder_score_v0([]) == 0
    assert isinstance(placeholder_score_v0([cw(dwell=1, fees=199, kyc=True)]), int)
