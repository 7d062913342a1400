"""diffusers' guiders in the app (AppTest): on the zoo page each runs, draws its own construction, says
the space it acts in and passes its settings to the sampler, and the command it prints writes the GIF
its download gives; the side-by-side and trade-off pages offer and run them too."""

import shlex

import pytest

import ui.run_cache
import ui.view_cache
from models.engine.pipeline import SampleSpec
from tests.app.test_guidance_zoo import choose, metric, zoo_app
from tests.apptest import open_page
from models.guidance import card
from ui.zoo import methods
from viz.export import main

GUIDERS = ["cfgzero", "tcfg", "mambo", "apgmix"]
SPACE_WORDS = {"cfgzero": "**velocity**", "tcfg": "**noise**", "mambo": "**velocity**", "apgmix": r"$\hat{x}_0$"}


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
def test_printed_command_writes_the_downloaded_gif(tmp_path, method):
    at = choose(zoo_app(steps=5, data="gmm2d"), method)
    argv = shlex.split(at.code[0].value)[3:]
    argv[argv.index("--out") + 1] = str(tmp_path / "cli.gif")
    assert main(argv) == 0
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance=method, gamma=3.0, label=0, steps=5,
                      seed=0, batch=8)  # the page's run, every setting at its default
    kind = argv[argv.index("--figure") + 1]
    projection = argv[argv.index("--projection") + 1] if "--projection" in argv else "pca"
    assert ui.view_cache.view_gif(kind, spec, projection, 0) == (tmp_path / "cli.gif").read_bytes()


def test_side_by_side_and_tradeoff_offer_and_run_the_guiders():
    at = open_page("pages/side_by_side.py", data="gmm2d", steps=6)
    assert set(GUIDERS) <= set(at.selectbox(key="sbs_left_guidance").options)
    at.selectbox(key="sbs_left_guidance").set_value("tcfg")
    at.selectbox(key="sbs_right_guidance").set_value("apgmix").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [h.value for h in at.subheader][:2] == ["tcfg, γ = 1", "apgmix, γ = 5"]
    at = open_page("pages/tradeoff.py", data="gmm2d", steps=6)
    assert set(GUIDERS) <= set(at.selectbox(key="tradeoff_guidance").options)
    at.selectbox(key="tradeoff_guidance").set_value("mambo").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "--guidance mambo" in "".join(c.value for c in at.code)


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


def _error_without_traceback(at):
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors and any("8x8 images" in e for e in errors), errors
    assert not any("Traceback" in e for e in errors)


def test_fdg_on_gmm2d_shows_one_error_on_every_page():
    """gmm2d's 2-D points are not images: the zoo, side-by-side and trade-off pages say so in an
    error box, with no traceback."""
    at = zoo_app(data="gmm2d")
    at.selectbox(key="zoo_method").set_value("fdg").run()
    _error_without_traceback(at)
    at = open_page("pages/side_by_side.py", data="gmm2d", steps=6)
    assert "fdg" in at.selectbox(key="sbs_left_guidance").options
    at.selectbox(key="sbs_left_guidance").set_value("fdg").run()
    _error_without_traceback(at)
    at = open_page("pages/tradeoff.py", data="gmm2d", steps=6)
    assert "fdg" in at.selectbox(key="tradeoff_guidance").options
    at.selectbox(key="tradeoff_guidance").set_value("fdg").run()
    _error_without_traceback(at)
