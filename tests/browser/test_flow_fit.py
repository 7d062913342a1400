"""The flow path on a projector (issue 19): opened by a link on the flow path (shift 3), Side by side
comparing VP beside flow and the Diffusion meets flow page show their first figure inside a 1920x1080
window with the sidebar open, no picture taller than the window, nothing wider than it, and no error.

Starts ``streamlit run app.py`` itself and drives Debian's Chromium through Playwright; skipped where
that browser is missing.
"""

from __future__ import annotations

import pytest

from tools import browser
from ui.side_by_side import COMPARE

LOAD_S = 300.0
PROJECTOR = browser.PROJECTOR
LINK = "?path=flow&shift=3"

pytestmark = pytest.mark.skipif(not browser.chromium_available(),
                                reason=f"no Chromium at {browser.CHROMIUM} (CI installs it: apt-get install chromium)")


def _fits(tab, where: str) -> None:
    assert not browser.page_problems(tab), where
    assert browser.sidebar_open(tab), where
    ok, first = browser.inside_window(tab, tab.locator('[data-testid="stImage"] img'))
    assert ok, (where, first)
    heights = tab.locator('[data-testid="stImage"] img').evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and max(heights) <= PROJECTOR["height"], (where, heights)
    assert not tab.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"), where


def test_the_flow_pages_fit_a_projector():
    with browser.streamlit_server() as base, browser.chromium(PROJECTOR) as context:
        tab = context.new_page()
        browser.load(tab, f"{base}/side_by_side{LINK}", timeout=LOAD_S)
        n = browser.runs(tab)
        tab.get_by_text(COMPARE["paths"]).click()
        browser.wait_idle(tab, LOAD_S, after_runs=n)
        text = tab.locator("body").inner_text()
        assert "diffusion (VP) · euler" in text and "flow matching · euler, shift 3" in text
        assert browser.image_count(tab) == 2
        _fits(tab, "side by side, VP beside flow")
        browser.load(tab, f"{base}/diffusion_meets_flow{LINK}", timeout=LOAD_S)
        assert "Two sides of one coin" in tab.locator("body").inner_text()
        assert browser.image_count(tab) == 2  # the flow step and the two networks' chart
        _fits(tab, "diffusion meets flow")
