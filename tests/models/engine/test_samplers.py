"""Our samplers against diffusers' schedulers (test-only oracle), and against a closed-form ODE.

Two kinds of comparison, both in float32 (diffusers builds its schedule in float32):

* step by step: drive diffusers with the x_t and the x0 prediction our trajectory recorded at
  each step (and the same noise), and compare its x_{i+1} with ours. This checks every update
  formula on its own, and works even with the memorising digits denoiser, whose sharply peaked
  softmax amplifies float32 round-off along a whole trajectory;
* whole trajectories: diffusers runs its own loop, calling the same denoiser on its own states.
  Errors compound here, so this uses smooth denoisers (the exact gmm2d denoiser and a Gaussian-data
  denoiser), for which the difference stays at float32 round-off.
"""
import numpy as np
import pytest
import torch
from diffusers import (DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler,
                       HeunDiscreteScheduler)

from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.pipeline import SampleSpec, run
from models.engine.samplers import (SAMPLER_NAMES, get_sampler, sample_ddim, sample_ddpm, sample_dpmpp2m, sample_euler,
                             sample_heun)
from models.engine.schedule import make_schedule

TOL = dict(rtol=1e-5, atol=1e-5)
SCHEDULE = dict(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear")
STEPS = (1, 10, 50)


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule)


@pytest.fixture(scope="module")
def gmm(schedule):
    return exact_gmm2d_denoiser(schedule)


class GaussianDataDenoiser:
    """The exact denoiser of x0 ~ N(0, I): x_t ~ N(0, (a^2 + s^2) I) = N(0, I), so
    E[x0 | x_t] = a x_t / (a^2 + s^2) = a x_t. Its probability-flow ODE leaves x_t unchanged."""

    num_classes = 1

    def __init__(self, schedule):
        self.schedule = schedule

    def __call__(self, x_t, t, y):
        a = torch.as_tensor(self.schedule.a(t.cpu().numpy()), dtype=x_t.dtype).reshape(-1, 1)
        return a * x_t


def ddpm_ref():
    return DDPMScheduler(prediction_type="sample", clip_sample=False, variance_type="fixed_small", **SCHEDULE)


def ddim_ref():
    return DDIMScheduler(set_alpha_to_one=True, clip_sample=False, prediction_type="sample",
                         timestep_spacing="trailing", **SCHEDULE)


def dpm_ref():
    return DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, solver_type="midpoint",
                                       prediction_type="sample", timestep_spacing="trailing", **SCHEDULE)


def euler_ref():
    return EulerDiscreteScheduler(prediction_type="sample", timestep_spacing="trailing", use_karras_sigmas=False,
                                  **SCHEDULE)


def heun_ref():
    return HeunDiscreteScheduler(prediction_type="sample", timestep_spacing="trailing", use_karras_sigmas=False,
                                 **SCHEDULE)


def _tvec(t, n: int) -> torch.Tensor:
    return torch.full((n,), int(t), dtype=torch.long)


def _set(ref, ts: np.ndarray):
    """Set diffusers' timesteps; check they are ours (the DDPM scheduler takes them as a list)."""
    if isinstance(ref, DDPMScheduler):
        ref.set_timesteps(timesteps=[int(t) for t in ts])
    else:
        ref.set_timesteps(len(ts))
    steps = ref.timesteps.numpy().astype(np.int64)
    if isinstance(ref, HeunDiscreteScheduler):  # t0, t1, t1, t2, t2, ...: each repeat is a corrector
        steps = np.concatenate([steps[:1], steps[1::2]])
    np.testing.assert_array_equal(steps, ts)
    return ref


def _start(x_T: torch.Tensor, seed: int):
    """A generator in the state our pipeline leaves it after drawing x_T (float32 CPU randn)."""
    g = torch.Generator().manual_seed(seed)
    torch.randn(tuple(x_T.shape), generator=g, dtype=torch.float32)
    return g


# --- whole trajectories: diffusers runs its own loop ----------------------------------------------


def diffusers_trajectory(ref, den, x_T: torch.Tensor, y, *, eta=None, generator=None, noise=None) -> torch.Tensor:
    """Run a diffusers scheduler over its timesteps with ``den``; return the final sample (VP = VE at t = 0).

    Euler and Heun work on x_ve = x_t / a = x_t sqrt(1 + sigma^2), and ``scale_model_input`` divides by
    sqrt(1 + sigma^2), giving back x_t for the denoiser. (Their ``init_noise_sigma`` is sigma_max, not
    sqrt(1 + sigma_max^2), for "trailing" spacing: 2e-5 off at sigma_max = 157, so we scale x_T ourselves.)
    """
    ve = isinstance(ref, (EulerDiscreteScheduler, HeunDiscreteScheduler))
    x = x_T * float(np.sqrt(1 + float(ref.sigmas[0]) ** 2)) if ve else x_T
    for i, t in enumerate(ref.timesteps):
        x_in = ref.scale_model_input(x, t)
        x0 = den(x_in, _tvec(t, len(x)), y)
        if isinstance(ref, DDIMScheduler):
            x = ref.step(x0, t, x, eta=eta, variance_noise=None if noise is None else noise[i]).prev_sample
        elif isinstance(ref, DDPMScheduler):
            x = ref.step(x0, t, x, generator=generator).prev_sample
        else:
            x = ref.step(x0, t, x).prev_sample
    return x


def _setup(den_name: str, schedule, gmm, seed: int = 0):
    if den_name == "gmm2d":
        den, dim = gmm, 2
        y = torch.arange(6) % 3
    else:
        den, dim, y = GaussianDataDenoiser(schedule), 64, None
    x_T = torch.randn((6, dim), generator=torch.Generator().manual_seed(seed), dtype=torch.float32)
    return den, x_T, y


# Euler and Heun step in VE space, where x_ve = x_T / a_T is 157 |x_T| at the first step. With few
# steps the first jump spans most of that range and float32 round-off of x_ve (ulp ~3e-5) is amplified,
# on both sides alike: with 1 step the jump to sigma = 0 cancels two numbers of size 157 |x_T|, and with
# 2 Heun steps the corrector multiplies the Euler point's error by |dsigma| / (2 sigma_next) ~ 22 (our own
# float32 and float64 runs differ by 3e-4 there). With >= 10 steps both agree to float32 round-off.
VE_STEPS = (10, 50)


@pytest.mark.parametrize("den_name", ["gmm2d", "gaussian64"])
@pytest.mark.parametrize("name, steps", [("euler", n) for n in VE_STEPS] + [("heun", n) for n in VE_STEPS]
                         + [("dpmpp2m", n) for n in STEPS])
def test_deterministic_trajectories_match_diffusers(schedule, gmm, den_name, steps, name):
    den, x_T, y = _setup(den_name, schedule, gmm)
    ts = schedule.timesteps(steps)
    ours = get_sampler(name)(den, x_T, ts, y, generator=torch.Generator().manual_seed(0))
    ref = _set({"euler": euler_ref, "heun": heun_ref, "dpmpp2m": dpm_ref}[name](), ts)
    theirs = diffusers_trajectory(ref, den, x_T, y)
    np.testing.assert_allclose(ours.samples, theirs.numpy(), **TOL)


@pytest.mark.parametrize("den_name", ["gmm2d", "gaussian64"])
@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_trajectory_matches_diffusers(schedule, gmm, den_name, steps, eta):
    den, x_T, y = _setup(den_name, schedule, gmm)
    ts = schedule.timesteps(steps)
    ours = sample_ddim(den, x_T, ts, y, generator=_start(x_T, 0), eta=eta)
    # Diffusers gets its noise from the same generator, drawn for every step that adds noise
    # (all but the last, where sigma = 0); the same numbers our sampler recorded.
    g = _start(x_T, 0)
    noise = [torch.randn(tuple(x_T.shape), generator=g) if eta > 0 and i < steps - 1 else None
             for i in range(steps)]
    for i, z in enumerate(noise):
        np.testing.assert_array_equal(ours.noise[i], np.zeros(x_T.shape) if z is None else z.numpy())
    theirs = diffusers_trajectory(_set(ddim_ref(), ts), den, x_T, y, eta=eta, noise=noise)
    np.testing.assert_allclose(ours.samples, theirs.numpy(), **TOL)


@pytest.mark.parametrize("den_name", ["gmm2d", "gaussian64"])
@pytest.mark.parametrize("steps", STEPS)
def test_ddpm_trajectory_matches_diffusers_same_generator(schedule, gmm, den_name, steps):
    """Diffusers draws its step noise from the generator itself: matching samples means matching noise."""
    den, x_T, y = _setup(den_name, schedule, gmm)
    ts = schedule.timesteps(steps)
    ours = sample_ddpm(den, x_T, ts, y, generator=_start(x_T, 0))
    theirs = diffusers_trajectory(_set(ddpm_ref(), ts), den, x_T, y, generator=_start(x_T, 0))
    np.testing.assert_allclose(ours.samples, theirs.numpy(), **TOL)


def test_pipeline_ddpm_noise_is_diffusers_noise(gmm):
    """The pipeline draws x_T, then one float32 CPU randn per step but the last, from one seeded
    generator; diffusers, given that generator after x_T, draws the same numbers."""
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance="none", label=-1,
                      steps=20, batch=8, seed=123)
    tr = run(spec, device="cpu")
    g = torch.Generator().manual_seed(123)
    x_T = torch.randn((8, 2), generator=g, dtype=torch.float32)
    np.testing.assert_array_equal(tr.x[0], x_T.numpy())
    for i in range(spec.steps - 1):
        np.testing.assert_array_equal(tr.noise[i], torch.randn((8, 2), generator=g).numpy())
    np.testing.assert_array_equal(tr.noise[-1], 0.0)  # the step onto clean data adds none
    ref = _set(ddpm_ref(), tr.timesteps)
    theirs = diffusers_trajectory(ref, gmm, x_T, None, generator=_start(x_T, 123))
    np.testing.assert_allclose(tr.samples, theirs.numpy(), **TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", ["ddpm", "ddim"])
def test_noise_is_float32_randn_whatever_the_dtype(gmm, schedule, name, dtype):
    """Fresh noise is a float32 CPU draw cast to x's dtype, so float32 and float64 runs share their noise."""
    x_T = torch.randn((5, 2), generator=torch.Generator().manual_seed(9), dtype=torch.float32).to(dtype)
    options = {"eta": 1.0} if name == "ddim" else {}
    tr = get_sampler(name)(gmm, x_T, schedule.timesteps(4), None, generator=torch.Generator().manual_seed(4),
                           **options)
    g = torch.Generator().manual_seed(4)
    for i in range(3):
        np.testing.assert_array_equal(tr.noise[i], torch.randn((5, 2), generator=g).to(dtype).numpy())
    assert tr.noise.dtype == tr.x.dtype == (np.float32 if dtype == torch.float32 else np.float64)


# --- step by step: diffusers is fed the x_t and x0 our trajectory recorded ------------------------


@pytest.fixture(scope="module")
def digits_case(digits):
    """A batch of 4 noisy digits to sample from, with labels (conditional exact denoiser)."""
    x_T = torch.randn((4, 64), generator=torch.Generator().manual_seed(7), dtype=torch.float32)
    return digits, x_T, torch.tensor([0, 3, 5, 8])


def _steps_match(tr, step_fn):
    """For each step i feed (x[i], x0_hat[i]) to diffusers and compare its output with x[i+1] (VP space)."""
    for i, t in enumerate(tr.timesteps):
        out = step_fn(i, int(t), torch.as_tensor(tr.x[i]), torch.as_tensor(tr.x0_hat[i]))
        np.testing.assert_allclose(out.numpy(), tr.x[i + 1], **TOL, err_msg=f"step {i} (t = {int(t)})")


def _ve(schedule, t: int) -> float:
    """x_ve = x_t / a_t; t = -1 (clean data) gives 1."""
    return 1.0 / float(schedule.a(t))


@pytest.mark.parametrize("steps", [1, 10])
def test_ddpm_steps_match_diffusers(schedule, digits_case, steps):
    den, x_T, y = digits_case
    tr = sample_ddpm(den, x_T, schedule.timesteps(steps), y, generator=_start(x_T, 1))
    ref, g = _set(ddpm_ref(), tr.timesteps), _start(x_T, 1)  # noise in the same order as ours
    _steps_match(tr, lambda i, t, x, x0: ref.step(x0, t, x, generator=g).prev_sample)


@pytest.mark.parametrize("steps", [1, 10])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_steps_match_diffusers(schedule, digits_case, steps, eta):
    den, x_T, y = digits_case
    tr = sample_ddim(den, x_T, schedule.timesteps(steps), y, generator=_start(x_T, 1), eta=eta)
    ref = _set(ddim_ref(), tr.timesteps)
    _steps_match(tr, lambda i, t, x, x0: ref.step(x0, t, x, eta=eta,
                                                  variance_noise=torch.as_tensor(tr.noise[i])).prev_sample)


@pytest.mark.parametrize("steps", [1, 2, 10])
def test_dpmpp2m_steps_match_diffusers(schedule, digits_case, steps):
    """Diffusers keeps the previous x0 in its state: feeding our recorded x0 in order gives it the same history."""
    den, x_T, y = digits_case
    tr = sample_dpmpp2m(den, x_T, schedule.timesteps(steps), y, generator=None)
    ref = _set(dpm_ref(), tr.timesteps)
    _steps_match(tr, lambda i, t, x, x0: ref.step(x0, t, x).prev_sample)


@pytest.mark.parametrize("steps", [10, 20])
def test_euler_steps_match_diffusers(schedule, digits_case, steps):
    den, x_T, y = digits_case
    tr = sample_euler(den, x_T, schedule.timesteps(steps), y, generator=None)
    ref = _set(euler_ref(), tr.timesteps)

    def step(i, t, x, x0):  # diffusers steps x_ve = x_t / a; back to VP with the next a
        t_next = int(tr.timesteps[i + 1]) if i + 1 < steps else -1
        return ref.step(x0, ref.timesteps[i], x * _ve(schedule, t)).prev_sample / _ve(schedule, t_next)

    _steps_match(tr, step)


@pytest.mark.parametrize("steps", [10, 20])
def test_heun_steps_match_diffusers(schedule, digits_case, steps):
    """Diffusers' Heun takes two calls per step (predictor, then corrector at the Euler point), but one on
    the step to sigma = 0. The corrector needs D at the Euler point: both call the same denoiser there."""
    den, x_T, y = digits_case
    tr = sample_heun(den, x_T, schedule.timesteps(steps), y, generator=None)
    ref = _set(heun_ref(), tr.timesteps)

    def step(i, t, x, x0):
        t_next = int(tr.timesteps[i + 1]) if i + 1 < steps else -1
        euler = ref.step(x0, t, x * _ve(schedule, t)).prev_sample
        if t_next >= 0:
            x0_next = den(euler / _ve(schedule, t_next), _tvec(t_next, len(euler)), y)
            euler = ref.step(x0_next, t_next, euler).prev_sample
        return euler / _ve(schedule, t_next)

    _steps_match(tr, step)


# --- identities and a closed-form ODE ----------------------------------------------------------------


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_last_step_lands_on_the_prediction(schedule, digits_case, name, steps):
    """abar_prev = 1 (sigma_next = 0) on the last step: every sampler returns the x0 prediction made there,
    to float32 round-off of O(1) numbers (a few ulp of 1, 1.2e-7 each).

    Euler/Heun compute it as x_ve + (0 - sigma) (x_ve - x0) / sigma, which is x0 in exact arithmetic but, in
    float32 with one step (sigma = 157, x_ve = 157 x_T), cancels numbers of size ~500 and misses x0 by ~4e-5.
    """
    den, x_T, y = digits_case
    tr = get_sampler(name)(den, x_T, schedule.timesteps(steps), y, generator=_start(x_T, 2))
    np.testing.assert_allclose(tr.samples, tr.x0_hat[-1], rtol=1e-6, atol=1e-6)
    assert tr.x.shape == (steps + 1, 4, 64) and tr.x0_hat.shape == tr.noise.shape == (steps, 4, 64)


def test_ddim_eta0_is_euler_in_ve_space(schedule, gmm):
    """DDIM (eta = 0): x_prev / a_prev = x0 + sigma_prev eps_hat = x_ve + (sigma_prev - sigma) eps_hat,
    and eps_hat = (x_ve - x0) / sigma is Euler's d: the two samplers are the same map (arXiv 2206.00364)."""
    x_T = torch.randn((16, 2), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for steps in (1, 7, 30):
        ts = schedule.timesteps(steps)
        ddim = sample_ddim(gmm, x_T, ts, None, generator=None, eta=0.0)
        euler = sample_euler(gmm, x_T, ts, None, generator=None)
        np.testing.assert_allclose(ddim.x, euler.x, rtol=1e-10, atol=1e-10)


def test_euler_and_heun_on_the_closed_form_ode(schedule):
    """For x0 ~ N(0, I), D(x_ve; sigma) = x_ve / (1 + sigma^2), so the ODE dx_ve/dsigma = (x_ve - D) / sigma
    = sigma x_ve / (1 + sigma^2) has the solution x_ve ∝ sqrt(1 + sigma^2) = 1 / a: x_t = a x_ve stays x_T.

    Compare the state before the final step to sigma = 0 (which both take as a plain Euler step) with x_T:
    Euler's error halves when the steps double (first order), Heun's quarters (second order) and is
    far smaller.
    """
    den = GaussianDataDenoiser(schedule)
    x_T = torch.randn((4, 3), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    err = {}
    for name, sampler in (("euler", sample_euler), ("heun", sample_heun)):
        for steps in (20, 40, 80, 160):
            tr = sampler(den, x_T, schedule.timesteps(steps), None, generator=None)
            err[name, steps] = np.abs(tr.x[-2] - x_T.numpy()).max()
            # The last step lands on D(x) = a x.
            np.testing.assert_allclose(tr.x[-1], float(schedule.a(tr.timesteps[-1])) * tr.x[-2], rtol=1e-12)
    for steps in (20, 40, 80):
        assert 1.6 < err["euler", steps] / err["euler", 2 * steps] < 2.2
        assert 3.6 < err["heun", steps] / err["heun", 2 * steps] < 4.4
        assert err["heun", steps] < err["euler", steps] / 5


def test_get_sampler_lists_valid_names():
    for name in SAMPLER_NAMES:
        assert callable(get_sampler(name))
    with pytest.raises(ValueError) as err:
        get_sampler("euler_a")
    for name in SAMPLER_NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize("eta", [-0.1, 1.5, float("nan"), float("inf")])
def test_ddim_eta_outside_the_declared_range_raises(schedule, gmm, eta):
    x_T = torch.zeros(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="eta"):
        sample_ddim(gmm, x_T, schedule.timesteps(3), None, generator=torch.Generator().manual_seed(0), eta=eta)
