"""models.guidance.zoo.apg: adaptive projected guidance step by step against diffusers'
``normalized_guidance`` (its guider class over whole runs: test_parity.py)."""

import math

import numpy as np
import pytest
import torch
from diffusers.guiders.adaptive_projected_guidance import MomentumBuffer, normalized_guidance

from models.guidance import make_guidance

from tests.models.guidance.zoo.test_zoo import _trajectory


@pytest.mark.parametrize("eta,r,beta", [(0.0, math.inf, 0.0), (0.3, 2.0, 0.0), (0.0, 1.5, -0.5), (1.0, math.inf, 0.4)])
def test_apg_matches_diffusers_over_a_trajectory(digits, schedule, eta, r, beta):
    """diffusers' ``normalized_guidance`` with ``use_original_formulation=True`` is
    ``D_c + scale * (orth + eta * par)``: our gamma is its scale + 1 (MATH.md)."""
    gamma = 4.0
    settings = dict(apg_eta=eta, apg_r=r, apg_beta=beta)
    traj = _trajectory(make_guidance("apg", digits, gamma, settings=settings), schedule, steps=10)
    buffer = MomentumBuffer(beta) if beta != 0.0 else None
    for k in range(traj.steps):
        ref = normalized_guidance(torch.from_numpy(traj.x0_cond[k]), torch.from_numpy(traj.x0_uncond[k]), gamma - 1.0,
                                  momentum_buffer=buffer, eta=eta, norm_threshold=0.0 if math.isinf(r) else r,
                                  use_original_formulation=True)
        np.testing.assert_allclose(traj.x0_hat[k], ref.numpy(), atol=1e-10, rtol=0)
