"""What a projector shows (issue 17): a fresh server's first visitor who opens ``/sampling`` gets the
Sampling page (it lives at "/"), and the first figure of High dimensions, Guidance field and Side by
side lies inside a 1920x1080 window with the sidebar open, without scrolling.

Starts ``streamlit run app.py`` itself and drives Debian's Chromium through Playwright; skipped where
that browser is missing.
"""

from __future__ import annotations

import pytest

from tools import browser

LOAD_S = 240.0
PROJECTOR = {"width": 1920, "height": 1080}

pytestmark = pytest.mark.skipif(not browser.chromium_available(),
                                reason=f"no Chromium at {browser.CHROMIUM} (CI installs it: apt-get install chromium)")


def _first_figure_bottom(tab) -> float:
    box = browser.box(tab.locator('[data-testid="stImage"] img').first)
    assert box is not None, "no figure on the page"
    return box["y"] + box["height"]


def test_sampling_by_name_and_first_figures_inside_a_projector():
    with browser.streamlit_server() as base, browser.chromium(PROJECTOR) as context:
        tab = context.new_page()
        browser.load(tab, f"{base}/sampling", timeout=LOAD_S)  # the server's first visit
        text = tab.locator("body").inner_text()
        assert "Page not found" not in text and "How a diffusion model samples" in text
        assert not browser.page_problems(tab)
        for path in ("high_dimensions", "side_by_side"):
            browser.load(tab, f"{base}/{path}", timeout=LOAD_S)
            assert browser.sidebar_open(tab)
            assert _first_figure_bottom(tab) <= PROJECTOR["height"], path
        # side by side with classifier guidance (the longest key) in one column: both panels still fit
        for _ in range(3):  # a rerun (the column's width arriving) may close the menu under the click: try again
            browser.wait_idle(tab, LOAD_S)
            tab.locator('[data-testid="stSelectbox"]').filter(has_text="Guidance method").first.click()
            tab.get_by_role("option", name="classifier", exact=True).click()
            browser.wait_idle(tab, LOAD_S)
            if "classifier, γ = " in tab.locator("body").inner_text():
                break
        assert "classifier, γ = " in tab.locator("body").inner_text()  # the column now shows classifier guidance
        images = tab.locator('[data-testid="stImage"] img')
        bottoms = [browser.box(images.nth(i)) for i in range(min(images.count(), 2))]
        assert len(bottoms) == 2 and all(b["y"] + b["height"] <= PROJECTOR["height"] for b in bottoms), bottoms
        browser.load(tab, f"{base}/guidance_field", timeout=LOAD_S, images=False)
        tab.get_by_role("button", name="Switch to gmm2d").click()  # the app opens on the digits
        tab.locator('[data-testid="stImage"] img').first.wait_for(timeout=LOAD_S * 1000)
        browser.wait_idle(tab, LOAD_S)
        assert _first_figure_bottom(tab) <= PROJECTOR["height"], "guidance_field"
        assert not browser.page_problems(tab)


LAPTOP = {"width": 1400, "height": 900}


def test_on_a_laptop_window_the_step_figure_is_drawn_for_its_column():
    """At 1400x900 the step figure used to be drawn 1100 px wide and shown at 0.66x (its small print about
    10 px): the column's width comes back from the browser (ui.views.column_width) and the frame is redrawn
    so that, shown in that column, its smallest type is 12 px or more; the same for a side-by-side column."""
    import time

    from ui.views import SHOWN_TEXT_PX
    from viz.draw.style import TEXT_PX
    with browser.streamlit_server() as base, browser.chromium(LAPTOP) as context:
        tab = context.new_page()
        for path in ("classifier_free_guidance", "guidance_zoo", "side_by_side"):
            browser.load(tab, f"{base}/{path}", timeout=LOAD_S)
            deadline, smallest = time.monotonic() + 60, 0.0
            while time.monotonic() < deadline:
                natural, shown = tab.locator('[data-testid="stImage"] img').first.evaluate(
                    "e => [e.naturalWidth, e.clientWidth]")
                smallest = min(TEXT_PX.values()) * shown / max(natural, 1)
                if smallest >= SHOWN_TEXT_PX:
                    break
                time.sleep(1)
            assert smallest >= SHOWN_TEXT_PX, (path, smallest)
            assert not browser.page_problems(tab)
