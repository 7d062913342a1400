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
from typing import TYPE_CHECKING, Optional, Sequence

from models.cli import (add_seed_option, OneLineParser, add_memory_option, add_path_options, add_setting, check_memory, fail,
                        finite_float, int_range, path_settings, run_memory)
from models.engine.data import DATA_NAMES, DIMS, load_dataset, num_classes
from models.engine.names import DEVICE_NAMES, MAX_BATCH, MODEL_NAMES, SAMPLER_NAMES
from models.engine.schedule import TRAINING_STEPS
from models.engine.settings import GAMMA, FPS, FRAMES, LECTURE_STEPS, STEPS
from models.guidance import names as guidance_names, resources
from viz.views.catalog import figure_kinds, lecture_projection

if TYPE_CHECKING:
    from models.engine.pipeline import SampleSpec

# torch (the pipeline, the weights) and matplotlib (the views) are imported after the arguments are
# read: --help and a mistyped option answer at once.
PROG = "python -m viz.lecture_gifs"
SHARED = ("noising",)  # views that depend on neither the data set nor the guidance
MEETS_FLOW = "meets-flow"  # per data set: one unguided run drawn as VP-DDIM and as flow-Euler (the lecture's slide)


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
    p.add_argument("--label", type=int, default=0, help=f"class guided toward, 0..{num_classes('digits') - 1} on digits, "
                   f"0..{num_classes('gmm2d') - 1} on gmm2d; guidance 'none' samples unconditionally (default: 0)")
    p.add_argument("--steps", type=int_range(STEPS.lo, STEPS.hi), default=LECTURE_STEPS,
                   help=f"sampling steps, {STEPS.lo}..{TRAINING_STEPS} (default: {LECTURE_STEPS})")
    add_seed_option(p)
    p.add_argument("--batch", type=int_range(1, MAX_BATCH), default=8,
                   help=f"trajectories per run, 1..{MAX_BATCH}; with --steps it sets the memory a run needs (see "
                        "--max-memory) (default: 8)")
    p.add_argument("--frames", type=int_range(FRAMES.lo, FRAMES.hi), default=FRAMES.default,
                   help=f"at most this many frames per GIF, {FRAMES.lo}..{FRAMES.hi} (default: {FRAMES.default})")
    p.add_argument("--fps", type=finite_float, default=FPS.default,
                   help=f"GIF frames per second, in {FPS.range_text()} (default: {FPS.default:g})")
    add_path_options(p)
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="auto picks CUDA when present (default: auto)")
    add_memory_option(p)
    return p


def spec_for(data: str, guidance: str, args) -> SampleSpec:
    """The run of ``guidance`` on ``data``: the chosen sampler, or the first one the method supports."""
    from models.engine.pipeline import SampleSpec

    spec = SampleSpec(data=data, model=args.model, sampler=args.sampler, guidance=guidance, gamma=args.gamma,
                      label=-1 if guidance == "none" else args.label, steps=args.steps, seed=args.seed, batch=args.batch,
                      **path_settings(args))
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

    from models.engine.loading import WeightsError, load_bundle, resolve_device
    from models.engine.pipeline import run
    from models.engine.samplers import on_step
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
    both_paths = "flow" in kinds  # the flow view's companion: one run drawn on both paths, per data set
    total = len(datas) * (len(guidances) * len(per_run) + both_paths) + len(shared)
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
                with on_step(_step_counter(bar, f"sampling {data} {guidance}", spec.steps)):
                    traj = run(spec, load_bundle(data, args.model, device, needs=resources(guidance), path=spec.path,
                                                 shift=spec.shift))
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
        if both_paths:
            write_meets_flow(data, args, device, write, out, bar)
    bar.close()
    return out


def write_meets_flow(data: str, args, device, write, out: list, bar) -> None:
    """``DIR/<data>-meets-flow.gif``: the lecture's "diffusion meets flow" slide (``viz.views.flow.MeetsFlow``)."""
    from models.engine.loading import WeightsError
    from models.flow.pair import meets_flow_runs
    from viz.views.flow import MeetsFlow

    name = f"{data}-{MEETS_FLOW}"
    try:
        vp, flow = meets_flow_runs(data, args.model, args.steps, args.seed, args.batch, device)
    except (ValueError, WeightsError) as e:
        out.append(Written(name, None, why=str(e), failed=True))
        bar.update()
        return
    write(name, MeetsFlow(vp, flow, background=load_dataset(data).x))


def _step_counter(bar, what: str, steps: int):
    """A sampler-step callback (``models.engine.samplers.on_step``) that shows ``what: step k/steps``
    beside the bar, at the bar's own pace: a long run moves it too."""
    done = [0]

    def tick() -> None:
        done[0] += 1
        bar.set_postfix_str(f"{what}: step {done[0]}/{steps}", refresh=False)
        bar.update(0)  # redraws at most every mininterval

    return tick


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:  # the largest run asked for, refused before anything is loaded (models.cli.run_memory)
        dim = max(DIMS[d] for d in _names(args.data, DATA_NAMES, "data set"))
    except ValueError as e:
        fail(PROG, e)
    check_memory(PROG, run_memory(args.steps, args.batch, dim, args.frames), args.max_memory,
                 f"--batch ({args.batch}), --steps ({args.steps}) or --frames ({args.frames})")
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
