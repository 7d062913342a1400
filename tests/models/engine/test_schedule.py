"""The schedule: an immutable float64 value that agrees with diffusers' schedulers (the oracle)."""
import dataclasses

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from models.engine.schedule import SCHEDULE_KINDS, Schedule, make_schedule

T = 1000


@pytest.fixture(scope="module")
def linear() -> Schedule:
    return make_schedule("linear")


@pytest.mark.parametrize("kind", SCHEDULE_KINDS)
def test_arrays_are_float64_and_read_only(kind):
    sch = make_schedule(kind)
    assert sch.T == T
    for arr in (sch.betas, sch.alphas_cumprod):
        assert arr.dtype == np.float64
        assert arr.shape == (T,)
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        sch.kind = "other"


@pytest.mark.parametrize("kind", SCHEDULE_KINDS)
def test_schedule_is_valid(kind):
    """0 < beta < 1, abar = cumprod(1 - beta) strictly decreasing, a^2 + s^2 = 1, sigma = s / a."""
    sch = make_schedule(kind)
    assert np.all((sch.betas > 0) & (sch.betas < 1))
    np.testing.assert_allclose(sch.alphas_cumprod, np.cumprod(1 - sch.betas), rtol=1e-14)
    assert np.all(np.diff(sch.alphas_cumprod) < 0)
    t = np.arange(-1, T)
    np.testing.assert_allclose(sch.a(t) ** 2 + sch.s(t) ** 2, 1.0, rtol=1e-14)
    np.testing.assert_allclose(sch.sigma(t), sch.s(t) / sch.a(t), rtol=1e-14)
    # t = -1 means clean data: abar = 1, sigma = 0.
    assert sch.abar(-1) == 1.0 and sch.sigma(-1) == 0.0


def test_linear_betas_endpoints(linear):
    """DDPM (arXiv 2006.11239, section 4): beta_1 = 1e-4, beta_T = 0.02, linear in between."""
    assert linear.betas[0] == pytest.approx(1e-4, rel=1e-12)
    assert linear.betas[-1] == pytest.approx(0.02, rel=1e-12)
    np.testing.assert_allclose(np.diff(linear.betas), (0.02 - 1e-4) / (T - 1), rtol=1e-9)


def test_linear_matches_diffusers_ddpm(linear):
    """diffusers builds its schedule in float32, so agreement is to float32 round-off."""
    ref = DDPMScheduler(num_train_timesteps=T, beta_start=1e-4, beta_end=0.02, beta_schedule="linear")
    np.testing.assert_allclose(linear.betas, ref.betas.double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(linear.alphas_cumprod, ref.alphas_cumprod.double().numpy(), rtol=2e-5, atol=1e-7)


def test_cosine_matches_diffusers_squaredcos_cap_v2():
    """Improved DDPM cosine betas (arXiv 2102.09672) == diffusers' 'squaredcos_cap_v2' (float32)."""
    sch = make_schedule("cosine")
    ref = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2")
    np.testing.assert_allclose(sch.betas, ref.betas.double().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sch.alphas_cumprod, ref.alphas_cumprod.double().numpy(), rtol=2e-5, atol=1e-7)
    assert sch.betas.max() <= 0.999


def test_unknown_kind_lists_valid_kinds():
    with pytest.raises(ValueError) as err:
        make_schedule("sigmoid")
    for kind in SCHEDULE_KINDS:
        assert kind in str(err.value)


def test_timesteps_descending_unique_start_at_T_minus_1(linear):
    for n in range(1, T + 1):
        ts = linear.timesteps(n)
        assert ts.dtype == np.int64
        assert ts.shape == (n,)
        assert ts[0] == T - 1
        assert np.all(np.diff(ts) < 0)  # strictly descending, hence unique
        assert ts[-1] >= 0
    np.testing.assert_array_equal(linear.timesteps(T), np.arange(T - 1, -1, -1))


@pytest.mark.parametrize("n", [1, 2, 4, 5, 10, 20, 25, 50, 100, 125, 200, 250, 500, 1000])
def test_timesteps_match_diffusers_trailing(linear, n):
    """Trailing spacing (arXiv 2305.08891, table 2) as diffusers' DDIMScheduler computes it."""
    ref = DDIMScheduler(num_train_timesteps=T, timestep_spacing="trailing")
    ref.set_timesteps(n)
    np.testing.assert_array_equal(linear.timesteps(n), ref.timesteps.numpy().astype(np.int64))


def test_timesteps_match_diffusers_trailing_for_every_n_up_to_ties(linear):
    """For n not dividing T, T - i T / n can be an exact half (n = 48: 937.5). We round it half-to-even;
    diffusers rounds np.arange's accumulated value, whose float error decides such ties either way (and for
    62 values of n, e.g. 61, it yields n + 1 timesteps ending at -1). Elsewhere the two must agree exactly."""
    ref = DDIMScheduler(num_train_timesteps=T, timestep_spacing="trailing")
    for n in range(1, T + 1):
        ref.set_timesteps(n)
        theirs = ref.timesteps.numpy().astype(np.int64)
        if len(theirs) != n:
            continue
        exact = T - np.arange(n) * (T / n)
        tie = np.abs(exact - np.floor(exact) - 0.5) < 1e-9
        ours = linear.timesteps(n)
        np.testing.assert_array_equal(ours[~tie], theirs[~tie], err_msg=f"n = {n}")
        assert np.all(np.abs(ours[tie] - theirs[tie]) <= 1)


@pytest.mark.parametrize("steps", [0, -1, T + 1, 2.5, True, "10", None])
def test_out_of_range_steps_raise(linear, steps):
    with pytest.raises(ValueError):
        linear.timesteps(steps)


def test_timesteps_accept_numpy_integers(linear):
    np.testing.assert_array_equal(linear.timesteps(np.int64(10)), linear.timesteps(10))
    assert torch.as_tensor(linear.timesteps(10)).dtype == torch.int64
