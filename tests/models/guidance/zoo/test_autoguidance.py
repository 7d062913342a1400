"""models.guidance.zoo.autoguidance: with the main model as its weak model it is conditional sampling, and
it extrapolates from the weak model (against diffusers' ``AutoGuidance``: test_parity.py)."""

import numpy as np
import pytest

from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.loading import load_bundle
from models.guidance import make_guidance

from tests.models.guidance.zoo.test_zoo import _same, _trajectory


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_autoguidance_with_the_main_model_as_weak_is_conditional_sampling(schedule, data):
    den = exact_digits_denoiser(schedule) if data == "digits" else exact_gmm2d_denoiser(schedule)
    dim = 64 if data == "digits" else 2
    cond = _trajectory(make_guidance("none", den), schedule, dim=dim)
    _same(_trajectory(make_guidance("autoguidance", den, 3.0, weak=den), schedule, dim=dim), cond)


def test_autoguidance_extrapolates_from_the_weak_model(schedule):
    bundle = load_bundle("digits", "exact", needs=("weak",))
    traj = _trajectory(make_guidance("autoguidance", bundle.denoiser, 2.5, weak=bundle.weak), schedule)
    np.testing.assert_allclose(traj.x0_hat, traj.x0_uncond + 2.5 * (traj.x0_cond - traj.x0_uncond), atol=1e-12)
    assert np.abs(traj.x0_cond - traj.x0_uncond).max() > 1e-3  # the blurred model really is different
