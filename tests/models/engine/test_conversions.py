"""Round-trips between parameterisations in float64, at many noise levels (numpy and torch)."""
import numpy as np
import pytest
import torch

from models.engine import conversions as cv
from models.engine.schedule import make_schedule

# Values are O(1) (scores up to ~1e2 at t = 0); float64 round-off leaves ~1e-14 absolute, so 1e-12
# relative (absolute near zero) leaves room only for round-off, not for a wrong formula.
RTOL = 1e-12
ATOL = 1e-12


def _setup(lib: str, seed: int = 0):
    """x0, eps (N, D), their x_t, and (a, s) (N, 1) at N timesteps spanning the whole schedule."""
    sch = make_schedule("linear")
    t = np.linspace(0, sch.T - 1, 60).round().astype(np.int64)
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1, 1, (len(t), 5))
    eps = rng.standard_normal((len(t), 5))
    a, s = sch.a(t)[:, None], sch.s(t)[:, None]
    x_t = a * x0 + s * eps
    if lib == "torch":
        x0, eps, a, s, x_t = (torch.as_tensor(v, dtype=torch.float64) for v in (x0, eps, a, s, x_t))
    return x0, eps, a, s, x_t, sch, t


def _close(actual, expected, rtol=RTOL, atol=ATOL):
    if isinstance(actual, torch.Tensor):
        assert actual.dtype == torch.float64
        actual, expected = actual.numpy(), expected.numpy()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_eps_x0_round_trip(lib):
    x0, eps, a, s, x_t, *_ = _setup(lib)
    _close(cv.x0_eps_to_xt(x0, eps, a, s), x_t)  # the forward process x_t = a x0 + s eps
    _close(cv.eps_to_x0(x_t, eps, a, s), x0)  # x0 = (x_t - s eps) / a
    _close(cv.x0_to_eps(x_t, x0, a, s), eps)  # eps = (x_t - a x0) / s
    _close(cv.x0_to_eps(x_t, cv.eps_to_x0(x_t, eps, a, s), a, s), eps)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_v_round_trips(lib):
    """v = a eps - s x0 (arXiv 2202.00512); x0 = a x_t - s v and eps = a v + s x_t since a^2 + s^2 = 1."""
    x0, eps, a, s, x_t, *_ = _setup(lib)
    v = cv.x0_eps_to_v(x0, eps, a, s)
    _close(v, a * eps - s * x0)
    _close(cv.v_to_x0(x_t, v, a, s), x0)
    _close(cv.v_to_eps(x_t, v, a, s), eps)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_score_round_trips(lib):
    """Tweedie: score = (a x0 - x_t) / s^2 = -eps / s, and x0 = (x_t + s^2 score) / a."""
    x0, eps, a, s, x_t, *_ = _setup(lib)
    score = cv.x0_to_score(x_t, x0, a, s)
    _close(score, cv.eps_to_score(eps, s))
    _close(cv.score_to_x0(x_t, score, a, s), x0)
    _close(cv.score_to_x0(x_t, cv.eps_to_score(eps, s), a, s), x0)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_ve_denoiser_identity(lib):
    """The VE denoiser of the VP model is x0.

    With x_ve = x_t / a the VE density is p_ve(x_ve) = a^D p_vp(a x_ve), so by the chain rule
    score_ve(x_ve) = a * score_vp(x_t), and sigma = s / a. Then
    D(x_ve; sigma) = x_ve + sigma^2 score_ve = x_t / a + (s^2 / a^2) a score_vp = (x_t + s^2 score_vp) / a = x0.
    """
    x0, eps, a, s, x_t, sch, t = _setup(lib)
    sigma = s / a
    score_vp = cv.x0_to_score(x_t, x0, a, s)
    _close(cv.ve_denoiser(x_t / a, a * score_vp, sigma), x0)
    # sigma from the schedule is the same s / a.
    np.testing.assert_allclose(sch.sigma(t)[:, None], np.asarray(sigma), rtol=1e-14)


def test_ve_score_by_autograd_of_the_ve_density():
    """Check score_ve = a * score_vp with autograd on a Gaussian: x0 ~ N(m, r^2 I) gives
    x_t ~ N(a m, (a^2 r^2 + s^2) I) and x_ve ~ N(m, (r^2 + sigma^2) I)."""
    sch = make_schedule("linear")
    m, r = torch.tensor([0.3, -0.2], dtype=torch.float64), 0.4
    for t in (0, 50, 300, 999):
        a, s = float(sch.a(t)), float(sch.s(t))
        sigma = s / a
        x_t = torch.tensor([0.7, 0.1], dtype=torch.float64, requires_grad=True)
        log_p_vp = -((x_t - a * m) ** 2).sum() / (2 * (a**2 * r**2 + s**2))
        score_vp, = torch.autograd.grad(log_p_vp, x_t)
        x_ve = (x_t / a).detach().requires_grad_(True)
        log_p_ve = -((x_ve - m) ** 2).sum() / (2 * (r**2 + sigma**2))
        score_ve, = torch.autograd.grad(log_p_ve, x_ve)
        np.testing.assert_allclose(score_ve.numpy(), (a * score_vp).numpy(), rtol=1e-10)
        # The posterior mean of a Gaussian prior: m + r^2 / (r^2 + sigma^2) (x_ve - m).
        post_mean = m + r**2 / (r**2 + sigma**2) * (x_ve.detach() - m)
        np.testing.assert_allclose(cv.ve_denoiser(x_ve.detach(), score_ve, sigma).numpy(), post_mean.numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(cv.score_to_x0(x_t.detach(), score_vp, a, s).numpy(), post_mean.numpy(),
                                   rtol=1e-10, atol=1e-12)
