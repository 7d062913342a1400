"""The exact denoisers against brute force: the softmax formula, Tweedie by autograd, Bayes, quadrature."""
import math

import numpy as np
import pytest
import torch

from models.engine.data import load_digits_dataset, make_gmm2d
from models.engine.exact import ExactMixtureDenoiser, exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.schedule import make_schedule

F64 = torch.float64
TIMES = (0, 10, 50, 100, 250, 500, 750, 999)


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule), load_digits_dataset()


@pytest.fixture(scope="module")
def gmm(schedule):
    return exact_gmm2d_denoiser(schedule), make_gmm2d()


def _tvec(t: int, n: int) -> torch.Tensor:
    return torch.full((n,), t, dtype=torch.long)


def _noisy(x0: np.ndarray, t: int, schedule, seed: int = 0) -> torch.Tensor:
    """x_t = a x0 + s eps in float64."""
    eps = np.random.default_rng(seed).standard_normal(x0.shape)
    return torch.as_tensor(schedule.a(t) * x0 + schedule.s(t) * eps, dtype=F64)


def _softmax_mean(x_t: np.ndarray, points: np.ndarray, a: float, s: float) -> np.ndarray:
    """MATH.md: D(x_t) = sum_i softmax_i(-|x_t - a x_i|^2 / (2 s^2)) x_i, by direct distances."""
    d2 = ((x_t[:, None, :] - a * points[None]) ** 2).sum(-1)  # (B, N)
    logits = -d2 / (2 * s**2)
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return w @ points


# --- digits: the memorising empirical denoiser ---------------------------------------------------


def test_digits_at_t0_returns_nearest_training_image(digits, schedule):
    den, data = digits
    idx = np.array([0, 1, 17, 500, 1234, 1796])
    x_t = _noisy(data.x[idx], 0, schedule)
    out = den(x_t, _tvec(0, len(idx)), None).numpy()
    a = float(schedule.a(0))
    nearest = np.argmin(((x_t.numpy()[:, None] - a * data.x[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(out, data.x[nearest], atol=1e-10)
    # s_0 = 0.01: the noise is far smaller than the gap between digits, so the nearest is the source.
    np.testing.assert_allclose(out, data.x[idx], atol=1e-10)


@pytest.mark.parametrize("t", TIMES)
def test_digits_equals_softmax_formula_and_is_convex(digits, schedule, t):
    den, data = digits
    x_t = _noisy(data.x[[3, 300, 900]], t, schedule, seed=t)
    out = den(x_t, _tvec(t, 3), None).numpy()
    ref = _softmax_mean(x_t.numpy(), data.x, float(schedule.a(t)), float(schedule.s(t)))
    np.testing.assert_allclose(out, ref, atol=1e-10)
    # A convex combination of the images stays inside their per-pixel range.
    lo, hi = data.x.min(0), data.x.max(0)
    assert np.all(out >= lo - 1e-12) and np.all(out <= hi + 1e-12)


@pytest.mark.parametrize("t", TIMES)
def test_digits_conditional_uses_only_class_points(digits, schedule, t):
    den, data = digits
    x_t = _noisy(data.x[[5, 6, 7, 8]], t, schedule, seed=t + 1)
    y = torch.tensor([3, 3, 8, 0])
    out = den(x_t, _tvec(t, 4), y).numpy()
    a, s = float(schedule.a(t)), float(schedule.s(t))
    for b, label in enumerate(y.tolist()):
        pts = data.x[data.labels == label]
        np.testing.assert_allclose(out[b], _softmax_mean(x_t.numpy()[b:b + 1], pts, a, s)[0], atol=1e-10)
    # The same as the unconditional denoiser of a data set holding class y alone.
    only3 = data.x[data.labels == 3]
    den3 = ExactMixtureDenoiser(only3, np.zeros(len(only3)), np.full(len(only3), 1 / len(only3)),
                                np.zeros(len(only3), np.int64), 1, schedule)
    np.testing.assert_allclose(out[:2], den3(x_t[:2], _tvec(t, 2), None).numpy(), atol=1e-12)
    # predict_pair shares the computation and gives the same two predictions.
    d_u, d_c = den.predict_pair(x_t, _tvec(t, 4), y)
    np.testing.assert_allclose(d_u.numpy(), den(x_t, _tvec(t, 4), None).numpy(), atol=1e-14)
    np.testing.assert_allclose(d_c.numpy(), out, atol=1e-14)


def test_digits_at_t0_conditional_returns_nearest_image_of_that_class(digits, schedule):
    den, data = digits
    x_t = _noisy(data.x[[0]], 0, schedule)  # a "0"
    out = den(x_t, _tvec(0, 1), torch.tensor([7])).numpy()[0]
    sevens = data.x[data.labels == 7]
    nearest = sevens[np.argmin(((x_t.numpy()[0] - float(schedule.a(0)) * sevens) ** 2).sum(1))]
    np.testing.assert_allclose(out, nearest, atol=1e-10)


@pytest.mark.parametrize("t", TIMES)
def test_digits_posterior_is_class_softmax_mass(digits, schedule, t):
    """p(y | x_t) = softmax mass on class y (the prior is the class frequency)."""
    den, data = digits
    x_t = _noisy(data.x[[10, 20]], t, schedule, seed=2 * t)
    logp = den.log_posterior(x_t, _tvec(t, 2))
    assert logp.shape == (2, 10)
    np.testing.assert_allclose(logp.exp().sum(1).numpy(), 1.0, atol=1e-12)
    a, s = float(schedule.a(t)), float(schedule.s(t))
    d2 = ((x_t.numpy()[:, None] - a * data.x[None]) ** 2).sum(-1)
    logits = -d2 / (2 * s**2)
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    mass = np.stack([w[:, data.labels == c].sum(1) for c in range(10)], axis=1)
    np.testing.assert_allclose(logp.exp().numpy(), mass, atol=1e-12)


# --- gmm2d: the analytic mixture --------------------------------------------------------------------


def _log_marginal(x: torch.Tensor, gmm, a: float, s: float, comps=None) -> torch.Tensor:
    """log p_t(x) = logsumexp_k [log w_k + log N(x; a mu_k, (a^2 r_k^2 + s^2) I)], optionally over some k."""
    mu = torch.as_tensor(gmm.means, dtype=F64)
    var = a**2 * torch.as_tensor(gmm.stds, dtype=F64) ** 2 + s**2  # (K,)
    logw = torch.as_tensor(np.log(gmm.weights), dtype=F64)
    d2 = ((x[:, None, :] - a * mu[None]) ** 2).sum(-1)  # (B, K)
    comp = logw - d2 / (2 * var) - torch.log(2 * math.pi * var)  # 2-D: (2 pi var)^(-D/2) with D = 2
    if comps is not None:
        comp = comp[:, torch.as_tensor(comps)]
    return torch.logsumexp(comp, dim=1)


def _tweedie(x_t: torch.Tensor, gmm, a: float, s: float, comps=None) -> torch.Tensor:
    """x0 = (x_t + s^2 grad log p_t(x_t)) / a, the score by autograd of the closed-form marginal."""
    x = x_t.detach().requires_grad_(True)
    score, = torch.autograd.grad(_log_marginal(x, gmm, a, s, comps).sum(), x)
    return (x_t + s**2 * score) / a


def _gmm_points(gmm, t, schedule, n=64, seed=0):
    """Noisy points from the mixture plus a few far away ones."""
    x0, _ = gmm.sample(n, np.random.default_rng(seed))
    x_t = _noisy(x0, t, schedule, seed=seed + 1).numpy()
    far = np.array([[3.0, -2.0], [0.0, 0.0], [-1.5, 1.5]]) * float(schedule.a(t))
    return torch.as_tensor(np.concatenate([x_t, far]), dtype=F64)


@pytest.mark.parametrize("t", TIMES)
def test_gmm_denoiser_equals_tweedie_by_autograd(gmm, schedule, t):
    den, g = gmm
    a, s = float(schedule.a(t)), float(schedule.s(t))
    x_t = _gmm_points(g, t, schedule, seed=t)
    out = den(x_t, _tvec(t, len(x_t)), None)
    np.testing.assert_allclose(out.numpy(), _tweedie(x_t, g, a, s).numpy(), rtol=1e-10, atol=1e-10)
    for c in range(g.num_classes):
        y = torch.full((len(x_t),), c)
        comps = np.flatnonzero(g.comp_class == c)
        np.testing.assert_allclose(den(x_t, _tvec(t, len(x_t)), y).numpy(),
                                   _tweedie(x_t, g, a, s, comps).numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("t", [150, 400, 999])
def test_gmm_denoiser_equals_quadrature_posterior_mean(gmm, schedule, t):
    """E[x0 | x_t] = int x0 p(x0) N(x_t; a x0, s^2) dx0 / int p(x0) N(x_t; a x0, s^2) dx0 on a fine grid.

    Independent of the noisy-marginal algebra. The integrand is a sum of Gaussians of width >= 0.09
    (the component std), below exp(-90) at the edges of [-2, 2]^2; for such integrands the Riemann sum
    with step h errs by ~exp(-2 pi^2 width^2 / h^2), i.e. exp(-400) at h = 0.02: only round-off remains.
    """
    den, g = gmm
    a, s = float(schedule.a(t)), float(schedule.s(t))
    u = np.linspace(-2, 2, 201)
    grid = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)  # (M, 2)
    d2 = ((grid[:, None] - g.means[None]) ** 2).sum(-1)
    prior = (g.weights / (2 * np.pi * g.stds**2) * np.exp(-d2 / (2 * g.stds**2))).sum(1)  # (M,)
    x_t = _gmm_points(g, t, schedule, n=6, seed=t)
    lik = np.exp(-((x_t.numpy()[:, None] - a * grid[None]) ** 2).sum(-1) / (2 * s**2))  # (B, M)
    w = lik * prior
    ref = (w @ grid) / w.sum(1, keepdims=True)
    np.testing.assert_allclose(den(x_t, _tvec(t, len(x_t)), None).numpy(), ref, atol=1e-9)


@pytest.mark.parametrize("t", TIMES)
def test_gmm_class_posterior_is_bayes(gmm, schedule, t):
    """p(y | x_t) = sum_{k in y} w_k N_k(x_t) / sum_k w_k N_k(x_t), densities in plain (not log) form."""
    den, g = gmm
    a, s = float(schedule.a(t)), float(schedule.s(t))
    x_t = _gmm_points(g, t, schedule, n=16, seed=t)[:16]  # near the data, where densities don't underflow
    logp = den.log_posterior(x_t, _tvec(t, len(x_t)))
    np.testing.assert_allclose(logp.exp().sum(1).numpy(), 1.0, atol=1e-12)
    var = a**2 * g.stds**2 + s**2
    dens = g.weights / (2 * np.pi * var) * np.exp(
        -((x_t.numpy()[:, None] - a * g.means[None]) ** 2).sum(-1) / (2 * var))  # (B, K)
    bayes = np.stack([dens[:, g.comp_class == c].sum(1) for c in range(g.num_classes)], 1) / dens.sum(1, keepdims=True)
    np.testing.assert_allclose(logp.exp().numpy(), bayes, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("t", [20, 300, 900])
def test_gmm_mixture_law_of_total_expectation(gmm, schedule, t):
    """E[x0 | x_t] = sum_y p(y | x_t) E[x0 | x_t, y]: the exact pieces are consistent."""
    den, g = gmm
    x_t = _gmm_points(g, t, schedule, n=20, seed=t)
    tt = _tvec(t, len(x_t))
    post = den.log_posterior(x_t, tt).exp()
    mix = sum(post[:, c:c + 1] * den(x_t, tt, torch.full((len(x_t),), c)) for c in range(g.num_classes))
    np.testing.assert_allclose(den(x_t, tt, None).numpy(), mix.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_and_float64_agree(gmm, digits, schedule):
    for den, dim in ((gmm[0], 2), (digits[0], 64)):
        x = torch.randn(4, dim, generator=torch.Generator().manual_seed(0), dtype=F64)
        t = _tvec(600, 4)
        out64, out32 = den(x, t, None), den(x.float(), t, None)
        assert out64.dtype == F64 and out32.dtype == torch.float32
        np.testing.assert_allclose(out32.double().numpy(), out64.numpy(), atol=1e-4)
