"""The tilted density (models.analysis.tilted_density) against Bayes' rule on the mixture, the densest-region and blob
shares against exact samples, and the numbers of the tilted-density view."""

import numpy as np
import pytest

from models.engine.data import GaussianMixture2D, make_gmm2d, mixture_density
from models.engine.pipeline import SampleSpec, run
from models.engine.schedule import make_schedule
from models.analysis.tilted_density import (CLEAN, blob_shares, cell_area, densest_region_share, densest_region_threshold, grid, log_tilted,
                         points_at, tilt_limits, tilt_view, tilted_density)
from models.analysis.tradeoff import describe_blobs

GMM = make_gmm2d()
SCHEDULE = make_schedule("linear")


def class_mixture(label: int) -> GaussianMixture2D:
    """p(x | y): the components of class ``label`` alone, weights renormalised."""
    keep = GMM.comp_class == label
    return GaussianMixture2D(GMM.means[keep], GMM.stds[keep], GMM.weights[keep] / GMM.weights[keep].sum(),
                             GMM.comp_class[keep], GMM.num_classes)


def normalised(density: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    cell = (xx[0, 1] - xx[0, 0]) * (yy[1, 0] - yy[0, 0])
    return density / (density.sum() * cell)


@pytest.fixture(scope="module")
def mesh():
    return grid(tilt_limits(CLEAN), 120)


@pytest.mark.parametrize("t", [CLEAN, 0, 300])
def test_tilted_density_at_gamma_zero_is_the_data_density(mesh, t):
    xx, yy = mesh
    abar = float(SCHEDULE.abar(t))
    expected = normalised(mixture_density(GMM, xx, yy, abar), xx, yy)
    np.testing.assert_allclose(tilted_density(1, 0.0, xx, yy, t), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("t", [CLEAN, 300])
@pytest.mark.parametrize("label", [0, 2])
def test_tilted_density_at_gamma_one_is_the_class_conditional_density(mesh, t, label):
    # Bayes: p(x) p(y | x) = p(x, y) = p(y) p(x | y), and p(x | y) is the class's own mixture.
    xx, yy = mesh
    abar = float(SCHEDULE.abar(t))
    expected = normalised(mixture_density(class_mixture(label), xx, yy, abar), xx, yy)
    np.testing.assert_allclose(tilted_density(label, 1.0, xx, yy, t), expected, rtol=1e-6, atol=1e-9)


def test_tilted_density_at_gamma_two_squares_the_posterior(mesh):
    # p(y | x) = p(y) p(x | y) / p(x), computed from the mixture alone, independently of models.engine.exact.
    xx, yy = mesh
    p_x = mixture_density(GMM, xx, yy)
    posterior = (1 / 3) * mixture_density(class_mixture(1), xx, yy) / p_x
    expected = normalised(p_x * posterior**2, xx, yy)
    got = tilted_density(1, 2.0, xx, yy)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    cell = (xx[0, 1] - xx[0, 0]) * (yy[1, 0] - yy[0, 0])
    assert got.sum() * cell == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs", [dict(label=3), dict(label=-1), dict(gamma=float("nan")), dict(t=1000), dict(t=-2)])
def test_log_tilted_rejects_bad_settings(kwargs):
    args = dict(points=np.zeros((1, 2)), label=0, gamma=1.0, t=CLEAN) | kwargs
    with pytest.raises(ValueError):
        log_tilted(**args)


def exact_class_samples(label: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` exact draws of class ``label`` of the mixture."""
    x, y = GMM.sample(4 * n, np.random.default_rng(seed))
    return x[y == label][:n]


def test_exact_samples_fill_the_densest_region_and_the_blobs_as_the_density_says():
    x = exact_class_samples(1, 3000)
    assert densest_region_share(x, 1, 1.0, mass=0.9) == pytest.approx(0.9, abs=0.02)
    assert densest_region_share(x, 1, 1.0, mass=0.5) == pytest.approx(0.5, abs=0.03)
    blobs = blob_shares(x, 1, 1.0)
    assert len(blobs) == 3
    for b in blobs:
        assert b.density == pytest.approx(1 / 3, abs=0.01)  # three equal-weight blobs, far apart
        assert b.points == pytest.approx(b.density, abs=0.03)
    assert "close to what it aims at" in describe_blobs(blobs, 1.0, "B")


def test_points_far_from_the_class_miss_its_densest_region():
    x = exact_class_samples(0, 500)  # class A's points judged against class B's density
    assert densest_region_share(x, 1, 1.0) < 0.05
    blobs = blob_shares(x, 1, 1.0)
    assert "does not follow" in describe_blobs(blobs, 1.0, "B")


def test_points_at_picks_the_nearest_step():
    traj = run(SampleSpec(data="gmm2d", model="exact", sampler="ddim", guidance="cfg", gamma=1.0, label=0, steps=4,
                          batch=3))
    final, t = points_at(traj, CLEAN)
    assert t == CLEAN and np.array_equal(final, traj.x[-1])
    mid, t = points_at(traj, int(traj.timesteps[2]) + 3)
    assert t == int(traj.timesteps[2]) and np.array_equal(mid, traj.x[2])


@pytest.mark.parametrize("t", [CLEAN, 150])
def test_tilt_view_holds_each_gammas_numbers(t):
    points = {3.0: exact_class_samples(2, 100, seed=1), 0.0: exact_class_samples(2, 100, seed=2)}
    view = tilt_view(points, 2, t)
    assert [p.gamma for p in view.panels] == [0.0, 3.0] and view.separated == (t == CLEAN)
    xx, yy = grid(view.limits, 220)
    np.testing.assert_array_equal(view.xx, xx)
    np.testing.assert_allclose(view.base, mixture_density(GMM, xx, yy, float(SCHEDULE.abar(t))))
    for panel in view.panels:
        np.testing.assert_array_equal(panel.points, points[panel.gamma])
        np.testing.assert_allclose(panel.density, tilted_density(2, panel.gamma, xx, yy, t))
        assert panel.level == densest_region_threshold(panel.density, cell_area(xx, yy), 0.9)
        assert panel.share == densest_region_share(points[panel.gamma], 2, panel.gamma, t, limits=view.limits)
        assert len(panel.blobs) == (3 if t == CLEAN else 0)
    with pytest.raises(ValueError):
        tilt_view({}, 0)
