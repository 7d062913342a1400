"""Shared command-line plumbing: every error is one clear line on stderr and exit status 2.

Nothing here imports torch or matplotlib: the parsers answer ``--help`` and argument errors before
either loads. What follows parsing (a run's memory bound, its progress bars) is here too.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn

from models.engine.names import ETA_SAMPLERS, PATH_NAMES, PATH_SAMPLERS
from models.engine.settings import CORRECTOR_SNR, CORRECTOR_STEPS, ETA, SEED, SHIFT, Setting
from models.engine.trajectory import PART_NAMES
from models.guidance import GROUPS, SETTINGS, ZOO_SETTINGS, parse_group

MAX_MEMORY_GB = 2.0  # --max-memory's default: a run estimated above it is refused before sampling
MAX_MEMORY_RANGE = (0.0, 1024.0)  # GB, the low end open
#: the pixels of the largest GIF frame a command line writes: the guidance field, 1100 x 740 (the
#: step and construction views are 1100 x 640; viz.draw.style, viz.figures.field; tested)
FRAME_PIXELS = 1100 * 740
PROGRESS_DELAY_S = 2.0  # a bar appears once its work has run this long (quicker runs print nothing)


class OneLineParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are a single line (``prog: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def fail(prog: str, message: str) -> NoReturn:
    """Print ``prog: error: message`` on stderr and exit with status 2."""
    first = " ".join(str(message).split())
    sys.stderr.write(f"{prog}: error: {first}\n")
    raise SystemExit(2)


def _number(text: str, integer: bool = False) -> float:
    """``text`` read as an int (``integer``) or a float; ``argparse.ArgumentTypeError`` if it is not one."""
    try:
        return int(text) if integer else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if integer else 'a number'}") from None


def finite_float(text: str) -> float:
    """argparse type: a finite float."""
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def int_range(lo: int, hi: int):
    """argparse type: an integer in ``lo..hi``."""

    def parse(text: str) -> int:
        value = _number(text, integer=True)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}")
        return value

    parse.__name__ = f"integer in {lo}..{hi}"
    return parse


def float_list(text: str) -> list[float]:
    """argparse type: comma-separated finite floats, e.g. ``0,1,3``."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("expected comma-separated numbers, e.g. 0,1,3")
    return [finite_float(p.strip()) for p in parts]


def writable_file(text: str) -> Path:
    """argparse type: a file that can be written (checked before any work): its folder exists, and
    the file itself, or a new file in that folder, can be opened for writing. Trying is the only
    check that also holds for root, read-only mounts and immutable folders; nothing is left behind."""
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("the file name is empty")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(folder)!r} does not exist")
    if path.exists() and not path.is_file():  # a device or a pipe: opening a pipe could block
        if not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"cannot write to {text!r}")
        return path
    try:
        if path.exists():
            with open(path, "ab"):  # append mode: the file is not changed
                pass
        else:
            with tempfile.TemporaryFile(dir=folder):  # an unnamed file, gone when closed
                pass
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write to {text!r} ({e.strerror or e})") from None
    return path


def gif_file(text: str) -> Path:
    """argparse type: a GIF file to write (``writable_file``) whose name ends in ``.gif``, so that
    what is written is what the name says."""
    path = Path(text)
    if text.strip() and not path.is_dir() and path.suffix.lower() != ".gif":
        raise argparse.ArgumentTypeError(f"{text!r} does not end in .gif, and a GIF is what is written: "
                                         f"name it {path.with_suffix('.gif').name!r}")
    return writable_file(text)


def writable_folder(text: str) -> Path:
    """argparse type: a folder that exists and can be written, or can be made (its nearest existing
    parent can be written); checked by trying, before any work."""
    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("the folder name is empty")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make the folder {text!r}: {str(existing)!r} is a file")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write to {str(existing)!r} ({e.strerror or e})") from None
    return path


def float_in(lo: float, hi: float, *, low_open: bool = False):
    """argparse type: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``low_open``)."""

    def parse(text: str) -> float:
        value = finite_float(text)
        if not (lo < value if low_open else lo <= value) or value > hi:
            raise argparse.ArgumentTypeError(f"{value:g} is outside {'(' if low_open else '['}{lo:g}, {hi:g}]")
        return value

    parse.__name__ = f"number in {'(' if low_open else '['}{lo:g}, {hi:g}]"
    return parse


def setting_type(setting: Setting):
    """argparse type of one declared setting (``models.engine.settings``): a number in its range."""

    def parse(text: str) -> float:
        value = _number(text, setting.integer)
        if not setting.valid(value):
            what = setting.range_text()
            if setting.integer:
                raise argparse.ArgumentTypeError(f"{value} is outside {what}")
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a finite number' if what == 'any finite number' else 'in ' + what}")
        return value

    parse.__name__ = f"{'integer' if setting.integer else 'number'} in {setting.range_text()}"
    return parse


def group_type(group: str):
    """argparse type of a group of settings given as one flag, ``--interval LO,HI``."""

    def parse(text: str) -> tuple[float, ...]:
        try:
            return parse_group(group, text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = f"{group} {','.join(n.rsplit('_', 1)[-1].upper() for n in GROUPS[group])}"
    return parse


def add_setting(parser, setting: Setting, **kwargs) -> None:
    """Add the flag of one declared setting (type, default and help from its declaration)."""
    parser.add_argument(setting.flag, type=setting_type(setting), default=setting.default,
                        help=kwargs.pop("help", setting.help_text()), **kwargs)


def add_seed_option(parser) -> None:
    """``--seed``: the one range of ``models.engine.settings.SEED``, shared by every command line."""
    parser.add_argument("--seed", type=int_range(SEED.lo, SEED.hi), default=SEED.default,
                        help=f"random seed, {SEED.lo}..{SEED.hi} (2**53 - 1) (default: {SEED.default})")


def add_eta_option(parser) -> None:
    """``--eta``, DDIM's noise level: its declared range, and that the other samplers refuse it."""
    add_setting(parser, ETA, help=f"{ETA.help} Range {ETA.range_text()}; {ETA.paper}; read by --sampler "
                                  f"{' or '.join(ETA_SAMPLERS)} only: with another sampler only {ETA.default:g} is "
                                  f"accepted (default: {ETA.default:g})")


def add_path_options(parser) -> None:
    """``--path vp|flow`` and ``--shift``, the noising path and the flow path's timestep shift
    (``models.flow.path``); ``path_settings(args)`` gives their ``SampleSpec`` keywords."""
    parser.add_argument("--path", choices=PATH_NAMES, default=PATH_NAMES[0],
                        help="the noising path: vp, x_t = sqrt(abar) x0 + sqrt(1 - abar) eps (DDPM's), or flow, "
                             "x_t = (1 - sigma) x0 + sigma eps (rectified flow, as in Stable Diffusion 3); samplers: "
                             + "; ".join(f"{p}: {', '.join(PATH_SAMPLERS[p])}" for p in PATH_NAMES)
                             + f" (default: {PATH_NAMES[0]})")
    add_setting(parser, SHIFT)


def path_settings(args: argparse.Namespace) -> dict:
    """``SampleSpec`` keyword arguments from the options of ``add_path_options``."""
    return {"path": args.path, "shift": args.shift}


def add_zoo_options(parser: argparse.ArgumentParser) -> None:
    """The settings of the guidance zoo (``models.engine.settings``), shared by the command lines: one
    flag per setting, one per group (``--interval LO,HI``)."""
    g = parser.add_argument_group("guidance zoo settings (used by the guidance that names them)")
    done = set()
    for setting in ZOO_SETTINGS:
        if setting.group is None:
            add_setting(g, setting)
        elif setting.group not in done:
            done.add(setting.group)
            names = GROUPS[setting.group]
            ends = tuple(SETTINGS[n].default for n in names)
            ends_named = [n.rsplit("_", 1)[-1].upper() for n in names]
            first, last = SETTINGS[names[0]], SETTINGS[names[-1]]
            order = " <= ".join((f"{first.lo:g}", *ends_named))
            inf = f" ({ends_named[-1]} may be inf)" if last.valid(math.inf) else ""
            g.add_argument(setting.flag, type=group_type(setting.group), default=ends, metavar=",".join(ends_named),
                           help=f"{setting.help} {order}{inf}; {setting.paper} "
                                f"(default: {','.join(f'{v:g}' for v in ends)})")


def zoo_settings(args: argparse.Namespace) -> dict:
    """``SampleSpec`` keyword arguments (setting name -> value) from the options of ``add_zoo_options``."""
    out = {}
    for setting in ZOO_SETTINGS:
        if setting.group is None:
            out[setting.name] = getattr(args, setting.name)
        else:
            out[setting.name] = getattr(args, setting.group)[GROUPS[setting.group].index(setting.name)]
    return out


def add_corrector_options(parser: argparse.ArgumentParser) -> None:
    """``--corrector-steps K`` and ``--corrector-snr R`` (declared in ``models.engine.settings``), shared by
    the command lines."""
    g = parser.add_argument_group("predictor-corrector (Langevin steps on the guided score after each sampler step)")
    add_setting(g, CORRECTOR_STEPS)
    add_setting(g, CORRECTOR_SNR)


def corrector_settings(args: argparse.Namespace) -> dict:
    """``SampleSpec`` keyword arguments from the options of ``add_corrector_options``."""
    return {s.name: getattr(args, s.name) for s in (CORRECTOR_STEPS, CORRECTOR_SNR)}


# ------------------------------------------------------------------------- bounded runs, visible progress

def add_memory_option(parser: argparse.ArgumentParser) -> None:
    """``--max-memory GB``: the budget a run's estimated memory (``run_memory``) must fit."""
    lo, hi = MAX_MEMORY_RANGE
    parser.add_argument("--max-memory", type=float_in(lo, hi, low_open=True), default=MAX_MEMORY_GB, metavar="GB",
                        help=f"refuse, before sampling, a run whose memory is estimated above this many GB, in "
                             f"({lo:g}, {hi:g}] (default: {MAX_MEMORY_GB:g})")


def run_memory(steps: int, batch: int, dim: int, frames: int = 0, projection: bool = True, itemsize: int = 4) -> int:
    """Bytes a run of ``batch`` trajectories of ``steps`` steps in ``dim`` dimensions needs, with a GIF
    of at most ``frames`` frames (and a projection of the run, unless ``projection`` is False: ``evaluate``
    draws nothing), estimated from above. ``itemsize``: 4, the samplers' float32; the exact tilted draws
    (``--sampler tilted``, one step) are float64, 8.

    * the trajectory's arrays: ``x`` (S+1, B, D), ``x0_hat`` and ``noise`` (S, B, D) and up
      to three guidance parts (S, B, D); the ``.npz`` holds the same bytes. Twice: the sampler
      records them step by step and stacks them at the end, so both copies live for a moment;
    * the run's PCA (``viz.views.kinds.run_projection``), fitted on ``x`` and ``x0_hat`` side by side:
      that copy, its float64 copy, the centred copy and the SVD's left factor, 14 times ``x``'s
      float32 bytes;
    * the GIF's frames, one byte a pixel once paletted, ``FRAME_PIXELS`` each.

    Measured (100 DDPM steps on the digits, CFG, the default paths view; peak resident memory less
    the 0.5 GB of a tiny run): 0.55 GB at batch 1024 and 1.30 GB at batch 2048, estimated 0.77 and
    1.45 GB. The interpreter's own 0.5 GB (torch, matplotlib) is not counted.
    """
    x = itemsize * (steps + 1) * batch * dim
    arrays = x + itemsize * steps * batch * dim * (2 + len(PART_NAMES))
    return 2 * arrays + (14 * x if projection else 0) + frames * FRAME_PIXELS


def check_memory(prog: str, need: int, budget_gb: float, lower: str) -> None:
    """End with one line (exit status 2) when ``need`` bytes are over ``budget_gb``: the estimate,
    the budget and ``lower``, the flags that would make the run smaller."""
    if need > budget_gb * 1e9:
        fail(prog, f"this run needs about {need / 1e9:.1f} GB of memory, over the {budget_gb:g} GB budget "
                   f"(--max-memory): lower {lower}, or raise --max-memory if the machine has room")


@contextmanager
def progress(total: int, desc: str, unit: str = "step") -> Iterator:
    """A tqdm bar on stderr, fed by every sampler step inside the ``with`` block
    (``models.engine.samplers.on_step``; a command line that writes GIFs feeds it their frames too,
    ``viz.gif.on_frame``). It appears only on a terminal, and only once the work has run
    ``PROGRESS_DELAY_S`` seconds, so quick runs print nothing; it is gone when the block ends."""
    from tqdm import tqdm

    from models.engine.samplers import on_step

    with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, delay=PROGRESS_DELAY_S, disable=None,
              dynamic_ncols=True, leave=False) as bar, on_step(bar.update):
        yield bar
