"""`make bench`: medians of repeated runs, each beside a baseline measured in the same run.

Prints a markdown table and writes it to benchmarks/RESULTS.md with the machine it ran on.
Targets come from the issues; a missed target is reported, not hidden.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_trajectories(repeats: int) -> tuple[float, float]:
    """1,000 paths x 50 DDPM steps with CFG on the exact digits model vs one matmul of the same size."""
    from models.engine.pipeline import SampleSpec, run
    from models.engine.loading import load_bundle

    bundle = load_bundle("digits", "exact", "cpu")
    spec = SampleSpec(data="digits", model="exact", sampler="ddpm", guidance="cfg", gamma=3.0,
                      label=3, steps=50, batch=1000, seed=0)
    ours = median_time(lambda: run(spec, bundle), repeats)
    x = torch.randn(1000, 64)
    data = torch.as_tensor(bundle.dataset.x, dtype=torch.float32)
    floor = median_time(lambda: [x @ data.T for _ in range(50)], repeats)
    return ours, floor


def paired_times(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """``a`` and ``b`` timed alternately, ``repeats`` times each (a change in the machine's load hits
    both alike): (median wall time of a, of b, median of the per-pair ratios b / a)."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb), statistics.median(y / x for x, y in zip(ta, tb))


def bench_gif(repeats: int, kind: str = "trajectory") -> tuple[float, float, float, int]:
    """100-frame GIF of a view: our blitted renderer + encoder vs matplotlib's FuncAnimation +
    PillowWriter redrawing the same view (same figure, same update) frame by frame, interleaved:
    (our median s, its median s, median speed-up over the pairs, GIF bytes)."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    from models.engine.data import load_dataset
    from models.engine.pipeline import SampleSpec, run
    from viz.views.kinds import make_animation

    traj = run(SampleSpec(model="exact", guidance="cfg", gamma=3.0, steps=99, batch=8, seed=0), device="cpu")
    bg = load_dataset("digits").x
    size = {}

    def ours():
        size["bytes"] = len(make_animation(kind, traj, "pca", background=bg).gif(max_frames=100))

    def baseline():
        view = make_animation(kind, traj, "pca", background=bg)
        for a in view.moving:
            a.set_animated(False)
        anim = FuncAnimation(view.fig, view.update, frames=view.num_frames, blit=False)
        with tempfile.TemporaryDirectory() as d:
            anim.save(os.path.join(d, "b.gif"), writer=PillowWriter(fps=10))

    return (*paired_times(ours, baseline, repeats), size["bytes"])


def _page_apptest(page: str):
    """An AppTest of the app on ``page``, run once, with the caches emptied first (an earlier page's
    runs must not serve this one's)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def bench_rerun(page: str, widget: str, values: list, repeats: int) -> float:
    """Median AppTest rerun time after setting ``widget`` on ``page`` to each of ``values``."""
    at = _page_apptest(page)
    times = []
    for v in values[:repeats]:
        t0 = time.perf_counter()
        at.slider(key=widget).set_value(v).run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return statistics.median(times)


def bench_rerun_paired(page: str, widget: str, values: list, repeats: int) -> tuple[float, float]:
    """Median AppTest rerun times (page, trivial page) with the two interleaved, move for move,
    so that a change in the machine's load hits both alike."""
    from streamlit.testing.v1 import AppTest

    at = _page_apptest(page)
    trivial = AppTest.from_file(str(ROOT / "benchmarks" / "trivial_app.py"), default_timeout=60)
    trivial.run()
    times: tuple[list, list] = ([], [])
    for i, v in enumerate(values[:repeats]):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            if which == 0:
                at.slider(key=widget).set_value(v).run()
            else:
                trivial.slider(key="gamma").set_value(round(0.5 + 0.1 * i, 1)).run()
            times[which].append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return statistics.median(times[0]), statistics.median(times[1])


def bench_trivial(repeats: int) -> float:
    """Median rerun of the trivial page after a slider move."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "benchmarks" / "trivial_app.py"), default_timeout=60)
    at.run()
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        at.slider(key="gamma").set_value(round(0.5 + 0.1 * i, 1)).run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# -- the app in a real browser ------------------------------------------------------------------

TRIVIAL_SCRIPT = "benchmarks/trivial_app.py"


def _server_pid(base: str) -> int:
    """PID of the ``streamlit run`` child of this process that listens on ``base``'s port."""
    port = base.rsplit(":", 1)[1]
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"streamlit" in cmd and port.encode() in cmd:
            return int(proc.name)
    raise RuntimeError(f"no streamlit server child of this process listens on port {port}")


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (VmRSS of /proc/PID/status), MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


def _first_page(script: str):
    from tools import browser

    return browser.AppPage("trivial", "", "trivial") if script == TRIVIAL_SCRIPT else browser.PAGES[0]


@contextlib.contextmanager
def server_env(**values: str):
    """Environment variables for the servers started inside (``tools.browser.streamlit_server`` copies
    this process's environment), restored afterwards."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def cold_start_once(script: str, timeout: float = 180.0, root: Path = ROOT) -> float:
    """Seconds from ``streamlit run SCRIPT`` to its first page fully drawn in Chromium (the script has
    finished, no status widget, an ``stImage`` visible and every image loaded), in a fresh Chromium
    profile launched before the clock starts. ``root``: the checkout to run."""
    from tools import browser

    with browser.chromium() as context:
        page = context.new_page()
        t0 = time.perf_counter()
        with browser.streamlit_server(root=root, script=script, timeout=timeout) as base:
            browser.load(page, base, timeout, quiet_ms=0)
            seconds = time.perf_counter() - t0
            if problems := browser.page_problems(page):
                raise RuntimeError(f"{script}: {problems}")
    return seconds


def bench_cold_start(repeats: int, timeout: float = 180.0, root: Path = ROOT) -> tuple[float, float]:
    """Median cold start (``cold_start_once``) of the app and of the trivial page, interleaved."""
    times: dict[str, list[float]] = {"app.py": [], TRIVIAL_SCRIPT: []}
    for _ in range(repeats):
        for script in (TRIVIAL_SCRIPT, "app.py"):
            times[script].append(cold_start_once(script, timeout, root))
    return statistics.median(times["app.py"]), statistics.median(times[TRIVIAL_SCRIPT])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) that process ``pid`` has used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_settled(pid: int, timeout: float = 180.0, window: float = 2.0, busy: float = 0.05) -> None:
    """Wait until process ``pid`` has used less than ``busy`` of a core over ``window`` seconds (a
    server done with its start-up work and its first page; app.py's warm-up starts its second part
    after 0.5 s of quiet, so a 2 s window cannot end before that part has begun)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < busy * window:
            return
    raise TimeoutError(f"the server (PID {pid}) was still busy after {timeout:.0f} s")


#: the trade-off page's default sweep: the sidebar's defaults, the page's first method and sample count
TRADEOFF_SWEEP = dict(data="digits", model="neural", sampler="ddpm", steps=25, samples=100, seed=0)


def tradeoff_guidance() -> str:
    """The trade-off page's default method: the first with a scale γ (``pages/tradeoff.py``)."""
    from models.guidance import GUIDANCE_NAMES

    return next(g for g in GUIDANCE_NAMES if g != "none")


def tradeoff_visit_once(busy: bool = False, timeout: float = 300.0) -> float:
    """Seconds from a click on the trade-off page's link to the page fully drawn, on a fresh server
    whose first page a browser has opened and which has then settled (its warm-up, if any, done):
    the first visit of the trade-off page on a running classroom server. ``busy``: two busy-loop
    processes hold the cores during the visit."""
    from benchmarks.common import busy_cores
    from tools import browser

    target = next(p for p in browser.PAGES if p.name == "tradeoff")
    with browser.chromium() as context, browser.streamlit_server(timeout=timeout) as base:
        page = context.new_page()
        browser.open_page(page, base, browser.PAGES[0], timeout)
        wait_settled(_server_pid(base), timeout)
        with busy_cores() if busy else contextlib.nullcontext():
            runs = browser.runs(page)
            t0 = time.perf_counter()
            browser.nav_link(page, target).click(timeout=int(timeout * 1000))
            browser.wait_idle(page, timeout, after_runs=runs, quiet_ms=0)  # as the cold start: no quiet period
            seconds = time.perf_counter() - t0
        if problems := browser.page_problems(page):
            raise RuntimeError(f"trade-off page: {problems}")
    return seconds


def evaluate_floor_once(busy: bool = False) -> float:
    """Seconds the trade-off page's default sweep takes through ``models.analysis.evaluate.evaluate`` alone,
    one γ per call as the page makes them, in a fresh process that has imported torch and
    scikit-learn, loaded the model and fitted the judge before the clock starts: the work the page
    shows, with nothing else. ``busy``: two busy-loop processes hold the cores meanwhile."""
    import subprocess

    from benchmarks.common import busy_cores

    sweep = dict(TRADEOFF_SWEEP, guidance=tradeoff_guidance())
    code = f"""
import time, torch
torch.set_num_threads(1)
from models.analysis.evaluate import evaluate
from models.analysis.metrics import reference_classifier
from models.engine.loading import load_bundle
from models.guidance import resources
from models.analysis.tradeoff import DEFAULT_GAMMAS
s = {sweep!r}
bundle = load_bundle(s["data"], s["model"], "cpu", needs=resources(s["guidance"]))
reference_classifier(s["data"])
print("ready", flush=True)
input()
t0 = time.perf_counter()
for g in DEFAULT_GAMMAS:
    evaluate(s["data"], s["model"], s["sampler"], s["steps"], s["guidance"], [g], s["samples"], s["seed"], bundle=bundle)
print(time.perf_counter() - t0, flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the evaluate process did not start")
        with busy_cores() if busy else contextlib.nullcontext():
            proc.stdin.write("\n")
            proc.stdin.flush()
            seconds = float(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return seconds


def bench_tradeoff_visit(repeats: int, busy: bool) -> tuple[float, float]:
    """Median first visit of the trade-off page (``tradeoff_visit_once``) and median of the same sweep
    through ``models.analysis.evaluate`` alone (``evaluate_floor_once``), interleaved, quiet or ``busy``."""
    page, floor = [], []
    for i in range(repeats):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            (page if which == 0 else floor).append(tradeoff_visit_once(busy) if which == 0 else evaluate_floor_once(busy))
    return statistics.median(page), statistics.median(floor)


def _move_slider_once(page, label: str, timeout: float) -> None:
    """Press the right arrow on slider ``label`` and wait until a picture has changed and the page is
    idle. (``tools.browser.move_slider`` counts finished runs, and a rerun served from the caches, as
    every session after the first is, can finish between two of its observations.)"""
    from tools import browser

    ms = int(timeout * 1000)
    old = browser.image_sources(page)
    thumb = browser.slider_thumb(page, label)
    thumb.wait_for(state="attached", timeout=ms)
    thumb.focus()
    thumb.press("ArrowRight")
    page.wait_for_function(
        """old => { const now = [...document.querySelectorAll('[data-testid="stImage"] img')].map(e => e.src);
                    return now.some(src => !old.includes(src)); }""", arg=old, timeout=ms, polling=100)
    browser.wait_idle(page, timeout)


def bench_memory(script: str, sessions: int = 20, timeout: float = 180.0, root: Path = ROOT) -> tuple[float, float]:
    """Server RSS (MB) with 1 browser session, then with ``sessions`` (pages of one Chromium, all kept
    open), each on the CFG page (the trivial page for the baseline) with its gamma slider moved once.
    ``root``: the checkout to run."""
    from tools import browser

    trivial = script == TRIVIAL_SCRIPT
    target = browser.AppPage("trivial", "", "trivial") if trivial else browser.PAGES[2]
    label = "gamma" if trivial else browser.GAMMA_LABEL
    with browser.chromium() as context, browser.streamlit_server(root=root, script=script, timeout=timeout) as base:
        pid = _server_pid(base)
        one = None
        for i in range(sessions):
            page = context.new_page()
            browser.open_page(page, base, target, timeout)
            _move_slider_once(page, label, timeout)
            if problems := browser.page_problems(page):
                raise RuntimeError(f"{script}: {problems}")
            if i == 0:  # the server's warm-up (app.py) may still be running: let it finish first
                wait_settled(pid, timeout)
                one = rss_mb(pid)
        time.sleep(2.0)
        return one, rss_mb(pid)


def bench_train(timeout: float = 900.0) -> float:
    """Wall time of ``python -m models.train --out TMP`` (every network from scratch), seconds."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="guidance-lab-train-") as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "models.train", "--out", out], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        return time.perf_counter() - t0


def machine() -> str:
    """One line describing where this ran."""
    return (f"{platform.machine()}, {os.cpu_count()} CPU threads, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({'CUDA' if torch.cuda.is_available() else 'CPU'}), {platform.platform()}")


SECTIONS = ("rerun", "gif", "trajectories", "cold", "tradeoff", "memory", "train")

# Why a target can be missed: printed under the table for each row that misses its target.
WHY = {
    "rerun": "a gamma change re-samples (25 steps of the MLP denoiser: ~30 ms with CFG, ~70 ms with the noise-aware "
             "classifier's gradient), builds a new view (~35-50 ms of matplotlib: figure, key, texts, its first "
             "frame's labels) and draws and saves its frame (~30 ms); the side-by-side page draws two frames (the "
             "other column's at the new common scale); the trivial page only saves one small figure (~115 ms), so "
             "2x leaves ~115 ms for all of it.",
    "step": "a step move draws one new frame of a cached view (no re-sampling).",
    "gif": "the baseline redraws the same view with the same `update` (labels, images, insets: ~5 ms of our ~15 ms "
           "a frame), so only the drawing (~7 ms of matplotlib artists a frame), the palette (~2.5 ms) and the LZW "
           "encoding (~2.6 ms) differ, and every speed-up of a view's `update` speeds the baseline too (this stop's "
           "made both ~10 % faster).",
    "trajectories": "the exact digits model computes a softmax over 1,797 training images per step on top of the "
                    "matrix product.",
    "cold": "the first page needs torch, matplotlib and the models imported (~2 s on 2 cores; ~1.3 s of it torch, "
            "which the trivial page never imports) and then its own run (the model, 25 steps, three pictures: ~1 s); "
            "the trivial page's whole script takes ~0.7 s, and both share the server start and the page load. The "
            "server now starts that work at once, in the background (`app.warm_up`), instead of when the browser "
            "connects ~1.4 s later; but the two cores are busy meanwhile (Chromium loading the page, and on this "
            "shared machine other work), so the overlap saves only the CPU the cores would have left idle (see "
            "\"What each change bought\"). A teacher's server started before the class has done all of it by the "
            "time the first student arrives.",
    "tradeoff": "the page runs the same 8 samplings (γ x 100 digits, 25 steps) and measurements as the baseline, then "
                "draws the three-panel curves figure, sends the page with its progress bar, and the browser draws it; "
                "the baseline starts with the model loaded and the judge fitted, which the server's warm-up now gives "
                "the page too (without it the first visit also imported scikit-learn and fitted the judge: 3.9 s "
                "instead of 2.4 s in the quietest run, 9.6 s instead of 5.5 s in a loaded one).",
    "memory": "each session keeps its own widget state and the pictures it was sent.",
    "train": "training eight networks from scratch on two cores.",
}


def section_rerun(args) -> list[tuple]:
    """Each page's reruns interleaved with the trivial page's, each ratio against its own baseline."""
    r = args.repeats
    gammas = [round(1.5 + 0.5 * i, 1) for i in range(r)]
    rows = []
    for page, widget in GAMMA_PAGES:
        t, trivial = bench_rerun_paired(page, widget, gammas, r)
        rows.append(("rerun", f"page rerun after a gamma change: `{page}`", f"{1000 * t:.0f} ms",
                     f"trivial page {1000 * trivial:.0f} ms", f"{t / trivial:.2f}x", "≤ 2x",
                     verdict(t / trivial <= 2.0, f"{t / trivial / 2.0:.2f}x the target")))
    for page in STEP_PAGES:
        t, trivial = bench_rerun_paired(page, "step", list(range(1, r + 1)), r)
        rows.append(("step", f"page rerun after a step move: `{page}`", f"{1000 * t:.0f} ms",
                     f"trivial page {1000 * trivial:.0f} ms", f"{t / trivial:.2f}x", "≤ 1.2x, no re-sampling",
                     verdict(t / trivial <= 1.2, f"{t / trivial / 1.2:.2f}x the target")))
    return rows


def section_gif(args) -> list[tuple]:
    rows = []
    for kind in ("trajectory", "cfg"):
        ours, base, speedup, nbytes = bench_gif(max(3, args.repeats // 2), kind)
        rows.append(("gif", f"100-frame GIF export: `{kind}` view (the two interleaved; ratio: median of the pairs)",
                     f"{ours:.2f} s ({nbytes / 1e6:.2f} MB)", f"FuncAnimation + PillowWriter {base:.2f} s",
                     f"{speedup:.1f}x faster", "≥ 4x faster", verdict(speedup >= 4.0, f"{speedup / 4.0:.2f}x the target")))
    return rows


def section_trajectories(args) -> list[tuple]:
    ours, floor = bench_trajectories(args.repeats)
    return [("trajectories", "1,000 paths x 50 steps, CFG, exact digits, CPU", f"{ours:.3f} s",
             f"50 matmuls (1000x64 @ 64x1797) {floor:.3f} s", f"{ours / floor:.1f}x the floor", "≤ 5x the floor",
             verdict(ours / floor <= 5.0, f"{ours / floor / 5.0:.2f}x the target"))]


def section_cold(args) -> list[tuple]:
    c = args.cold_repeats
    ours, base = bench_cold_start(c)
    return [("cold", f"cold start: `streamlit run app.py` to the first page drawn in Chromium (median of {c})",
             f"{ours:.1f} s", f"`streamlit run {TRIVIAL_SCRIPT}` {base:.1f} s", f"{ours / base:.2f}x", "≤ 1.5x",
             verdict(ours / base <= 1.5, f"{ours / base / 1.5:.2f}x the target"))]


def section_tradeoff(args) -> list[tuple]:
    """The trade-off page's first visit on a settled server, quiet and with two busy cores, each against
    the same sweep through ``models.analysis.evaluate`` alone in the same conditions."""
    rows = []
    c = args.cold_repeats
    for busy in (False, True):
        page, floor = bench_tradeoff_visit(c, busy)
        where = "2 busy cores" if busy else "quiet"
        rows.append(("tradeoff", f"trade-off page, first visit on a running server, {where} (median of {c})",
                     f"{page:.1f} s", f"its 8 γ x 100 samples through `models.analysis.evaluate` alone {floor:.1f} s",
                     f"{page / floor:.2f}x", "≤ 1.5x", verdict(page / floor <= 1.5, f"{page / floor / 1.5:.2f}x the target")))
    return rows


def section_memory(args) -> list[tuple]:
    n = args.sessions
    one, many = bench_memory("app.py", n)
    t_one, t_many = bench_memory(TRIVIAL_SCRIPT, n)
    per, t_per = (many - one) / (n - 1), (t_many - t_one) / (n - 1)
    return [("memory", f"server memory (RSS), 1 then {n} sessions, each on the CFG page with γ moved once",
             f"{one:.0f} MB, then {many:.0f} MB: {per:.1f} MB per extra session",
             f"trivial page {t_one:.0f} MB, then {t_many:.0f} MB: {t_per:.1f} MB per extra session",
             f"{one - t_one:+.0f} MB at 1 session; {per - t_per:+.1f} MB per extra session",
             "≤ 10 MB per extra session", verdict(per <= 10.0, f"{per / 10.0:.2f}x the target"))]


def section_train(args) -> list[tuple]:
    t = bench_train()
    return [("train", "`python -m models.train` from scratch into a temporary folder (one run)", f"{t / 60:.1f} min",
             "none", "", "< 5 min", verdict(t < 300.0, f"{t / 300.0:.2f}x the target"))]


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def main() -> int:
    """Run every benchmark (or ``--only`` some) and print / write the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold starts of each server (default: 3)")
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions for the memory row (default: 20)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    parser.add_argument("--no-write", action="store_true", help="print the table, do not write RESULTS.md")
    args = parser.parse_args()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    if unknown := set(only) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    if args.sessions < 2:
        parser.error("--sessions must be at least 2")
    import streamlit.logger

    streamlit.logger.set_log_level("error")  # AppTest and the caches warn about running without a server
    rows = []
    load = load_average()
    started = time.perf_counter()
    for name in [s for s in SECTIONS if s in only]:
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            rows += globals()[f"section_{name}"](args)
        except Exception as e:  # one broken section must not hide the others' results
            import traceback

            traceback.print_exc()
            rows.append((name, f"`{name}`", f"**failed**: {type(e).__name__}: {str(e).splitlines()[0][:200]}",
                         "", "", "", "**no**: did not run"))
        print(f"[bench] {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    kept = [] if set(only) == set(SECTIONS) else [r for r in previous_rows(old) if section_of(r[0]) not in only]
    if kept:  # rows of the sections not run this time stay as the previous run measured them, in table order
        rows = sorted(rows + kept, key=lambda r: SECTIONS.index(section_of(r[0])))
    header = "| figure | ours (median) | baseline in the same run | ratio | target | met? |\n|---|---|---|---|---|---|\n"
    table = header + "\n".join("| " + " | ".join(row[1:]) + " |" for row in rows)
    missed = [row for row in rows if row[-1] != "yes"]
    notes = "".join(f"\n* {row[1]}: {row[-1].replace('**', '')}; {WHY[row[0]]}" for row in missed)
    total = time.perf_counter() - started
    ran = f"`make bench` ({', '.join(only)}) took {total / 60:.1f} min"
    if kept:
        ran = (f"`python -m benchmarks.run --only {','.join(only)}` took {total / 60:.1f} min (the rows of "
               f"{', '.join(s for s in SECTIONS if s not in only)} are kept from the run before)")
    text = (f"# Benchmarks\n\nMachine: {machine()}; load average {load} when `make bench` started.\n\n"
            f"{ran}; medians of {args.repeats} runs unless the row says otherwise.\n\n{table}\n"
            + (f"\nTargets missed, by how much and why:\n{notes}\n" if missed else "\nEvery target is met.\n"))
    print(text)
    if not args.no_write:
        marker = "\n## What each change bought"
        keep = old[old.index(marker):] if marker in old else ""
        path.write_text(text + keep)
    return 0


#: the first words of each table row's figure -> its kind (a key of ``WHY``)
ROW_KINDS = {"page rerun after a gamma change": "rerun", "page rerun after a step move": "step",
             "100-frame GIF export": "gif", "1,000 paths": "trajectories", "cold start": "cold",
             "trade-off page": "tradeoff", "server memory": "memory", "`python -m models.train`": "train"}


def section_of(kind: str) -> str:
    """The section (``SECTIONS``) that measures rows of ``kind``."""
    return "rerun" if kind == "step" else kind


def previous_rows(results: str) -> list[tuple]:
    """The rows of the first table of a RESULTS.md text, as ``(kind, figure, ...cells)``; rows whose
    kind is unknown are dropped."""
    rows = []
    for line in results.split("\n## ", 1)[0].splitlines():
        if not line.startswith("| ") or line.startswith(("| figure ", "|---")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        kind = next((k for prefix, k in ROW_KINDS.items() if cells[0].startswith(prefix)), None)
        if kind is not None and len(cells) == 6:
            rows.append((kind, *cells))
    return rows


def verdict(met: bool, miss: str) -> str:
    """The "met?" cell: yes, or by how much the target was missed."""
    return "yes" if met else f"**no**: {miss}"


PAGES = ["pages/classifier_guidance.py", "pages/classifier_free_guidance.py"]
#: every page with a γ slider, and its key (the side-by-side page's left column)
GAMMA_PAGES = [(p, "gamma") for p in PAGES] + [("pages/guidance_zoo.py", "zoo_gamma"),
                                               ("pages/side_by_side.py", "sbs_left_gamma")]
STEP_PAGES = ["pages/sampling.py", *PAGES, "pages/guidance_zoo.py"]

if __name__ == "__main__":
    sys.exit(main())
