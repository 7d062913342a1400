"""ui.run_cache: runs cached on their named spec (every field counts, equal specs share an entry), a bad
spec refused in one sentence, and the shared basis of the side-by-side page. (The pictures drawn from the
cached runs: test_view_cache.py.)"""

from dataclasses import replace

import numpy as np
import pytest

import ui.run_cache
from ui.runs import Settings, run_spec
from viz.draw.projection import pca_projection


S = Settings(data="gmm2d", model="exact", sampler="ddpm", steps=4, seed=1, label=1, projection="pca")


@pytest.fixture
def runs(sample_calls):
    """The specs sampled by ``ui.run_cache.cached_trajectory`` (the shared ``sample_calls`` fixture)."""
    return sample_calls


def test_specs_differing_only_in_a_zoo_setting_are_two_cached_runs(runs):
    apg = run_spec(S, "apg", 5.0, zoo={"apg_eta": 0.0})
    other = replace(apg, apg_eta=1.0)
    a, b = ui.run_cache.cached_trajectory(apg), ui.run_cache.cached_trajectory(other)
    assert runs == [apg, other]
    assert not np.array_equal(a.x, b.x)  # a different run, not the first one served again
    assert (a.meta["apg_eta"], b.meta["apg_eta"]) == (0.0, 1.0)
    for name, value in (("apg_r", 2.0), ("apg_beta", -0.5), ("seed", 2), ("label", 0), ("gamma", 4.0)):
        ui.run_cache.cached_trajectory(replace(apg, **{name: value}))
        assert runs[-1] == replace(apg, **{name: value}), name
    assert len(runs) == 7


def test_an_equal_spec_is_served_from_the_cache(runs):
    first = ui.run_cache.cached_trajectory(run_spec(S, "cfg", 3, zoo={"rescale_phi": 1}))
    again = ui.run_cache.cached_trajectory(run_spec(S, "cfg", 3.0, zoo={"rescale_phi": 1.0}))  # built anew, equal
    assert len(runs) == 1 and np.array_equal(first.x, again.x)


def test_a_bad_spec_is_refused_with_one_sentence():
    with pytest.raises(ValueError, match="cfgpp"):
        ui.run_cache.cached_trajectory(run_spec(S, "cfgpp", 3.0))  # CFG++ is defined for DDIM only


def test_the_side_by_side_basis_is_shared_only_where_the_runs_own_ones_differ():
    digits = Settings("digits", "exact", "ddpm", 4, 0, 1, "pca")
    left, right = run_spec(digits, "cfg", 1.0), run_spec(digits, "cfg", 5.0)
    plain, conditional = ui.run_cache.reference_runs(left)
    assert (plain.gamma, conditional.gamma) == (0.0, 1.0) and plain.seed == left.seed and plain.label == left.label
    key = ui.run_cache.shared_basis((left, right), "pca")
    assert key == (plain, conditional)  # each run's PCA differs: one for both, from the same noise
    assert ui.run_cache.shared_basis((left, right), "plane") == key  # each step's exact plane differs too
    # neither the method nor γ of a column moves the basis: a γ move redraws no other column's view
    assert ui.run_cache.shared_basis((left, run_spec(digits, "apg", 9.5)), "pca") == key
    assert ui.run_cache.shared_basis((run_spec(replace(digits, seed=3), "cfg", 1.0), right), "pca") != key
    assert ui.run_cache.shared_basis((left, right), "pca_data") is None  # the same for any run already
    assert ui.run_cache.shared_basis((left, right), "random") is None  # seeded by the sidebar's seed: the same
    both = ui.run_cache.basis_of(key, "pca")
    points = np.concatenate([np.concatenate([t.x.reshape(-1, 64), t.x0_hat.reshape(-1, 64)])
                             for t in (ui.run_cache.cached_trajectory(plain), ui.run_cache.cached_trajectory(conditional))])
    assert both.kind == "pca" and np.allclose(np.abs(both.basis @ pca_projection(points).basis.T), np.eye(2), atol=1e-6)
    assert "γ = 0 and 1" in both.note  # the figure says which basis it is drawn in
    mixture = Settings("gmm2d", "exact", "ddpm", 4, 0, 1, "pca")
    pair = (run_spec(mixture, "cfg", 1.0), run_spec(mixture, "cfg", 5.0))
    assert ui.run_cache.shared_basis(pair, "pca") == ui.run_cache.IDENTITY and ui.run_cache.basis_of(ui.run_cache.IDENTITY, "pca").exact


def test_vp_beside_flow_shares_one_basis_fitted_on_both_paths_and_each_path_loads_its_own_model():
    from ui.runs import on_path

    digits = Settings("digits", "exact", "ddim", 4, 0, 1, "pca")
    vp = run_spec(digits, "cfg", 3.0)
    flow = on_path(vp, "flow", 3.0)
    key = ui.run_cache.shared_basis((vp, flow), "pca")
    assert key == ui.run_cache.reference_runs(vp) + ui.run_cache.reference_runs(flow)  # 4 runs, both paths
    assert [(r.path, r.shift, r.sampler, r.gamma) for r in key] == [
        ("vp", 1.0, "ddim", 0.0), ("vp", 1.0, "ddim", 1.0), ("flow", 3.0, "euler", 0.0), ("flow", 3.0, "euler", 1.0)]
    assert ui.run_cache.basis_of(key, "pca").kind == "pca"
    # one path: the two reference runs, as before paths existed
    assert ui.run_cache.shared_basis((flow, replace(flow, gamma=7.0)), "pca") == ui.run_cache.reference_runs(flow)
    on_vp, _ = ui.run_cache.bundle_or_fallback("gmm2d", "exact")
    on_flow, _ = ui.run_cache.bundle_or_fallback("gmm2d", "exact", (), "flow", 3.0)
    assert on_vp is not on_flow and on_flow.schedule.shift == 3.0  # the cache keys on path and shift
    traj = ui.run_cache.cached_trajectory(run_spec(replace(S, path="flow", sampler="heun", shift=3.0), "cfg", 2.0))
    assert traj.path == "flow" and traj.meta["shift"] == 3.0
