"""The app in a real browser: every page loads without an exception or error, shows images, the
pages' icons are drawn, the guidance pages rerun when the γ slider moves, and the lecture's Next
button turns the slide.
Screenshots go to tests/browser/screenshots/ (git-ignored).

Starts ``streamlit run app.py`` itself on a free port and drives Debian's Chromium (/usr/bin/chromium,
installed by .ci/run) through Playwright; skipped where that browser is missing.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tools import browser

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
FIRST_LOAD_S = 120.0  # the first page loads the model and samples
PAGE_S = 60.0
GAMMA_PRESSES = 3

pytestmark = pytest.mark.skipif(not browser.chromium_available(),
                                reason=f"no Chromium at {browser.CHROMIUM} (CI installs it: apt-get install chromium)")


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("playwright.sync_api")
    with browser.streamlit_server(timeout=90) as base:
        yield base


@pytest.fixture()
def page(server):
    with browser.chromium() as context:
        yield context.new_page()


def _check(page, name: str) -> None:
    problems = browser.page_problems(page)
    assert not problems, f"{name}: " + "\n".join(problems)
    assert browser.image_count(page) >= 1, f"{name}: no image shown"


def _next_slide(page) -> None:
    """The lecture's Next button shows the next slide: a new title and a new picture."""
    title = page.locator("h1").first.inner_text()
    before, runs = browser.image_sources(page), browser.runs(page)
    page.get_by_role("button", name="Next").click(timeout=int(PAGE_S * 1000))
    browser.wait_idle(page, PAGE_S, after_runs=runs)
    assert page.locator("h1").first.inner_text() != title, "lecture: Next did not change the slide"
    assert browser.image_sources(page) != before, "lecture: Next did not change the picture"
    _check(page, "lecture after Next")


def test_every_page_in_the_browser(server, page):
    t0 = time.monotonic()
    js_errors: list[str] = []
    # A ResizeObserver loop notice is the browser's, harmless, and reported as an error by Chromium.
    page.on("pageerror", lambda e: None if "ResizeObserver loop" in str(e) else js_errors.append(str(e)))
    first, *others = browser.PAGES
    browser.open_page(page, server, first, FIRST_LOAD_S)
    _check(page, first.name)
    browser.screenshot(page, SCREENSHOTS / f"{first.name}.png")

    links = page.locator('[data-testid="stSidebarNav"] a')
    assert links.count() == len(browser.PAGES), links.all_inner_texts()
    for app_page in browser.PAGES:
        link = browser.nav_link(page, app_page)
        assert link.count() == 1, f"no sidebar link {app_page.title!r}: {links.all_inner_texts()}"
        assert urlparse(link.get_attribute("href")).path == "/" + app_page.path
    # Each link's icon is a glyph of Streamlit's bundled Material Symbols font (an emoji showed as an
    # empty box in Debian's Chromium); a name the font lacks would show as its text, many ems wide.
    icons = page.evaluate("""async () => { await document.fonts.ready;
        return [...document.querySelectorAll('[data-testid="stSidebarNav"] a [data-testid="stIconMaterial"]')]
            .map(e => [e.textContent, e.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize)]); }""")
    assert len(icons) == len(browser.PAGES), icons
    assert all(0.5 <= ems <= 1.5 for _, ems in icons), f"icons not drawn as one glyph each: {icons}"

    for app_page in others:
        browser.click_nav(page, app_page, PAGE_S)
        assert urlparse(page.url).path == "/" + app_page.path
        _check(page, app_page.name)
        if app_page.has_gamma:
            before = browser.image_sources(page)
            old, new = browser.move_slider(page, browser.GAMMA_LABEL, GAMMA_PRESSES, PAGE_S)
            assert new > old, f"{app_page.name}: the γ slider did not move ({old} -> {new})"
            shown = page.locator('[data-testid="stSlider"]', has_text=browser.GAMMA_LABEL).locator(
                '[data-testid="stSliderThumbValue"]')
            if shown.count():
                assert float(shown.first.inner_text()) == new
            assert browser.image_sources(page) != before, f"{app_page.name}: no picture was redrawn for γ = {new}"
            _check(page, f"{app_page.name} after moving γ")
        if app_page.name == "lecture":
            _next_slide(page)
        browser.screenshot(page, SCREENSHOTS / f"{app_page.name}.png")

    assert not js_errors, "JavaScript errors: " + "\n".join(js_errors)
    print(f"browser test: {time.monotonic() - t0:.1f} s in the browser")
