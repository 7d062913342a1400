"""Guidance Lab: see how diffusion models sample and how guidance bends their path.

Run with ``streamlit run app.py`` (or ``make run``); the command works from any folder.

This file is read in two ways:

* ``streamlit run app.py`` finds the ``st.App`` named ``app`` below and imports this file once, as
  the module ``app``, to serve it (uvicorn). The app's lifespan runs once, at server start, before
  any browser session: it turns off Streamlit's ``pages/`` folder mode and starts a background
  warm-up (``lifespan`` and ``warm_up`` below).
* Every session then runs this file as its page script (``__name__ == "__main__"``; AppTest runs it
  the same way): page configuration, ``st.navigation``, the shared sidebar and the chosen page.

``GUIDANCE_LAB_WARM_UP=0`` turns the warm-up off (``make bench`` measures what it buys).
"""

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager

_LOG = logging.getLogger("guidance_lab")


def warm_up_enabled() -> bool:
    """Whether the server warms up at start (``GUIDANCE_LAB_WARM_UP=0`` turns it off)."""
    return os.environ.get("GUIDANCE_LAB_WARM_UP", "1").strip() != "0"


async def warm_up() -> None:
    """Do at server start, in the background, what the first visitors would otherwise wait for.

    1. Run the app's default page once in a session with no browser (Streamlit's own script health
       check runs the script this way: ``Runtime.does_script_run_without_error``). The heavy imports
       (torch, matplotlib), the model, and the first page's run and pictures land in the process and
       in the shared Streamlit caches while the first browser is still loading the page. A visitor
       who connects mid-way waits on the same import and cache locks instead of doing the work twice.
    2. At the server's first quiet moment (the first visitors' pages drawn), prepare the trade-off
       page (``ui.preload.warm_trade_off``: its judge, with scikit-learn's import, and the data's
       scores). That import holds the interpreter for a second or more, so it waits for quiet, and
       if none comes within ``QUIET_WITHIN_S`` the class is at work: it is skipped, and the
       trade-off page's first visit imports scikit-learn itself (tests/robustness/test_load.py
       measured a 20-session rerun p95 of 3.9x a lone session's when it ran in the middle).

    A failed warm-up is logged and costs only the time it would have saved.
    """
    try:
        ok, message = await Runtime.instance().does_script_run_without_error()
        if not ok:
            _LOG.warning("warm-up: the first page did not run cleanly (%s)", message)
            return
        if not await until_idle(limit=QUIET_WITHIN_S):
            _LOG.info("warm-up: the server stayed busy, so the trade-off page prepares itself on its first visit")
            return
        # Imported here: the module imports torch, and only a page run may pay for that (see below).
        from ui.preload import warm_trade_off

        await asyncio.to_thread(warm_trade_off)
    except Exception:  # noqa: BLE001  (a warm-up never takes the server down)
        _LOG.warning("warm-up failed", exc_info=True)


QUIET_WITHIN_S = 10.0  # the warm-up's second stage runs only if the server is quiet this soon after the first


async def until_idle(window: float = 0.5, share: float = 0.1, limit: float = 30.0) -> bool:
    """Wait until this process has used less than ``share`` of a core over ``window`` seconds (every
    thread counted: sessions' scripts, serving pictures): True; False if that has not happened
    within ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        before = time.process_time()
        await asyncio.sleep(window)
        if time.process_time() - before < share * window:
            return True
    return False


@asynccontextmanager
async def lifespan(_app):
    """Once per server, before any session.

    This app's pages come from ``st.navigation``, never from the ``pages/`` folder. Streamlit decides
    that at the first session (a ``pages/`` folder beside the main script means its legacy listing of
    that folder), and only a call of ``st.navigation`` undoes it: a fresh server whose first visitor
    opened ``/lecture`` ran ``pages/lecture.py`` alone, with no navigation, no sidebar and a narrow
    layout. Setting the flag here, before any session exists, makes every URL open the same app.
    """
    PagesManager.uses_pages_directory = False
    task = asyncio.create_task(warm_up()) if warm_up_enabled() else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()


if __name__ != "__main__":
    # Imported by `streamlit run app.py`, which finds this assignment and serves it with uvicorn.
    app = st.App(__file__, lifespan=lifespan)
else:
    # The page script. These imports sit here, not at the top: `streamlit run` imports this file
    # before the server answers anything, and they take ~2 s (torch, matplotlib, the models and
    # every view); in a session they are done by the warm-up while the browser loads.
    import ui.preload  # noqa: F401, I001  (first: the heavy imports, once per process, without garbage collections)
    import torch
    from ui.page_list import HOME, PAGES
    from ui.link import apply_link, copy_link, link_notes, write_link
    from ui.sidebar import sidebar_from_app

    # The models are tiny: one thread per op is fastest, and many sessions share the cores.
    torch.set_num_threads(1)

    # Icons from the Material Symbols font that Streamlit ships (emoji show as empty boxes in
    # browsers without an emoji font, such as Debian's Chromium).
    st.set_page_config(page_title="Guidance Lab", page_icon=":material/explore:", layout="wide")

    first, *others = PAGES
    # The first page is served at "/"; Streamlit reserves its own name for it without serving it there,
    # so it is declared under another name, and a hidden page serves the same file at /<name> (a link
    # a teacher sends, /sampling, opens it instead of "Page not found").
    pages = [st.Page(first.file, title=first.title, icon=first.icon, default=True, url_path=HOME),
             *(st.Page(p.file, title=p.title, icon=p.icon) for p in others),
             st.Page(first.file, title=first.title, icon=first.icon, url_path=first.name, visibility="hidden")]
    page = st.navigation(pages)
    apply_link()  # a link's settings reach their widgets before any is drawn
    settings = sidebar_from_app()
    link_notes()
    page.run()
    write_link(settings)  # the URL follows the widgets: the view's link
    with st.sidebar:
        copy_link()
