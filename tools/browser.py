"""Drive the Guidance Lab app in a real browser: start the Streamlit server, open Debian's Chromium
(through Playwright, never ``playwright install``), visit pages and wait for their reruns.

Shared by ``tests/browser/test_app_browser.py`` and ``python -m tools.screenshots``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Optional

from ui.page_list import PAGES as APP_PAGES
from ui.page_list import AppPage  # noqa: F401  (the pages' type, for the browser tests)

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GUIDANCE_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
PROJECTOR = {"width": 1920, "height": 1080}  # a classroom projector: what every page must fit


# The pages, declared once (ui.page_list); the first page lives at "/" and at "/<name>".
PAGES = APP_PAGES
GAMMA_LABEL = "Guidance scale γ"

# Counts finished script runs: each time stApp's data-test-script-state turns back to "notRunning".
# Installed before any page script, so a rerun cannot slip by between two polls. (A rerun served from
# the caches can start and finish within one render, so that the attribute is never seen to change:
# ``click_nav`` also accepts the new page's title.)
_RUN_COUNTER_JS = """
(() => {
  window.__glRuns = 0;
  window.__glLastChange = performance.now();
  let last = null;
  const seen = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : null;
    if (state !== last) {
      if (state === 'notRunning' && last !== null) window.__glRuns += 1;
      window.__glLastChange = performance.now();
      last = state;
    }
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['data-test-script-state']});
})();
"""

# Idle: the script has finished, the websocket is up, no status widget ("Running..."), no spinner,
# no stale element, and the script state has not changed for `quiet` ms (a widget change sent
# just before would have started a new run by then).
_IDLE_JS = """
quiet => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSpinner"]')
    && !document.querySelector('[data-stale="true"]')
    && performance.now() - (window.__glLastChange || 0) >= quiet;
}
"""


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> Optional[str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@contextlib.contextmanager
def streamlit_server(root: Path = ROOT, timeout: float = 90.0, extra_args: tuple[str, ...] = (),
                     script: str = "app.py") -> Iterator[str]:
    """Start ``streamlit run SCRIPT`` (``app.py``; a path relative to ``root``) on a free local port and
    yield its base URL ("http://127.0.0.1:PORT").

    ``extra_args`` are more ``streamlit run`` options. The server is ended by its PID on exit
    (terminate, then kill after 10 s); set GUIDANCE_LAB_SERVER_LOG=1 to see its output."""
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="guidance-lab-server-"))
    log = log_dir / "streamlit.log"
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
           # No file watcher: a test server never reloads, and watching the repository (.venv included)
           # costs a 2-core machine a whole core whenever other files change.
           "--server.fileWatcherType", "none", "--server.runOnSave", "false", *extra_args]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while _health(f"{base}/_stcore/health") != "ok":
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer {base}/_stcore/health within {timeout:.0f} s:\n{_tail(log)}")
            time.sleep(0.25)
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        server_log = _tail(log, 20000)
        shutil.rmtree(log_dir, ignore_errors=True)
        if server_log and os.environ.get("GUIDANCE_LAB_SERVER_LOG"):
            sys.stderr.write(server_log)


@contextlib.contextmanager
def chromium(viewport: dict = VIEWPORT) -> Iterator["object"]:
    """Yield a Playwright browser context (Debian's Chromium, a fresh temporary profile, ``viewport``)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="guidance-lab-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport=viewport, device_scale_factor=1, reduced_motion="reduce")
            try:
                context.add_init_script(_RUN_COUNTER_JS)
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def runs(page) -> int:
    """How many script runs have finished in this page since it was loaded."""
    return int(page.evaluate("() => window.__glRuns || 0"))


def wait_idle(page, timeout: float, after_runs: Optional[int] = None, images: bool = True,
              quiet_ms: int = 500) -> None:
    """Wait until the app has finished running (and, if ``after_runs`` is given, until a run later than
    that count has finished), nothing is stale or spinning, the script state has been still for
    ``quiet_ms``, and (``images``) at least one ``stImage`` is shown and every one has loaded."""
    ms = int(timeout * 1000)
    if after_runs is not None:
        page.wait_for_function("n => (window.__glRuns || 0) > n", arg=after_runs, timeout=ms)
    page.wait_for_function(_IDLE_JS, arg=quiet_ms, timeout=ms, polling=100)
    if images:
        page.locator('[data-testid="stImage"] img').first.wait_for(state="visible", timeout=ms)
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                    .every(img => img.complete && img.naturalWidth > 0)""", timeout=ms, polling=100)


def load(page, url: str, timeout: float, images: bool = True, quiet_ms: int = 500) -> None:
    """Open ``url`` and wait for the app's first run there to finish (``wait_idle``'s ``images`` and
    ``quiet_ms``; 0 for a timing that stops as soon as the page is drawn)."""
    page.goto(url, wait_until="domcontentloaded", timeout=int(timeout * 1000))
    page.wait_for_function("() => (window.__glRuns || 0) > 0", timeout=int(timeout * 1000))
    wait_idle(page, timeout, images=images, quiet_ms=quiet_ms)


def open_page(page, base: str, app_page: AppPage, timeout: float) -> None:
    """Load ``app_page`` by its URL and wait for its first run to finish."""
    load(page, f"{base}/{app_page.path}", timeout, images=app_page.images)


def nav_link(page, app_page: AppPage):
    """The sidebar navigation link of ``app_page`` (matched on its whole title)."""
    return page.locator('[data-testid="stSidebarNav"] a').filter(has=page.get_by_text(app_page.title, exact=True))


_SWITCHED_JS = """
([n, path, h1]) => {
  const title = document.querySelector('[data-testid="stMain"] h1');
  return (window.__glRuns || 0) > n
    || ((!path || location.pathname === path) && !!title && title.innerText.trim() !== h1);
}
"""


def _title(page) -> str:
    title = page.locator('[data-testid="stMain"] h1')
    return title.first.inner_text().strip() if title.count() else ""


def click_button(page, name: str, timeout: float) -> None:
    """Click the button called ``name`` (the lecture's Next or Back) and wait for the run it starts to
    finish: a run counted, or another title on the page (as ``click_nav``)."""
    before, h1 = runs(page), _title(page)
    page.get_by_role("button", name=name).click(timeout=int(timeout * 1000))
    page.wait_for_function(_SWITCHED_JS, arg=[before, "", h1], timeout=int(timeout * 1000))
    wait_idle(page, timeout)


def click_nav(page, app_page: AppPage, timeout: float) -> None:
    """Go to ``app_page`` through the sidebar navigation link and wait for its run to finish: a run
    counted after the click, or the page's own URL with another title than before (a page switch
    served from the caches can finish without the script state ever being seen to change: about one
    switch in three on a busy 2-core machine)."""
    before, h1 = runs(page), _title(page)
    nav_link(page, app_page).click(timeout=int(timeout * 1000))
    page.wait_for_function(_SWITCHED_JS, arg=[before, "/" + app_page.path, h1], timeout=int(timeout * 1000))
    wait_idle(page, timeout, images=app_page.images)


def slider_thumb(page, label: str):
    """The thumb of the ``st.slider`` labelled ``label``. Streamlit 1.67 draws sliders with react-aria:
    the thumb is a visually hidden ``<input type="range" aria-label=LABEL>`` (implicit role "slider",
    so its value is the input's ``value``, not an ``aria-valuenow`` attribute). Older Streamlit
    (baseweb) used a ``div[role="slider"]`` with ``aria-valuenow``; both are found by role."""
    return slider_box(page, label).get_by_role("slider").first


def slider_value(thumb) -> float:
    """The thumb's value (aria-valuenow, or the range input's value)."""
    return float(thumb.evaluate("el => el.getAttribute('aria-valuenow') ?? el.value"))


def move_slider(page, label: str, presses: int, timeout: float, key: str = "ArrowRight") -> tuple[float, float]:
    """Focus the slider's thumb, press ``key`` ``presses`` times and wait for the rerun the change
    starts to finish. Returns the thumb's value before and after."""
    ms = int(timeout * 1000)
    thumb = slider_thumb(page, label)
    thumb.wait_for(state="attached", timeout=ms)
    old = slider_value(thumb)
    before = runs(page)
    thumb.focus()
    for _ in range(presses):
        thumb.press(key)
    page.wait_for_function("([el, old]) => parseFloat(el.getAttribute('aria-valuenow') ?? el.value) !== old",
                           arg=[thumb.element_handle(), old], timeout=ms)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # as chromium(): playwright only when used

    try:
        page.wait_for_function("n => (window.__glRuns || 0) > n", arg=before, timeout=min(ms, 10_000))
    except PlaywrightTimeout:
        pass  # a rerun served from the caches can finish unseen (``_RUN_COUNTER_JS``); idle below still holds
    wait_idle(page, timeout)
    return old, slider_value(thumb)  # read once idle: the thumb moves one press at a time


def page_problems(page) -> list[str]:
    """Exception boxes and error alerts on the page (warnings and infos are fine)."""
    problems = []
    for el in page.locator('[data-testid="stException"]').all():
        problems.append("exception: " + el.inner_text()[:2000])
    for el in page.locator('[data-testid="stAlert"]').all():
        if el.locator('[data-testid="stAlertContentError"]').count():
            problems.append("error alert: " + el.inner_text()[:2000])
    return problems


def image_sources(page) -> list[str]:
    """The ``src`` of every image shown (a data URL of its bytes, ``ui.views.show_image``: a redrawn
    picture gets a new one)."""
    return page.locator('[data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")


def image_count(page) -> int:
    return page.locator('[data-testid="stImage"] img').count()


def screenshot(page, path, full_page: bool = True, max_height: int = 8000) -> None:
    """Save a screenshot of ``page``. Streamlit scrolls inside ``stMain`` (and the sidebar), not the
    document, so Playwright's ``full_page`` would stop at the viewport: for a full page the viewport is
    grown to the content's height for the shot, then put back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not full_page:
        page.screenshot(path=str(path))
        return
    size = page.viewport_size
    height_js = """() => Math.max(window.innerHeight,
        ...['[data-testid="stMain"]', '[data-testid="stSidebarContent"]']
            .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""
    try:
        height = size["height"]
        for _ in range(4):  # growing the window can re-lay the page out; stop once the height holds
            wanted = min(int(page.evaluate(height_js)), max_height)
            if wanted == height:
                break
            height = wanted
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_function("h => window.innerHeight === h", arg=height, timeout=5000)
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                    .every(img => img.complete && img.naturalWidth > 0)""", timeout=10000)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)


def box(locator) -> Optional[dict]:
    """The bounding box (x, y, width, height, in CSS px of the window) of the first element of ``locator``."""
    return locator.first.bounding_box()


def inside_window(page, locator, slack: float = 0.5) -> tuple[bool, Optional[dict]]:
    """Whether the first element of ``locator`` lies wholly inside the window (the viewport, not
    scrolled); returns the answer and the element's box."""
    b, size = box(locator), page.viewport_size
    if b is None:
        return False, None
    ok = (b["x"] >= -slack and b["y"] >= -slack and b["x"] + b["width"] <= size["width"] + slack
          and b["y"] + b["height"] <= size["height"] + slack and b["width"] > 0 and b["height"] > 0)
    return ok, b


def main_scrolls(page) -> bool:
    """Whether the page's main area is taller than the window (Streamlit scrolls ``stMain``, not the document)."""
    return bool(page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return !!m && m.scrollHeight > m.clientHeight + 1; }"""))


def slider_box(page, label: str):
    """The ``stSlider`` element labelled exactly ``label`` (label, track and thumb; "Step" is not
    "Sampling steps")."""
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    return page.locator('[data-testid="stSlider"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=exact))


def slider_shown(page, label: str) -> str:
    """The text the slider labelled ``label`` shows on its thumb ("step 13 of 25", "3.00")."""
    return slider_box(page, label).locator('[data-testid="stSliderThumbValue"]').first.inner_text().strip()


def sidebar_open(page) -> bool:
    """Whether the sidebar is shown (collapsed, Streamlit offers its expand button instead)."""
    return page.locator('[data-testid="stExpandSidebarButton"]').count() == 0


def set_sidebar(page, shown: bool, timeout: float = 10.0) -> None:
    """Open or collapse the sidebar with its own buttons, and wait until the page has been laid out anew."""
    if sidebar_open(page) == shown:
        return
    ms = int(timeout * 1000)
    if shown:
        page.locator('[data-testid="stExpandSidebarButton"]').first.click(timeout=ms)
        page.wait_for_function("""() => !document.querySelector('[data-testid="stExpandSidebarButton"]')""",
                               timeout=ms)
    else:
        page.locator('[data-testid="stSidebar"]').hover(timeout=ms)  # the collapse button shows on hover
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click(timeout=ms)
        page.locator('[data-testid="stExpandSidebarButton"]').first.wait_for(state="visible", timeout=ms)
    settle(page)


def settle(page, tries: int = 50) -> None:
    """Wait until the main area's width has stopped changing (the sidebar slides in or out with a
    transition, and the pictures are laid out again after it)."""
    page.evaluate("""async tries => {
        let last = -1;
        for (let i = 0; i < tries; i++) {
          const m = document.querySelector('[data-testid="stMainBlockContainer"]');
          const w = m ? m.getBoundingClientRect().width : 0;
          if (w === last) return;
          last = w;
          await new Promise(r => setTimeout(r, 100));
        }
      }""", tries)
