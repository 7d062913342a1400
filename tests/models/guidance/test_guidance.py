"""Guidance identities on the exact models: gamma = 0 / 1, exact classifier guidance == CFG, recorded parts,
universal guidance's gradient against finite differences, and the errors."""
import numpy as np
import pytest
import torch

from models.engine.data import load_digits_dataset, make_gmm2d
from models.engine.denoiser import predict
from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.guidance import GUIDANCE_NAMES, make_guidance
from models.engine.samplers import SAMPLER_NAMES, get_sampler
from models.engine.schedule import make_schedule

F64 = torch.float64
BATCH, STEPS = 4, 8
SAMPLERS = ("ddpm", "ddim", "euler", "heun", "dpmpp2m")
assert set(SAMPLERS) == set(SAMPLER_NAMES)


@pytest.fixture(scope="module")
def models(schedule):
    return {"digits": (exact_digits_denoiser(schedule), 64), "gmm2d": (exact_gmm2d_denoiser(schedule), 2)}


def _case(models, data: str, seed: int = 0):
    den, dim = models[data]
    x_T = torch.randn((BATCH, dim), generator=torch.Generator().manual_seed(seed), dtype=F64)
    y = torch.arange(BATCH) % den.num_classes
    return den, x_T, y


def _sample(name: str, guided, x_T, y, schedule, seed: int = 1, steps: int = STEPS):
    """Float64 x_T; the stochastic samplers draw their noise from a fresh generator with ``seed``."""
    options = {"eta": 1.0} if name == "ddim" else {}
    return get_sampler(name)(guided, x_T, schedule.timesteps(steps), y,
                             generator=torch.Generator().manual_seed(seed), **options)


# --- gamma = 0 is unconditional, gamma = 1 conditional ------------------------------------------


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("name", SAMPLERS)
def test_cfg_gamma0_is_unconditional_and_gamma1_conditional(models, schedule, data, name):
    den, x_T, y = _case(models, data)
    uncond = _sample(name, make_guidance("none", den), x_T, None, schedule)
    cond = _sample(name, make_guidance("none", den), x_T, y, schedule)
    cfg0 = _sample(name, make_guidance("cfg", den, 0.0), x_T, y, schedule)
    cfg1 = _sample(name, make_guidance("cfg", den, 1.0), x_T, y, schedule)
    # D_u + 0 (D_c - D_u) is D_u to the last bit; D_u + (D_c - D_u) is D_c up to one rounding per step.
    np.testing.assert_allclose(cfg0.x, uncond.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cfg1.x, cond.x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(uncond.labels, -1)
    np.testing.assert_array_equal(cond.labels, y.numpy())
    assert not np.allclose(uncond.samples, cond.samples, atol=1e-3)  # the identities are not vacuous


# --- exact classifier guidance == CFG -----------------------------------------------------------


def _classifier(den, gamma):
    return make_guidance("classifier", den, gamma, log_prob=den.log_posterior)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("name", SAMPLERS)
def test_exact_classifier_guidance_equals_cfg_over_trajectories(models, schedule, data, name):
    """grad log p(y | x_t) = score_c - score_u and D = (x + s^2 score) / a, so s^2 / a grad = D_c - D_u:
    with the exact posterior, classifier guidance at gamma is CFG at gamma (MATH.md)."""
    den, x_T, y = _case(models, data, seed=2)
    for gamma in (0.5, 1.0, 3.0, 7.0):
        cfg = _sample(name, make_guidance("cfg", den, gamma), x_T, y, schedule)
        cls = _sample(name, _classifier(den, gamma), x_T, y, schedule)
        assert np.isfinite(cfg.x).all()
        # Measured: <= 2e-12 apart after 8 steps (the softmax gradient is exact up to float64 round-off).
        np.testing.assert_allclose(cls.x, cfg.x, rtol=1e-10, atol=1e-10, err_msg=f"gamma = {gamma}")
        np.testing.assert_allclose(cls.x0_hat, cfg.x0_hat, rtol=1e-10, atol=1e-10)
        # The recorded parts: x0 = D_u + gamma (D_c - D_u) and x0 = D_u + gamma shift, shift = D_c - D_u.
        assert set(cfg.parts()) == {"x0_uncond", "x0_cond"}
        assert set(cls.parts()) == {"x0_uncond", "classifier_shift"}
        np.testing.assert_allclose(cfg.x0_hat, cfg.x0_uncond + gamma * (cfg.x0_cond - cfg.x0_uncond),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(cls.x0_hat, cls.x0_uncond + gamma * cls.classifier_shift, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(cls.classifier_shift, cfg.x0_cond - cfg.x0_uncond, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(cls.x0_uncond, cfg.x0_uncond, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("t", [0, 30, 200, 600, 999])
def test_classifier_shift_is_cfg_difference_at_one_point(models, schedule, data, t):
    """The same identity on one x_t, tighter: s^2 / a * grad log p(y | x_t) == D_c - D_u."""
    den, eps, y = _case(models, data, seed=t)
    x0 = load_digits_dataset().x[:BATCH] if data == "digits" else make_gmm2d().means[:BATCH]
    # Near the data, where the posterior is not saturated.
    x_t = float(schedule.a(t)) * torch.as_tensor(x0, dtype=F64) + float(schedule.s(t)) * eps
    tt = torch.full((BATCH,), t)
    cls = predict(_classifier(den, 2.0), x_t, tt, y)
    cfg = predict(make_guidance("cfg", den, 2.0), x_t, tt, y)
    scale = 1.0 + np.abs(cfg.x0_cond.numpy() - cfg.x0_uncond.numpy()).max()
    np.testing.assert_allclose(cls.classifier_shift.numpy(), (cfg.x0_cond - cfg.x0_uncond).numpy(),
                               rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(cls.x0_uncond.numpy(), den(x_t, tt, None).numpy(), atol=1e-14)
    np.testing.assert_allclose(cfg.x0_cond.numpy(), den(x_t, tt, y).numpy(), atol=1e-14)


# --- universal guidance: the gradient through the denoiser ------------------------------------------


def _linear_classifier(dim: int, classes: int, seed: int = 0):
    """A fixed clean classifier log p(y | x0) = log_softmax(W x0 + b)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn((classes, dim), generator=g, dtype=F64) * 2.0
    b = torch.randn(classes, generator=g, dtype=F64)
    return lambda x0: torch.log_softmax(x0 @ W.T.to(x0.dtype) + b.to(x0.dtype), dim=1)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("t", [100, 500, 900])
def test_universal_guidance_gradient_matches_finite_differences(models, schedule, data, t):
    """shift = s^2 / a * grad_x log p_clean(y | D_u(x)), checked by central differences in float64."""
    den, dim = models[data]
    clean = _linear_classifier(dim, den.num_classes)
    gamma = 2.5
    guided = make_guidance("universal", den, gamma, clean_log_prob=clean)
    x_t = torch.randn((2, dim), generator=torch.Generator().manual_seed(t), dtype=F64)
    y = torch.tensor([1, 2])
    tt = torch.full((2,), t)
    pred = predict(guided, x_t, tt, y)

    def f(x):  # (B,) log p_clean(y_b | D_u(x_b)), samples independent
        return clean(den(x, tt, None)).gather(1, y[:, None])[:, 0]

    # Central differences err by O(h^2) (truncation) + O(eps |f| / h) (round-off, times s^2 / a up to ~80
    # at t = 900); h = 1e-5 balances them at ~1e-7 of the shift's size.
    h = 1e-5
    grad = torch.zeros_like(x_t)
    for j in range(dim):
        e = torch.zeros_like(x_t)
        e[:, j] = h
        grad[:, j] = (f(x_t + e) - f(x_t - e)) / (2 * h)
    a, s = float(schedule.a(t)), float(schedule.s(t))
    scale = np.abs(pred.classifier_shift.numpy()).max()
    np.testing.assert_allclose(pred.classifier_shift.numpy(), (s**2 / a * grad).numpy(), rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(pred.x0_uncond.numpy(), den(x_t, tt, None).numpy(), atol=1e-14)
    np.testing.assert_allclose(pred.x0.numpy(), (pred.x0_uncond + gamma * pred.classifier_shift).numpy(), atol=1e-14)
    assert pred.x0_cond is None
    assert np.abs(pred.classifier_shift.numpy()).max() > 1e-6  # not a vacuous zero gradient


def test_universal_guidance_runs_in_a_sampler(models, schedule):
    den, x_T, y = _case(models, "gmm2d")
    guided = make_guidance("universal", den, 3.0, clean_log_prob=_linear_classifier(2, 3))
    tr = _sample("ddim", guided, x_T, y, schedule)
    assert set(tr.parts()) == {"x0_uncond", "classifier_shift"}
    np.testing.assert_allclose(tr.x0_hat, tr.x0_uncond + 3.0 * tr.classifier_shift, atol=1e-13)
    assert np.isfinite(tr.x).all()


# --- errors -------------------------------------------------------------------------------------------


def test_unknown_guidance_lists_valid_names(models):
    den = models["gmm2d"][0]
    with pytest.raises(ValueError) as err:
        make_guidance("cfg++", den, 1.0)
    for name in GUIDANCE_NAMES:
        assert repr(name) in str(err.value) or name in str(err.value)


@pytest.mark.parametrize("name", ["cfg", "classifier", "universal"])
def test_guidance_without_labels_raises(models, name):
    den = models["gmm2d"][0]
    guided = make_guidance(name, den, 2.0, log_prob=den.log_posterior, clean_log_prob=_linear_classifier(2, 3))
    x_t = torch.zeros((2, 2), dtype=F64)
    with pytest.raises(ValueError, match="label"):
        guided(x_t, torch.full((2,), 500), None)


def test_classifier_and_universal_need_their_classifier(models):
    den = models["gmm2d"][0]
    with pytest.raises(ValueError):
        make_guidance("classifier", den, 1.0)
    with pytest.raises(ValueError):
        make_guidance("universal", den, 1.0)


@pytest.mark.parametrize("gamma", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_gamma_raises(models, gamma):
    with pytest.raises(ValueError):
        make_guidance("cfg", models["gmm2d"][0], gamma)
