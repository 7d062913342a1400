"""app.py as the server sees it: ``streamlit run app.py`` serves it as an ``st.App`` (imported once,
light), whose lifespan turns off the ``pages/`` folder mode before any session and warms the server up
in the background; the server reads ``.streamlit/config.toml`` and works started from any folder.

The browser side of the deep link (each page's URL as a fresh server's first visit) is
tests/browser/test_deeplink.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NewSession_pb2 import Config
from streamlit.web.server.app_discovery import discover_asgi_app

from tests.robustness.st_client import server_pid
from tools import browser

ROOT = Path(__file__).resolve().parent.parent
WARM_S = 180.0  # a busy 2-core machine can take a minute to import torch and run the first page


def _python(code: str, **env: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.split()


def test_streamlit_run_finds_the_app():
    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"


def test_importing_the_app_is_light():
    """uvicorn imports app.py before the server answers: no torch, no pages, no figures then."""
    got = _python("import sys, app\nprint(type(app.app).__module__, type(app.app).__name__, "
                  "any(m == 'torch' or m.startswith(('torch.', 'ui', 'viz', 'matplotlib')) for m in sys.modules))")
    assert got == ["streamlit.web.server.starlette.starlette_app", "App", "False"]


def test_the_lifespan_turns_off_the_pages_folder_mode_before_any_session():
    code = """
import asyncio
from streamlit.runtime.pages_manager import PagesManager
import app
PagesManager.uses_pages_directory = True   # what Streamlit would decide at the first session: pages/ exists
async def main():
    async with app.lifespan(app.app):
        print(PagesManager.uses_pages_directory, app.warm_up_enabled())
asyncio.run(main())
"""
    assert _python(code, GUIDANCE_LAB_WARM_UP="0") == ["False", "False"]
    assert _python("import app\nprint(app.warm_up_enabled())", GUIDANCE_LAB_WARM_UP="1") == ["True"]


def _mapped(pid: int, *names: str) -> dict[str, bool]:
    """Which of these shared-library names process ``pid`` has loaded."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {n: n in maps for n in names}


async def _first_session(base: str) -> tuple[Config, str, int]:
    """Open one session on the default page: the server's page config, how its run ended, its images."""
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
        msg = BackMsg()
        msg.rerun_script.page_name = ""
        msg.rerun_script.query_string = ""
        await ws.send(msg.SerializeToString())
        config, images = None, 0
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(ws.recv(), WARM_S))
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                config = fm.new_session.config
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                images += fm.delta.new_element.WhichOneof("type") == "imgs"
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if status != "FINISHED_EARLY_FOR_RERUN":
                    return config, status, images


def test_a_server_started_from_another_folder_warms_up_and_reads_its_config(tmp_path):
    """``streamlit run /path/to/app.py`` from an unrelated folder: before anyone connects, the warm-up
    has run the first page (torch loaded) and fitted the trade-off judge (scikit-learn's libsvm
    loaded); the first session gets the settings of .streamlit/config.toml (toolbar mode "viewer" is
    set there only) and a page that runs and shows pictures."""
    with browser.streamlit_server(root=tmp_path, script=str(ROOT / "app.py"), timeout=WARM_S) as base:
        pid = server_pid(int(base.rsplit(":", 1)[1]))
        assert pid is not None
        deadline = time.monotonic() + WARM_S
        libs = ("libtorch_cpu", "_libsvm")
        while not all((seen := _mapped(pid, *libs)).values()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert all(seen.values()), f"the warm-up did not load {seen} within {WARM_S:.0f} s"
        config, status, images = asyncio.run(_first_session(base))
    assert config.toolbar_mode == Config.ToolbarMode.VIEWER
    assert config.gather_usage_stats is False
    assert status == "FINISHED_SUCCESSFULLY"
    assert images >= 2


def test_the_second_warm_up_stage_waits_for_a_quiet_server_or_gives_up():
    """``app.until_idle`` answers True only once the process stops using the CPU (here: a thread that
    computes for a while, as sessions drawing pages would), and False if it stays busy past the limit."""
    code = """
import asyncio, threading, time
import app
def work(seconds, done):
    end = time.process_time() + seconds
    while time.process_time() < end:
        sum(range(10_000))
    done.set()
short, long = threading.Event(), threading.Event()
threading.Thread(target=work, args=(1.0, short)).start()
quiet = asyncio.run(app.until_idle(window=0.2, share=0.1, limit=60))
print(quiet, short.is_set())
threading.Thread(target=work, args=(4.0, long), daemon=True).start()
quiet = asyncio.run(app.until_idle(window=0.2, share=0.1, limit=1.0))
print(quiet, long.is_set())
"""
    assert _python(code) == ["True", "True", "False", "False"]
