"""ui.runs: the pages' runs as named specs, and the command lines that repeat them exactly."""

import math
import shlex
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import models.analysis.evaluate
import viz.export
import viz.draw.geometry
from models.engine.pipeline import SampleSpec, run
from models.engine.settings import GAMMA
from models.guidance import ZOO_NAMES, settings_for
from ui.view_cache import GIF_FPS, GIF_FRAMES
from ui.runs import (BATCH, OPENING_SHARE, Settings, Sweep, evaluate_command, export_command, non_finite_parts,
                     readable_step, run_spec, samples_off_data, with_gammas, zoo_values)

S = Settings(data="digits", model="exact", sampler="ddpm", steps=7, seed=3, label=2, projection="pca")


def test_run_spec_reads_the_sidebar_and_overrides_by_name():
    spec = run_spec(S, "cfg", 2.5)
    assert spec == SampleSpec(data="digits", model="exact", sampler="ddpm", guidance="cfg", gamma=2.5, label=2,
                              steps=7, seed=3, batch=BATCH, eta=0.0)
    other = run_spec(S, "apg", 4, label=-1, model="neural", sampler="heun", zoo={"apg_eta": 0.5}, batch=3)
    assert (other.guidance, other.gamma, other.label, other.model, other.sampler, other.apg_eta, other.batch) == \
        ("apg", 4.0, -1, "neural", "heun", 0.5, 3)
    assert other.apg_r == SampleSpec().apg_r  # settings left out keep their defaults


def test_equal_settings_make_equal_specs_of_the_same_types():
    """Streamlit hashes 3 and 3.0 differently: run_spec makes them one spec, one cache entry."""
    a, b = run_spec(S, "cfg", 3, zoo={"rescale_phi": 1}), run_spec(S, "cfg", 3.0, zoo={"rescale_phi": 1.0})
    assert a == b and hash(a) == hash(b)
    assert type(a.gamma) is float and type(a.rescale_phi) is float and type(a.label) is int


def test_an_unknown_zoo_setting_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown zoo settings \['apg_gamma'\]"):
        run_spec(S, "apg", 3.0, zoo={"apg_gamma": 1.0})


def test_with_gammas_changes_only_gamma():
    spec = run_spec(S, "apg", 3.0, zoo={"apg_eta": 0.2})
    specs = with_gammas(spec, (0.0, 1, 7.0))
    assert [s.gamma for s in specs] == [0.0, 1.0, 7.0]
    assert all(replace(s, gamma=spec.gamma) == spec for s in specs)


@pytest.mark.parametrize("method", ["none", "cfg", "rescale", "apg", "interval", "autoguidance", "cfgpp"])
def test_zoo_values_are_the_methods_declared_settings(method):
    spec = run_spec(S, method, 3.0)
    assert list(zoo_values(spec)) == [s.name for s in settings_for(method)]
    assert set(zoo_values(spec)) <= set(ZOO_NAMES)


def _parsed_by_export(command: str, monkeypatch) -> tuple[SampleSpec, str, str, int, float]:
    """What ``python -m viz.export`` makes of ``command``: its spec, view, projection, frames and fps."""
    seen = []

    def export(spec, figure, projection, out, npz=None, device="auto", frames=101, fps=10.0, sample=0):
        seen.append((spec, figure, projection, frames, fps))
        return SimpleNamespace(steps=spec.steps), b""

    monkeypatch.setattr(viz.export, "export", export)
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "viz.export"]
    assert viz.export.main(argv[3:]) == 0
    return seen[0]


CASES = [
    ("trajectory", "pca", run_spec(S, "none", 1.0, label=-1)),
    ("cfg", "plane", run_spec(S, "cfg", 4.5)),
    ("classifier", "random", run_spec(S, "universal", 0.5, model="neural")),
    ("apg", "pca", run_spec(S, "apg", 10.0, zoo={"apg_eta": 0.3, "apg_r": 1.0, "apg_beta": -0.9})),
    ("apg", "pca", run_spec(S, "apg", 2.0, zoo={"apg_r": math.inf})),
    ("interval", "plane", run_spec(S, "interval", 3.0, zoo={"interval_lo": 0.0, "interval_hi": math.inf})),
    ("rescale", "pca_data", run_spec(S, "rescale", 7.0, zoo={"rescale_phi": 0.35})),
    ("cfgpp", "plane", run_spec(S, "cfgpp", GAMMA.default, sampler="ddim", zoo={"cfgpp_lambda": 0.35})),
]


@pytest.mark.parametrize("kind, projection, spec", CASES)
def test_the_printed_export_command_samples_the_very_same_spec(kind, projection, spec, monkeypatch):
    """The command, run as printed, builds the page's spec and view, at the page's GIF frames and fps:
    so it writes the page's GIF byte for byte (tests/viz/test_export.py compares the bytes)."""
    assert _parsed_by_export(export_command(spec, kind, projection), monkeypatch) == \
        (spec, kind, projection, GIF_FRAMES, GIF_FPS)


def test_cfgpp_command_gives_its_lambda_and_no_gamma():
    command = export_command(CASES[-1][2], "cfgpp", "plane")
    assert "--cfgpp-lambda 0.35" in command and "--gamma" not in command


def test_the_printed_evaluate_command_measures_the_same_rows(monkeypatch):
    seen = []

    def evaluate(data, model, sampler, steps, guidance, gammas, samples, seed, **kwargs):
        seen.append((Sweep(data, model, sampler, steps, guidance, samples, seed, kwargs.pop("path"),
                           kwargs.pop("shift")), list(gammas), kwargs))
        return []

    monkeypatch.setattr(models.analysis.evaluate, "evaluate", evaluate)
    for sweep in (Sweep("gmm2d", "neural", "heun", 12, "apg", 200, 5),
                  Sweep("digits", "neural_flow", "ddpm", 9, "cfg", 50, 2, "flow", 3.0)):
        seen.clear()
        argv = shlex.split(evaluate_command(sweep, (0.0, 0.5, 10.0)))
        assert argv[:3] == ["python", "-m", "models.evaluate"]
        assert models.analysis.evaluate.main(argv[3:]) == 0
        (got, gammas, kwargs), = seen
        assert got == sweep and gammas == [0.0, 0.5, 10.0]
        assert kwargs["eta"] == 0.0 and kwargs["zoo"] == SampleSpec().settings()  # what the page's rows use


def test_non_finite_parts_and_samples_off_data():
    traj = run(SampleSpec(data="gmm2d", model="exact", guidance="cfg", gamma=2.0, steps=3, batch=4), device="cpu")
    assert non_finite_parts(traj) == [] and samples_off_data(traj).shape == (4,)
    traj.x = traj.x.copy()
    traj.x[-1, 1] = np.nan
    traj.x[-1, 2] = 1e6  # far off the data
    assert non_finite_parts(traj) == ["x"]
    assert samples_off_data(traj)[[1, 2]].all()


def test_pages_open_on_the_figures_readable_step_or_forty_percent_of_the_way(monkeypatch):
    traj = run(run_spec(Settings("gmm2d", "exact", "ddpm", 11, 0, 1, "pca"), "cfg", 3.0))
    monkeypatch.delattr(viz.draw.geometry, "readable_step", raising=False)
    assert readable_step(traj) == round(OPENING_SHARE * 10) == 4  # not step 0, where t = T
    monkeypatch.setattr(viz.draw.geometry, "readable_step", lambda t: 7, raising=False)
    assert readable_step(traj) == 7  # the figures' own choice, once they have one
    monkeypatch.setattr(viz.draw.geometry, "readable_step", lambda t: 99, raising=False)
    assert readable_step(traj) == 10  # never past the last step


def test_a_run_on_the_flow_path_keeps_its_noise_and_takes_a_sampler_the_path_offers():
    from models.engine.names import PATH_SAMPLERS
    from models.engine.settings import SHIFT
    from ui.runs import on_path, sampler_on

    flow = replace(S, path="flow", sampler="euler", shift=3.0)
    spec = run_spec(flow, "cfg", 2.0)
    assert (spec.path, spec.shift, spec.sampler) == ("flow", 3.0, "euler")
    assert run_spec(replace(S, shift=3.0), "cfg", 2.0).shift == SHIFT.default  # vp reads no shift
    assert [sampler_on("flow", s) for s in PATH_SAMPLERS["vp"]] == ["ddpm", "euler", "euler", "heun", "euler"]
    assert all(sampler_on("vp", s) == s for s in PATH_SAMPLERS["flow"])  # every flow sampler runs on vp too
    vp = run_spec(replace(S, sampler="ddim"), "cfg", 2.0)
    moved = on_path(vp, "flow", 3.0)
    assert moved == replace(vp, path="flow", sampler="euler", shift=3.0)  # same seed, model, guidance, steps
    assert on_path(moved, "vp", 3.0) == replace(vp, sampler="euler")  # back on vp: shift 1
    command = export_command(spec, "flow", "pca")
    assert " --path flow --shift 3 " in command and " --sampler euler " in command
    assert "--path" not in export_command(vp, "cfg", "pca")
    args = viz.export.build_parser().parse_args(shlex.split(command)[3:])
    assert (args.path, args.shift, args.sampler) == ("flow", 3.0, "euler")


def test_the_same_point_on_the_vp_path():
    from models.engine.schedule import make_schedule
    from ui.runs import vp_level

    traj = run(run_spec(Settings("gmm2d", "exact", "euler", 6, 0, 1, "pca", "flow", 1.0), "none", 1.0, label=-1))
    k = 3
    t, factor = vp_level(traj, k)
    a, s = traj.alpha[k], traj.sigma[k]
    assert factor == pytest.approx(1 / math.hypot(a, s))  # the flow point scaled onto the VP circle a^2 + s^2 = 1
    abar = make_schedule("linear").alphas_cumprod
    snr = abar / (1 - abar)  # the VP step with the flow point's signal-to-noise ratio (a / s)^2
    lo = int(np.floor(t))
    assert snr[lo + 1] <= (a / s) ** 2 <= snr[lo]
