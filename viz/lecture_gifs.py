"""``python -m viz.lecture_gifs --out DIR``: every lecture GIF in one command (``make gifs``).

For each data set and each guidance method (``models.guidance.names()``, so new methods
join by themselves), one run is sampled and every view of ``viz.views.kinds.ANIMATIONS`` that applies
to it is written as ``DIR/<data>-<guidance>-<view>.gif``; the photograph's noising, which depends on
neither, once as ``DIR/noising.gif``. A view applies when the run recorded what it draws
(``viz.figures.lecture.view_applies``: the classifier view needs a classifier direction, the CFG view both
predictions; each zoo method gets its own construction view instead of the CFG one). Each file is
byte for byte what ``python -m viz.export --figure VIEW`` writes with the same settings. A method
that cannot run with these settings (missing weights, a sampler it does not support and no
fallback) is named on stderr and the exit status is 1; bad options exit with 2.

    python -m viz.lecture_gifs --out out/gifs                  # both data sets, every method
    python -m viz.lecture_gifs --out gifs --data gmm2d --guidance cfg,classifier --steps 25
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

from models.cli import OneLineParser, add_setting, fail, finite_float, int_range
from models.engine.data import DATA_NAMES, load_dataset
from models.guidance import names as guidance_names, resources
from models.engine.pipeline import MAX_BATCH, SampleSpec, run
from models.engine.loading import DEVICE_NAMES, MODEL_NAMES, WeightsError, load_bundle, resolve_device
from models.engine.samplers import SAMPLER_NAMES
from models.engine.schedule import TRAINING_STEPS
from models.engine.settings import GAMMA, FPS, FRAMES, LECTURE_STEPS, SEED, STEPS
from viz.views.catalog import figure_kinds, lecture_projection

PROG = "python -m viz.lecture_gifs"
SHARED = ("noising",)  # views that depend on neither the data set nor the guidance


@dataclass(frozen=True)
class Written:
    """One GIF written (``path``, ``size`` in bytes) or one left out (``path`` None, ``why``):
    ``failed`` when its run could not be sampled, not when the view does not apply to the run."""

    name: str
    path: Optional[Path]
    size: int = 0
    why: str = ""
    failed: bool = False


def _names(text: str, valid: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise ValueError(f"unknown {what} {', '.join(bad) or repr(text)}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(names))


def build_parser() -> OneLineParser:
    """The command line's options (see ``--help``)."""
    p = OneLineParser(prog=PROG, description="Export every lecture GIF (every view, every guidance method) to one folder.")
    p.add_argument("--out", type=Path, default=Path("out/gifs"), help="folder for the GIFs, created if needed (default: out/gifs)")
    p.add_argument("--data", default=",".join(DATA_NAMES), help=f"comma-separated data sets (default: {','.join(DATA_NAMES)})")
    p.add_argument("--guidance", default=",".join(guidance_names()),
                   help=f"comma-separated guidance methods (default: all: {','.join(guidance_names())})")
    p.add_argument("--figures", default=",".join(figure_kinds()), help=f"comma-separated views (default: all: {','.join(figure_kinds())})")
    p.add_argument("--model", choices=MODEL_NAMES, default="neural", help="denoiser (default: neural)")
    p.add_argument("--sampler", choices=SAMPLER_NAMES, default="ddpm",
                   help="sampler; a method that does not support it uses the first one that it does (default: ddpm)")
    add_setting(p, GAMMA)
    p.add_argument("--label", type=int, default=0, help="class guided toward; guidance 'none' samples unconditionally (default: 0)")
    p.add_argument("--steps", type=int_range(STEPS.lo, STEPS.hi), default=LECTURE_STEPS,
                   help=f"sampling steps, 1..{TRAINING_STEPS} (default: 50)")
    p.add_argument("--seed", type=int_range(SEED.lo, SEED.hi), default=SEED.default, help="random seed (default: 0)")
    p.add_argument("--batch", type=int_range(1, MAX_BATCH), default=8, help="trajectories per run (default: 8)")
    p.add_argument("--frames", type=int_range(FRAMES.lo, FRAMES.hi), default=FRAMES.default, help="at most this many frames per GIF (default: 101)")
    p.add_argument("--fps", type=finite_float, default=FPS.default, help="GIF frames per second, in (0, 50] (default: 10)")
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="auto picks CUDA when present (default: auto)")
    return p


def spec_for(data: str, guidance: str, args) -> SampleSpec:
    """The run of ``guidance`` on ``data``: the chosen sampler, or the first one the method supports."""
    spec = SampleSpec(data=data, model=args.model, sampler=args.sampler, guidance=guidance, gamma=args.gamma,
                      label=-1 if guidance == "none" else args.label, steps=args.steps, seed=args.seed, batch=args.batch)
    try:
        return spec.validate()
    except ValueError as first:
        for sampler in SAMPLER_NAMES:
            try:
                return replace(spec, sampler=sampler).validate()
            except ValueError:
                continue
        raise first


def export_all(args, progress: bool = True) -> list[Written]:
    """Sample one run per (data set, guidance) and write every view that applies; returns what was
    written and what was skipped, in order."""
    from tqdm import tqdm

    from viz.views.kinds import make_animation
    from viz.figures.lecture import view_applies

    datas = _names(args.data, DATA_NAMES, "data set")
    guidances = _names(args.guidance, guidance_names(), "guidance")
    kinds = _names(args.figures, figure_kinds(), "figure")
    if not 0 < args.fps <= 50:
        raise ValueError(f"fps must be in (0, 50], got {args.fps:g}")
    device = resolve_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    per_run = [k for k in kinds if k not in SHARED]
    shared = [k for k in kinds if k in SHARED]
    total = len(datas) * len(guidances) * len(per_run) + len(shared)
    out: list[Written] = []
    bar = tqdm(total=total, unit="gif", desc="lecture GIFs", file=sys.stderr, disable=not progress)

    def write(name: str, anim) -> None:
        path = args.out / f"{name}.gif"
        bar.set_postfix_str(path.name)
        gif = anim.gif(max_frames=args.frames, fps=args.fps)
        path.write_bytes(gif)
        out.append(Written(name, path, len(gif)))
        bar.update()

    for data in datas:
        background = load_dataset(data).x
        for guidance in guidances:
            names = [f"{data}-{guidance}-{k}" for k in per_run]
            try:
                spec = spec_for(data, guidance, args)
                bar.set_postfix_str(f"sampling {data} {guidance}")
                traj = run(spec, load_bundle(data, args.model, device, needs=resources(guidance)))
                if spec.sampler != args.sampler:
                    bar.write(f"{data} {guidance}: sampled with {spec.sampler} ({guidance} does not support {args.sampler})", file=sys.stderr)
            except (ValueError, WeightsError) as e:
                out.extend(Written(n, None, why=str(e), failed=True) for n in names)
                bar.update(len(names))
                continue
            for kind, name in zip(per_run, names):
                if not view_applies(kind, traj):
                    out.append(Written(name, None, why=f"the {kind} view does not draw {guidance} guidance"))
                    bar.update()
                    continue
                write(name, make_animation(kind, traj, lecture_projection(kind), sample=0, seed=spec.seed, background=background))
            if shared and not any(w.name in shared for w in out):
                for kind in shared:  # from the first run: it only needs the schedule
                    write(kind, make_animation(kind, traj, lecture_projection(kind), seed=spec.seed))
    bar.close()
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    try:
        results = export_all(args)
    except (ValueError, OSError) as e:
        fail(PROG, e)
    written = [w for w in results if w.path is not None]
    failed = [w for w in results if w.failed]
    left_out = len(results) - len(written) - len(failed)
    print(f"wrote {len(written)} GIFs ({sum(w.size for w in written) / 1e6:.1f} MB) to {args.out} "
          f"in {time.perf_counter() - start:.0f} s; {left_out} views left out because their run does not record "
          "what they draw (e.g. the cfg view of classifier guidance)", file=sys.stderr)
    for w in failed:
        print(f"  not written: {w.name}: {w.why}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
