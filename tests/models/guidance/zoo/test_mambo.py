"""models.guidance.zoo.mambo: without damping MAMBO-G is CFG (against diffusers' ``MagnitudeAwareGuidance``:
test_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.guidance import make_guidance

from tests.models.guidance.test_parity import DATA, _sample


@pytest.mark.parametrize("data", DATA)
def test_mambo_without_damping_is_cfg(exact, data):
    """alpha = 0: the scale is gamma at every step (arXiv 2508.03442: w(r) = 1 + (w_max - 1) e^(-alpha r))."""
    den = exact[data]
    cfg = _sample(make_guidance("cfg", den, 4.0), data)
    np.testing.assert_allclose(_sample(make_guidance("mambo", den, 4.0, settings=dict(mambo_alpha=0.0)), data).x,
                               cfg.x, atol=1e-12, rtol=0)
