"""models.guidance.universal: universal guidance's shift is the gradient of the clean classifier through
the denoiser (against central differences in float64), it runs in a sampler, and it is 0 where a = 0."""

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


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_universal_shift_is_zero_where_a_is_zero_and_finite_on_the_flow_path(data):
    """At sigma = 1 (a = 0) D_u does not depend on x_t (its gradient is 0) and s^2 / a is infinite: the
    shift is 0 there by rule (``models.guidance.classifier.classifier_shift``), and a flow run is finite;
    just below, the shift is not 0."""
    from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
    from models.flow.path import FlowSchedule
    from models.flow.samplers import sample_flow_euler
    levels = FlowSchedule(shift=3.0)
    den = (exact_digits_denoiser if data == "digits" else exact_gmm2d_denoiser)(levels)
    dim = 64 if data == "digits" else 2
    guided = make_guidance("universal", den, 3.0, clean_log_prob=_linear_classifier(dim, den.num_classes))
    x_t = torch.randn((4, dim), generator=torch.Generator().manual_seed(3), dtype=F64)
    y = torch.arange(4) % den.num_classes
    top = predict(guided, x_t, torch.full((4,), 1000.0, dtype=F64), y)
    np.testing.assert_array_equal(top.classifier_shift.numpy(), 0.0)
    np.testing.assert_allclose(top.x0.numpy(), top.x0_uncond.numpy(), atol=0)
    below = predict(guided, x_t, torch.full((4,), 990.0, dtype=F64), y)
    assert np.abs(below.classifier_shift.numpy()).max() > 1e-4
    tr = sample_flow_euler(guided, x_t, levels.timesteps(6), y, generator=torch.Generator().manual_seed(0))
    assert np.isfinite(tr.x).all() and np.isfinite(tr.classifier_shift).all()
