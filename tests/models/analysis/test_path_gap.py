"""models.analysis.path_gap: the per-level distances are RMS distances on the flow path's marginal, computed against
an independent VP-path reference at levels that map onto VP steps; seeded; the three distances of a level obey
the triangle inequality; bad arguments are one ValueError each."""

import numpy as np
import pytest
import torch

from models.analysis.path_gap import GAP_NAMES, PAIRS, PARTS, gap_table, path_gap
from models.engine.data import make_gmm2d
from models.engine.loading import load_bundle
from models.engine.schedule import make_schedule
from models.flow.path import FlowSchedule, match_level

VP = make_schedule("linear")


@pytest.fixture(scope="module")
def gap():
    return path_gap("gmm2d", [0.9, 0.3, 1.0, 0.05], n=300, seed=4)


def test_answer_is_plain_numpy_in_the_given_order(gap):
    assert set(gap) == {"sigma", "vp_t", "vp_clipped", *GAP_NAMES}
    assert all(isinstance(v, np.ndarray) and v.shape == (4,) for v in gap.values())
    np.testing.assert_array_equal(gap["sigma"], [0.9, 0.3, 1.0, 0.05])
    assert gap["vp_clipped"].tolist() == [False, False, True, False]  # sigma = 1 lies past VP's noisiest step
    np.testing.assert_allclose(gap["vp_t"], match_level(1 - gap["sigma"], gap["sigma"], VP)[1])
    for name in GAP_NAMES:
        assert np.all(np.isfinite(gap[name])) and np.all(gap[name] > 0), name


def test_the_three_distances_obey_the_triangle_inequality(gap):
    """RMS over the same points is a norm: |native - mapped| <= |native - exact| + |mapped - exact|."""
    for part in PARTS:
        d = {pair: gap[f"{part}_{pair}"] for pair in PAIRS}
        assert np.all(d["native_vs_mapped"] <= d["native_vs_exact"] + d["mapped_vs_exact"] + 1e-12)
        assert np.all(d["native_vs_exact"] <= d["native_vs_mapped"] + d["mapped_vs_exact"] + 1e-12)


def test_same_seed_same_numbers_other_seed_others(gap):
    again = path_gap("gmm2d", [0.9, 0.3, 1.0, 0.05], n=300, seed=4)
    for k in gap:
        np.testing.assert_array_equal(again[k], gap[k])
    other = path_gap("gmm2d", [0.3], n=300, seed=5)
    assert other["cond_native_vs_mapped"][0] != gap["cond_native_vs_mapped"][1]


@pytest.mark.parametrize("vp_t", [120, 600])
def test_mapped_distance_equals_the_vp_paths_own_at_a_matched_step(vp_t):
    """At the flow level of VP step t, the mapped network's and the exact model's predictions are the VP path's own
    at x / k: the distance computed on the VP path, without OnPath, is the same number."""
    k, t_flow, _, _ = match_level(VP.a(vp_t), VP.s(vp_t), FlowSchedule())
    sigma, n, seed = float(t_flow) / 1000, 400, 11
    gap = path_gap("gmm2d", [sigma], n=n, seed=seed)
    rng = np.random.default_rng(seed)  # the module's draws: the mixture's points, then the noise
    x0, y = make_gmm2d().sample(n, rng)
    eps = rng.standard_normal(x0.shape)
    x_vp = torch.as_tensor(((1 - sigma) * x0 + sigma * eps) / float(k))
    t = torch.full((n,), vp_t)
    net, exact = load_bundle("gmm2d", "neural").denoiser, load_bundle("gmm2d", "exact").denoiser
    for part, label in (("cond", torch.as_tensor(y)), ("uncond", None)):
        with torch.no_grad():
            ref = float(np.sqrt(np.mean((net(x_vp, t, label) - exact(x_vp, t, label)).numpy() ** 2)))
        np.testing.assert_allclose(gap[f"{part}_mapped_vs_exact"][0], ref, rtol=1e-4)


def test_digits_run_and_table():
    gap = path_gap("digits", [0.5], n=20, seed=0)
    assert gap["cond_native_vs_exact"].shape == (1,)
    lines = gap_table(gap, "uncond").splitlines()
    assert len(lines) == 2 and lines[0].split() == ["sigma", "vp", "t", "native-mapped", "native-exact", "mapped-exact"]
    assert lines[1].split()[0] == "0.50"


@pytest.mark.parametrize("kwargs, message", [
    (dict(data="mnist"), "unknown data set 'mnist'; valid: digits, gmm2d"),
    (dict(sigmas=[0.0, 0.5]), r"sigmas must be levels in \(0, 1\]"),
    (dict(sigmas=[1.5]), r"sigmas must be levels in \(0, 1\]"),
    (dict(sigmas=[]), r"sigmas must be levels in \(0, 1\]"),
    (dict(n=0), "n must be an integer in 1..100000"),
    (dict(n=2.5), "n must be an integer in 1..100000"),
])
def test_bad_arguments_are_one_value_error(kwargs, message):
    args = dict(data="gmm2d", sigmas=[0.5], n=10) | kwargs
    with pytest.raises(ValueError, match=message):
        path_gap(**args)
    with pytest.raises(ValueError, match="unknown part"):
        gap_table({}, "both")
