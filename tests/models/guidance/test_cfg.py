"""models.guidance.cfg: classifier-free guidance is unconditional sampling at gamma = 0 and conditional
sampling at gamma = 1, under every sampler. (Against diffusers' ``ClassifierFreeGuidance``: test_parity.py.)"""

import numpy as np
import pytest

from models.guidance import make_guidance

from tests.models.guidance.test_guidance import SAMPLERS, _case, _sample


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("name", SAMPLERS)
def test_cfg_gamma0_is_unconditional_and_gamma1_conditional(models, schedule, data, name):
    den, x_T, y = _case(models, data)
    uncond = _sample(name, make_guidance("none", den), x_T, None, schedule)
    cond = _sample(name, make_guidance("none", den), x_T, y, schedule)
    cfg0 = _sample(name, make_guidance("cfg", den, 0.0), x_T, y, schedule)
    cfg1 = _sample(name, make_guidance("cfg", den, 1.0), x_T, y, schedule)
    # D_u + 0 (D_c - D_u) is D_u to the last bit; D_u + (D_c - D_u) is D_c up to one rounding per step.
    np.testing.assert_allclose(cfg0.x, uncond.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cfg1.x, cond.x, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(uncond.labels, -1)
    np.testing.assert_array_equal(cond.labels, y.numpy())
    assert not np.allclose(uncond.samples, cond.samples, atol=1e-3)  # the identities are not vacuous
