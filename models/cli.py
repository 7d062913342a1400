"""Shared command-line plumbing: every error is one clear line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are a single line (``prog: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def fail(prog: str, message: str) -> NoReturn:
    """Print ``prog: error: message`` on stderr and exit with status 2."""
    first = " ".join(str(message).split())
    sys.stderr.write(f"{prog}: error: {first}\n")
    raise SystemExit(2)


def finite_float(text: str) -> float:
    """argparse type: a finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def int_range(lo: int, hi: int):
    """argparse type: an integer in ``lo..hi``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
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


def positive_or_inf(text: str) -> float:
    """argparse type: a positive number, or ``inf``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or inf)") from None
    if math.isnan(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number or inf")
    return value


def sigma_interval(text: str) -> tuple[float, float]:
    """argparse type: ``LO,HI`` noise levels (sigma), 0 <= LO <= HI."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not LO,HI (two numbers, e.g. 0.3,5)")
    lo, hi = (finite_float(p.strip()) if p.strip() != "inf" else math.inf for p in parts)
    if not 0 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"{text!r} must satisfy 0 <= LO <= HI")
    return lo, hi


def add_zoo_options(parser: argparse.ArgumentParser) -> None:
    """The settings of the guidance zoo (models.zoo), shared by the command lines."""
    from models.guidance import GuidanceOptions

    d = GuidanceOptions()
    g = parser.add_argument_group("guidance zoo settings (used by the guidance that names them)")
    g.add_argument("--rescale-phi", type=finite_float, default=d.rescale_phi,
                   help=f"rescale: mix of rescaled and plain CFG, 0..1 (arXiv 2305.08891; default: {d.rescale_phi})")
    g.add_argument("--apg-eta", type=finite_float, default=d.apg_eta,
                   help=f"apg: weight of the part parallel to the conditional prediction (arXiv 2410.02416; default: {d.apg_eta})")
    g.add_argument("--apg-r", type=positive_or_inf, default=d.apg_r,
                   help="apg: clip the guidance difference to this norm; inf turns clipping off (default: inf)")
    g.add_argument("--apg-beta", type=finite_float, default=d.apg_beta,
                   help=f"apg: momentum across steps, in (-1, 1) (default: {d.apg_beta})")
    g.add_argument("--interval", type=sigma_interval, default=d.interval, metavar="LO,HI",
                   help=f"interval: guide only for noise levels sigma in [LO, HI] (arXiv 2404.07724; default: "
                        f"{d.interval[0]:g},{d.interval[1]:g})")
    g.add_argument("--cfgpp-lambda", type=finite_float, default=d.cfgpp_lambda,
                   help=f"cfgpp: lambda in [0, 1], used instead of --gamma (arXiv 2406.08070; default: {d.cfgpp_lambda})")


def zoo_settings(args: argparse.Namespace) -> dict:
    """``SampleSpec`` keyword arguments from the options of ``add_zoo_options``."""
    return dict(rescale_phi=args.rescale_phi, apg_eta=args.apg_eta, apg_r=args.apg_r, apg_beta=args.apg_beta,
                interval_lo=args.interval[0], interval_hi=args.interval[1], cfgpp_lambda=args.cfgpp_lambda)
