"""Each setting declared once (models.engine.settings): the spec's fields, the command-line flags and
the checks all follow the declaration. (The index of every setting by name, its groups, the zoo's flags
and the meta names: tests/models/guidance/test_guidance.py.)"""

import dataclasses
import math

import pytest

import models.analysis.evaluate
import viz.export
from models.cli import zoo_settings
from models.engine.pipeline import SampleSpec
from models.engine.settings import ETA, GAMMA, Setting
from models.guidance import GROUPS, SETTINGS, ZOO_NAMES, ZOO_SETTINGS, defaults


def _flags(parser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_the_spec_has_one_field_per_setting_with_its_default():
    fields = {f.name: f.default for f in dataclasses.fields(SampleSpec)}
    for s in SETTINGS.values():
        assert s.name in fields and fields[s.name] == s.default
    spec_zoo = [name for name in fields if name in ZOO_NAMES]
    assert tuple(spec_zoo) == ZOO_NAMES == tuple(SampleSpec().settings())


def test_the_command_lines_have_one_flag_per_setting_or_group(tmp_path):
    zoo_flags_expected = {s.flag for s in ZOO_SETTINGS}
    assert zoo_flags_expected == {"--rescale-phi", "--apg-eta", "--apg-r", "--apg-beta", "--interval", "--cfgpp-lambda",
                                  "--cfgzero-zero-steps", "--mambo-alpha", "--apgmix-window", "--apgmix-eta",
                                  "--apgmix-r", "--apgmix-beta", "--fdg-low"}
    for parser in (viz.export.build_parser(), models.analysis.evaluate.build_parser()):
        assert zoo_flags_expected | {ETA.flag} <= _flags(parser)
    assert GAMMA.flag in _flags(viz.export.build_parser())
    defaults_parsed = zoo_settings(viz.export.build_parser().parse_args(["--out", str(tmp_path / "x.gif")]))
    assert defaults_parsed == defaults()


def test_every_declaration_is_complete():
    for s in SETTINGS.values():
        assert s.label and s.help.endswith(".") and s.paper.startswith("arXiv ")
        assert (s.slider is None) != (s.choices is None)
        values = s.slider[:2] if s.slider else s.choices
        assert all(s.valid(v) for v in (s.default, *values))
        if s.slider:
            lo, hi, step = s.slider
            assert lo < hi and 0 < step <= hi - lo
    assert GAMMA.slider == (0.0, 10.0, 0.5) and GAMMA.default == 3.0 and (GAMMA.lo, GAMMA.hi) == (-100.0, 100.0)
    assert GROUPS == {"interval": ("interval_lo", "interval_hi"), "apgmix_window": ("apgmix_lo", "apgmix_hi")}


@pytest.mark.parametrize("name, good, bad", [
    ("gamma", [-100, 0, 100], [100.5, -101, math.inf, math.nan]),
    ("eta", [0, 1], [-0.1, 1.01, math.nan]),
    ("rescale_phi", [0, 0.7, 1], [-0.1, 1.5, math.inf]),
    ("cfgzero_zero_steps", [0, 1, 1000], [-1, 0.5, 1001, math.inf, math.nan]),
    ("mambo_alpha", [0, 8, 1e6], [-0.1, math.inf, math.nan]),
    ("apgmix_lo", [0, 5], [-1, math.inf, math.nan]),
    ("apgmix_hi", [0, 50, math.inf], [-1, math.nan]),
    ("apgmix_beta", [-0.5, 0, 0.9], [-1, 1, math.nan]),
    ("apg_eta", [-1e300, 0, 1e300], [math.inf, -math.inf, math.nan]),
    ("apg_r", [1e-9, 2, math.inf], [0, -1, math.nan]),
    ("apg_beta", [-0.99, 0, 0.99], [-1, 1, math.nan]),
    ("interval_lo", [0, 5], [-1, math.inf, math.nan]),
    ("interval_hi", [0, 5, math.inf], [-1, math.nan]),
    ("cfgpp_lambda", [0, 0.6, 1], [-0.5, 2, math.nan]),
    ("fdg_low", [-100, 0, 1.5, 100], [-100.5, 101, math.inf, math.nan]),
])
def test_checks_follow_the_declared_ranges(name, good, bad):
    s = SETTINGS[name]
    for v in good:
        assert s.check(v) == float(v)
    for v in bad:
        with pytest.raises(ValueError, match=name.replace("_", " ")):
            s.check(v)
    with pytest.raises(ValueError):
        s.check(True)  # a bool is no number


def test_pages_show_inf_as_declared():
    assert SETTINGS["apg_r"].format(math.inf) == "off" and SETTINGS["interval_hi"].format(math.inf) == "∞"
    assert SETTINGS["apg_r"].format(0.25) == "0.25"


def test_a_setting_outside_its_own_range_cannot_be_declared():
    with pytest.raises(ValueError, match="outside"):
        Setting("x", None, 2.0, 0.0, 1.0, "x", "x.", slider=(0.0, 1.0, 0.1))
    with pytest.raises(TypeError):
        Setting("x", None, 0.5, 0.0, 1.0, "x", "x.")  # neither slider nor choices
