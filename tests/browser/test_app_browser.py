"""The app in a real browser: every page loads without an exception or error, shows images, the
pages' icons are drawn, the guidance pages rerun when the γ slider moves, and the lecture's Next
button turns the slide. On a 1920x1080 projector: the γ slider, the step scrubber and the whole step
figure are on screen together, step and γ follow the teacher between the guidance pages, and every
lecture slide fits the window with the sidebar open and collapsed.
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
from viz.figures.lecture import SLIDES

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


@pytest.fixture(scope="module")
def page(server):
    """One browser page for the module's tests (one session: quicker, and no session closes between them)."""
    with browser.chromium() as context:
        yield context.new_page()


def _check(page, name: str, images: bool = True) -> None:
    problems = browser.page_problems(page)
    assert not problems, f"{name}: " + "\n".join(problems)
    assert not images or browser.image_count(page) >= 1, f"{name}: no image shown"


def _next_slide(page) -> None:
    """The lecture's Next button shows the next slide: a new title and a new picture."""
    title = page.locator("h1").first.inner_text()
    before = browser.image_sources(page)
    browser.click_button(page, "Next", PAGE_S)
    assert page.locator("h1").first.inner_text() != title, "lecture: Next did not change the slide"
    assert browser.image_sources(page) != before, "lecture: Next did not change the picture"
    _check(page, "lecture after Next")


def test_every_page_in_the_browser(server, page):
    t0 = time.monotonic()
    js_errors: list[str] = []
    # A ResizeObserver loop notice is the browser's, harmless, and reported as an error by Chromium.
    page.on("pageerror", lambda e: None if "ResizeObserver loop" in str(e) else js_errors.append(str(e)))
    # Nothing the pages ask the server for is missing: before pictures travelled inside the page
    # (ui.views.show_image), a rerun could delete a picture the browser had yet to fetch (a 404, then
    # a broken image for good where the next run drew the same one: CI, stop 21).
    refused: list[str] = []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url[:120]}") if r.status >= 400 else None)
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
        _check(page, app_page.name, app_page.images)
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
    assert not refused, "requests the server refused: " + "\n".join(refused)
    print(f"browser test: {time.monotonic() - t0:.1f} s in the browser")


def _inside(page, what: str, locator) -> None:
    ok, b = browser.inside_window(page, locator)
    size = page.viewport_size
    assert ok, f"{what} is not inside the {size['width']}x{size['height']} window: {b}"


def _guidance_controls(page, name: str) -> tuple[str, str, str]:
    """On a guidance page at 1920x1080: the γ slider, the step scrubber and the whole step figure
    are on screen together; returns what γ and the scrubber show, and the figure's source."""
    _inside(page, f"{name}: the γ slider", browser.slider_box(page, browser.GAMMA_LABEL))
    _inside(page, f"{name}: the step scrubber", browser.slider_box(page, "Step"))
    picture = page.locator('.st-key-step_picture [data-testid="stImage"] img')
    _inside(page, f"{name}: the step figure", picture)
    return (browser.slider_shown(page, browser.GAMMA_LABEL), browser.slider_shown(page, "Step"),
            picture.first.get_attribute("src"))


def _slides_fit(page, walk: str) -> list[str]:
    """Every lecture slide's picture inside the window, nothing to scroll; walks the deck with
    ``walk`` ("Next" or "Back") from the current slide; returns the pictures' sources."""
    seen = []
    for i in range(len(SLIDES)):
        where = f"lecture slide {page.locator('h1').first.inner_text()!r} (sidebar {'open' if browser.sidebar_open(page) else 'collapsed'})"
        _inside(page, f"{where}: the picture", page.locator('.st-key-slide_picture [data-testid="stImage"] img'))
        assert not browser.main_scrolls(page), f"{where}: the slide needs scrolling"
        seen.append(browser.image_sources(page)[0])
        if i < len(SLIDES) - 1:
            browser.click_button(page, walk, PAGE_S)
    return seen


def test_a_projector_shows_controls_beside_pictures_state_follows_and_slides_fit(server, page):
    """1920x1080: on the CFG page the γ slider, the step scrubber and the step figure are on screen
    together; step and γ survive a round trip to classifier guidance and back; every lecture slide's
    picture fits the window, sidebar open and collapsed."""
    t0 = time.monotonic()
    page.set_viewport_size(browser.PROJECTOR)
    pages = {p.name: p for p in browser.PAGES}
    browser.open_page(page, server, browser.PAGES[0], FIRST_LOAD_S)
    browser.click_nav(page, pages["classifier_free_guidance"], PAGE_S)
    _check(page, "classifier_free_guidance")
    _guidance_controls(page, "classifier_free_guidance")
    browser.move_slider(page, browser.GAMMA_LABEL, 2, PAGE_S)
    browser.move_slider(page, "Step", 3, PAGE_S)
    gamma, step, picture = _guidance_controls(page, "classifier_free_guidance after moving γ and the step")
    assert not browser.page_problems(page) and browser.image_count(page) >= 2
    assert step.startswith("step ") and " of " in step, step  # "step k of S", as the figure's title
    browser.screenshot(page, SCREENSHOTS / "projector_cfg.png", full_page=False)

    browser.click_nav(page, pages["classifier_guidance"], PAGE_S)
    _check(page, "classifier_guidance")
    assert _guidance_controls(page, "classifier_guidance")[:2] == (gamma, step), "γ or step did not follow the teacher"
    browser.click_nav(page, pages["classifier_free_guidance"], PAGE_S)
    assert _guidance_controls(page, "classifier_free_guidance, back") == (gamma, step, picture), \
        "back on the CFG page: not the γ, step and picture left behind"

    browser.click_nav(page, pages["lecture"], PAGE_S)
    _check(page, "lecture")
    while page.get_by_role("button", name="Back").is_enabled():  # to the first slide
        browser.click_button(page, "Back", PAGE_S)
    forward = _slides_fit(page, "Next")
    browser.set_sidebar(page, False)
    backward = _slides_fit(page, "Back")
    browser.screenshot(page, SCREENSHOTS / "projector_lecture_collapsed.png", full_page=False)
    browser.set_sidebar(page, True)
    assert forward == backward[::-1]  # the same pictures, whatever the window's width
    print(f"projector test: {time.monotonic() - t0:.1f} s in the browser")
