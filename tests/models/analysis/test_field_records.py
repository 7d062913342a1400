"""models.analysis.field_records: the exact tilted density, the basins of a field, the frames' noise levels and
the sentences computed from the basins (numpy only: made-up fields and densities)."""

import math

import numpy as np
import pytest

from models.engine.data import make_gmm2d
from models.analysis.field_records import (Basins, FieldSpec, GuidedField, describe_basins, describe_series, flow_sinks,
                               frame_timesteps, square_grid, tilted_log_density)

GMM = make_gmm2d()


# ----------------------------------------------------------------------------- the tilted density

@pytest.mark.parametrize("t", [999, 300, 50, 0])
def test_tilted_density_at_gamma_zero_integrates_to_one(schedule, t):
    """At gamma = 0 the tilted density is p_t itself, normalised: its integral over a box reaching
    10 standard deviations past every component is 1 (trapezoid rule; the box misses < 1e-20)."""
    abar = float(schedule.alphas_cumprod[t])
    half = math.sqrt(abar) * np.abs(GMM.means).max() + 10 * math.sqrt(abar * GMM.stds.max() ** 2 + 1 - abar)
    xs = np.linspace(-half, half, 1201)
    xx, yy = np.meshgrid(xs, xs)
    dens = np.exp(tilted_log_density(np.stack([xx.ravel(), yy.ravel()], 1), t, 1, 0.0, schedule)).reshape(xx.shape)
    assert np.trapezoid(np.trapezoid(dens, xs, axis=1), xs) == pytest.approx(1.0, abs=1e-6)


def test_tilt_gamma_follows_the_method():
    assert FieldSpec(guidance="cfg", gamma=4.0).tilt_gamma == 4.0
    assert FieldSpec(guidance="none", gamma=4.0).tilt_gamma == 1.0
    assert FieldSpec(guidance="cfgpp", gamma=4.0, settings=(("cfgpp_lambda", 0.25),)).tilt_gamma == 0.25


# ----------------------------------------------------------------------------- sinks and basins

def test_flow_sinks_of_two_wells():
    """A field pointing to the nearer of two centres has two sinks at those centres, each basin the
    half-plane on its side, its share the weight there."""
    half, m = 2.0, 41
    xx, yy = square_grid(half, m)
    p = np.stack([xx, yy], -1)
    c1, c2 = np.array([-0.8, 0.3]), np.array([0.9, -0.2])
    near1 = np.linalg.norm(p - c1, axis=-1) < np.linalg.norm(p - c2, axis=-1)
    v = np.where(near1[..., None], c1 - p, c2 - p)
    weights = np.where(xx < 0, 3.0, 1.0)
    b = flow_sinks(v, half, 0.5, weights)
    main = b.main(0.01)
    assert len(main) == 2
    np.testing.assert_allclose(np.sort(b.sinks[main], axis=0), np.sort(np.stack([c1, c2]), axis=0), atol=0.02)
    first = main[np.argmin(np.linalg.norm(b.sinks[main] - c1, axis=1))]
    assert np.array_equal(b.labels == first, near1)
    assert b.share[first] == pytest.approx(weights[near1].sum() / weights.sum())
    assert b.settled


def test_frame_timesteps_run_from_noisiest_to_clean(schedule):
    ts = frame_timesteps(30, schedule.T)
    assert ts[0] == 999 and ts[-1] == 0 and len(ts) == 30 and np.all(np.diff(ts) < 0)
    with pytest.raises(ValueError):
        frame_timesteps(1, schedule.T)


def test_main_labels_give_tiny_basins_to_their_neighbours():
    """A third well holding almost no mass: ``main_labels`` hands its points to the two main basins."""
    half, m = 2.0, 41
    xx, yy = square_grid(half, m)
    p = np.stack([xx, yy], -1)
    centres = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.6]])
    nearest = np.linalg.norm(p[:, :, None] - centres, axis=-1).argmin(-1)
    v = centres[nearest] - p
    weights = np.where(nearest == 2, 1e-6, 1.0)
    b = flow_sinks(v, half, 0.5, weights)
    assert len(b.sinks) == 3 and len(b.main(0.01)) == 2
    tiny = [k for k in range(3) if k not in b.main(0.01)][0]
    merged = b.main_labels(0.01)
    assert not np.any(merged == tiny)
    assert np.array_equal(merged[b.labels != tiny], b.labels[b.labels != tiny])



# ----------------------------------------------------------------------------- words from numbers

def made_up(t: int, shares, gamma: float = 7.0) -> GuidedField:
    """A field whose guided basins have these shares (all else placeholder arrays)."""
    shares = np.asarray(shares, np.float64)
    k = len(shares)
    basins = Basins(sinks=np.zeros((k, 2)), share=shares, labels=np.zeros((2, 2), np.int64),
                    xx=np.zeros((2, 2)), yy=np.zeros((2, 2)), settled=True)
    z = np.zeros((2, 2, 2))
    sigma = {999: 157.0, 500: 3.4, 200: 0.72, 100: 0.34, 50: 0.18, 0: 0.01}[t]
    return GuidedField(spec=FieldSpec(t=t, gamma=gamma), schedule=None, a=1.0, s=1.0, sigma=sigma, xx=z[..., 0],
                       yy=z[..., 0], unguided=z, guided=z, exact_guided=None, dx=z[..., 0], dy=z[..., 0],
                       density=z[..., 0], base=z[..., 0], centres=np.zeros((9, 2)), comp_class=GMM.comp_class,
                       basins=basins, base_basins=None)


def test_describe_basins_counts_the_sinks_and_their_shares():
    assert describe_basins(made_up(100, [0.86, 0.07, 0.07]), "B") == (
        "At σ = 0.34 the guided field has 3 sinks; the tilted density's mass splits 86 %, 7 %, 7 % between their "
        "basins (class B).")
    assert "has one sink" in describe_basins(made_up(999, [1.0]), "B")
    assert "2 sinks" in describe_basins(made_up(100, [0.6, 0.395, 0.005]), "B")  # under 1 %: not a sink to count


def test_describe_series_single_sink_then_a_lasting_majority():
    series = [made_up(999, [1.0]), made_up(500, [1.0]), made_up(200, [0.8, 0.2]), made_up(100, [0.86, 0.07, 0.07]),
              made_up(50, [0.47, 0.27, 0.26]), made_up(0, [0.34, 0.33, 0.33])]
    text = describe_series(series, "B")
    assert text.startswith("At γ = 7 the guided field has a single sink from the noisiest level down to t = 500 "
                           "(σ = 3.4); its basins split below that, but the largest basin keeps more than half of the "
                           "tilted density down to t = 100 (σ = 0.34).")
    assert text.endswith("At t = 0 (σ = 0.01) the tilted density (class B) splits 34 %, 33 %, 33 % between the basins.")


def test_describe_series_other_shapes():
    one = describe_series([made_up(999, [1.0]), made_up(0, [1.0])], "B")
    assert "one sink at every noise level" in one
    even = describe_series([made_up(999, [0.5, 0.5]), made_up(0, [0.5, 0.5])], "B")
    assert even.startswith("At γ = 7 the guided field has several sinks from the noisiest level on.")
    always = describe_series([made_up(999, [1.0]), made_up(0, [0.6, 0.4])], "B")
    assert "keeps more than half of the tilted density at every level" in always
    quick = describe_series([made_up(999, [1.0]), made_up(100, [0.4, 0.3, 0.3]), made_up(0, [0.34, 0.33, 0.33])], "B")
    assert "more than half" not in quick
    with pytest.raises(ValueError):
        describe_series([], "B")
