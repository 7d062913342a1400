"""models.guidance.zoo.tcfg: the direction TCFG projects on is the leading right-singular vector, and a
u parallel to c is kept (against diffusers' ``TangentialClassifierFreeGuidance``: test_parity.py)."""

from __future__ import annotations

import torch

from models.guidance.zoo.tcfg import leading_direction

from tests.models.guidance.test_parity import F64


def test_tcfg_direction_is_the_leading_right_singular_vector_and_keeps_parallel_u():
    """The direction equals the leading right-singular vector of torch.linalg.svd (up to sign), and
    where u is parallel to c the projection keeps u: TCFG is CFG there."""
    g = torch.Generator().manual_seed(1)
    c, u = torch.randn(6, 64, generator=g, dtype=F64), torch.randn(6, 64, generator=g, dtype=F64)
    n = leading_direction(c, u)
    vh = torch.linalg.svd(torch.stack([c, u], 1), full_matrices=False).Vh[:, 0]
    torch.testing.assert_close((n * vh).sum(1).abs(), torch.ones(6, dtype=F64), rtol=0, atol=1e-12)
    parallel = 0.7 * c
    n = leading_direction(c, parallel)
    torch.testing.assert_close((parallel * n).sum(1, keepdim=True) * n, parallel, rtol=0, atol=1e-12)
