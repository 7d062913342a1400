"""tilted_tv's floor for a batch of several classes (issue 17): computed from the batch's per-class
counts, checked against simulated exact draws with those counts."""

import numpy as np
import pytest

from models.analysis.tilted_target import (_tv, batch_target_shares, expected_tv, expected_tv_by_class,
                                           target_shares, tilted_tv_report)


def _simulated(counts, gamma, reps=4000, seed=0):
    """The mean TV of exact draws with fixed class counts: each class a multinomial of its own shares."""
    rng = np.random.default_rng(seed)
    n = sum(counts)
    target = sum(c * target_shares(k, gamma) for k, c in enumerate(counts)) / n
    tvs = []
    for _ in range(reps):
        draws = sum(rng.multinomial(c, target_shares(k, gamma)) for k, c in enumerate(counts) if c)
        tvs.append(_tv(draws / n, target))
    return float(np.mean(tvs)), float(np.std(tvs) / np.sqrt(reps))


@pytest.mark.parametrize("counts, gamma", [((500, 500, 500), 3.0), ((40, 0, 10), 1.0), ((7, 7, 6), 0.0)])
def test_the_floor_of_a_mixed_batch_matches_simulated_draws(counts, gamma):
    exact = expected_tv_by_class(np.stack([target_shares(k, gamma) for k in range(3)]), counts)
    mean, se = _simulated(counts, gamma)
    assert abs(exact - mean) < 4 * se + 1e-4, (exact, mean, se)


def test_the_report_uses_it_and_the_single_multinomial_overstates():
    n = 1500
    labels = np.arange(n) % 3
    floor = tilted_tv_report(np.zeros((n, 2)), labels, 3.0).floor
    old = expected_tv(batch_target_shares(labels, 3.0), n)
    assert floor == pytest.approx(0.0252, abs=5e-4) and old > 1.1 * floor  # 0.98/√N against 1.13/√N
    one = np.full(n, 1)
    assert tilted_tv_report(np.zeros((n, 2)), one, 3.0).floor == pytest.approx(expected_tv(target_shares(1, 3.0), n))
