# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The status reports' sample windows and percentiles."""

import numpy as np
import pytest

from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.ros.status import percentiles


def test_window_keeps_the_newest_samples_oldest_first():
    window = SampleWindow(4)
    assert len(window) == 0 and window.values().shape == (0,)
    for value in range(1, 4):
        window.append(value)
    np.testing.assert_array_equal(window.values(), [1, 2, 3])
    for value in range(4, 11):
        window.append(value)
    np.testing.assert_array_equal(window.values(), [7, 8, 9, 10])
    assert len(window) == 4 and window.total == 10
    window.values()[0] = -1.0                     # a copy: the window is unchanged
    np.testing.assert_array_equal(window.values(), [7, 8, 9, 10])


def test_window_size_must_be_positive():
    with pytest.raises(ValueError, match='size must be >= 1, got 0'):
        SampleWindow(0)


@pytest.mark.parametrize('n', [1, 2, 3, 10, 101, 2000])
def test_percentiles_match_numpy(n):
    samples = np.random.default_rng(n).exponential(size=n)
    got = percentiles(samples, (0, 50, 90, 99, 100))
    want = np.percentile(samples, (0, 50, 90, 99, 100))
    np.testing.assert_allclose(list(got.values()), want, rtol=1e-12)
    assert list(got) == ['p0', 'p50', 'p90', 'p99', 'p100']


def test_percentiles_of_nothing_are_none():
    assert percentiles(np.zeros(0)) == {'p50': None, 'p90': None, 'p99': None}
