"""Every URL opens the same app (issue 11, item 6): each page's own URL, as the FIRST visit to a
freshly started server, shows the app's navigation (every page's title, this page's marked
current), its sidebar settings, its wide layout and page configuration, and the page itself.

Before app.py's lifespan turned off Streamlit's ``pages/`` folder mode, a fresh server whose first
visitor opened ``/lecture`` ran ``pages/lecture.py`` alone: Streamlit's listing of the folder's file
names, a centred layout, no sidebar settings.

One server per page (the bug lives in the server's first session), started together; one Chromium,
one tab per server. Starts ``streamlit run app.py`` itself and drives Debian's Chromium through
Playwright; skipped where that browser is missing.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools import browser

FIRST_LOAD_S = 240.0  # nine servers import torch and run their first page at once on a small machine
SERVER_S = 180.0
WINDOW = {"width": 1400, "height": 1000}
#: Streamlit's centred layout is at most 736 px wide; "wide" fills the window beside the sidebar.
CENTRED_MAX_PX = 736

pytestmark = pytest.mark.skipif(not browser.chromium_available(),
                                reason=f"no Chromium at {browser.CHROMIUM} (CI installs it: apt-get install chromium)")


@contextlib.contextmanager
def fresh_servers(n: int):
    """``n`` freshly started ``streamlit run app.py`` servers, started at once; yields their base URLs.
    Each runs inside its own ``tools.browser.streamlit_server`` (in a thread that holds it open until
    the test is done), so each is ended by its PID as usual."""
    done = threading.Event()
    bases: list = [None] * n
    ready = [threading.Event() for _ in range(n)]

    def hold(i: int) -> None:
        try:
            with browser.streamlit_server(timeout=SERVER_S) as base:
                bases[i] = base
                ready[i].set()
                done.wait()
        except BaseException as e:  # noqa: BLE001  (reported by the test below)
            bases[i] = e
            ready[i].set()

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(hold, i) for i in range(n)]
        try:
            for event in ready:
                event.wait(SERVER_S + 30)
            failed = [b for b in bases if not isinstance(b, str)]
            if failed:
                raise RuntimeError(f"a server did not start: {failed[0]!r}")
            yield bases
        finally:
            done.set()
            for f in futures:
                f.result(timeout=60)


def shown(page) -> dict:
    """What the app shows: navigation titles, the current one, sidebar labels, layout, headings."""
    return page.evaluate("""() => {
        const links = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')];
        const title = a => (a.querySelector('span[label]') || a).getAttribute('label') || a.innerText.trim();
        const main = document.querySelector('[data-testid="stMainBlockContainer"]');
        return {
          nav: links.map(title),
          current: links.filter(a => a.getAttribute('aria-current') === 'page').map(title),
          sidebar: [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]')]
                     .map(e => e.innerText.trim()),
          width: main ? main.getBoundingClientRect().width : 0,
          h1: [...document.querySelectorAll('[data-testid="stMain"] h1')].map(e => e.innerText.trim()),
          doc_title: document.title,
        };
    }""")


#: the sidebar's first setting, drawn by app.py on every page
SIDEBAR_LABEL_JS = """() => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]')]
                         .some(e => e.innerText.trim() === 'Data set')"""
SETTLE_S = 30.0


def settle(tab) -> None:
    """Give the browser up to ``SETTLE_S`` more to show the sidebar's settings after the run is over.

    On CI's loaded machine (nine servers and one Chromium on 2 cores) two of the nine tabs once read
    as idle with their navigation and page title drawn but the sidebar's widgets not yet; the app of
    the bug this test guards against never draws them at all, so waiting a little longer cannot hide
    it. Returns either way: the checks below say what is missing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        tab.wait_for_function(SIDEBAR_LABEL_JS, timeout=int(SETTLE_S * 1000), polling=200)
    except PlaywrightTimeout:
        pass


def sidebar_text(tab) -> str:
    """The sidebar's whole text (for a failure message)."""
    return tab.evaluate("""() => { const s = document.querySelector('[data-testid="stSidebar"]');
                                   return s ? s.innerText.slice(0, 600) : '(no sidebar element)'; }""")


def test_each_page_url_as_the_first_visit_opens_the_app():
    pytest.importorskip("playwright.sync_api")
    titles = [p.title for p in browser.PAGES]
    with fresh_servers(len(browser.PAGES)) as bases, browser.chromium(WINDOW) as context:
        tabs = []
        for app_page, base in zip(browser.PAGES, bases):  # each server's first visitor: this page's URL
            tab = context.new_page()
            tab.goto(f"{base}/{app_page.path}", wait_until="commit", timeout=int(FIRST_LOAD_S * 1000))
            tabs.append(tab)
        failures = []
        for app_page, tab in zip(browser.PAGES, tabs):
            tab.wait_for_function("() => (window.__glRuns || 0) > 0", timeout=int(FIRST_LOAD_S * 1000))
            browser.wait_idle(tab, FIRST_LOAD_S, images=False)
            settle(tab)
            got = shown(tab)
            url = "/" + app_page.path
            if got["nav"] != titles:
                failures.append(f"{url}: navigation {got['nav']} instead of the app's {titles}")
            if got["current"] != [app_page.title]:
                failures.append(f"{url}: current page {got['current']}, not {app_page.title!r}")
            if "Data set" not in got["sidebar"]:
                failures.append(f"{url}: no sidebar settings ({got['sidebar']}); the sidebar held: {sidebar_text(tab)!r}")
            if got["width"] <= CENTRED_MAX_PX:
                failures.append(f"{url}: centred layout ({got['width']:.0f} px wide), not the app's wide one")
            if got["doc_title"] != "Guidance Lab":
                failures.append(f"{url}: window title {got['doc_title']!r}, not the app's page configuration")
            if len(got["h1"]) < 1:
                failures.append(f"{url}: the page drew no title")
            if problems := browser.page_problems(tab):
                failures.append(f"{url}: " + "; ".join(problems))
            here = tab.url.split("?")[0]  # the page's settings follow in the query (ui.link)
            if here.rstrip("/") != f"{bases[browser.PAGES.index(app_page)]}{url}".rstrip("/"):
                failures.append(f"{url}: the browser was sent to {tab.url}")
        assert not failures, "\n".join(failures)
