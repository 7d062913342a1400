"""``python -m viz.export``: sample a trajectory, save it as ``.npz`` and animate it as a GIF.

Example::

    python -m viz.export --data digits --model neural --sampler ddpm --guidance cfg --gamma 3 \\
        --label 7 --steps 100 --seed 0 --batch 8 --projection plane --figure cfg --out cfg.gif --npz cfg.npz

Same settings, same bytes: the GIF and the arrays are deterministic for a given seed.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from models.cli import (add_seed_option, OneLineParser, add_corrector_options, add_eta_option, add_memory_option, add_path_options,
                        add_setting, add_zoo_options, check_memory, corrector_settings, fail, finite_float, gif_file, int_range,
                        path_settings, progress, run_memory, writable_file, zoo_settings)
from models.engine.data import DATA_NAMES, DIMS, load_dataset, num_classes
from models.engine.names import DEVICE_NAMES, MAX_BATCH, MODEL_NAMES, RUN_SAMPLERS, TILTED, TILTED_HELP
from models.engine.schedule import TRAINING_STEPS
from models.engine.settings import GAMMA, FPS, FRAMES, STEPS
from models.analysis.field_records import FIELD_GIF_FPS, FIELD_GIF_FRAMES, FieldSpec, check_data
from models.guidance import guidance_help, names, settings_for
from viz.draw.projection import PROJECTION_NAMES
from viz.views.catalog import FIELD_FIGURE, TILTED_FIGURES, descriptions, figure_kinds

from models.engine.trajectory import Trajectory

if TYPE_CHECKING:
    from models.engine.pipeline import SampleSpec

# torch (the pipeline, the weights) and matplotlib (the views) are imported after the arguments are
# read: --help and a mistyped option answer at once.
PROG = "python -m viz.export"


def build_parser() -> OneLineParser:
    """The command line's options (see ``--help``)."""
    p = OneLineParser(prog=PROG, description="Sample diffusion trajectories and export them as an animated GIF "
                      "(and optionally the raw arrays as .npz).")
    p.add_argument("--data", choices=DATA_NAMES, default="digits", help="data set (default: digits)")
    p.add_argument("--model", choices=MODEL_NAMES, default="neural", help="exact closed-form or trained network (default: neural)")
    p.add_argument("--sampler", choices=RUN_SAMPLERS, default="ddpm", help=f"sampling algorithm; {TILTED_HELP} (default: ddpm)")
    p.add_argument("--guidance", choices=names(), default="cfg", help=guidance_help())
    add_setting(p, GAMMA)
    p.add_argument("--label", type=int, default=0, help=f"class of every sample, 0..{num_classes('digits') - 1} on digits, "
                   f"0..{num_classes('gmm2d') - 1} on gmm2d; -1 = unconditional with --guidance none (default: 0)")
    p.add_argument("--steps", type=int_range(STEPS.lo, STEPS.hi), default=STEPS.default,
                   help=f"sampling steps, {STEPS.lo}..{TRAINING_STEPS} (default: {STEPS.default})")
    add_seed_option(p)
    p.add_argument("--batch", type=int_range(1, MAX_BATCH), default=8,
                   help=f"number of trajectories, 1..{MAX_BATCH}; with --steps it sets the memory a run needs (see "
                        "--max-memory) (default: 8)")
    add_eta_option(p)
    add_path_options(p)
    p.add_argument("--projection", choices=PROJECTION_NAMES, default="pca", help="how to draw D dimensions in 2: PCA of the run's points, PCA of the data set, a seeded random "
                   "projection, or the exact plane of each step (default: pca)")
    p.add_argument("--figure", choices=figure_kinds() + (FIELD_FIGURE,), default="paths",
                   help="which view to animate: " + "; ".join(f"{k}: {v}" for k, v in descriptions().items())
                   + " (default: paths)")
    p.add_argument("--sample", type=int_range(0, MAX_BATCH - 1), default=0,
                   help="which trajectory of the batch the one-sample views follow, 0..batch-1 (default: 0)")
    p.add_argument("--frames", type=int_range(FRAMES.lo, FRAMES.hi), default=None,
                   help=f"at most this many GIF frames, {FRAMES.lo}..{FRAMES.hi} (default: {FRAMES.default}; --figure "
                        f"field: {FIELD_GIF_FRAMES} noise levels)")
    p.add_argument("--fps", type=finite_float, default=None,
                   help=f"GIF frames per second, in {FPS.range_text()} (default: {FPS.default:g}; --figure field: "
                        f"{FIELD_GIF_FPS:g})")
    p.add_argument("--out", type=gif_file, required=True, help="GIF file to write; its name ends in .gif")
    p.add_argument("--npz", type=writable_file, default=None, help="also save the trajectory arrays here")
    add_zoo_options(p)
    add_corrector_options(p)
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="auto picks CUDA when present (default: auto)")
    add_memory_option(p)
    return p


def export(spec: SampleSpec, figure: str, projection: str, out, npz=None, device: str = "auto",
           frames: int = FRAMES.default, fps: float = FPS.default, sample: int = 0) -> tuple[Trajectory, bytes]:
    """Sample, write the GIF of view ``figure`` (and the ``.npz``), return both.

    The app's download buttons call the same ``make_animation(...).gif(frames, fps)``, so the
    same settings give the same bytes here and there.
    """
    from models.engine.loading import resolve_device
    from models.engine.pipeline import run
    from viz.views.kinds import make_animation

    with progress(0 if spec.sampler == TILTED else spec.steps, "sampling"):
        traj = run(spec, device=resolve_device(device))
    anim = make_animation(figure, traj, projection, sample=sample, seed=spec.seed,
                          background=load_dataset(spec.data).x)
    with frames_progress(min(frames, getattr(anim, "num_frames", frames))):
        gif = anim.gif(max_frames=frames, fps=fps)
    with open(out, "wb") as f:
        f.write(gif)
    if npz is not None:
        traj.save_npz(npz)
    return traj, gif


def export_field(spec: FieldSpec, out, frames: int = FIELD_GIF_FRAMES, fps: float = FIELD_GIF_FPS) -> bytes:
    """Write the GIF of the guidance field of ``spec`` at ``frames`` noise levels, noisiest first
    (``models.analysis.field.field_series``, ``viz.figures.field.FieldAnimation``), and return it: the bytes of the
    guidance-field page's animation for the same settings."""
    from models.analysis.field import field_series  # after argument parsing, like viz.views.kinds above (torch, matplotlib)
    from viz.figures.field import FieldAnimation

    with frames_progress(frames):
        gif = FieldAnimation(field_series(spec, frames)).gif(frames, fps)
    with open(out, "wb") as f:
        f.write(gif)
    return gif


@contextmanager
def frames_progress(total: int) -> Iterator:
    """A progress bar over the GIF frames drawn inside the ``with`` block (``models.cli.progress``)."""
    from viz.gif import on_frame

    with progress(total, "GIF frames", unit="frame") as bar, on_frame(bar.update):
        yield bar


def field_main(args) -> int:
    """``--figure field``: nothing is sampled; the model, the method with its scale and own settings,
    and the class choose the field. Bad input ends with one line and exit status 2."""
    from models.engine.loading import WeightsError  # torch: once the arguments are read

    try:
        check_data(args.data)
        if args.npz is not None:
            raise ValueError("--npz saves a sampled run's arrays, and --figure field samples nothing: leave --npz out")
        if not 0 < args.fps <= 50:
            raise ValueError(f"fps must be in (0, 50], got {args.fps:g}")
        own = {s.name for s in settings_for(args.guidance)}
        settings = tuple(sorted((k, v) for k, v in zoo_settings(args).items() if k in own))
        spec = FieldSpec(model=args.model, guidance=args.guidance, gamma=args.gamma, label=args.label,
                         settings=settings).validate()
        gif = export_field(spec, args.out, args.frames, args.fps)
    except (ValueError, WeightsError, OSError) as e:
        fail(PROG, e)
    print(f"wrote {args.out} ({len(gif) / 1e6:.2f} MB, the field at {args.frames} noise levels)", file=sys.stderr)
    return 0


def check_run_memory(args, field: bool = False) -> None:
    """Refuse in one line (exit status 2), before anything is loaded, a run estimated above
    ``--max-memory`` (``models.cli.run_memory``: the trajectory, the .npz, the frames)."""
    if field:  # nothing is sampled: only the frames
        check_memory(PROG, run_memory(0, 0, 0, args.frames), args.max_memory, f"--frames ({args.frames})")
        return
    tilted = args.sampler == TILTED  # exact draws: one step, in float64
    need = run_memory(1 if tilted else args.steps, args.batch, DIMS[args.data], args.frames, itemsize=8 if tilted else 4)
    check_memory(PROG, need, args.max_memory,
                 f"--batch ({args.batch}), --steps ({args.steps}) or --frames ({args.frames})")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    field = args.figure == FIELD_FIGURE
    args.frames = args.frames if args.frames is not None else (FIELD_GIF_FRAMES if field else FRAMES.default)
    args.fps = args.fps if args.fps is not None else (FIELD_GIF_FPS if field else FPS.default)
    check_run_memory(args, field)
    if field:
        return field_main(args)
    from models.engine.loading import WeightsError  # torch: once the arguments and the memory bound are checked
    from models.engine.pipeline import SampleSpec

    spec = SampleSpec(data=args.data, model=args.model, sampler=args.sampler, guidance=args.guidance,
                      gamma=args.gamma, label=args.label, steps=args.steps, seed=args.seed,
                      batch=args.batch, eta=args.eta, **path_settings(args), **zoo_settings(args), **corrector_settings(args))
    try:
        spec.validate()
        if not 0 < args.fps <= 50:
            raise ValueError(f"fps must be in (0, 50], got {args.fps:g}")
        if spec.sampler == TILTED and args.figure not in TILTED_FIGURES:
            raise ValueError(f"figure {args.figure!r} draws a guidance construction, which exact tilted draws do not "
                             f"record; use one of {', '.join(TILTED_FIGURES)}")
        if not 0 <= args.sample < spec.batch:
            raise ValueError(f"sample must be in 0..{spec.batch - 1} (one of the batch), got {args.sample}")
        traj, gif = export(spec, args.figure, args.projection, args.out, args.npz, args.device, args.frames,
                           args.fps, args.sample)
    except (ValueError, WeightsError, OSError) as e:
        fail(PROG, e)
    print(f"wrote {args.out} ({len(gif) / 1e6:.2f} MB, {traj.steps} steps, batch {spec.batch})"
          + (f" and {args.npz}" if args.npz else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
