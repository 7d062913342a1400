"""models.guidance.zoo.apgmix: CFG outside its noise-level window and APG inside it (against diffusers'
``AdaptiveProjectedMixGuidance``: test_parity.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.guidance import make_guidance

from tests.models.guidance.test_parity import DATA, _moves, _sample


@pytest.mark.parametrize("data", DATA)
def test_apgmix_is_cfg_outside_its_window_and_apg_inside_it(exact, data):
    """An empty window is CFG; a window holding every step is APG with the same settings (whose
    momentum is fed at every step too)."""
    den = exact[data]
    apg_settings = dict(eta=0.3, r=0.7 if data == "digits" else 0.05, beta=-0.5)
    cfg = _sample(make_guidance("cfg", den, 4.0), data)
    empty = dict(apgmix_lo=1e6, apgmix_hi=2e6, **{f"apgmix_{k}": v for k, v in apg_settings.items()})
    np.testing.assert_allclose(_sample(make_guidance("apgmix", den, 4.0, settings=empty), data).x, cfg.x, atol=1e-12)
    every = dict(apgmix_lo=0.0, apgmix_hi=math.inf, **{f"apgmix_{k}": v for k, v in apg_settings.items()})
    apg = _sample(make_guidance("apg", den, 4.0, settings={f"apg_{k}": v for k, v in apg_settings.items()}), data)
    assert _moves(apg, cfg)
    np.testing.assert_allclose(_sample(make_guidance("apgmix", den, 4.0, settings=every), data).x, apg.x, atol=1e-12)
