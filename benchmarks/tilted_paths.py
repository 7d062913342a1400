"""tilted_tv on both noising paths (issue 19): how far each sampler lands from the exact target.

``python -m benchmarks.tilted_paths [--seeds 6] [--samples 4000] [--steps 100] [--no-write]`` samples
class B of gmm2d with the exact model and CFG at gamma = 1, 3, 7 with VP-DDPM, VP-DDIM (eta = 0),
flow-Euler, flow-DDPM and, at SD3's shift 3, flow-Euler and flow-DDPM, plus the exact draws
(``sampler="tilted"``), one run per seed, and measures each run's ``tilted_tv`` against
``p0(x) p0(y | x)^gamma`` (``models.analysis.tilted_target.tilted_tv_report``). It prints a markdown
table of the mean ± standard error over the seeds (``std(ddof=1) / sqrt(seeds)``) and writes it into
benchmarks/RESULTS.md under its own heading (replacing that section, keeping the rest; ``make bench``
keeps everything from "## What each change bought" on, where this section lives).

The floor row is what exact draws of this size score on average (``expected_tv``), computed, not
sampled; the exact-draw row samples it, a check that the measure is unbiased.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Distance to the exact target on both paths (issue 19)"
GAMMAS = (1.0, 3.0, 7.0)
CLASS_NAME = "B"


@dataclass(frozen=True)
class Row:
    """One sampler of the table: its name, path, sampler and shift (``SampleSpec`` fields)."""

    name: str
    path: str
    sampler: str
    shift: float = 1.0


ROWS = (Row("VP-DDPM", "vp", "ddpm"), Row("VP-DDIM (η = 0)", "vp", "ddim"), Row("flow-Euler", "flow", "euler"),
        Row("flow-DDPM", "flow", "ddpm"), Row("flow-Euler, shift 3", "flow", "euler", 3.0),
        Row("flow-DDPM, shift 3", "flow", "ddpm", 3.0), Row("exact draws", "vp", "tilted"))


def measure(row: Row, label: int, seeds: int, samples: int, steps: int) -> tuple[np.ndarray, float]:
    """``tilted_tv`` (seeds, gammas) of ``row``'s runs and the mean seconds per run."""
    from models.analysis.tilted_target import tilted_tv_report
    from models.engine.loading import load_bundle
    from models.engine.pipeline import SampleSpec, run

    bundle = load_bundle("gmm2d", "exact", "cpu", path=row.path, shift=row.shift)
    tv = np.empty((seeds, len(GAMMAS)))
    start = time.perf_counter()
    for seed in range(seeds):
        for j, gamma in enumerate(GAMMAS):
            spec = SampleSpec(data="gmm2d", model="exact", guidance="cfg", path=row.path, shift=row.shift,
                              sampler=row.sampler, gamma=gamma, label=label, steps=steps, seed=seed, batch=samples)
            tv[seed, j] = tilted_tv_report(run(spec, bundle).samples, label, gamma).tv
    return tv, (time.perf_counter() - start) / (seeds * len(GAMMAS))


def table(label: int, seeds: int, samples: int, steps: int) -> str:
    """The section's markdown: a sentence on the settings, the table, the machine."""
    from models.analysis.tilted_target import expected_tv, target_shares

    head = "| sampler | " + " | ".join(f"γ = {g:g}" for g in GAMMAS) + " | s per run |"
    lines = [head, "|---|" + "---:|" * (len(GAMMAS) + 1)]
    measured = {}
    for row in ROWS:
        tv, seconds = measure(row, label, seeds, samples, steps)
        mean, se = tv.mean(0), tv.std(0, ddof=1) / np.sqrt(seeds)
        measured[row.name] = tv
        cells = " | ".join(f"{m:.3f} ± {e:.3f}" for m, e in zip(mean, se))
        lines.append(f"| {row.name} | {cells} | {seconds:.2f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    floor = " | ".join(f"{expected_tv(target_shares(label, g), samples):.3f}" for g in GAMMAS)
    lines.append(f"| floor: mean TV of {samples} exact draws (computed) | {floor} | |")
    intro = (f"`python -m benchmarks.tilted_paths`: `tilted_tv` of class {CLASS_NAME} (label {label}) of gmm2d, exact "
             f"model, CFG, {steps} steps, {samples} samples per run, seeds 0 to {seeds - 1}: mean ± standard error over the "
             "seeds. Shift 1 unless the row says otherwise; the exact draws ignore the path and the steps.")
    machine = f"Machine: {platform.machine()}, Python {platform.python_version()}, {platform.platform()}."
    return "\n".join([HEADING, "", intro, "", *lines, "", reading(measured), "", machine, ""])


def reading(measured: dict[str, np.ndarray]) -> str:
    """What the table says, from its numbers: flow-Euler against VP-DDIM (one ODE on two paths), seed by
    seed (both runs of a seed start from the same noise), and the largest TV at the largest gamma."""
    flow, vp = measured["flow-Euler"], measured["VP-DDIM (η = 0)"]
    diff = flow - vp  # (seeds, gammas)
    d_mean, d_se = diff.mean(0), diff.std(0, ddof=1) / np.sqrt(len(diff))
    pairs = ", ".join(f"{d:+.4f} ± {e:.4f} at γ = {g:g}" for d, e, g in zip(d_mean, d_se, GAMMAS))
    last = {name: tv[:, -1].mean() for name, tv in measured.items() if name != "exact draws"}
    worst, best = max(last, key=last.get), min(last, key=last.get)
    return (f"Flow-Euler minus VP-DDIM, seed by seed: {pairs}. At γ = {GAMMAS[-1]:g} the samplers range from "
            f"{last[best]:.3f} ({best}) to {last[worst]:.3f} ({worst}), against "
            f"{measured['exact draws'][:, -1].mean():.3f} for exact draws of the same size.")


def write(section: str, path: Path = ROOT / "benchmarks" / "RESULTS.md") -> None:
    """Put ``section`` in place of the file's section under ``HEADING`` (or at the end)."""
    text = path.read_text()
    if HEADING in text:
        before, rest = text.split(HEADING, 1)
        after = rest.split("\n## ", 1)
        text = before + section + ("\n## " + after[1] if len(after) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tilted_paths", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 (default: 6)")
    p.add_argument("--samples", type=int, default=4000, help="samples per run (default: 4000)")
    p.add_argument("--steps", type=int, default=100, help="sampler steps (default: 100)")
    p.add_argument("--no-write", action="store_true", help="print the section, do not write RESULTS.md")
    args = p.parse_args(argv)
    import torch

    from models.engine.data import load_dataset

    torch.set_num_threads(1)  # a shared machine
    label = load_dataset("gmm2d").class_names.index(CLASS_NAME)
    section = table(label, args.seeds, args.samples, args.steps)
    print(section)
    if not args.no_write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
