"""What each speed change bought: every change measured against its own undoing, in the same run.

``python -m benchmarks.changes`` times each hot path with the change on and with it undone (the old
code path, patched back in for the measurement only), on a quiet machine and again with two
busy-loop processes holding both cores (what a shared classroom server sees), and prints the
markdown table of ``benchmarks/RESULTS.md``'s section "What each change bought" (``--write``
puts it there). ``--before DIR`` (a checkout of an older commit, e.g. ``git worktree add DIR
cce1d9f``) also times the page reruns of that checkout and of this one, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import busy_cores  # noqa: E402  (after the path: `python benchmarks/changes.py` too)


def paired_ms(go: Callable[[], object], undone: Callable[[], contextlib.AbstractContextManager], repeats: int,
              before: Callable[[], object] | None = None) -> tuple[float, float]:
    """Median ms of ``go`` with the change undone (inside ``undone()``, or ``before`` if given) and
    as it is, alternating the two so that drift in the machine's load hits both alike."""
    before = before or go
    with undone():
        before()
    go()
    b, a = [], []
    for i in range(repeats):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            if which == 0:
                with undone():
                    before()
                b.append(time.perf_counter() - t0)
            else:
                go()
                a.append(time.perf_counter() - t0)
    return 1000 * statistics.median(b), 1000 * statistics.median(a)


@contextlib.contextmanager
def patched(obj, name: str, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


# -- the measurements ---------------------------------------------------------------------------

def _subprocess_ms(code: str, repeats: int) -> tuple[float, float]:
    """Median wall time (ms) and median peak RSS (MB) of ``python -c code`` run ``repeats`` times."""
    times, rss = [], []
    wrapper = ("import time, resource; t0 = time.perf_counter()\n" + code +
               "\nprint(1000 * (time.perf_counter() - t0), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", wrapper], cwd=ROOT, capture_output=True, text=True, check=True)
        ms, mb = out.stdout.split()[-2:]
        times.append(float(ms))
        rss.append(float(mb))
    return statistics.median(times), statistics.median(rss)


def data_without_sklearn(repeats: int) -> dict:
    """The digits and the sample photograph in a fresh process: through scikit-learn (before) or
    read from its files (after)."""
    before = _subprocess_ms("from sklearn.datasets import load_digits, load_sample_image\n"
                            "load_digits(); load_sample_image('china.jpg')", repeats)
    after = _subprocess_ms("from models.engine.data import load_digits_dataset\nfrom viz.figures.noising import load_photo\n"
                           "load_digits_dataset(); load_photo('china')", repeats)
    return {"before": before[0], "after": after[0], "rss_before": before[1], "rss_after": after[1]}


def _classifier_run():
    import torch

    from models.engine.pipeline import SampleSpec, run
    from models.engine.loading import load_bundle

    bundle = load_bundle("digits", "neural", "cpu", needs=("classifier",))
    spec = SampleSpec(data="digits", model="neural", guidance="classifier", gamma=3.0, label=3, steps=25, batch=8, seed=0)
    return lambda: run(spec, bundle), torch


def sampler_threads(repeats: int) -> dict:
    """25 classifier-guided steps, batch 8, neural digits: two torch threads (before) or one (after)."""
    import models.engine.samplers as S

    go, torch = _classifier_run()
    torch.set_num_threads(2)
    before, after = paired_ms(go, lambda: patched(S, "SINGLE_THREAD_BATCH", 0), repeats)
    return {"before": before, "after": after}


def _views(kinds=("classifier", "cfg")):
    from models.engine.data import load_dataset
    from models.engine.pipeline import SampleSpec, run
    from viz.views.kinds import make_animation

    trajs = {"classifier": run(SampleSpec(guidance="classifier", gamma=3.0, label=3, steps=25, batch=8, seed=0), device="cpu"),
             "cfg": run(SampleSpec(guidance="cfg", gamma=3.0, label=3, steps=25, batch=8, seed=0), device="cpu")}
    bg = load_dataset("digits").x
    return {k: (lambda k=k: make_animation(k, trajs[k], "pca", background=bg).frame(12)) for k in kinds}


def pca_svd(repeats: int) -> dict:
    """The SVD of a 25-step run's points (408 x 64), each time right after a view build (as on a
    page): OpenBLAS's own threads (before) or one thread (after)."""
    import numpy as np

    import viz.draw.projection as P

    build = _views(("cfg",))["cfg"]
    x = np.random.default_rng(0).standard_normal((408, 64))
    svds = (lambda a: np.linalg.svd(a, full_matrices=False), P.small_svd)
    times: tuple[list, list] = ([], [])
    for i in range(2 * repeats):
        which = (i + i // 2) % 2  # before, after, after, before, ...
        build()
        t0 = time.perf_counter()
        svds[which](x)
        times[which].append(time.perf_counter() - t0)
    return {"before": 1000 * statistics.median(times[0]), "after": 1000 * statistics.median(times[1])}


def layout_pass(repeats: int) -> dict:
    """Guidance-view builds: layout by a disabled draw of the whole figure (before) or by the layout
    engine alone (after)."""
    import viz.draw.drawing as D

    def old_run_layout(fig):
        D.share_mathtext_parser(fig.canvas.get_renderer())
        fig.draw_without_rendering()

    out = {}
    for kind, go in _views().items():
        out[f"{kind}_before"], out[f"{kind}_after"] = paired_ms(go, lambda: patched(D, "run_layout", old_run_layout),
                                                                repeats)
    return out


def mathtext(repeats: int) -> dict:
    """Guidance-view builds: a mathtext parser per figure (before) or one shared (after)."""
    import viz.draw.drawing as D

    out = {}
    for kind, go in _views().items():
        out[f"{kind}_before"], out[f"{kind}_after"] = paired_ms(
            go, lambda: patched(D, "share_mathtext_parser", lambda renderer: None), repeats)
    return out


def saved_figures(repeats: int) -> dict:
    """The first page's noising figure, built and saved as PNG: laid out again by savefig, with ticks
    on its axis-off panels (before), or frozen when built, without ticks (after); and the
    several-gamma overlay saved with matplotlib's placeholder layout engine (before) or none (after)."""
    from matplotlib.axes import Axes
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    import viz.figures.noising as N

    from models.engine.data import load_dataset
    from models.engine.pipeline import SampleSpec, run
    from models.engine.schedule import make_schedule
    from viz.views.kinds import gamma_overlay_figure, load_photo, noising_figure, shared_pca

    photo, schedule = load_photo("china"), make_schedule("linear")

    def png(fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def noising_old():  # as before: not laid out when built (savefig does it), its panels keep their ticks
        no_ticks = lambda self, *a, **k: None  # noqa: E731
        with patched(N, "freeze_layout", lambda fig: None), patched(Axes, "set_xticks", no_ticks), \
                patched(Axes, "set_yticks", no_ticks):
            fig = noising_figure(photo, schedule, seed=0)
        return png(fig)

    trajs = {g: run(SampleSpec(guidance="cfg", gamma=g, label=3, steps=25, batch=8, seed=0), device="cpu")
             for g in (0.0, 1.0, 3.0, 7.0)}
    proj, bg = shared_pca(trajs), load_dataset("digits").x

    def overlay(old: bool):
        fig = gamma_overlay_figure(trajs, proj, sample=0, background=bg)
        if old:
            fig.set_layout_engine(PlaceHolderLayoutEngine(False, False))
        return png(fig)

    def noising_new():
        return png(noising_figure(photo, schedule, seed=0))

    same = noising_old() == noising_new() and overlay(True) == overlay(False)
    nb, na = paired_ms(noising_new, contextlib.nullcontext, repeats, before=noising_old)
    ob, oa = paired_ms(lambda: overlay(False), contextlib.nullcontext, repeats, before=lambda: overlay(True))
    return {"noising_before": nb, "noising_after": na, "overlay_before": ob, "overlay_after": oa, "same_bytes": same}


def first_run_preload(repeats: int) -> dict:
    """A fresh process's first run of app.py (imports included, AppTest): the heavy imports with the
    garbage collector running (before: ``ui.preload`` stubbed out) or paused and frozen (after)."""
    code = """
import sys, time, types
if {stub}:
    sys.modules["ui.preload"] = types.ModuleType("ui.preload")
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
import streamlit.logger; streamlit.logger.set_log_level("error")
at = AppTest.from_file("app.py", default_timeout=300)
at.run()
assert not at.exception, at.exception
print(1000 * (time.perf_counter() - t0))
"""
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeats):
        for stub in ((True, False) if i % 2 == 0 else (False, True)):
            out = subprocess.run([sys.executable, "-c", code.format(stub=stub)], cwd=ROOT, capture_output=True,
                                 text=True, check=True)
            times[stub].append(float(out.stdout.split()[-1]))
    return {"before": statistics.median(times[True]), "after": statistics.median(times[False])}


def first_visit_settled_once(timeout: float = 300.0) -> float:
    """Seconds from opening the app's first page to it fully drawn in a fresh Chromium, on a fresh
    server left to settle first (its warm-up, if any, done): the first student of a server that the
    teacher started before the class."""
    from benchmarks.run import _server_pid, wait_settled
    from tools import browser

    with browser.chromium() as context, browser.streamlit_server(timeout=timeout) as base:
        wait_settled(_server_pid(base), timeout)
        page = context.new_page()
        t0 = time.perf_counter()
        browser.load(page, base, timeout, quiet_ms=0)
        seconds = time.perf_counter() - t0
        if problems := browser.page_problems(page):
            raise RuntimeError(f"first page: {problems}")
    return seconds


def freeze_without_collection(repeats: int) -> dict:
    """The end of ``ui.preload`` in a fresh process, once its imports are done (with the collector
    paused, as there): a full collection, then the freeze (before), or the freeze alone (after); ms,
    and the process's RSS afterwards in MB."""
    code = """
import gc, time
gc.disable()
import matplotlib.figure, torch, ui.cache, ui.views
gc.enable()
t0 = time.perf_counter()
if {undo}:
    gc.collect()
gc.freeze()
ms = 1000 * (time.perf_counter() - t0)
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
print(ms, rss)
"""
    times: dict[bool, list[float]] = {True: [], False: []}
    rss: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeats):
        for undo in ((True, False) if i % 2 == 0 else (False, True)):
            out = subprocess.run([sys.executable, "-c", code.format(undo=undo)], cwd=ROOT, capture_output=True,
                                 text=True, check=True)
            ms, mb = out.stdout.split()[-2:]
            times[undo].append(float(ms))
            rss[undo].append(float(mb))
    return {"before": statistics.median(times[True]), "after": statistics.median(times[False]),
            "rss_before": statistics.median(rss[True]), "rss_after": statistics.median(rss[False])}


def page_reruns(tree: Path, repeats: int) -> dict:
    """Gamma reruns of the two guidance pages and the trivial page, with ``tree``'s own code."""
    code = f"""
import json, os, sys
os.chdir({str(tree)!r}); sys.path.insert(0, {str(tree)!r})
import streamlit.logger; streamlit.logger.set_log_level("error")
import benchmarks.run as b
r = {repeats}
gammas = [round(1.5 + 0.5 * i, 1) for i in range(r)]
out = {{"trivial": b.bench_trivial(r)}}
for p in ("classifier_guidance", "classifier_free_guidance"):
    out[p] = b.bench_rerun(f"pages/{{p}}.py", "gamma", gammas, r)
print("RESULT", json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True)
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return {k: 1000 * v for k, v in json.loads(line[7:]).items()}


# -- the table ----------------------------------------------------------------------------------

def _row(change: str, what: str, before: float, after: float, unit: str = "ms") -> str:
    return f"| {change} | {what} | {before:.1f} {unit} | {after:.1f} {unit} | {before / after:.2f}x |"


def speed_rows(args) -> list[str]:
    """The rows of the speed changes (rerun, first run, figures), quiet and with two busy cores."""
    r = args.repeats
    rows = []
    for busy in (False, True):
        where = "2 busy cores" if busy else "quiet"
        print(f"[changes] {where} ...", file=sys.stderr, flush=True)
        with busy_cores() if busy else contextlib.nullcontext():
            if not busy:
                d = data_without_sklearn(max(3, r // 2))
                rows.append(_row("digits and photo read without importing scikit-learn", "fresh process: load both "
                                 f"(peak RSS {d['rss_before']:.0f} MB before, {d['rss_after']:.0f} MB after)",
                                 d["before"], d["after"]))
            s = sampler_threads(r)
            rows.append(_row("small batches sample on one torch thread", f"25 classifier-guided steps, batch 8 ({where})",
                             s["before"], s["after"]))
            v = pca_svd(r)
            rows.append(_row("a run's PCA SVD on one BLAS thread", f"SVD of 408 x 64 after a view build ({where})",
                             v["before"], v["after"]))
            if not busy:
                lay = layout_pass(r)
                for kind in ("classifier", "cfg"):
                    rows.append(_row("layout by the layout engine alone, no disabled draw",
                                     f"build the `{kind}` view and draw a frame", lay[f"{kind}_before"], lay[f"{kind}_after"]))
                m = mathtext(r)
                for kind in ("classifier", "cfg"):
                    rows.append(_row("one mathtext parser shared by every figure",
                                     f"build the `{kind}` view and draw a frame", m[f"{kind}_before"], m[f"{kind}_after"]))
                p = first_run_preload(max(3, r // 2))
                rows.append(_row("heavy imports once, garbage collector paused, then frozen (`ui.preload`)",
                                 "fresh process: imports and first run of the app (AppTest)", p["before"], p["after"]))
                f = saved_figures(max(3, r // 2))
                same = "same bytes" if f["same_bytes"] else "**bytes differ**"
                rows.append(_row("noising figure laid out once when built, no ticks on its axis-off panels",
                                 f"build and save the first page's noising figure ({same})", f["noising_before"],
                                 f["noising_after"]))
                rows.append(_row("a frozen layout leaves no layout engine (savefig draws once)",
                                 f"build and save the several-γ overlay ({same})", f["overlay_before"], f["overlay_after"]))
    if args.before:
        print("[changes] page reruns, before and after ...", file=sys.stderr, flush=True)
        b, a = page_reruns(args.before.resolve(), 7), page_reruns(ROOT, 7)
        for p, name in (("classifier_guidance", "classifier guidance"), ("classifier_free_guidance", "CFG")):
            rows.append(f"| all of the above (and the app's one torch thread) | {name} page rerun after a γ change, "
                        f"as a multiple of the trivial page (same run) | {b[p] / b['trivial']:.2f}x "
                        f"({b[p]:.0f} / {b['trivial']:.0f} ms) | {a[p] / a['trivial']:.2f}x ({a[p]:.0f} / "
                        f"{a['trivial']:.0f} ms) | {(b[p] / b['trivial']) / (a[p] / a['trivial']):.2f}x |")
    if args.before:
        print("[changes] cold start and server memory, before and after ...", file=sys.stderr, flush=True)
        from benchmarks.run import bench_cold_start, bench_memory

        trees = (args.before.resolve(), ROOT)
        runs = {tree: [] for tree in trees}
        for _ in range(3):  # the two checkouts alternate
            for tree in trees:
                runs[tree].append(bench_cold_start(1, root=tree))
        (b_app, b_triv), (a_app, a_triv) = ([statistics.median(x) for x in zip(*runs[tree])] for tree in trees)
        rows.append(f"| all of the above | cold start to the first page drawn in Chromium, as a multiple of the trivial "
                    f"page (median of 3 each) | {b_app / b_triv:.2f}x ({b_app:.1f} / {b_triv:.1f} s) | "
                    f"{a_app / a_triv:.2f}x ({a_app:.1f} / {a_triv:.1f} s) | {b_app / a_app:.2f}x |")
        b_one, _ = bench_memory("app.py", 2, root=args.before.resolve())
        a_one, _ = bench_memory("app.py", 2)
        rows.append(f"| all of the above | server RSS with one session on the CFG page | {b_one:.0f} MB | {a_one:.0f} MB "
                    f"| {b_one / a_one:.2f}x less |")
    return rows


WARM_UP = {"off": {"GUIDANCE_LAB_WARM_UP": "0"}, "on": {"GUIDANCE_LAB_WARM_UP": "1"}}


def warm_up_off_and_on(repeats: int, measure: Callable[[], float]) -> dict[str, list[float]]:
    """``measure()`` ``repeats`` times with the servers' warm-up off and on, alternating which goes
    first (a change in the machine's load hits both alike): {"off": [...], "on": [...]}."""
    from benchmarks.run import server_env

    runs: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(repeats):
        for which in (("off", "on") if i % 2 == 0 else ("on", "off")):
            with server_env(**WARM_UP[which]):
                runs[which].append(measure())
    return runs


def start_rows(args) -> list[str]:
    """The rows of the start-up changes (issue 13): the server's background warm-up, timed by its own
    switch (``GUIDANCE_LAB_WARM_UP=0`` is the change undone), and what it costs in memory."""
    from benchmarks.run import TRIVIAL_SCRIPT, _server_pid, cold_start_once, rss_mb, server_env, tradeoff_visit_once, \
        wait_settled
    from tools import browser

    c = args.cold_repeats
    f = freeze_without_collection(max(5, args.repeats))
    rows = [f"| the heavy imports frozen without a full collection first (`ui.preload`) | fresh process, after the "
            f"imports: collect and freeze, or freeze alone (RSS {f['rss_before']:.0f} MB before, {f['rss_after']:.0f} MB "
            f"after) | {f['before']:.1f} ms | {f['after']:.1f} ms | {f['before'] - f['after']:.0f} ms less |"]
    print("[changes] cold start, warm-up off and on ...", file=sys.stderr, flush=True)
    cold: dict[str, list[float]] = {"trivial": [], "off": [], "on": []}
    for i in range(c):
        order = ("trivial", "off", "on") if i % 2 == 0 else ("on", "off", "trivial")
        for which in order:
            with server_env(**WARM_UP["on" if which == "on" else "off"]):
                cold[which].append(cold_start_once(TRIVIAL_SCRIPT if which == "trivial" else "app.py"))
    print(f"[changes] cold starts (s): {cold}", file=sys.stderr, flush=True)
    triv, b, a = (statistics.median(cold[k]) for k in ("trivial", "off", "on"))
    rows.append(f"| warm-up at server start: the first page run once in a browserless session (`app.warm_up`) | cold start "
            f"to the first page drawn in Chromium, as a multiple of the trivial page (same run, median of {c}) | "
            f"{b / triv:.2f}x ({b:.1f} / {triv:.1f} s) | {a / triv:.2f}x ({a:.1f} / {triv:.1f} s) | {b / a:.2f}x |")
    print("[changes] first page on a settled server, warm-up off and on ...", file=sys.stderr, flush=True)
    settled = warm_up_off_and_on(c, first_visit_settled_once)
    print(f"[changes] first visits of a settled server (s): {settled}", file=sys.stderr, flush=True)
    b, a = statistics.median(settled["off"]), statistics.median(settled["on"])
    rows.append(f"| the same warm-up, seen by the first student of a server started before the class | first page "
                f"drawn in Chromium, opened once the server has settled (median of {c}) | {b:.1f} s | {a:.1f} s | "
                f"{b / a:.2f}x |")
    print("[changes] trade-off first visit, warm-up off and on ...", file=sys.stderr, flush=True)
    visit = warm_up_off_and_on(c, tradeoff_visit_once)
    print(f"[changes] trade-off first visits (s): {visit}", file=sys.stderr, flush=True)
    b, a = statistics.median(visit["off"]), statistics.median(visit["on"])
    rows.append(f"| the trade-off page's judge and the data's own scores in the warm-up (`ui.preload.warm_trade_off`) | "
                f"first visit of the trade-off page after the first page, server settled (median of {c}) | {b:.1f} s | "
                f"{a:.1f} s | {b / a:.2f}x |")
    print("[changes] server memory, warm-up off and on ...", file=sys.stderr, flush=True)
    mem = {}
    for which in ("off", "on"):
        with server_env(**WARM_UP["on" if which == "on" else "off"]), browser.chromium() as context, \
                browser.streamlit_server() as base:
            browser.open_page(context.new_page(), base, browser.PAGES[0], 180.0)
            pid = _server_pid(base)
            wait_settled(pid)
            mem[which] = rss_mb(pid)
    rows.append(f"| (its cost) the warm-up's caches and scikit-learn | server RSS after the first page, settled | "
                f"{mem['off']:.0f} MB | {mem['on']:.0f} MB | {mem['on'] - mem['off']:+.0f} MB |")
    return rows


HEADER = "| change | measured | before (median) | after (median) | speed-up |\n|---|---|---|---|---|\n"
GROUPS = {"speed": "<!-- benchmarks.changes -->", "start": "<!-- benchmarks.changes:start -->"}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.changes", description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--cold-repeats", type=int, default=5, help="fresh servers per variant in the start group")
    parser.add_argument("--before", type=Path, help="an older checkout: its page reruns are timed beside this one's")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"groups to run (default: {','.join(GROUPS)})")
    parser.add_argument("--write", action="store_true", help="put the tables into benchmarks/RESULTS.md")
    args = parser.parse_args()
    only = [g.strip() for g in args.only.split(",") if g.strip()]
    if unknown := set(only) - set(GROUPS):
        parser.error(f"unknown groups {sorted(unknown)}; valid: {', '.join(GROUPS)}")
    import streamlit.logger

    streamlit.logger.set_log_level("error")
    for group in [g for g in GROUPS if g in only]:
        load = Path("/proc/loadavg").read_text().split()[0]
        rows = speed_rows(args) if group == "speed" else start_rows(args)
        runs = f"medians of {args.repeats} runs" if group == "speed" else "medians of fresh servers, interleaved"
        text = (f"Measured by `python -m benchmarks.changes --only {group}` (load average {load} at the start; {runs}; "
                f"\"2 busy cores\": two busy-loop processes running, as on a shared server). \"Before\" is the "
                f"change undone, patched back in for the measurement only.\n\n{HEADER}" + "\n".join(rows) + "\n")
        print(text)
        if args.write:
            write_group(GROUPS[group], text)
    return 0


def write_group(marker: str, text: str) -> None:
    """Put ``text`` between the two ``marker`` lines of RESULTS.md's "What each change bought" (added at
    its end if missing)."""
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text()
    if old.count(marker) < 2:
        old = old.rstrip("\n") + ("" if "## What each change bought" in old else "\n\n## What each change bought\n") \
            + f"\n{marker}\n{marker}\n"
    head, _, tail = old.split(marker, 2)
    path.write_text(f"{head}{marker}\n{text}{marker}{tail}")


if __name__ == "__main__":
    sys.exit(main())
