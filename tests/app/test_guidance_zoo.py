"""The guidance-zoo page under AppTest: every method runs and draws, its settings reach the sampler,
CFG++ samples with DDIM, the identities of the papers show in the page's own numbers, and the
command line it prints writes the very GIF its download button gives; diffusers' guiders each say the
space they act in, and fdg runs on the digits with its low-band scale."""

import math
import shlex

import pytest
from streamlit.testing.v1 import AppTest

import ui.run_cache
import ui.view_cache
from models.engine.pipeline import SampleSpec
from models.guidance import card
from ui.runs import Settings, run_spec
from ui.zoo import methods
from viz.export import main

from tests.apptest import open_page


PAGE = "pages/guidance_zoo.py"
METHODS = ["cfg", "rescale", "apg", "interval", "autoguidance", "cfgpp"]


def zoo_app(model: str = "exact", steps: int = 8, data: str = "digits") -> AppTest:
    at = open_page(PAGE, data=data, model=model, steps=steps)
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, method: str) -> AppTest:
    at.selectbox(key="zoo_method").set_value(method).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metric(at: AppTest, start: str) -> str:
    found = [m.value for m in at.metric if m.label.startswith(start)]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_every_method_runs_and_draws(data):
    at = zoo_app(data=data)
    for method in METHODS:
        if data == "gmm2d" and method == "fdg":
            continue  # fdg guides 8x8 images: on gmm2d it shows an error (test_app.py)
        choose(at, method)
        assert len(at.get("image")) >= 2, f"{method}: expected the construction and the paths"
        assert f"--guidance {method}" in at.code[0].value
        assert metric(at, "timestep t").isdigit()


def test_digits_show_final_samples_and_paths_on_demand(sample_calls):
    at = choose(zoo_app(), "rescale")
    assert len(at.get("image")) == 3  # the construction, the final samples and plain CFG's
    assert {(c.guidance, c.gamma) for c in sample_calls} >= {("rescale", 3.0), ("cfg", 3.0)}
    at.toggle(key="zoo_paths_digits").set_value(True).run()
    assert len(at.get("image")) == 4 and not at.error


def test_settings_reach_the_sampler(sample_calls):
    at = choose(zoo_app(), "rescale")
    at.slider(key="zoo_phi").set_value(0.25).run()
    assert [c.rescale_phi for c in sample_calls if c.guidance == "rescale"][-1] == 0.25
    assert "--rescale-phi 0.25" in at.code[0].value
    choose(at, "apg")
    at.slider(key="zoo_apg_eta").set_value(0.5)
    at.select_slider(key="zoo_apg_r").set_value(2.0)
    at.slider(key="zoo_apg_beta").set_value(-0.5).run()
    spec = [c for c in sample_calls if c.guidance == "apg"][-1]
    assert (spec.guidance, spec.apg_eta, spec.apg_r, spec.apg_beta) == ("apg", 0.5, 2.0, -0.5)
    assert "--apg-eta 0.5 --apg-r 2 --apg-beta -0.5" in at.code[0].value
    choose(at, "interval")
    at.select_slider(key="zoo_interval").set_value((1.0, 20.0)).run()
    spec = [c for c in sample_calls if c.guidance == "interval"][-1]
    assert (spec.interval_lo, spec.interval_hi) == (1.0, 20.0)
    assert "--interval 1,20" in at.code[0].value


def test_cfgpp_samples_with_ddim_and_lambda(sample_calls):
    at = choose(zoo_app(), "cfgpp")
    assert at.selectbox(key="sampler").value == "ddpm"  # the sidebar keeps its own choice
    at.slider(key="zoo_lambda").set_value(0.35).run()
    spec = [c for c in sample_calls if c.guidance == "cfgpp"][-1]
    assert (spec.guidance, spec.sampler, spec.cfgpp_lambda) == ("cfgpp", "ddim", 0.35)
    assert any("DDIM" in i.value for i in at.info)
    assert "--sampler ddim" in at.code[0].value and "--cfgpp-lambda 0.35" in at.code[0].value


def test_the_papers_identities_in_the_pages_numbers():
    """APG with eta = 1 and an interval holding every noise level are CFG: the page's distance to
    plain CFG's prediction reads 0; with their defaults both depart from CFG at the same step."""
    at = choose(zoo_app(steps=10), "apg")
    assert float(metric(at, "‖x̂₀ − plain")) > 0.01
    at.slider(key="zoo_apg_eta").set_value(1.0).run()
    assert float(metric(at, "‖x̂₀ − plain")) < 1e-3
    choose(at, "interval")
    at.slider(key="step").set_value(0).run()  # sigma ~ 157: outside the default interval
    assert float(metric(at, "‖x̂₀ − plain")) > 0.01
    at.select_slider(key="zoo_interval").set_value((0.0, math.inf)).run()
    assert float(metric(at, "‖x̂₀ − plain")) < 1e-3


def test_printed_command_writes_the_downloaded_gif(tmp_path):
    """The command in the page's expander, run as printed, writes the GIF the download button gives."""
    at = choose(zoo_app(steps=5), "apg")
    at.slider(key="zoo_apg_eta").set_value(0.3)
    at.select_slider(key="zoo_apg_r").set_value(1.0).run()
    argv = shlex.split(at.code[0].value)
    assert argv[:3] == ["python", "-m", "viz.export"]
    argv = argv[3:]
    argv[argv.index("--out") + 1] = str(tmp_path / "cli.gif")
    assert main(argv) == 0
    kind = argv[argv.index("--figure") + 1]
    spec = SampleSpec(data="digits", model="exact", sampler="ddpm", guidance="apg", gamma=3.0, label=0, steps=5, seed=0,
                      batch=8, apg_eta=0.3, apg_r=1.0, apg_beta=0.0)  # the page's run
    assert ui.view_cache.view_gif(kind, spec, "pca", 0) == (tmp_path / "cli.gif").read_bytes()


def test_unknown_zoo_setting_is_refused():
    with pytest.raises(ValueError, match="unknown zoo settings"):
        run_spec(Settings("digits", "exact", "ddpm", 5, 0, 0, "pca"), "apg", 3.0, zoo={"apg_gamma": 1.0})


GUIDERS = ["cfgzero", "tcfg", "mambo", "apgmix"]
SPACE_WORDS = {"cfgzero": "**flow-matching velocity", "tcfg": "**noise**", "mambo": "**flow-matching velocit", "apgmix": r"$\hat{x}_0$"}


def test_each_guider_runs_draws_and_says_its_space():
    at = zoo_app(data="gmm2d")
    for method in GUIDERS:
        assert method in methods() and SPACE_WORDS[method] in card(method).about
        choose(at, method)
        assert len(at.get("image")) >= 2, f"{method}: expected the construction and the paths"
        assert f"--guidance {method}" in at.code[0].value and f"--figure {method}" in at.code[0].value
        assert any(SPACE_WORDS[method] in m.value for m in at.markdown)
        assert metric(at, "timestep t").isdigit()


def test_guider_settings_reach_the_sampler(sample_calls):
    at = choose(zoo_app(data="gmm2d"), "cfgzero")
    at.slider(key="zoo_cfgzero_zero_steps").set_value(3).run()
    spec = [c for c in sample_calls if c.guidance == "cfgzero"][-1]
    assert spec.cfgzero_zero_steps == 3 and "--cfgzero-zero-steps 3" in at.code[0].value
    choose(at, "mambo")
    at.slider(key="zoo_mambo_alpha").set_value(0.0).run()
    assert [c.mambo_alpha for c in sample_calls if c.guidance == "mambo"][-1] == 0.0
    assert float(metric(at, "‖x̂₀ − plain")) < 1e-6  # alpha = 0 is CFG (arXiv 2508.03442)
    choose(at, "apgmix")
    at.select_slider(key="zoo_apgmix_window").set_value((1.0, 20.0))
    at.slider(key="zoo_apgmix_beta").set_value(0.0).run()
    spec = [c for c in sample_calls if c.guidance == "apgmix"][-1]
    assert (spec.apgmix_lo, spec.apgmix_hi, spec.apgmix_beta) == (1.0, 20.0, 0.0)
    assert "--apgmix-window 1,20" in at.code[0].value and "--apgmix-beta 0" in at.code[0].value


@pytest.mark.parametrize("method", ["tcfg", "cfgzero"])
def test_printed_command_writes_the_downloaded_gif_of_a_guider(tmp_path, method):
    at = choose(zoo_app(steps=5, data="gmm2d"), method)
    argv = shlex.split(at.code[0].value)[3:]
    argv[argv.index("--out") + 1] = str(tmp_path / "cli.gif")
    assert main(argv) == 0
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance=method, gamma=3.0, label=0, steps=5,
                      seed=0, batch=8)  # the page's run, every setting at its default
    kind = argv[argv.index("--figure") + 1]
    projection = argv[argv.index("--projection") + 1] if "--projection" in argv else "pca"
    assert ui.view_cache.view_gif(kind, spec, projection, 0) == (tmp_path / "cli.gif").read_bytes()


# ----------------------------------------------------------------------------- frequency-decoupled guidance

def test_fdg_runs_on_digits_with_its_low_band_scale(sample_calls):
    """On the digits: the construction and the final samples, the page's words (8x8 images, arXiv id,
    the same in every space), and γ_low reaching the sampler and the printed command; γ_low = γ is CFG."""
    at = choose(zoo_app(data="digits"), "fdg")
    assert len(at.get("image")) >= 2
    assert "--guidance fdg" in at.code[0].value and "--figure fdg" in at.code[0].value
    assert any("**image**" in m.value and "arXiv 2506.19713" in m.value for m in at.markdown)
    assert "the same whether it is applied to" in card("fdg").about
    at.slider(key="zoo_fdg_low").set_value(4.5).run()
    assert not at.exception and not at.error
    assert [c.fdg_low for c in sample_calls if c.guidance == "fdg"][-1] == 4.5
    assert "--fdg-low 4.5" in at.code[0].value
    assert float(metric(at, "‖x̂₀ − plain")) > 1e-3  # the bands get other scales than CFG's
    at.slider(key="zoo_fdg_low").set_value(3.0).run()  # = the page's default γ
    assert float(metric(at, "‖x̂₀ − plain")) < 1e-5  # both bands at γ: CFG
