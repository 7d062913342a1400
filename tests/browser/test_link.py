"""A link carries the view (issue 18): the page's settings live in the URL, so a link such as
``/classifier_free_guidance?gamma=5&step=7`` opens that page at γ = 5, step 7; a bad value is left out
with a short note; moving a widget updates the URL. Debian's Chromium through Playwright; skipped
where that browser is missing."""

from __future__ import annotations

import pytest

from tools import browser

LOAD_S = 240.0

pytestmark = pytest.mark.skipif(not browser.chromium_available(),
                                reason=f"no Chromium at {browser.CHROMIUM} (CI installs it: apt-get install chromium)")


def test_a_link_opens_the_page_at_its_settings_and_the_url_follows_the_widgets():
    with browser.streamlit_server() as base, browser.chromium(browser.PROJECTOR) as context:
        tab = context.new_page()
        browser.load(tab, f"{base}/classifier_free_guidance?gamma=5&step=7&seed=-3", timeout=LOAD_S)
        assert browser.slider_shown(tab, "Guidance scale γ") == "5.00"
        assert "step 7 of" in browser.slider_shown(tab, "Step")
        text = tab.locator("body").inner_text()
        assert "seed='-3'" in text and "left out" in text  # a bad value: said once, never a traceback
        assert not browser.page_problems(tab)
        url = tab.url
        assert "gamma=5" in url and "step=7" in url and "seed=0" in url  # the URL holds the page's settings
        runs = browser.runs(tab)
        browser.move_slider(tab, "Guidance scale γ", 2, LOAD_S)
        browser.wait_idle(tab, LOAD_S, after_runs=runs)
        tab.wait_for_function("() => window.location.search.includes('gamma=6')", timeout=int(LOAD_S * 1000))
