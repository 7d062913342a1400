"""A light Streamlit client: what the browser's JavaScript does over the app's websocket, minus the
drawing. It sends the same protobuf messages (``BackMsg`` with the widget states of a rerun), reads
the elements the server sends back (``ForwardMsg`` deltas) and fetches the pictures they name, so
many sessions fit on a small machine where as many browser pages would not.

Only what the robustness tests need: sliders and number inputs, headings, metrics, images, alerts
and exceptions.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Optional

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

COMPRESSION = "deflate"
WIDGETS = ("slider", "number_input", "selectbox", "radio", "checkbox", "toggle", "file_uploader", "download_button")


@dataclass
class Run:
    """What one script run showed, in the order the server sent it, and how long it took."""

    seconds: float
    status: str = ""
    headings: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)  # picture URLs (data URLs: ui.views.show_image)
    errors: list[str] = field(default_factory=list)  # st.error texts and uncaught exceptions
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Finished normally, with no error or exception shown."""
        return self.status == "FINISHED_SUCCESSFULLY" and not self.errors


class Session:
    """One user: a websocket to the server, the widget values this user has set, one page."""

    def __init__(self, base: str, page: str = "") -> None:
        self.base, self.page = base, page
        self.ids: dict[str, tuple[str, str]] = {}  # widget key -> (id, element kind)
        self.states: dict[str, WidgetState] = {}
        self.session_id: Optional[str] = None
        self.fetched: dict[str, int] = {}  # media URL -> bytes: like a browser, fetch each picture once
        self._ws = None

    async def __aenter__(self) -> "Session":
        url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self._ws = await websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                            ping_interval=None, compression=COMPRESSION)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()

    def set(self, **values: float) -> None:
        """Set widgets by key (sliders and number inputs); sent with the next ``run``."""
        for key, value in values.items():
            wid, kind = self.ids[key]
            state = WidgetState(id=wid)
            if kind == "slider":
                state.double_array_value.data[:] = [float(value)]
            elif kind == "number_input":
                state.double_value = float(value)
            else:
                raise ValueError(f"cannot set a {kind} ({key})")
            self.states[key] = state

    async def run(self, timeout: float = 120.0, **values: float) -> Run:
        """Set ``values`` and rerun the page, as moving a widget does; wait for the run to finish."""
        self.set(**values)
        msg = BackMsg()
        msg.rerun_script.page_name = self.page
        msg.rerun_script.query_string = ""
        msg.rerun_script.widget_states.widgets.extend(self.states.values())
        start = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        run = Run(0.0)
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self._ws.recv(), timeout))
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                self._read(fm.delta.new_element, run)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                run.seconds, run.status = time.perf_counter() - start, status
                return run

    def _read(self, element, run: Run) -> None:
        kind = element.WhichOneof("type")
        if kind in WIDGETS:
            widget = getattr(element, kind)
            if widget.id:
                self.ids[widget.id.rsplit("-", 1)[-1]] = (widget.id, kind)
        elif kind == "heading":
            run.headings.append(element.heading.body)
        elif kind == "metric":
            run.metrics[element.metric.label] = element.metric.body
        elif kind == "imgs":
            run.images.extend(img.url for img in element.imgs.imgs)
        elif kind == "alert":
            if element.alert.format == Alert.ERROR:
                run.errors.append(element.alert.body)
            elif element.alert.format == Alert.WARNING:
                run.warnings.append(element.alert.body)
        elif kind == "exception":
            run.errors.append(f"exception {element.exception.type}: {element.exception.message}")

    async def fetch(self, url: str) -> int:
        """The bytes of a picture of the page: a data URL's own (the app's pictures travel in the page,
        ``ui.views.show_image``), or a GET of a media URL, as the browser does (once per URL: Streamlit
        names media by their content, and a browser keeps showing a picture whose URL did not change).
        Returns its size in bytes."""
        if url.startswith("data:"):
            import base64

            return len(base64.b64decode(url.split(",", 1)[1]))

        def get() -> bytes:
            with urllib.request.urlopen(self.base + url, timeout=60) as r:
                return r.read()
        if url not in self.fetched:
            self.fetched[url] = len(await asyncio.to_thread(get))
        return self.fetched[url]


def server_pid(port: int) -> Optional[int]:
    """PID of the ``streamlit run`` process started for ``port`` (found by its command line)."""
    from pathlib import Path

    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and b"run" in args and str(port).encode() in args:
            return int(proc.name)
    return None


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")
