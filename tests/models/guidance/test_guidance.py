"""models.guidance: a method built by name (``make_guidance``) and its errors (an unknown name, no
labels, a missing classifier, a non-finite gamma), and the index of every setting (meta names, groups
checked together, the zoo's flags). The exact runs its helpers sample are shared by test_cfg.py,
test_classifier.py and test_universal.py."""

import dataclasses
import math

import pytest
import torch

import viz.export
from models.cli import zoo_settings
from models.engine.pipeline import SampleSpec
from models.engine.samplers import SAMPLER_NAMES, get_sampler
from models.guidance import (GUIDANCE_NAMES, META_NAMES, ZOO_GUIDANCE, ZOO_SETTINGS, check_values, defaults,
                             make_guidance, meta_names, parse_group, replaced_by, settings_for, zoo_flags)


F64 = torch.float64
BATCH, STEPS = 4, 8
SAMPLERS = ("ddpm", "ddim", "euler", "heun", "dpmpp2m")
assert set(SAMPLERS) == set(SAMPLER_NAMES)


def _case(models, data: str, seed: int = 0):
    den, dim = models[data]
    x_T = torch.randn((BATCH, dim), generator=torch.Generator().manual_seed(seed), dtype=F64)
    y = torch.arange(BATCH) % den.num_classes
    return den, x_T, y


def _sample(name: str, guided, x_T, y, schedule, seed: int = 1, steps: int = STEPS):
    """Float64 x_T; the stochastic samplers draw their noise from a fresh generator with ``seed``."""
    options = {"eta": 1.0} if name == "ddim" else {}
    return get_sampler(name)(guided, x_T, schedule.timesteps(steps), y,
                             generator=torch.Generator().manual_seed(seed), **options)


def _linear_classifier(dim: int, classes: int, seed: int = 0):
    """A fixed clean classifier log p(y | x0) = log_softmax(W x0 + b)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn((classes, dim), generator=g, dtype=F64) * 2.0
    b = torch.randn(classes, generator=g, dtype=F64)
    return lambda x0: torch.log_softmax(x0 @ W.T.to(x0.dtype) + b.to(x0.dtype), dim=1)


# ----------------------------------------------------------------------------- errors

def test_unknown_guidance_lists_valid_names(models):
    den = models["gmm2d"][0]
    with pytest.raises(ValueError) as err:
        make_guidance("cfg++", den, 1.0)
    for name in GUIDANCE_NAMES:
        assert repr(name) in str(err.value) or name in str(err.value)


@pytest.mark.parametrize("name", ["cfg", "classifier", "universal"])
def test_guidance_without_labels_raises(models, name):
    den = models["gmm2d"][0]
    guided = make_guidance(name, den, 2.0, log_prob=den.log_posterior, clean_log_prob=_linear_classifier(2, 3))
    x_t = torch.zeros((2, 2), dtype=F64)
    with pytest.raises(ValueError, match="label"):
        guided(x_t, torch.full((2,), 500), None)


def test_classifier_and_universal_need_their_classifier(models):
    den = models["gmm2d"][0]
    with pytest.raises(ValueError):
        make_guidance("classifier", den, 1.0)
    with pytest.raises(ValueError):
        make_guidance("universal", den, 1.0)


@pytest.mark.parametrize("gamma", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_gamma_raises(models, gamma):
    with pytest.raises(ValueError):
        make_guidance("cfg", models["gmm2d"][0], gamma)


# ----------------------------------------------------------------------------- the settings index

def test_meta_names_are_the_general_names_and_the_methods_own_settings():
    assert set(ZOO_GUIDANCE) == {s.method for s in ZOO_SETTINGS} | {"autoguidance", "tcfg"}
    for method in GUIDANCE_NAMES:
        own = tuple(s.name for s in settings_for(method))
        assert tuple(s.name for s in settings_for(method)) == own
        general = tuple(n for n in META_NAMES if not (method == "cfgpp" and n == "gamma"))
        assert meta_names(method) == general + own
    assert replaced_by("cfgpp") == ("gamma",) and all(replaced_by(m) == () for m in GUIDANCE_NAMES if m != "cfgpp")
    assert "gamma" in META_NAMES and all(n in {f.name for f in dataclasses.fields(SampleSpec)} for n in META_NAMES)


def test_groups_are_checked_together():
    assert check_values({"interval_lo": 0.0, "interval_hi": math.inf}) == {"interval_lo": 0.0, "interval_hi": math.inf}
    with pytest.raises(ValueError, match="interval"):
        check_values({"interval_lo": 3.0, "interval_hi": 1.0})
    with pytest.raises(ValueError, match="interval"):
        check_values({"interval_lo": 6.0})  # above the default hi of 5
    with pytest.raises(ValueError, match="unknown settings"):
        check_values({"apg_gamma": 1.0})
    assert parse_group("interval", "0.3, inf") == (0.3, math.inf)
    for text in ("", "1", "1,2,3", "a,b", "nan,1", "-1,2", "5,1", "inf,inf"):
        with pytest.raises(ValueError):
            parse_group("interval", text)


@pytest.mark.parametrize("values", [{"rescale_phi": 0.25}, {"apg_eta": 1.0, "apg_r": math.inf, "apg_beta": -0.9},
                                    {"interval_lo": 0.0, "interval_hi": math.inf}, {"interval_hi": 2.0},
                                    {"cfgpp_lambda": 1.0}, {"fdg_low": 4.5}, {"fdg_low": -2.0}])
def test_zoo_flags_give_back_the_same_settings(tmp_path, values):
    argv = zoo_flags(values).split() + ["--out", str(tmp_path / "x.gif")]
    parsed = zoo_settings(viz.export.build_parser().parse_args(argv))
    assert {k: parsed[k] for k in values} == values
    assert all(parsed[k] == v for k, v in defaults().items() if k not in values)


def test_zoo_flags_spell_each_flag_once():
    assert zoo_flags({"apg_eta": 0.5, "apg_r": math.inf}) == "--apg-eta 0.5 --apg-r inf"
    assert zoo_flags({"interval_lo": 0.3, "interval_hi": 5.0, "rescale_phi": 1.0}) == "--rescale-phi 1 --interval 0.3,5"


def test_the_guided_methods_are_every_method_but_none_in_order():
    """The menus of guided methods (side by side, trade-off) read ``guided_names``: every registered method
    but ``none``, which alone leaves the denoiser as it is, in ``names()`` order."""
    from models.guidance import guided_names, names

    assert "none" in names() and "none" not in guided_names()
    assert guided_names() == tuple(n for n in names() if n in guided_names())
    assert set(names()) - set(guided_names()) == {"none"} and len(guided_names()) >= 10
