"""models.analysis.field: the guided field on gmm2d against independent formulas, identities and its own density."""

import math

import numpy as np
import pytest
import torch

from models.engine.data import make_gmm2d
from models.analysis.field import bundle_for, compute_field, field_series, field_vectors, guided_x0
from models.analysis.field_records import BASIN_GRID, VIEW_HALF, FieldSpec, log_terms, square_grid, tilted_log_density
from models.guidance import GUIDANCE_NAMES, make_guidance
from models.engine.loading import load_bundle

GMM = make_gmm2d()
POINTS = np.array([[0.0, 0.0], [0.31, -0.42], [-0.7, 0.15], [1.2, 0.9], [-0.05, -1.4]])  # (5, 2)


# ----------------------------------------------------------------------------- independent references

def reference_terms(x: np.ndarray, t: int, schedule):
    """Per component: log w_k N(x; a mu_k, v_k I) (N, K), posterior means (N, K, 2), for the mixture
    written out from its definition (MATH.md), without models.engine.exact or models.analysis.field."""
    abar = float(schedule.alphas_cumprod[t])
    a, s2 = math.sqrt(abar), 1.0 - abar
    v = abar * GMM.stds**2 + s2  # (K,)
    diff = x[:, None, :] - a * GMM.means[None]  # (N, K, 2)
    log_joint = np.log(GMM.weights) - (diff**2).sum(-1) / (2 * v) - np.log(2 * np.pi * v)
    means = GMM.means[None] + (a * GMM.stds**2 / v)[None, :, None] * diff  # E[x0 | x_t, k]
    return log_joint, means, a, math.sqrt(s2)


def reference_x0(x: np.ndarray, t: int, schedule, label=None) -> np.ndarray:
    """``E[x0 | x_t]`` or ``E[x0 | x_t, y]``: the components' posterior means weighted by responsibility."""
    log_joint, means, _, _ = reference_terms(x, t, schedule)
    if label is not None:
        log_joint = np.where(GMM.comp_class[None] == label, log_joint, -np.inf)
    r = np.exp(log_joint - log_joint.max(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    return (r[..., None] * means).sum(1)


# ----------------------------------------------------------------------------- the field

@pytest.mark.parametrize("t", [999, 500, 150, 20, 0])
@pytest.mark.parametrize("gamma", [0.0, 3.0, 7.0])
def test_exact_cfg_field_is_the_formula(schedule, t, gamma):
    """Exact model, float64: the guided x0 field and the guided score are the CFG formula on the
    mixture's own posterior means, to float precision."""
    d_u, d_c = reference_x0(POINTS, t, schedule), reference_x0(POINTS, t, schedule, label=1)
    x0 = d_u + gamma * (d_c - d_u)
    _, _, a, s = reference_terms(POINTS, t, schedule)
    for quantity, expected in (("x0", x0 - POINTS), ("score", (a * x0 - POINTS) / s**2)):
        unguided, guided = field_vectors(FieldSpec(gamma=gamma, t=t, quantity=quantity), POINTS)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(guided, expected, rtol=0, atol=1e-12 * max(scale, 1.0))
        ref_u = d_u - POINTS if quantity == "x0" else (a * d_u - POINTS) / s**2
        np.testing.assert_allclose(unguided, ref_u, rtol=0, atol=1e-12 * max(np.abs(ref_u).max(), 1.0))


@pytest.mark.parametrize("t", [900, 300, 150, 60, 10])
@pytest.mark.parametrize("gamma", [0.0, 1.0, 7.0])
def test_exact_guided_score_is_the_gradient_of_the_tilted_density(schedule, t, gamma):
    """CFG with the exact model: the guided score is grad log [p_t(x) p_t(y | x)^gamma], the density
    the figure shades (central differences of ``tilted_log_density``, h = 1e-5)."""
    _, score = field_vectors(FieldSpec(gamma=gamma, t=t, quantity="score"), POINTS)
    h = 1e-5
    grad = np.stack([(tilted_log_density(POINTS + h * e, t, 1, gamma, schedule)
                      - tilted_log_density(POINTS - h * e, t, 1, gamma, schedule)) / (2 * h)
                     for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(score, grad, rtol=1e-6, atol=1e-6 * np.abs(grad).max())


@pytest.mark.parametrize("model", ["exact", "neural"])
@pytest.mark.parametrize("guidance,settings", [("cfg", ()), ("classifier", ()), ("interval", ()),
                                               ("cfgpp", (("cfgpp_lambda", 0.0),))])
def test_gamma_zero_guided_field_is_the_unguided_field(model, guidance, settings):
    """At gamma = 0 (CFG++: lambda = 0; the interval: a sigma inside it) guidance leaves the
    unconditional denoiser: guided field == unguided field."""
    spec = FieldSpec(model=model, guidance=guidance, gamma=0.0, t=300, quantity="x0", settings=settings)
    assert 0.3 <= bundle_for(model, guidance).schedule.sigma(300) <= 5.0  # inside the default interval
    xx, yy = square_grid(VIEW_HALF, 9)
    unguided, guided = field_vectors(spec, np.stack([xx.ravel(), yy.ravel()], 1))
    np.testing.assert_allclose(guided, unguided, rtol=0, atol=1e-5 if model == "neural" else 1e-12)


@pytest.mark.parametrize("model", ["exact", "neural"])
@pytest.mark.parametrize("t", [800, 150, 5])
def test_gamma_one_cfg_field_is_the_conditional_field(model, t):
    """CFG at gamma = 1 is the conditional denoiser (guidance 'none' with the label)."""
    xx, yy = square_grid(VIEW_HALF, 9)
    p = np.stack([xx.ravel(), yy.ravel()], 1)
    _, cfg = field_vectors(FieldSpec(model=model, guidance="cfg", gamma=1.0, t=t, quantity="x0"), p)
    _, cond = field_vectors(FieldSpec(model=model, guidance="none", t=t, quantity="x0"), p)
    np.testing.assert_allclose(cfg, cond, rtol=0, atol=1e-5 if model == "neural" else 1e-12)


def test_difference_is_zero_when_both_models_are_exact():
    f = compute_field(FieldSpec(model="exact", t=150, n=11), basins=False, compare=True)
    assert f.exact_guided is not None
    assert np.array_equal(f.difference, np.zeros_like(f.guided))
    assert f.difference_summary()["mean_abs"] == 0.0
    assert f.difference_summary()["weighted"] == 0.0


def test_neural_difference_is_the_two_models_apart():
    """The neural field's difference is its guided field minus the exact model's, point by point."""
    spec = FieldSpec(model="neural", t=150, n=7)
    f = compute_field(spec, basins=False)
    points = np.stack([f.xx.ravel(), f.yy.ravel()], 1)
    exact = field_vectors(spec, points, model="exact")[1].reshape(f.guided.shape)
    np.testing.assert_array_equal(f.difference, f.guided - exact)
    assert f.difference_summary()["mean_abs"] > 0


def test_apg_momentum_does_not_pass_between_points_or_calls():
    """APG with momentum: each grid point's field is what a fresh wrapper gives for that point alone,
    and a second evaluation gives the same numbers (no momentum carried over)."""
    bundle = bundle_for("exact", "apg")
    settings = {"apg_beta": 0.5, "apg_eta": 0.3}
    whole = guided_x0(bundle, "apg", 4.0, settings, POINTS, 200, 1)
    again = guided_x0(bundle, "apg", 4.0, settings, POINTS, 200, 1)
    alone = np.concatenate([guided_x0(bundle, "apg", 4.0, settings, p[None], 200, 1) for p in POINTS])
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_allclose(whole, alone, rtol=0, atol=1e-14)
    # ... while one wrapper used twice would carry its momentum: the test would catch a shared wrapper.
    wrapper = make_guidance("apg", bundle.denoiser, 4.0, settings=settings)
    x, t, y = torch.as_tensor(POINTS), torch.full((5,), 200), torch.full((5,), 1)
    first, second = wrapper(x, t, y), wrapper(x, t, y)
    assert not torch.allclose(first, second)
    np.testing.assert_allclose(first.numpy(), whole, atol=1e-14)


def test_field_is_deterministic():
    spec = FieldSpec(model="neural", guidance="apg", gamma=5.0, t=120, settings=(("apg_beta", 0.5),))
    f, g = compute_field(spec), compute_field(spec)
    for name in ("unguided", "guided", "exact_guided", "density", "base"):
        assert np.array_equal(getattr(f, name), getattr(g, name))
    assert np.array_equal(f.basins.sinks, g.basins.sinks) and np.array_equal(f.basins.labels, g.basins.labels)


# ----------------------------------------------------------------------------- the tilted density

@pytest.mark.parametrize("t", [700, 150, 0])
@pytest.mark.parametrize("gamma", [0.5, 3.0, 7.0, 100.0])
def test_tilted_density_is_proportional_to_marginal_times_posterior_power(schedule, t, gamma):
    """exp(tilted_log_density) / (p_t(x) p_t(y | x)^gamma) is one constant: p_t from the mixture's
    definition, p_t(y | x) from the exact denoiser's posterior (a separate implementation)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, size=(40, 2))
    log_joint, _, _, _ = reference_terms(x, t, schedule)
    log_p = np.logaddexp.reduce(log_joint, axis=1)
    exact = load_bundle("gmm2d", "exact").denoiser
    log_post = exact.log_posterior(torch.as_tensor(x), torch.full((40,), t))[:, 1].numpy()
    ratio = tilted_log_density(x, t, 1, gamma, schedule) - (log_p + gamma * log_post)
    np.testing.assert_allclose(ratio, ratio[0], rtol=0, atol=1e-9)
    log_p2, log_py = log_terms(x, t, 1, schedule)
    np.testing.assert_allclose(log_p2, log_p, atol=1e-12)


def test_figure_density_is_the_tilted_density_on_the_grid(schedule):
    """The shaded ``density`` is the tilted density divided by its peak on the grid; ``base`` is p_t."""
    f = compute_field(FieldSpec(gamma=3.0, t=100), basins=False, density_n=41)
    logd = tilted_log_density(np.stack([f.dx.ravel(), f.dy.ravel()], 1), 100, 1, 3.0, schedule).reshape(f.dx.shape)
    np.testing.assert_allclose(f.density, np.exp(logd - logd.max()), rtol=1e-12)
    assert f.density.max() == 1.0 and f.base.max() == 1.0


# ----------------------------------------------------------------------------- sinks and basins

@pytest.mark.parametrize("gamma", [0.0, 3.0, 7.0])
@pytest.mark.parametrize("t", [999, 400, 150, 60, 0])
def test_guided_sinks_are_maxima_of_the_tilted_density(schedule, t, gamma):
    """For CFG with the exact model the sinks are where the tilted density peaks: at each sink the
    score is small against its size nearby, and the density is higher than a ring of points around it."""
    f = compute_field(FieldSpec(gamma=gamma, t=t))
    main = f.basins.main(0.01)
    assert abs(f.basins.share.sum() - 1.0) < 1e-12
    cell = 2 * f.basins.xx.max() / (BASIN_GRID - 1)
    ring = cell * np.stack([np.cos(np.linspace(0, 2 * np.pi, 16, endpoint=False)),
                            np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False))], 1)
    for k in main:
        sink = f.basins.sinks[k]
        at = tilted_log_density(sink[None], t, 1, gamma, schedule)[0]
        around = tilted_log_density(sink + ring, t, 1, gamma, schedule)
        assert np.all(around < at + 1e-9), (t, gamma, sink)


def test_clean_level_sinks_are_the_blobs():
    """Near the clean data the unguided field has one sink per component, each draining 1/9 of p_t;
    the guided one (gamma 7, class B) one per blob of class B, each a third of the tilted mass."""
    f = compute_field(FieldSpec(gamma=7.0, t=0))
    base = f.base_basins.main(0.01)
    assert len(base) == 9
    np.testing.assert_allclose(f.base_basins.share[base], 1 / 9, atol=0.01)
    guided = f.basins.main(0.01)
    blobs = GMM.means[GMM.comp_class == 1]
    assert len(guided) == 3
    assert np.linalg.norm(f.basins.sinks[guided][:, None] - blobs[None], axis=-1).min(1).max() < 0.05
    np.testing.assert_allclose(f.basins.share[guided], 1 / 3, atol=0.01)


def test_one_guided_sink_at_high_noise():
    """At gamma = 7 everything at high noise drains to one sink (the tilted density has one mode)."""
    f = compute_field(FieldSpec(gamma=7.0, t=400))
    assert len(f.basins.main(0.01)) == 1 and f.basins.share.max() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- settings

@pytest.mark.parametrize("bad,message", [
    (dict(data="digits"), "gmm2d only"), (dict(t=-1), "t must be"), (dict(t=1000), "t must be"),
    (dict(gamma=float("nan")), "gamma"), (dict(gamma=101.0), "gamma"), (dict(guidance="cfgzzz"), "unknown guidance"),
    (dict(model="big"), "unknown model"), (dict(label=3), "label"), (dict(n=1), "n must be"),
    (dict(quantity="eps"), "field quantity"), (dict(settings=(("apg_beta", 1.0),)), "apg beta"),
])
def test_bad_settings_raise_one_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        compute_field(FieldSpec(**bad))


@pytest.mark.skipif("cfgzero" not in GUIDANCE_NAMES, reason="CFG-Zero* is not registered")
def test_cfgzero_field_is_past_its_zeroed_steps():
    """CFG-Zero* zeroes the first levels a wrapper meets; a field is one level of no run, so it shows
    the method past them: at gamma = 1 that is conditional sampling (the paper's reduction), not
    the zeroed velocity (x0 = a x_t) a fresh wrapper's first call would give."""
    _, zero_star = field_vectors(FieldSpec(guidance="cfgzero", gamma=1.0, t=300, quantity="x0"), POINTS)
    _, cond = field_vectors(FieldSpec(guidance="none", t=300, quantity="x0"), POINTS)
    np.testing.assert_allclose(zero_star, cond, rtol=0, atol=1e-10)


def test_field_series_is_one_field_per_frame():
    series = field_series(FieldSpec(n=5, t=3), num_frames=3)
    assert [f.spec.t for f in series] == [999, 500, 0]
    assert all(f.spec.n == 5 and f.basins is not None for f in series)
