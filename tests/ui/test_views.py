"""ui.views: the one-call run preamble (sample, refuse what cannot be drawn, scrubber, play) and
the γ slider as ``models.engine.settings.GAMMA`` declares it, each in a small script under AppTest
(a script function imports what it uses itself: AppTest runs its body as a page)."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import models.engine.pipeline
import ui.run_cache
import ui.view_cache
from models.engine.pipeline import SampleSpec
from models.engine.settings import GAMMA
from ui.runs import Settings, readable_step, run_spec
from ui.views import SHOWN_TEXT_PX, SHRINK, STEP_PX, drawing_width
from ui.view_cache import pair_size, view_frame
from viz.draw.style import HALF_SIZE, TEXT_PX, display_width


def preamble_script():
    import streamlit as st

    from ui.runs import Settings, run_spec
    from ui.views import prepare_run

    s = Settings("gmm2d", "exact", st.session_state.get("sampler_choice", "ddpm"), st.session_state.get("n", 6), 0, 1,
                 "pca")
    run = prepare_run(run_spec(s, st.session_state.get("method", "cfg"), st.session_state.get("g", 2.0)))
    st.write(f"steps={run.traj.steps} step={run.step} k={run.k} play={run.play}")


def shown(at: AppTest) -> str:
    return at.markdown[-1].value


def opening(n: int, gamma: float = 2.0) -> int:
    """The 1-based step the page opens on for the script's run with ``n`` steps."""
    spec = run_spec(Settings("gmm2d", "exact", "ddpm", n, 0, 1, "pca"), "cfg", gamma)
    return readable_step(models.engine.pipeline.run(spec)) + 1


def test_prepare_run_opens_on_a_readable_step_and_clamps_the_step():
    at = AppTest.from_function(preamble_script, default_timeout=120)
    at.run()
    first = opening(6)
    assert 1 < first < 6  # not step 1 (t = T, the prediction far off and the step a dot), not the last
    assert not at.exception and shown(at) == f"steps=6 step={first} k={first - 1} play=False"
    slider = at.slider(key="step")
    assert (slider.min, slider.max, slider.value) == (1, 6, first)
    assert slider.proto.format == "step %d of 6"  # the scrubber says "step k of S", as the figures title frame k - 1
    at.session_state["n"] = 10
    at.run()  # nothing chosen yet: the scrubber follows the readable step of the run shown
    assert shown(at) == f"steps=10 step={opening(10)} k={opening(10) - 1} play=False"
    at.session_state["n"] = 6
    at.run()
    at.slider(key="step").set_value(6).run()  # the last step: it ends on the final sample
    assert shown(at) == "steps=6 step=6 k=5 play=False" and at.session_state["step_chosen"]
    at.session_state["g"] = 4.0
    at.run()  # chosen: a new run keeps the step
    assert shown(at) == "steps=6 step=6 k=5 play=False"
    at.session_state["n"] = 4
    at.run()  # fewer steps: the scrubber is pulled back to the end
    assert shown(at) == "steps=4 step=4 k=3 play=False" and at.slider(key="step").max == 4
    at.toggle(key="play").set_value(True).run()
    assert shown(at).endswith("play=True")


def test_a_single_step_run_needs_no_scrubber():
    at = AppTest.from_function(preamble_script, default_timeout=120)
    at.session_state["n"] = 1
    at.run()
    assert not at.exception and shown(at) == "steps=1 step=1 k=0 play=False"
    assert not [w for w in at.slider if w.key == "step"] and "Step 1 of 1" in at.caption[0].value


def test_a_run_that_cannot_be_sampled_stops_with_one_message():
    at = AppTest.from_function(preamble_script, default_timeout=120)
    at.session_state["method"] = "cfgpp"  # defined for DDIM only
    at.run()
    assert not at.exception and len(at.error) == 1 and "cannot be sampled" in at.error[0].value
    assert not at.markdown and not at.slider  # nothing after the message


def test_a_diverged_run_is_refused_before_any_widget(monkeypatch):
    real = models.engine.pipeline.run

    def diverging(spec, *args, **kwargs):
        traj = real(spec, *args, **kwargs)
        traj.x0_hat = np.full_like(traj.x0_hat, np.nan)
        return traj

    monkeypatch.setattr(ui.run_cache, "run", diverging)
    ui.run_cache.cached_trajectory.clear()
    try:
        at = AppTest.from_function(preamble_script, default_timeout=120)
        at.run()
    finally:
        ui.run_cache.cached_trajectory.clear()
    assert not at.exception and len(at.error) == 1 and "diverged (NaN or inf in x0_hat)" in at.error[0].value
    assert not at.slider


def gamma_script():
    import streamlit as st

    from ui.views import gamma_slider

    st.write(gamma_slider())
    left, right = st.columns(2)
    gamma_slider("other", 5.0, where=right)


def test_the_gamma_slider_is_declared_once():
    at = AppTest.from_function(gamma_script, default_timeout=60)
    at.run()
    lo, hi, step = GAMMA.slider
    for slider, default in ((at.slider(key="gamma"), GAMMA.default), (at.slider(key="other"), 5.0)):
        assert (slider.label, slider.min, slider.max, slider.step, slider.value) == (GAMMA.label, lo, hi, step, default)
        assert GAMMA.paper in slider.help


# ----------------------------------------------------------------------------- the column width (issue 17.5)
# At 1400x900 the step views were drawn 1100 px wide and shown at 0.66x (their type about 10 px); the
# browser now reports the column's width and the frame is drawn for it.




def test_a_figure_keeps_its_declared_width_unless_its_type_would_be_shown_too_small():
    declared = display_width("cfg")  # 1100
    assert SHRINK * SHOWN_TEXT_PX == min(TEXT_PX.values())
    assert drawing_width(declared, None) is None  # the browser has not answered (first run, AppTest)
    assert drawing_width(declared, 1104) is None and drawing_width(declared, int(declared / SHRINK) + 1) is None
    assert drawing_width(declared, 730) == 900  # 1400x900: drawn 900 wide, shown at 0.81 (small print 12.2 px)
    assert drawing_width(HALF_SIZE[0], 486) == 600 and drawing_width(declared, 733) % STEP_PX == 0


@pytest.mark.parametrize("kind, guidance", [("cfg", "cfg"), ("classifier", "classifier"), ("step", "cfg")])
def test_a_frame_drawn_for_a_laptop_column_shows_its_type_at_12_px_or_more(kind, guidance):
    """At 1400x900 the step figure's column is about 730 px: the frame is drawn 900 px wide, so its
    smallest type is shown at 12 px or more, not at 0.66 of its declared size (about 10 px)."""
    spec = SampleSpec(data="digits", model="exact", guidance=guidance, gamma=3.0, label=7, steps=6, batch=2)
    width = drawing_width(display_width(kind), 730)
    png = view_frame(kind, spec, "plane", 0, 3, width=width)
    drawn = Image.open(io.BytesIO(png)).size
    assert drawn[0] == width
    assert min(TEXT_PX.values()) * 730 / drawn[0] >= SHOWN_TEXT_PX  # the smallest type as the column shows it
    default = Image.open(io.BytesIO(view_frame(kind, spec, "plane", 0, 3))).size
    assert default[0] == display_width(kind) and min(TEXT_PX.values()) * 730 / default[0] < SHOWN_TEXT_PX  # before


def test_side_by_side_columns_are_drawn_for_a_laptop_column_in_their_proportions():
    spec = SampleSpec(data="digits", model="exact", guidance="cfg", gamma=3.0, label=7, steps=6, batch=2)
    other = SampleSpec(data="digits", model="exact", guidance="cfg", gamma=1.0, label=7, steps=6, batch=2)
    pair = (("cfg", spec), ("cfg", other))
    width = drawing_width(HALF_SIZE[0], 486)
    drawn = Image.open(io.BytesIO(view_frame("cfg", spec, "pca", 0, 3, pair=pair, width=width))).size
    assert drawn[0] == pair_size(width)[0] == 600 and drawn[1] >= pair_size(width)[1]  # a long key may grow it
    assert min(TEXT_PX.values()) * 486 / drawn[0] >= SHOWN_TEXT_PX


def test_a_picture_travels_in_the_page_as_a_data_url_byte_for_byte():
    """PNG and GIF bytes become data URLs that decode to the same bytes (no media-store file that a
    rerun can delete before the browser fetches it); other bytes are refused."""
    import base64

    from ui.views import image_url

    png = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(png, format="PNG")
    gif = io.BytesIO()
    Image.new("P", (2, 2)).save(gif, format="GIF")
    for data, kind in ((png.getvalue(), "image/png"), (gif.getvalue(), "image/gif")):
        head, body = image_url(data).split(",", 1)
        assert head == f"data:{kind};base64" and base64.b64decode(body) == data
    with pytest.raises(ValueError, match="PNG or GIF"):
        image_url(b"<svg></svg>")


def image_script():
    import io

    from PIL import Image

    from ui.views import show_image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(buf, format="PNG")
    show_image(buf.getvalue())


def test_every_picture_the_pages_show_is_a_data_url():
    """``show_image`` puts the picture in the page itself; and no page or ui module calls ``st.image``
    on bytes directly (each goes through ``show_image``)."""
    import re
    from pathlib import Path

    at = AppTest.from_function(image_script, default_timeout=30).run()
    assert not at.exception
    assert at.get("image")[0].proto.imgs[0].url.startswith("data:image/png;base64,")
    root = Path(__file__).resolve().parents[2]
    calls = [f"{p.relative_to(root)}: {line.strip()}" for p in [root / "app.py", *root.glob("pages/*.py"),
                                                              *root.glob("ui/*.py")]
             for line in p.read_text().splitlines() if re.search(r"\.image\(", line)]
    assert calls == ["ui/views.py: where.image(image_url(image), width=width)"], calls
