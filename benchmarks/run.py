"""`make bench`: medians of repeated runs, each beside a baseline measured in the same run.

Prints a markdown table and writes it to benchmarks/RESULTS.md with the machine it ran on.
Targets come from the issues; a missed target is reported, not hidden.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
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
    from models.pipeline import SampleSpec, run
    from models.registry import load_bundle

    bundle = load_bundle("digits", "exact", "cpu")
    spec = SampleSpec(data="digits", model="exact", sampler="ddpm", guidance="cfg", gamma=3.0,
                      label=3, steps=50, batch=1000, seed=0)
    ours = median_time(lambda: run(spec, bundle), repeats)
    x = torch.randn(1000, 64)
    data = torch.as_tensor(bundle.dataset.x, dtype=torch.float32)
    floor = median_time(lambda: [x @ data.T for _ in range(50)], repeats)
    return ours, floor


def bench_gif(repeats: int, kind: str = "trajectory") -> tuple[float, float, int]:
    """100-frame GIF of a view: our blitted renderer + encoder vs matplotlib's FuncAnimation +
    PillowWriter redrawing the same view (same figure, same update) frame by frame."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    from models.data import load_dataset
    from models.pipeline import SampleSpec, run
    from viz.diagrams import make_animation

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

    return median_time(ours, repeats), median_time(baseline, repeats), size["bytes"]


def bench_rerun(page: str, widget: str, values: list, repeats: int) -> float:
    """Median AppTest rerun time after setting ``widget`` on ``page`` to each of ``values``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    times = []
    for v in values[:repeats]:
        t0 = time.perf_counter()
        at.slider(key=widget).set_value(v).run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return statistics.median(times)


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


def machine() -> str:
    """One line describing where this ran."""
    return (f"{platform.machine()}, {os.cpu_count()} CPU threads, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({'CUDA' if torch.cuda.is_available() else 'CPU'}), {platform.platform()}")


def main() -> int:
    """Run every benchmark and print / write the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    r = args.repeats
    rows = []
    trivial = bench_trivial(r)
    gammas = [round(1.5 + 0.5 * i, 1) for i in range(r)]
    for page in PAGES:
        t = bench_rerun(page, "gamma", gammas, r)
        rows.append((f"page rerun after a gamma change: `{page}`", f"{1000 * t:.0f} ms",
                     f"trivial page {1000 * trivial:.0f} ms", f"{t / trivial:.2f}x", "≤ 3x (issue 3), ≤ 2x (issue 5)"))
    for page in STEP_PAGES:
        t = bench_rerun(page, "step", list(range(1, r + 1)), r)
        rows.append((f"page rerun after a step move: `{page}`", f"{1000 * t:.0f} ms",
                     f"trivial page {1000 * trivial:.0f} ms", f"{t / trivial:.2f}x", "≤ 1.2x, no re-sampling"))
    for kind in ("trajectory", "cfg"):
        ours, base, nbytes = bench_gif(max(3, r // 2), kind)
        rows.append((f"100-frame GIF export: `{kind}` view", f"{ours:.2f} s ({nbytes / 1e6:.2f} MB)",
                     f"FuncAnimation + PillowWriter {base:.2f} s", f"{base / ours:.1f}x faster",
                     "≥ 3x (issue 3), ≥ 4x (issue 5)"))
    ours, floor = bench_trajectories(r)
    rows.append(("1,000 paths x 50 steps, CFG, exact digits, CPU", f"{ours:.3f} s",
                 f"50 matmuls (1000x64 @ 64x1797) {floor:.3f} s", f"{ours / floor:.1f}x the floor", "≤ 5x the floor"))
    header = "| figure | ours (median) | baseline in the same run | ratio | target |\n|---|---|---|---|---|\n"
    table = header + "\n".join("| " + " | ".join(row) + " |" for row in rows)
    text = f"# Benchmarks\n\nMachine: {machine()}\n\nMedians of {r} runs.\n\n{table}\n"
    print(text)
    (ROOT / "benchmarks" / "RESULTS.md").write_text(text)
    return 0


PAGES = ["pages/classifier_guidance.py", "pages/classifier_free_guidance.py"]
STEP_PAGES = ["pages/sampling.py", *PAGES]

if __name__ == "__main__":
    sys.exit(main())
