"""models.engine.pipeline: same spec, same arrays; the meta records the spec; bad settings fail with helpful errors;
``sampler = "tilted"`` is one step of exact draws where an exact target exists and a clear error elsewhere, and
the corrector's settings reach the sampler and the record; every model runs on both paths (vp, flow) and the path's
refusals are one sentence each. Saving and loading a run is tested in test_trajectory.py."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from models.analysis.tilted_target import tilted_sample
from models.engine.data import DATA_NAMES
from models.engine.loading import MODEL_NAMES
from models.engine.pipeline import TILTED_GUIDANCE, SampleSpec, run
from models.engine.samplers import SAMPLER_NAMES
from models.engine.trajectory import Trajectory
from models.flow.path import FlowSchedule
from models.guidance import GUIDANCE_NAMES, META_NAMES


def spec(**kw) -> SampleSpec:
    """A small exact-model run; keywords override."""
    base = dict(data="gmm2d", model="exact", sampler="ddpm", guidance="cfg", gamma=3.0, label=1,
                steps=6, seed=0, batch=2, eta=0.0)
    base.update(kw)
    return SampleSpec(**base)


def _arrays_equal(a: Trajectory, b: Trajectory) -> None:
    fa, fb = a.to_arrays(), b.to_arrays()
    assert fa.keys() == fb.keys()
    for k in fa:
        assert fa[k].dtype == fb[k].dtype, k
        assert np.array_equal(fa[k], fb[k]), k


# Every sampler, DDIM both deterministic and stochastic, and each kind of guidance the exact model has.
CASES = [dict(sampler=s) for s in SAMPLER_NAMES] + [
    dict(sampler="ddim", eta=1.0), dict(sampler="ddpm", guidance="classifier"),
    dict(sampler="heun", guidance="none", label=-1), dict(sampler="dpmpp2m", guidance="none", label=2)]


@pytest.mark.parametrize("data", DATA_NAMES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_same_seed_same_arrays_different_seed_different(data, case):
    first, second = run(spec(data=data, **case), device="cpu"), run(spec(data=data, **case), device="cpu")
    _arrays_equal(first, second)
    assert first.meta == second.meta
    other = run(spec(data=data, seed=1, **case), device="cpu")
    assert not np.array_equal(first.x[0], other.x[0])
    assert not np.allclose(first.samples, other.samples)


def test_meta_records_the_spec():
    s = spec(sampler="ddim", guidance="classifier", gamma=2.5, seed=42, data="digits")
    tr = run(s, device="cpu")
    assert set(tr.meta) == set(META_NAMES)
    assert tr.meta == {k: getattr(s, k) for k in META_NAMES}
    assert tr.x.shape == (s.steps + 1, s.batch, 64)
    np.testing.assert_array_equal(tr.labels, s.label)


@pytest.mark.parametrize("field, valid", [("sampler", SAMPLER_NAMES), ("model", MODEL_NAMES),
                                          ("data", DATA_NAMES), ("guidance", GUIDANCE_NAMES)])
def test_unknown_names_list_valid_ones(field, valid):
    bad = spec(**{field: "nonsense"})
    for call in (bad.validate, lambda: run(bad, device="cpu")):
        with pytest.raises(ValueError) as err:
            call()
        assert "nonsense" in str(err.value)
        for name in valid:
            assert name in str(err.value)


@pytest.mark.parametrize("bad", [dict(steps=0), dict(steps=1001), dict(steps=-3), dict(gamma=math.nan),
                                 dict(gamma=math.inf), dict(gamma=-math.inf), dict(batch=0), dict(batch=-1),
                                 dict(label=3), dict(label=-2), dict(label=-1, guidance="cfg"),
                                 dict(eta=-0.5), dict(eta=math.nan), dict(seed=-1)],
                         ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
def test_bad_settings_raise_value_error(bad):
    s = spec(**bad)
    with pytest.raises(ValueError):
        s.validate()
    with pytest.raises(ValueError):
        run(s, device="cpu")


@pytest.mark.parametrize("bad", [dict(steps=2.5), dict(batch=2.5), dict(label=1.5), dict(seed=1.5)],
                         ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
def test_non_integer_counts_raise_value_error_in_validate(bad):
    """validate() is the one place that turns bad input into a clear ValueError (STYLE.md point 8): a
    fractional label must not be truncated to a class silently, nor a fractional batch or seed reach torch."""
    with pytest.raises(ValueError):
        spec(**bad).validate()


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec().steps = 3


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
@pytest.mark.parametrize("steps", [1, 1000])
def test_one_and_thousand_steps_are_finite(sampler, steps):
    tr = run(spec(sampler=sampler, steps=steps, eta=1.0 if sampler == "ddim" else 0.0), device="cpu")
    assert tr.steps == steps
    assert tr.x.shape == (steps + 1, 2, 2)
    assert np.isfinite(tr.x).all() and np.isfinite(tr.x0_hat).all()
    np.testing.assert_array_equal(tr.timesteps, np.arange(999, -1, -1) if steps == 1000 else [999])


@pytest.mark.parametrize("sampler, steps", [("ddpm", 1), ("heun", 1), ("ddpm", 1000)])
def test_digits_one_and_thousand_steps_are_finite(sampler, steps):
    """At t = 0 (s = 0.01) the memorising denoiser's softmax is at its sharpest; still finite, in [-1, 1]."""
    tr = run(spec(data="digits", sampler=sampler, steps=steps, label=7), device="cpu")
    assert np.isfinite(tr.x).all() and np.isfinite(tr.x0_hat).all()
    assert np.abs(tr.x0_uncond).max() <= 1 + 1e-5 and np.abs(tr.x0_cond).max() <= 1 + 1e-5


@pytest.mark.parametrize("guidance, recorded", [
    ("rescale", {"rescale_phi": 0.5}), ("apg", {"apg_eta": 0.25, "apg_r": math.inf, "apg_beta": -0.5}),
    ("interval", {"interval_lo": 0.0, "interval_hi": math.inf}), ("autoguidance", {}), ("cfgpp", {"cfgpp_lambda": 0.4}),
    ("cfg", {})])
def test_zoo_runs_record_their_own_settings_and_save_them(tmp_path, guidance, recorded):
    """A zoo run's meta holds its method's settings (and only those; no gamma for CFG++, which does not read it),
    through np.savez and back (inf too)."""
    settings = dict(rescale_phi=0.5, apg_eta=0.25, apg_r=math.inf, apg_beta=-0.5, interval_lo=0.0,
                    interval_hi=math.inf, cfgpp_lambda=0.4)
    s = spec(guidance=guidance, sampler="ddim" if guidance == "cfgpp" else "ddpm", steps=3, **settings)
    tr = run(s, device="cpu")
    general = [k for k in META_NAMES if not (guidance == "cfgpp" and k == "gamma")]  # CFG++ reads its lambda, not gamma
    assert tr.meta == {**{k: getattr(s, k) for k in general}, **recorded}
    assert ("gamma" in tr.meta) == (guidance != "cfgpp")
    tr.save_npz(tmp_path / "zoo.npz")
    back = Trajectory.load_npz(tmp_path / "zoo.npz")
    assert back.meta == tr.meta
    assert {k: type(v) for k, v in back.meta.items()} == {k: type(v) for k, v in tr.meta.items()}


# --- --sampler tilted and --corrector-steps --------------------------------------------------------

TILTED = dict(data="gmm2d", model="exact", sampler="tilted", guidance="cfg")


def test_tilted_run_is_a_one_step_trajectory_of_exact_draws(tmp_path):
    spec = SampleSpec(**TILTED, gamma=3.0, label=1, batch=50, seed=4, steps=100)
    traj = run(spec, device="cpu")
    assert traj.steps == 1 and traj.timesteps.tolist() == [999] and traj.x.shape == (2, 50, 2)
    np.testing.assert_array_equal(traj.samples, tilted_sample(50, 1, 3.0, 4))
    np.testing.assert_array_equal(traj.x0_hat[0], traj.samples)
    assert not traj.noise.any() and traj.labels.tolist() == [1] * 50
    # x_T is a draw of the forward process given the sample: at abar_T ~ 4e-5 it is almost pure noise.
    assert abs(float(traj.x[0].std()) - 1.0) < 0.2
    assert traj.meta["sampler"] == "tilted" and traj.meta["steps"] == 1 and traj.meta["gamma"] == 3.0
    np.testing.assert_array_equal(run(spec, device="cpu").x, traj.x)  # same seed, same draws
    traj.save_npz(tmp_path / "t.npz")
    back = Trajectory.load_npz(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.x, traj.x)
    assert back.meta == traj.meta


def test_tilted_run_honours_per_sample_labels():
    labels = np.arange(30) % 3
    x = run(SampleSpec(**TILTED, gamma=7.0, batch=30, seed=2), device="cpu", labels=labels).samples
    for c in range(3):
        np.testing.assert_array_equal(x[labels == c], tilted_sample(10, c, 7.0, 2))


@pytest.mark.parametrize("changes, message", [
    (dict(data="digits"), "no exact tilted target for the digits data set"),
    (dict(model="neural"), "not the neural model's"),
    (dict(gamma=-0.5), "gamma >= 0"),
    (dict(guidance="apg"), "guidance 'apg' has no such target"),
    (dict(label=-1), "needs a class label"),
    (dict(corrector_steps=2), "corrector steps do not apply"),
])
def test_tilted_spec_refuses_what_has_no_exact_target(changes, message):
    with pytest.raises(ValueError, match=message):
        SampleSpec(**(TILTED | dict(gamma=1.0, label=1) | changes)).validate()


def test_every_aiming_guidance_gives_the_same_exact_draws():
    runs = [run(SampleSpec(**(TILTED | dict(guidance=g)), gamma=2.0, label=0, batch=20), device="cpu").samples
            for g in TILTED_GUIDANCE]
    for x in runs[1:]:
        np.testing.assert_array_equal(x, runs[0])


def test_corrector_settings_reach_the_sampler_and_the_record():
    base = dict(data="gmm2d", model="exact", sampler="ddpm", gamma=3.0, label=1, steps=10, batch=16, seed=1)
    plain = run(SampleSpec(**base), device="cpu")
    corrected = run(SampleSpec(**base, corrector_steps=2, corrector_snr=0.2), device="cpu")
    assert not np.array_equal(plain.x[1:], corrected.x[1:])
    assert corrected.meta["corrector_steps"] == 2 and corrected.meta["corrector_snr"] == 0.2
    assert "corrector_steps" not in plain.meta  # runs without a corrector record what they did before
    np.testing.assert_array_equal(run(SampleSpec(**base, corrector_steps=0, corrector_snr=0.3), device="cpu").x, plain.x)


@pytest.mark.parametrize("changes, message", [
    (dict(corrector_steps=-1), "corrector steps"), (dict(corrector_steps=2.5), "corrector.steps must be an integer"),
    (dict(corrector_steps=101), "corrector steps"), (dict(corrector_snr=0.0), "corrector snr"),
    (dict(corrector_snr=float("nan")), "corrector snr"), (dict(corrector_snr="0.2"), "corrector.snr must be a number"),
])
def test_bad_corrector_settings_are_one_sentence(changes, message):
    with pytest.raises(ValueError, match=message):
        SampleSpec(data="gmm2d", model="exact", **changes).validate()


# --- the flow path (models.flow) -----------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    (dict(path="flow", sampler="ddim"), "sampler 'ddim' does not run on the flow path; there use euler, heun, ddpm "
                                        r"\(DDIM with eta 0 is Euler there\)"),
    (dict(path="flow", sampler="dpmpp2m"), "sampler 'dpmpp2m' does not run on the flow path"),
    (dict(path="vp", shift=3.0), "shift = 3 is read on the flow path only: use path flow, or shift 1"),
    (dict(path="flow", sampler="euler", corrector_steps=2), "corrector steps run on the vp path only"),
    (dict(path="ve"), "unknown path 've'; valid: vp, flow"),
    (dict(path="flow", sampler="euler", shift=0.0), "shift"),
    (dict(path="flow", sampler="euler", shift=math.nan), "shift"),
])
def test_path_refusals_are_one_value_error(changes, message):
    s = spec(**changes)
    for call in (s.validate, lambda: run(s, device="cpu")):
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("path, sampler", [("vp", "ddim"), ("flow", "euler"), ("flow", "heun"), ("flow", "ddpm")])
def test_every_model_runs_on_every_path(model, path, sampler):
    """The exact model, the VP network and the flow network each sample on both paths (a network of the other
    path through the change of variables), same seed same arrays, and the record says which path."""
    s = spec(model=model, path=path, sampler=sampler, steps=5, shift=3.0 if path == "flow" else 1.0)
    first, second = run(s, device="cpu"), run(s, device="cpu")
    _arrays_equal(first, second)
    assert first.path == path and first.meta["path"] == path and np.isfinite(first.x).all()
    assert ("shift" in first.meta) == (path == "flow")
    if path == "flow":
        assert first.alphas_cumprod is None and first.timesteps.dtype == np.float64
        np.testing.assert_array_equal(first.timesteps, FlowSchedule(3.0).timesteps(5))
        np.testing.assert_array_equal(first.alpha + first.sigma, 1.0)
    else:
        np.testing.assert_allclose(first.alpha**2 + first.sigma**2, 1.0, rtol=1e-12)


def test_flow_meta_records_path_and_shift():
    s = spec(path="flow", sampler="euler", shift=2.5)
    tr = run(s, device="cpu")
    assert tr.meta == {**{k: getattr(s, k) for k in META_NAMES}, "shift": 2.5}
