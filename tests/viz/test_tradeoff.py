"""The trade-off figures (viz.tradeoff): the tilted density against Bayes' rule on the mixture, the
densest-region and blob shares against exact samples, the curves figure's lines, and the findings."""

import numpy as np
import pytest

from models.data import GaussianMixture2D, load_digits_dataset, make_gmm2d
from models.evaluate import METRIC_NAMES
from models.pipeline import SampleSpec, run
from models.schedule import make_schedule
from viz.drawing import mixture_density
from viz.tradeoff import (CLEAN, blob_shares, curves_figure, data_reference, densest_region_share, describe_blobs,
                          findings, grid, log_tilted, points_at, tilt_limits, tilted_density, tilted_figure)

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
    # p(y | x) = p(y) p(x | y) / p(x), computed from the mixture alone, independently of models.exact.
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


def rows(gammas, accuracy, diversity, nearest):
    return [dict(gamma=g, accuracy=a, diversity=d, nearest_train=n, finite=1.0, samples=10, seconds=0.1)
            for g, a, d, n in zip(gammas, accuracy, diversity, nearest)]


def test_curves_figure_has_one_line_per_metric_in_gamma_order():
    r = rows([3, 0, 1], [0.9, 0.1, 0.8], [2.0, 4.0, 3.0], [1.0, 1.2, 1.1])  # unsorted on purpose
    fig = curves_figure(r, {"accuracy": 1.0, "diversity": 3.5, "nearest_train": 1.1}, "title")
    assert len(fig.axes) == len(METRIC_NAMES)
    for ax, name in zip(fig.axes, METRIC_NAMES):
        lines = [line for line in ax.get_lines() if line.get_gid() == name]
        assert len(lines) == 1
        x, y = lines[0].get_data()
        order = np.argsort([row["gamma"] for row in r])
        np.testing.assert_array_equal(x, [r[i]["gamma"] for i in order])
        np.testing.assert_array_equal(y, [r[i][name] for i in order])
        assert [line for line in ax.get_lines() if line.get_gid() is None]  # the reference and gamma = 1 lines
    with pytest.raises(ValueError):
        curves_figure([])


def test_tilted_figure_has_one_panel_per_gamma():
    points = {g: exact_class_samples(2, 200) for g in (0.0, 1.0, 3.0)}
    fig = tilted_figure(points, 2, CLEAN, "C")
    assert [ax.get_title(loc="left").split("·")[0].strip() for ax in fig.axes] == ["γ = 0", "γ = 1", "γ = 3"]
    assert all("% of dots inside" in ax.get_xlabel() for ax in fig.axes)


def test_data_reference_is_the_leave_one_out_distance():
    x = load_digits_dataset().x
    d = np.sqrt(np.maximum((x**2).sum(1)[:, None] - 2 * x @ x.T + (x**2).sum(1)[None, :], 0))
    np.fill_diagonal(d, np.inf)
    ref = data_reference("digits")
    assert ref["nearest_train"] == pytest.approx(np.median(d.min(1)), rel=1e-9)
    assert ref["accuracy"] > 0.99 and ref["diversity"] > ref["nearest_train"]


REF = {"accuracy": 1.0, "diversity": 4.0, "nearest_train": 2.0}


def verdicts(r):
    return [f.verdict for f in findings(r, REF)]


def test_findings_agree_with_a_textbook_trade_off():
    r = rows([0, 1, 3, 7], [0.1, 0.8, 0.9, 0.95], [5.0, 4.0, 3.5, 3.0], [2.1, 2.0, 2.0, 2.0])
    assert verdicts(r) == ["agrees", "agrees", "note"]
    assert "new points, not copies" in findings(r, REF)[2].evidence


def test_findings_see_a_peak_then_a_drop_and_diversity_off_the_data():
    r = rows([0, 1, 3, 10], [0.1, 1.0, 1.0, 0.7], [5.0, 3.5, 3.6, 5.5], [2.5, 2.0, 2.0, 5.0])
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["partly", "differs", "note"]
    assert "drops to 0.70 at γ = 10" in found[0].evidence
    assert "away from the data" in found[1].evidence and "leaves the data" in found[2].evidence


def test_findings_call_a_memorising_model_what_it_is():
    r = rows([0, 1, 3], [0.1, 1.0, 1.0], [6.0, 4.5, 4.2], [0.0, 0.0, 0.0])
    found = findings(r, REF)
    assert [f.verdict for f in found] == ["agrees", "agrees", "note"]
    assert "memorises" in found[2].evidence
