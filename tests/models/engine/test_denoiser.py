"""models.engine.denoiser: the scales of a step and the Prediction of a plain denoiser."""

import numpy as np
import torch

from models.engine.denoiser import Prediction, predict, scales


def test_scales_are_the_schedules_a_and_s_as_columns(schedule):
    t = torch.tensor([0, 499, 999])
    like = torch.zeros(3, 5, dtype=torch.float32)
    a, s = scales(schedule, t, like)
    assert a.shape == s.shape == (3, 1) and a.dtype == s.dtype == torch.float32
    np.testing.assert_allclose(a[:, 0].numpy(), np.sqrt(schedule.alphas_cumprod[[0, 499, 999]]), rtol=1e-6)
    np.testing.assert_allclose((a**2 + s**2).numpy(), 1.0, rtol=1e-6)


def test_predict_wraps_a_plain_denoiser_and_keeps_a_wrappers_parts():
    plain = lambda x_t, t, y: 2 * x_t  # noqa: E731
    x = torch.ones(2, 3)
    pred = predict(plain, x, torch.zeros(2, dtype=torch.long), None)
    assert isinstance(pred, Prediction) and torch.equal(pred.x0, 2 * x)
    assert pred.x0_uncond is None and pred.x0_cond is None and pred.classifier_shift is None and pred.x0_renoise is None

    class Wrapper:
        def predict(self, x_t, t, y):
            return Prediction(x0=x_t, x0_uncond=-x_t)

    assert torch.equal(predict(Wrapper(), x, None, None).x0_uncond, -x)
