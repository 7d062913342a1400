"""models.guidance.classifier: with the exact posterior, classifier guidance is CFG, over whole
trajectories and at one point, and it records the shift it adds."""

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
