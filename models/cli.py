"""Shared command-line plumbing: every error is one clear line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from models.engine.settings import CORRECTOR_SNR, CORRECTOR_STEPS, Setting
from models.guidance import GROUPS, SETTINGS, ZOO_SETTINGS, parse_group


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
