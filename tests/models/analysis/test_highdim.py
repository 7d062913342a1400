"""The high-dimension measurements (models.analysis.highdim) against what theory says they must be."""

import numpy as np
import pytest

from models.engine.data import load_digits_dataset
from models.analysis.highdim import (explained_variance, measure, measurements, noise_norms, random_cosines,
                            random_distortions)


@pytest.mark.parametrize("dim", [2, 64, 400])
def test_noise_norms_concentrate_near_the_square_root_of_the_dimension(dim):
    norms = noise_norms(dim, n=20000, seed=1)
    # |eps|^2 is chi-squared with dim degrees of freedom: mean dim exactly.
    assert np.mean(norms**2) == pytest.approx(dim, rel=0.03)
    assert norms.std() < 0.75  # the std of a chi variable tends to 1/sqrt(2) ~ 0.71, whatever the dimension


@pytest.mark.parametrize("dim", [2, 64, 400])
def test_random_cosines_have_variance_one_over_the_dimension(dim):
    cos = random_cosines(dim, n=20000, seed=2)
    assert np.abs(cos).max() <= 1 + 1e-12
    assert np.var(cos) == pytest.approx(1 / dim, rel=0.05)  # E[cos^2] = 1/d for uniform directions
    assert abs(np.mean(cos)) < 4 / np.sqrt(dim * 20000)


def test_explained_variance_matches_the_covariance_eigenvalues():
    x = load_digits_dataset().x
    eig = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
    np.testing.assert_allclose(explained_variance(x), np.cumsum(eig) / eig.sum(), atol=1e-10)


def test_random_projection_keeps_squared_lengths_on_average():
    # E_R |R d|^2 / 2 = |d|^2 for R with standard-normal entries: over many projections (seeds) the
    # mean squared ratio is 1 (one projection alone is off by about 0.26, the mean of 200 by 0.02).
    x = load_digits_dataset().x
    means = [np.mean(random_distortions(x, seed=s, pairs=2000) ** 2) for s in range(200)]
    assert np.mean(means) == pytest.approx(1.0, abs=0.06)
    ratios = random_distortions(x, seed=3)
    assert np.percentile(ratios, 5) < 0.4 and np.percentile(ratios, 95) > 1.5  # and wildly spread


def test_measure_summarises_the_measurements():
    x = load_digits_dataset().x
    m, facts = measurements(x, seed=0), measure(x, seed=0)
    assert m.dim == facts.dim == 64 and set(m.noise_norms) == set(m.cosines) == {2, 64}
    assert facts.noise_norm_mean == float(m.noise_norms[64].mean()) and facts.cosine_std == float(m.cosines[64].std())
    assert facts.pca_two == float(m.explained[1]) and facts.pca_ten == float(m.explained[9])
    assert m.explained[facts.pca_for_90 - 1] >= 0.9 > m.explained[facts.pca_for_90 - 2]
    assert (facts.distortion_5, facts.distortion_95) == tuple(float(v) for v in np.percentile(m.distortions, [5, 95]))
