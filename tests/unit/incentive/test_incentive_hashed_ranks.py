"""Ranking ids spread over 63 bits (hashed, as domain/id_map.py makes them) by one packed sort
of their top bits, with rows that share top bits re-sorted: against np.unique.

The columns are built so that the re-sort runs: ids bunched at both ends of a wide span share
their top bits while being different ids.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.incentive.domain.engagement import _factorize, _repeated

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_IDS = st.lists(st.one_of(st.integers(0, 50), st.integers(-2**63, 2**63 - 1)), max_size=300)


def columns(ids: list[int]) -> list[np.ndarray]:
    """Hash-like, bunched at the ends of a 2**62 span, bunched at int64's ends, and small."""
    arr = np.array(ids, dtype=np.int64)
    high = np.where(arr % 2 == 0, 2**62, 0).astype(np.int64)
    low_end = np.where(arr % 3 == 0, np.int64(-2**63), np.int64(2**63 - 1000))
    return [arr, arr % 1000 + high, arr % 997 + low_end, arr % 50 + 7]


@FAST
@given(ids=_IDS)
def test_factorize_matches_np_unique(ids: list[int]) -> None:
    for column in columns(ids):
        values, rank = _factorize(column)
        want_values, want_rank = np.unique(column, return_inverse=True)
        assert values.tolist() == want_values.tolist()
        assert rank.tolist() == want_rank.tolist()


@FAST
@given(ids=_IDS)
def test_repeated_marks_every_row_of_an_id_seen_twice(ids: list[int]) -> None:
    for column in columns(ids):
        _, inverse, counts = np.unique(column, return_inverse=True, return_counts=True)
        assert _repeated(column).tolist() == (counts[inverse] > 1).tolist()


def test_a_million_ids_beside_one_far_id_take_the_re_sort() -> None:
    # 20 bits of row position leave 43 of the id: the dense ids all share their top bits.
    rng = np.random.default_rng(5)
    ids = np.append(rng.integers(0, 1 << 20, size=1 << 20), 2**63 - 1).astype(np.int64)
    values, rank = _factorize(ids)
    want_values, want_rank = np.unique(ids, return_inverse=True)
    assert np.array_equal(values, want_values) and np.array_equal(rank, want_rank)
