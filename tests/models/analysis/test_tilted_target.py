"""The exact tilted target on gmm2d: rejection draws, component shares, their quadrature, tilted_tv.

References: a plain Cartesian grid integration of ``p0(x) p0(y | x)^gamma`` written here from the
mixture's formula (independent of models.analysis.tilted_target), the exact model's class posterior
(models.engine.exact), the class-conditional mixture's moments, and the multinomial law of the shares.
"""
import math

import numpy as np
import pytest
import torch

from models.engine.data import GaussianMixture2D, make_gmm2d
from models.engine.exact import exact_gmm2d_denoiser
from models.guidance import make_guidance
from models.engine.samplers import sample_ddpm
from models.analysis.tilted_target import (TILTED_DATA, assign_components, batch_target_shares, check_exact_target,
                           class_log_posterior, component_shares, exact_tv_quantile, expected_tv, noise_rng, normaliser,
                           responsibilities, target_shares, tilted_draws, tilted_sample, tilted_trajectory, tilted_tv,
                           tilted_tv_report)

GAMMAS = (0.0, 1.0, 3.0, 7.0)
B = 1  # class B, the class the issue measures

# Discretisation error of 100 trailing DDPM steps with the exact model (measured, not derived):
# the TV between the mean component shares of 32 x 4000 samples (seeds 100..131) and the target,
# 0.0174 at gamma = 0 and 0.0090 at gamma = 1, of which about 0.003 / 0.002 is the sampling floor
# of 128,000 draws. The 100-step sampler lands on the posterior mean from t = 9, which narrows each
# blob (std 0.069 instead of 0.09) and so moves share across the boundaries. Rounded up:
DDPM100_DISCRETISATION = {0.0: 0.018, 1.0: 0.010}


@pytest.fixture(scope="module")
def gmm():
    return make_gmm2d()


def grid_shares(label: int, gamma: float, gmm: GaussianMixture2D, n: int = 801, half: float = 1.25) -> np.ndarray:
    """Each component's share of ``p0(x) p0(label | x)^gamma`` by the midpoint rule on an n x n grid
    over [-half, half]^2, each point given to its largest ``w_k N(x; mu_k, r_k^2 I)``."""
    xs = np.linspace(-half, half, n)
    xx, yy = np.meshgrid(xs, xs)
    p = np.stack([xx.ravel(), yy.ravel()], 1)  # (n^2, 2)
    d2 = ((p[:, None, :] - gmm.means[None]) ** 2).sum(-1)  # (n^2, K)
    dens = gmm.weights * np.exp(-d2 / (2 * gmm.stds**2)) / (2 * np.pi * gmm.stds**2)  # (n^2, K)
    post = dens[:, gmm.comp_class == label].sum(1) / dens.sum(1)
    w = dens.sum(1) * post**gamma
    return np.bincount(dens.argmax(1), weights=w, minlength=len(gmm.weights)) / w.sum()


def lopsided() -> GaussianMixture2D:
    """Two classes where the tilt moves mass between blobs of one class: class 0's blob at the
    origin overlaps class 1's, its blob at (1, 0) stands alone; unequal weights."""
    return GaussianMixture2D(means=np.array([[0.0, 0.0], [1.0, 0.0], [0.35, 0.1]]), stds=np.full(3, 0.2),
                             weights=np.array([0.5, 0.2, 0.3]), comp_class=np.array([0, 0, 1]), num_classes=2)


# --- the target's shares: quadrature against a grid and against identities ----------------------

@pytest.mark.parametrize("gamma", GAMMAS)
def test_target_shares_match_grid_integration(gamma, gmm):
    q = target_shares(B, gamma)
    np.testing.assert_allclose(q, grid_shares(B, gamma, gmm), atol=2e-5)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_tilt_moves_mass_between_blobs_as_the_grid_says(gamma):
    # On the lopsided mixture class 0's shares swing from (0.5, 0.2) toward the lone blob as gamma
    # grows: the sampler and the quadrature must follow the grid, gamma by gamma.
    g = lopsided()
    q = grid_shares(0, gamma, g, n=2001, half=1.9)
    np.testing.assert_allclose(target_shares(0, gamma, g), q, atol=3e-5)
    n = 20000
    shares = component_shares(tilted_sample(n, 0, gamma, seed=8, gmm=g), g)
    assert np.all(np.abs(shares - q) <= 4 * np.sqrt(q * (1 - q) / n) + 1e-4), (gamma, shares, q)


def test_lopsided_shares_really_move():
    shares = [grid_shares(0, gamma, lopsided(), n=401, half=1.9)[1] for gamma in GAMMAS]
    assert shares[0] < 0.2 and shares[-1] > 0.38 and np.all(np.diff(shares) > 0.05)


def test_quadrature_identities(gmm):
    # gamma = 0: all of p0's mass; gamma = 1: Z_1 = E[p(y | x)] = p(y) = 1/3 (three equal classes).
    assert normaliser(B, 0.0) == pytest.approx(1.0, abs=1e-9)
    for label in range(3):
        assert normaliser(label, 1.0) == pytest.approx(1 / 3, abs=1e-8)
    # Finer quadrature agrees (the error the module docstring states).
    np.testing.assert_allclose(target_shares(B, 3.0), target_shares(B, 3.0, gmm, angles=512, panels=12, order=12),
                               atol=2e-6)


def test_target_shares_concentrate_on_the_class(gmm):
    mine = gmm.comp_class == B
    off = [target_shares(B, g)[~mine].sum() for g in GAMMAS]
    assert off[0] == pytest.approx(2 / 3, abs=1e-3)  # gamma = 0: p0 itself
    assert off[1] < 0.01 and off[1] > off[2] > off[3]  # more tilt, less mass outside the class


# --- exact draws ----------------------------------------------------------------------------------

@pytest.mark.parametrize("gamma", GAMMAS)
def test_tilted_sampler_shares_match_grid_within_mc_error(gamma, gmm):
    n = 20000
    shares = component_shares(tilted_sample(n, B, gamma, seed=3))
    q = grid_shares(B, gamma, gmm)
    se = np.sqrt(q * (1 - q) / n)  # binomial standard error of each share
    assert np.all(np.abs(shares - q) <= 4 * se + 1e-4), (shares, q)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_tilted_tv_of_exact_draws_is_within_mc_error_of_zero(gamma):
    n = 4000
    q = target_shares(B, gamma)
    tv = tilted_tv(tilted_sample(n, B, gamma, seed=11), B, gamma)
    assert 0 <= tv <= exact_tv_quantile(q, n, 0.99)


def test_mean_tilted_tv_of_exact_draws_is_the_expected_floor():
    # Over 40 independent runs the mean TV of exact draws is E[TV] (expected_tv), within 4 standard errors.
    n, gamma = 1000, 3.0
    tvs = np.array([tilted_tv(tilted_sample(n, B, gamma, seed=s), B, gamma) for s in range(40)])
    floor = expected_tv(target_shares(B, gamma), n)
    assert abs(tvs.mean() - floor) <= 4 * tvs.std(ddof=1) / math.sqrt(len(tvs))


def test_gamma_one_draws_have_the_class_conditional_moments(gmm):
    # p0(x) p0(y | x) = p0(x, y) = p0(y) p0(x | y): the class's own three components.
    x = tilted_sample(30000, B, 1.0, seed=5)
    mine = gmm.comp_class == B
    mu, w = gmm.means[mine], gmm.weights[mine] / gmm.weights[mine].sum()
    mean = w @ mu
    cov = np.einsum("k,ki,kj->ij", w, mu - mean, mu - mean) + (w @ gmm.stds[mine] ** 2) * np.eye(2)
    se = np.sqrt(np.diag(cov) / len(x))
    assert np.all(np.abs(x.mean(0) - mean) <= 4 * se)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=4 * np.sqrt(2 / len(x)) * cov.max())


def test_tilted_sampler_is_deterministic_and_prefix_stable():
    a = tilted_sample(500, B, 7.0, seed=9)
    np.testing.assert_array_equal(a, tilted_sample(500, B, 7.0, seed=9))
    np.testing.assert_array_equal(a, tilted_sample(20000, B, 7.0, seed=9)[:500])
    assert not np.array_equal(a, tilted_sample(500, B, 7.0, seed=10))
    assert a.shape == (500, 2) and a.dtype == np.float64


def test_classes_draw_from_independent_streams():
    # Each class has its own stream of the seed: at gamma = 0 (the same target) two classes' draws
    # differ, and a batch of several classes is each class's own draws, in label order.
    assert not np.array_equal(tilted_sample(300, 0, 0.0, seed=1), tilted_sample(300, 2, 0.0, seed=1))
    labels = np.array([2, 0, 2, 1, 2, 0])
    x = tilted_draws(labels, 3.0, seed=6)
    for c in range(3):
        np.testing.assert_array_equal(x[labels == c], tilted_sample(int((labels == c).sum()), c, 3.0, seed=6))
    with pytest.raises(ValueError, match="every label must be a class"):
        tilted_draws(np.array([0, 3]), 1.0, seed=0)


def test_batch_target_is_the_label_weighted_mix():
    labels = np.array([0, 1, 1, 2, 1, 1])
    q = batch_target_shares(labels, 3.0)
    np.testing.assert_allclose(q, (target_shares(0, 3.0) + 4 * target_shares(1, 3.0) + target_shares(2, 3.0)) / 6)
    np.testing.assert_array_equal(batch_target_shares(1, 3.0), target_shares(1, 3.0))
    # Exact draws of a mixed batch score the floor too.
    n = 3000
    mixed = np.arange(n) % 3
    assert tilted_tv(tilted_draws(mixed, 7.0, seed=4), mixed, 7.0) <= exact_tv_quantile(
        batch_target_shares(mixed, 7.0), n, 0.99)


def test_tilted_trajectory_runs_from_noise_to_the_draws(schedule):
    traj = tilted_trajectory(np.array([1, 1, 0]), 2.0, 5, schedule.alphas_cumprod)
    np.testing.assert_array_equal(traj.samples, tilted_draws(np.array([1, 1, 0]), 2.0, 5))
    abar = schedule.alphas_cumprod[-1]
    eps = (traj.x[0] - np.sqrt(abar) * traj.samples) / np.sqrt(1 - abar)
    np.testing.assert_allclose(eps, noise_rng(5).standard_normal((3, 2)), rtol=1e-12)
    assert traj.timesteps.tolist() == [schedule.T - 1] and traj.labels.tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match="no exact tilted target"):
        tilted_trajectory(np.array([1]), 2.0, 5, schedule.alphas_cumprod, data="digits")


@pytest.mark.parametrize("kwargs, message", [
    (dict(gamma=-0.5), "gamma >= 0"),
    (dict(gamma=float("nan")), "finite"),
    (dict(data="digits"), "no exact tilted target for the digits"),
    (dict(data="mnist"), "unknown data set"),
    (dict(label=3), "label must be a class in 0..2"),
    (dict(n=0), "n must be an integer"),
    (dict(seed=-1), "seed must be"),
])
def test_bad_requests_raise_one_clear_error(kwargs, message):
    args = dict(n=10, label=B, gamma=1.0, seed=0) | kwargs
    data = args.pop("data", "gmm2d")
    with pytest.raises(ValueError, match=message):
        tilted_sample(args["n"], args["label"], args["gamma"], args["seed"], data=data)


def test_only_gmm2d_has_an_exact_target():
    assert TILTED_DATA == ("gmm2d",)
    check_exact_target("gmm2d")
    with pytest.raises(ValueError, match="only for gmm2d"):
        check_exact_target("digits")


# --- responsibilities and shares -----------------------------------------------------------------

def test_class_posterior_is_the_exact_models(gmm, schedule):
    x = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    exact = exact_gmm2d_denoiser(schedule).log_posterior(torch.as_tensor(x), torch.full((200,), -1)).numpy()
    for label in range(3):
        np.testing.assert_allclose(class_log_posterior(x, label), exact[:, label], atol=1e-10)
    r = responsibilities(x)
    np.testing.assert_allclose(r.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.log(r[:, gmm.comp_class == B].sum(1)), exact[:, B], atol=1e-10)


def test_assignment_is_the_nearest_mean_and_non_finite_points_sit_nowhere(gmm):
    x = np.random.default_rng(1).uniform(-1.2, 1.2, (500, 2))
    nearest = np.linalg.norm(x[:, None] - gmm.means[None], axis=2).argmin(1)
    np.testing.assert_array_equal(assign_components(x), nearest)  # equal widths and weights
    bad = np.array([[np.nan, 0.0], [np.inf, 1.0], gmm.means[4]])
    np.testing.assert_array_equal(assign_components(bad), [-1, -1, 4])
    assert np.isnan(responsibilities(bad)[:2]).all()
    shares = component_shares(bad)
    assert shares.sum() == pytest.approx(1 / 3) and shares[4] == pytest.approx(1 / 3)


def test_tilted_tv_extremes(gmm):
    q = target_shares(B, 3.0)
    assert tilted_tv(np.repeat(gmm.means[[0]], 10, 0), B, 3.0) == pytest.approx(1 - q[0], abs=1e-12)
    assert tilted_tv(np.full((10, 2), np.nan), B, 3.0) == pytest.approx(1.0)
    half = np.concatenate([np.full((5, 2), np.nan), np.repeat(gmm.means[[1, 4, 7]], [2, 2, 1], 0)])
    expected = 0.5 * (np.abs(np.bincount([1, 1, 4, 4, 7], minlength=9) / 10 - q).sum() + 0.5)
    assert tilted_tv(half, B, 3.0) == pytest.approx(expected)


# --- the Monte Carlo error ------------------------------------------------------------------------

def test_expected_tv_is_the_multinomial_mean():
    q = np.array([0.2, 0.3, 0.5])
    n = 200
    # de Moivre's mean absolute deviation of a binomial: E|X - nq| = 2 m C(n, m) q^m (1 - q)^(n - m + 1),
    # m = floor(nq) + 1.
    def mad(qk):
        m = math.floor(n * qk) + 1
        return 2 * m * math.comb(n, m) * qk**m * (1 - qk) ** (n - m + 1) / n
    assert expected_tv(q, n) == pytest.approx(0.5 * sum(mad(qk) for qk in q), rel=1e-10)
    sim = np.random.default_rng(0).multinomial(n, q, size=200000) / n
    assert expected_tv(q, n) == pytest.approx(0.5 * np.abs(sim - q).sum(1).mean(), rel=5e-3)
    assert expected_tv(np.array([1.0, 0.0]), 50) == 0.0


def test_report_states_the_error_and_the_floor():
    n, gamma = 4000, 3.0
    x = tilted_sample(n, B, gamma, seed=2)
    r = tilted_tv_report(x, B, gamma)
    assert r.tv == tilted_tv(x, B, gamma) and r.n == n
    assert r.floor == pytest.approx(expected_tv(target_shares(B, gamma), n))
    # The bootstrap spread of the TV is of the order of the share's binomial error (about 0.007 here).
    assert 0.003 < r.se < 0.012
    assert tilted_tv_report(x, B, gamma).se == r.se  # deterministic


# --- CFG with the exact model against the target ---------------------------------------------------

def _cfg_ddpm(schedule, gamma: float, n: int, seed: int, steps: int = 100) -> np.ndarray:
    den = exact_gmm2d_denoiser(schedule)
    gen = torch.Generator().manual_seed(seed)
    x_T = torch.randn((n, 2), generator=gen, dtype=torch.float32)
    y = torch.full((n,), B, dtype=torch.long)
    return sample_ddpm(make_guidance("cfg", den, gamma), x_T, den.schedule.timesteps(steps), y, generator=gen).samples


@pytest.mark.parametrize("gamma", (0.0, 1.0))
def test_cfg_at_gamma_0_and_1_is_within_mc_error_plus_discretisation(gamma, schedule):
    # At gamma = 0 and 1 the tilted target is p0(x) and p0(x | y): the exact model's own
    # distributions, which DDPM samples up to its discretisation error.
    n = 4000
    tv = tilted_tv(_cfg_ddpm(schedule, gamma, n, seed=0), B, gamma)
    assert tv <= exact_tv_quantile(target_shares(B, gamma), n, 0.99) + DDPM100_DISCRETISATION[gamma]


def test_cfg_at_gamma_7_misses_the_target_by_far_more_than_that(schedule):
    # The same bound fails where CFG does not sample the tilted density (the 64 % blob).
    n, gamma = 4000, 7.0
    r = tilted_tv_report(_cfg_ddpm(schedule, gamma, n, seed=0), B, gamma)
    assert r.tv > exact_tv_quantile(r.target, n, 0.99) + DDPM100_DISCRETISATION[1.0] + 10 * r.se
    assert r.shares.max() > 0.55  # one blob of three holds most of the samples
