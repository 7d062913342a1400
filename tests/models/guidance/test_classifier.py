"""models.guidance.classifier: with the exact posterior, classifier guidance is CFG, over whole
trajectories and at one point, and it records the shift it adds; on the flow path the identity holds
at every level, sigma = 1 (a = 0) included, where the classifier states its own shift."""

import numpy as np
import pytest
import torch

from models.engine.data import load_digits_dataset, make_gmm2d
from models.engine.denoiser import predict
from models.guidance import make_guidance

from tests.models.guidance.test_guidance import BATCH, F64, SAMPLERS, _case, _sample


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


# ----------------------------------------------------------------------------- the flow path

def _flow_case(data: str, shift: float = 3.0):
    from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
    from models.flow.path import FlowSchedule
    levels = FlowSchedule(shift=shift)
    den = (exact_digits_denoiser if data == "digits" else exact_gmm2d_denoiser)(levels)
    dim = 64 if data == "digits" else 2
    x_T = torch.randn((BATCH, dim), generator=torch.Generator().manual_seed(5), dtype=F64)
    return den, x_T, torch.arange(BATCH) % den.num_classes


def _flow_sample(sampler, guided, x_T, y, timesteps):
    from models.flow.samplers import FLOW_SAMPLERS
    return FLOW_SAMPLERS[sampler](guided, x_T, timesteps, y, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("sampler", ["euler", "ddpm"])
@pytest.mark.parametrize("first", [0, 1], ids=["from sigma 1", "from sigma 0.99"])
def test_exact_classifier_guidance_equals_cfg_on_the_flow_path(data, sampler, first):
    """The identity s^2 / a grad log p(y | x_t) = D_c - D_u holds on any Gaussian path: on the flow path
    (shift 3) classifier guidance with the exact posterior is CFG to float rounding, on the whole grid
    from sigma = 1 (where the posterior states its shift in closed form) and on a grid below it (where
    every shift comes from the gradient)."""
    den, x_T, y = _flow_case(data)
    levels = den.schedule.timesteps(9)[first:]
    assert (den.schedule.a(levels).min() == 0) == (first == 0)
    for gamma in (0.5, 3.0, 7.0):
        cfg = _flow_sample(sampler, make_guidance("cfg", den, gamma), x_T, y, levels)
        cls = _flow_sample(sampler, _classifier(den, gamma), x_T, y, levels)
        assert np.abs(cfg.x0_cond - cfg.x0_uncond).max() > 1e-2  # the guidance acts
        np.testing.assert_allclose(cls.x0_hat, cfg.x0_hat, rtol=1e-9, atol=1e-9, err_msg=f"gamma = {gamma}")
        np.testing.assert_allclose(cls.x, cfg.x, rtol=1e-9, atol=1e-9, err_msg=f"gamma = {gamma}")
        np.testing.assert_allclose(cls.classifier_shift, cfg.x0_cond - cfg.x0_uncond, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_at_a_zero_the_shift_is_its_limit_not_zero(data):
    """At sigma = 1 (a = 0) x_t is pure noise: the exact posterior's gradient is 0 and s^2 / a * grad is
    0 / 0, but the shift's limit as a -> 0 is E[x0 | y] - E[x0], not 0 (just below sigma = 1 the shift is
    already CFG's D_c - D_u). The exact posterior states it (x0_shift); a classifier that cannot state
    its shift gets 0 there, and a finite gradient is used unchanged wherever a > 0."""
    from models.guidance.classifier import classifier_shift
    den, x_t, y = _flow_case(data)
    top = torch.full((BATCH,), 1000.0, dtype=F64)
    assert float(den.schedule.a(1000.0)) == 0.0
    with torch.enable_grad():
        x = x_t.clone().requires_grad_(True)
        grad, = torch.autograd.grad(den.log_posterior(x, top).gather(1, y[:, None]).sum(), x)
    assert np.abs(grad.numpy()).max() <= 1e-12  # exact arithmetic: 0
    gamma = 3.0
    cls = predict(_classifier(den, gamma), x_t, top, y)
    cfg = predict(make_guidance("cfg", den, gamma), x_t, top, y)
    limit = (cfg.x0_cond - cfg.x0_uncond).numpy()
    assert np.abs(limit).max() > 1e-2
    np.testing.assert_allclose(cls.classifier_shift.numpy(), limit, atol=1e-12)
    np.testing.assert_allclose(cls.x0.numpy(), cfg.x0.numpy(), atol=1e-12)
    # the limit: just below sigma = 1 the gradient's shift is already CFG's difference
    below = torch.full((BATCH,), 1000.0 * (1 - 1e-6), dtype=F64)
    near = predict(make_guidance("classifier", den, gamma, log_prob=lambda x, t: den.log_posterior(x, t)), x_t, below, y)
    np.testing.assert_allclose(near.classifier_shift.numpy(), limit, rtol=1e-4, atol=1e-6)
    # a classifier without a stated shift: 0 where a = 0 (whatever its gradient), the gradient's shift elsewhere
    a, s = torch.tensor([[0.0], [0.5]], dtype=F64), torch.tensor([[1.0], [0.5]], dtype=F64)
    shift = classifier_shift(torch.tensor([[3.0, float("inf")], [2.0, -4.0]], dtype=F64), a, s)
    np.testing.assert_array_equal(shift.numpy(), [[0.0, 0.0], [1.0, -2.0]])
    stated = classifier_shift(torch.tensor([[3.0, float("inf")], [2.0, -4.0]], dtype=F64), a, s,
                              lambda: torch.tensor([[7.0, 8.0], [9.0, 9.0]], dtype=F64))
    np.testing.assert_array_equal(stated.numpy(), [[7.0, 8.0], [1.0, -2.0]])


def test_a_vp_classifier_on_the_flow_path_states_its_shift_at_sigma_one():
    """The noise-aware classifier, trained on VP, runs on the flow path through ClassifierOnPath: where the
    levels match its stated shift is the gradient's s^2 / a * grad (float32 rounding), and at sigma = 1
    (a = 0), which maps to its noisiest level, it is finite and points the guided prediction somewhere."""
    from models.engine.loading import load_bundle
    bundle = load_bundle("gmm2d", "neural", "cpu", needs=("classifier",), path="flow")
    guided = make_guidance("classifier", bundle.denoiser, 3.0, log_prob=bundle.log_prob)
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    y = torch.full((16,), 1)
    half = torch.full((16,), 500.0, dtype=torch.float64)
    by_gradient = predict(guided, x, half, y).classifier_shift
    torch.testing.assert_close(bundle.log_prob.x0_shift(x, half, y), by_gradient, rtol=1e-4, atol=1e-5)
    top = torch.full((16,), 1000.0, dtype=torch.float64)
    at_top = predict(guided, x, top, y).classifier_shift
    assert torch.isfinite(at_top).all() and float(at_top.norm(dim=1).min()) > 1e-3
