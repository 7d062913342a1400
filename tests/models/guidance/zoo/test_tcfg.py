"""models.guidance.zoo.tcfg: the direction TCFG projects on is the leading right-singular vector, a u
parallel to c is kept, and where a = 0 its x0 is the limit a -> 0 (against diffusers'
``TangentialClassifierFreeGuidance``: test_parity.py)."""

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


def test_tcfg_at_pure_noise_is_the_limit_of_small_a():
    """Where a = 0 every eps is x_t / s and eps -> x0 is 0 / 0; the wrapper returns the limit a -> 0 of
    TCFG's x0 (``tcfg_at_pure_noise``). Against TCFG computed at small a in float64 with the same D_u,
    D_c, x_t: the gap shrinks like a (first-order limit), and the limit differs from CFG's point."""
    from models.guidance.zoo.tcfg import tcfg_at_pure_noise

    g = torch.Generator().manual_seed(2)
    x_t, d_u, d_c = (torch.randn(5, 64, generator=g, dtype=F64) for _ in range(3))
    gamma = 4.0

    def tcfg(a, s):
        u, c = (x_t - a * d_u) / s, (x_t - a * d_c) / s
        n = leading_direction(c, u)
        u_n = (u * n).sum(1, keepdim=True) * n
        return (x_t - s * (u_n + gamma * (c - u_n))) / a

    limit = tcfg_at_pure_noise(d_u, d_c, x_t, gamma)
    gaps = [float((tcfg(a, 1 - a) - limit).abs().max()) for a in (1e-2, 1e-4, 1e-6)]
    assert gaps[0] < 0.1 and gaps[1] < gaps[0] / 50 and gaps[2] < gaps[1] / 50, gaps
    assert float((limit - (d_u + gamma * (d_c - d_u))).abs().max()) > 0.1


def test_tcfg_wrapper_uses_the_limit_where_a_is_zero():
    """On the flow path at sigma = 1 the wrapper's x0 is ``tcfg_at_pure_noise`` of its two predictions."""
    from models.engine.denoiser import predict
    from models.engine.exact import exact_gmm2d_denoiser
    from models.flow.path import FlowSchedule
    from models.guidance import make_guidance
    from models.guidance.zoo.tcfg import tcfg_at_pure_noise

    den = exact_gmm2d_denoiser(FlowSchedule(shift=3.0))
    x_t = torch.randn(4, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    y = torch.arange(4) % 3
    pred = predict(make_guidance("tcfg", den, 3.0), x_t, torch.full((4,), 1000.0, dtype=F64), y)
    torch.testing.assert_close(pred.x0, tcfg_at_pure_noise(pred.x0_uncond, pred.x0_cond, x_t, 3.0), rtol=0, atol=0)
    assert torch.isfinite(pred.x0).all()
