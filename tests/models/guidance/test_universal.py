"""models.guidance.universal: universal guidance's shift is the gradient of the clean classifier through
the denoiser (against central differences in float64), and it runs in a sampler."""

import numpy as np
import pytest
import torch

from models.engine.denoiser import predict
from models.guidance import make_guidance

from tests.models.guidance.test_guidance import F64, _case, _linear_classifier, _sample


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
