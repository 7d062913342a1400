"""Screenshots of every page of the app, for the README.

    python -m tools.screenshots --out assets/readme            # assets/readme/<page>.png, full pages
    python -m tools.screenshots --out assets/readme --height 1400   # only the top 1400 px of each page
    python -m tools.screenshots --out shots --window 1920x1080 --screen   # what a projector shows, unscrolled

Starts ``streamlit run app.py`` on a free local port, opens each page in Debian's Chromium
(/usr/bin/chromium, through Playwright; never ``playwright install``) at a 1400x1000 viewport, waits for
the page to finish running and saves a screenshot; the server is ended by its PID. ``--window``
sets another window size (a 1920x1080 projector: ``--window 1920x1080``); ``--screen`` saves only
what the window shows (no scrolling), ``--prefix`` names the files ``<prefix><page>.png``. Install
``fonts-noto-color-emoji`` first, or the page icons in the sidebar are drawn as empty boxes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tools import browser

MARGIN = 48  # px of background kept under the last thing on a page


def trim_bottom(im: Image.Image, margin: int = MARGIN) -> Image.Image:
    """Cut the empty rows (identical to the bottom row: sidebar and page background) off the bottom."""
    px = np.asarray(im.convert("RGB")).astype(np.int16)
    differs = np.abs(px - px[-1]).max(axis=(1, 2)) > 8
    last = int(np.nonzero(differs)[0].max()) if differs.any() else im.height - 1
    return im.crop((0, 0, im.width, min(im.height, last + 1 + margin)))


def window_size(text: str) -> dict:
    """``"1920x1080"`` -> ``{"width": 1920, "height": 1080}``."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"give the window as WIDTHxHEIGHT, e.g. 1920x1080; got {text!r}") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"a window from 320x240 to 7680x4320, got {text!r}")
    return {"width": width, "height": height}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("assets/readme"), help="folder for <page>.png")
    ap.add_argument("--height", type=int, default=0,
                    help="crop each page to its top HEIGHT pixels (0: the whole page, less the empty space at its bottom)")
    ap.add_argument("--pages", nargs="*", choices=[p.name for p in browser.PAGES],
                    help="only these pages (default: all)")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for one page")
    ap.add_argument("--window", type=window_size, default=browser.VIEWPORT, metavar="WxH",
                    help=f"the browser window (default {browser.VIEWPORT['width']}x{browser.VIEWPORT['height']})")
    ap.add_argument("--screen", action="store_true", help="only what the window shows, not the whole page")
    ap.add_argument("--prefix", default="", help="put this before each file name")
    args = ap.parse_args(argv)

    if not browser.chromium_available():
        print(f"no Chromium at {browser.CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    pages = [p for p in browser.PAGES if not args.pages or p.name in args.pages]
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    # toolbarMode viewer: no "Deploy" button in the pictures.
    with browser.streamlit_server(extra_args=("--client.toolbarMode", "viewer")) as base, \
            browser.chromium(args.window) as context:
        page = context.new_page()
        if pages[0] is not browser.PAGES[0]:
            # A fresh server that is first asked for a page's own URL runs that file alone (Streamlit's
            # pages/ folder mode: no app.py, no wide layout, file names in the sidebar); once app.py has
            # run, st.navigation holds for the whole server. So open the app's root page first.
            browser.open_page(page, base, browser.PAGES[0], args.timeout)
        for app_page in pages:
            t = time.monotonic()
            browser.open_page(page, base, app_page, args.timeout)
            problems = browser.page_problems(page)
            path = args.out / f"{args.prefix}{app_page.name}.png"
            browser.screenshot(page, path, full_page=not args.screen)
            with Image.open(path) as im:
                im.load()
            if not args.screen:
                im = trim_bottom(im)
            if args.height:
                im = im.crop((0, 0, im.width, min(im.height, args.height)))
            im.save(path, optimize=True)
            with Image.open(path) as im:
                size = f"{im.width}x{im.height}"
            print(f"{path}  {size}  {time.monotonic() - t:.1f} s" + "".join(f"\n  ! {p}" for p in problems))
    print(f"done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
