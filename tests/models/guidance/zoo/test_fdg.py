"""Frequency-decoupled guidance (models.guidance.zoo's ``fdg``, arXiv 2506.19713) on the digits as 8x8 images.

Its oracles: kornia's Laplacian pyramid (``build_laplacian_pyramid``, ``pyrup``: what diffusers'
``FrequencyDecoupledGuidance`` builds on) against ours (``models.engine.pyramid``), and that guider itself
over whole float64 exact-model trajectories, driven as ``tests/models/guidance/test_parity`` drives the
other guiders (``DiffusersInSpace``), in the space diffusers' pipelines apply it in (the network's
output: eps for the SD-style pipelines, v for the v-prediction ones; the split is linear, so x0 too).

Scales: diffusers lists them from the highest band down, ``guidance_scales = [gamma_high, gamma_low]``,
and writes ``uncond + s (cond - uncond)`` per band natively, so s = our gamma (high) and fdg_low
(low); with ``use_original_formulation`` it writes ``cond + s (cond - uncond)``, so s = each scale - 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers.guiders import FrequencyDecoupledGuidance as DiffusersFDG
from kornia.geometry.transform import build_laplacian_pyramid, pyrdown, pyrup

import models.guidance.zoo.fdg
from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.guidance import REGISTRY, make_guidance
from models.engine.pipeline import SampleSpec, run
from models.engine.pyramid import BLUR_TAPS, double_matrix, halve_matrix, high_band, low_band, low_pass_matrix
from models.guidance.zoo.fdg import frequency_bands, laplacian_split, pyr_down, pyr_up
from tests.models.guidance.test_parity import STEPS, DiffusersInSpace, _diff, _moves, _same, _sample

F64 = torch.float64
PYRAMID_TOL = 1e-12


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule)


# ----------------------------------------------------------------------------- the pyramid against kornia

@pytest.mark.parametrize("side", [8, 16, 32])
def test_our_pyramid_is_kornias(side):
    """pyrdown, pyrup and the two-level Laplacian pyramid, float64, on random images (several
    channels, as the guider's (B, C, H, W) inputs)."""
    g = torch.Generator().manual_seed(side)
    img = torch.randn(5, 3, side, side, generator=g, dtype=F64)
    high, low = laplacian_split(img)
    k_high, k_low = build_laplacian_pyramid(img, 2)
    worst = max(float((pyr_down(img) - pyrdown(img)).abs().max()), float((pyr_up(low) - pyrup(low)).abs().max()),
                float((high - k_high).abs().max()), float((low - k_low).abs().max()))
    print(f"side {side}: max |kornia - ours| = {worst:.2e}")
    assert worst <= PYRAMID_TOL
    assert high.shape == img.shape and low.shape == (5, 3, side // 2, side // 2)


def test_the_bands_add_up_to_the_image_and_split_it():
    """H + L = I exactly (to rounding); the low band of a constant image is the image (the blur and
    the interpolations keep constants), and of a checkerboard (the highest frequency) it is nearly
    nothing, so the high band holds it."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 64, generator=g, dtype=F64)
    high, low = frequency_bands(x)
    torch.testing.assert_close(high + low, x, rtol=0, atol=1e-14)
    np.testing.assert_allclose(high_band(x.numpy()) + low_band(x.numpy()), x.numpy(), atol=1e-14)
    np.testing.assert_allclose(low.numpy(), low_band(x.numpy()), atol=1e-14)  # the figures' numpy band is the same
    const = torch.full((1, 64), 0.3, dtype=F64)
    torch.testing.assert_close(frequency_bands(const)[1], const, rtol=0, atol=1e-14)
    checker = torch.tensor([(-1.0) ** (i + j) for i in range(8) for j in range(8)], dtype=F64)[None]
    assert float(frequency_bands(checker)[1].norm()) < 0.1 * float(checker.norm())
    assert np.allclose(low_pass_matrix(8).sum(1), 1.0)  # each row a weighted mean


# ----------------------------------------------------------------------------- parity over trajectories

def fdg_oracle(den, gamma, low, original, space):
    """diffusers' guider on the exact digits model predicting in ``space``, its inputs as (B, 1, 8, 8)."""
    scales = [gamma - 1.0, low - 1.0] if original else [gamma, low]
    guided = DiffusersInSpace(DiffusersFDG(guidance_scales=scales, use_original_formulation=original), den, space)
    guided.inner.layout = lambda shape: (shape[0], 1, 8, 8)
    return guided


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("space", ["eps", "v", "x0"])
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma, low", [(5.0, 2.0), (3.0, 1.5), (7.0, 0.0), (2.0, 4.0), (0.5, 3.0)])
def test_fdg_matches_diffusers_frequency_decoupled_guidance(digits, sampler, space, original, gamma, low):
    ours = _sample(make_guidance("fdg", digits, gamma, settings=dict(fdg_low=low)), "digits", sampler)
    assert _moves(ours, _sample(make_guidance("cfg", digits, gamma), "digits", sampler))  # the split acts
    theirs = _sample(fdg_oracle(digits, gamma, low, original, space), "digits", sampler)
    _same(ours, theirs, f"fdg {sampler} in {space} original={original} gamma={gamma} low={low}")


# ----------------------------------------------------------------------------- reductions

@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("gamma", [0.0, 3.0, 6.5])
def test_equal_scales_are_cfg(digits, sampler, gamma):
    """fdg_low = gamma: both bands get the same scale, H + L = I, so it is CFG."""
    cfg = _sample(make_guidance("cfg", digits, gamma), "digits", sampler)
    fdg = _sample(make_guidance("fdg", digits, gamma, settings=dict(fdg_low=gamma)), "digits", sampler)
    np.testing.assert_allclose(fdg.x, cfg.x, atol=1e-12, rtol=0)
    np.testing.assert_allclose(fdg.x0_hat, cfg.x0_hat, atol=1e-12, rtol=0)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_both_scales_one_is_conditional_sampling(digits, sampler):
    cond = _sample(make_guidance("none", digits), "digits", sampler)
    fdg = _sample(make_guidance("fdg", digits, 1.0, settings=dict(fdg_low=1.0)), "digits", sampler)
    np.testing.assert_allclose(fdg.x, cond.x, atol=1e-12, rtol=0)


def test_each_band_gets_its_own_scale(digits):
    """At one step: the guided prediction minus plain CFG's is (gamma_low - gamma) times the low band
    of the difference, and raising gamma_low by one adds that low band once (the high band stays)."""
    g = torch.Generator().manual_seed(3)
    x_t, t, y = torch.randn(4, 64, generator=g, dtype=F64), torch.full((4,), 400), torch.tensor([3, 1, 4, 9])
    pred = make_guidance("fdg", digits, 5.0, settings=dict(fdg_low=2.0)).predict(x_t, t, y)
    delta = pred.x0_cond - pred.x0_uncond
    high, low = frequency_bands(delta)
    torch.testing.assert_close(pred.x0 - (pred.x0_uncond + 5.0 * delta), (2.0 - 5.0) * low, rtol=0, atol=1e-12)
    other = make_guidance("fdg", digits, 5.0, settings=dict(fdg_low=3.0)).predict(x_t, t, y)
    torch.testing.assert_close(other.x0 - pred.x0, low, rtol=0, atol=1e-12)
    assert float(high.norm()) > 1e-3 and float(low.norm()) > 1e-3


# ----------------------------------------------------------------------------- a broken wrapper is caught

BREAKS = {
    "bands swapped (gamma on the low band, gamma_low on the high)": (
        lambda mp: mp.setattr(models.guidance.zoo.fdg, "frequency_bands", lambda x: _swapped(x))),
    "low band brought back up without the blur": (
        lambda mp: mp.setattr(models.guidance.zoo.fdg, "up_matrix", double_matrix)),
    "zero-padded instead of mirrored borders": (
        lambda mp: mp.setattr(models.guidance.zoo.fdg, "down_matrix", lambda n: _zero_border_down(n))),
}
_ORIGINAL_BANDS = frequency_bands


def _swapped(x):
    high, low = _ORIGINAL_BANDS(x)
    return low, high


def _zero_border_down(n):
    blur = sum(w * np.eye(n, k=o) for o, w in zip(range(-2, 3), BLUR_TAPS))
    return halve_matrix(n) @ blur


@pytest.mark.parametrize("what", BREAKS)
def test_a_broken_fdg_is_caught(digits, monkeypatch, what):
    theirs = _sample(fdg_oracle(digits, 5.0, 2.0, False, "eps"), "digits")
    _same(_sample(make_guidance("fdg", digits, 5.0, settings=dict(fdg_low=2.0)), "digits"), theirs, "fdg intact")
    BREAKS[what](monkeypatch)
    broken = _sample(make_guidance("fdg", digits, 5.0, settings=dict(fdg_low=2.0)), "digits")
    with pytest.raises(AssertionError):
        _same(broken, theirs, f"fdg broken: {what}")
    print(f"{what}: caught, off by {_diff(broken, theirs):.2e}")


# ----------------------------------------------------------------------------- not on points; its space

def test_gmm2d_points_are_refused_in_one_sentence(schedule):
    den = exact_gmm2d_denoiser(schedule)
    with pytest.raises(ValueError, match=r"^fdg \(frequency-decoupled guidance\) splits 8x8 images .* not images"):
        _sample(make_guidance("fdg", den, 3.0), "gmm2d")
    with pytest.raises(ValueError) as err:
        run(SampleSpec(data="gmm2d", model="exact", guidance="fdg", steps=5, batch=2, label=1))
    assert "\n" not in str(err.value) and "use the digits" in str(err.value)
    with pytest.raises(ValueError, match="not images"):  # refused by the spec itself, before any sampling
        SampleSpec(data="gmm2d", model="exact", guidance="fdg", label=1).validate()


def test_fdg_says_its_space_records_its_parts_and_its_setting(digits):
    assert REGISTRY["fdg"].space == "x0"
    traj = run(SampleSpec(data="digits", model="exact", guidance="fdg", gamma=4.0, fdg_low=2.5, steps=STEPS, batch=2,
                          label=7))
    assert traj.meta["fdg_low"] == 2.5 and traj.meta["gamma"] == 4.0
    assert traj.x0_uncond is not None and traj.x0_cond is not None
    again = run(SampleSpec(data="digits", model="exact", guidance="fdg", gamma=4.0, fdg_low=2.5, steps=STEPS, batch=2,
                           label=7))
    assert np.array_equal(traj.x, again.x)
