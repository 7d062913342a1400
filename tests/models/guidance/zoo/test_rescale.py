"""models.guidance.zoo.rescale: the rescaled prediction is diffusers' ``rescale_noise_cfg`` at every phi
(its guider class over whole runs: test_parity.py)."""

import torch
from diffusers.guiders.guider_utils import rescale_noise_cfg

from models.guidance import make_guidance

from tests.models.guidance.zoo.test_zoo import F64


def test_rescale_matches_diffusers(digits, schedule):
    x = torch.randn(5, 64, dtype=F64, generator=torch.Generator().manual_seed(1))
    t, y = torch.full((5,), 400), torch.arange(5)
    for phi in (0.0, 0.3, 0.7, 1.0):
        ours = make_guidance("rescale", digits, 4.0, settings=dict(rescale_phi=phi)).predict(x, t, y)
        x_cfg = ours.x0_uncond + 4.0 * (ours.x0_cond - ours.x0_uncond)
        torch.testing.assert_close(ours.x0, rescale_noise_cfg(x_cfg, ours.x0_cond, phi), atol=1e-12, rtol=0)
