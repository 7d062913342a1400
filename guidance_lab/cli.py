"""``guidance-lab``: one command for the app and the command lines (installed by ``pip install .``).

    guidance-lab app [--port 8501] [--address 127.0.0.1] [--headless] [-- STREAMLIT OPTIONS]
    guidance-lab export ...      the same as  python -m viz.export ...
    guidance-lab gifs ...                     python -m viz.lecture_gifs ...
    guidance-lab evaluate ...                 python -m models.evaluate ...
    guidance-lab train ...                    python -m models.train ...
    guidance-lab --version

Every command but ``app`` hands its arguments to the ``main(argv)`` of its ``python -m`` entry point,
which then names itself ``guidance-lab <command>`` in its help and its errors. ``app`` starts
Streamlit on the installed ``app.py`` (beside this package, in a checkout as in an installed copy),
listening on this computer only unless ``--address`` says otherwise. Nothing heavy loads before a
command runs: ``--help``, ``--version`` and a mistyped command answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import subprocess
import sys
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NoReturn, Optional, Sequence

from guidance_lab import __version__

PROG = "guidance-lab"
HERE = Path(__file__).resolve().parent
#: app.py, pages/, assets/ and the app's Streamlit settings sit beside this package, in a checkout as in an
#: installed copy (pyproject.toml installs them there)
APP = HERE.parent / "app.py"
CONFIG = HERE.parent / ".streamlit" / "config.toml"
DEFAULT_ADDRESS = "127.0.0.1"  # this computer only; `make serve` is the classroom server on every interface
DEFAULT_PORT = 8501


@dataclass(frozen=True)
class Command:
    """A command line of the lab: the module whose ``main(argv)`` runs it and its ``python -m`` name."""

    module: str
    help: str


COMMANDS = {
    "export": Command("viz.export", "sample a run and write its GIF (and .npz) (python -m viz.export)"),
    "gifs": Command("viz.lecture_gifs", "every lecture GIF into one folder (python -m viz.lecture_gifs)"),
    "evaluate": Command("models.analysis.evaluate", "accuracy, diversity and memorisation per guidance scale "
                                                    "(python -m models.evaluate)"),
    "train": Command("models.train", "retrain the shipped networks from scratch (python -m models.train)"),
}


class _Parser(argparse.ArgumentParser):
    """Errors in one line, exit status 2 (like ``models.cli.OneLineParser``, without importing the lab)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """``guidance-lab``'s own options: the command, ``--version``, ``--help``."""
    lines = [f"  {'app':<10}start the app in a browser (Streamlit), on {DEFAULT_ADDRESS}:{DEFAULT_PORT} by default"]
    lines += [f"  {name:<10}{c.help}" for name, c in COMMANDS.items()]
    p = _Parser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Guidance Lab: how diffusion models sample and how guidance bends their path.",
                epilog="commands:\n" + "\n".join(lines) + f"\n\n`{PROG} COMMAND --help` lists a command's options.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    p.add_argument("command", choices=("app", *COMMANDS), metavar="COMMAND", help="app, " + ", ".join(COMMANDS))
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``guidance-lab``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        build_parser().parse_args(argv[:1])  # --help, --version, or an error (exits)
    name, rest = argv[0], argv[1:]
    if name == "app":
        return app_main(rest)
    if name not in COMMANDS:
        build_parser().parse_args([name])  # an unknown command: one line, exit 2
    module = importlib.import_module(COMMANDS[name].module)
    try:
        with _named(module, f"{PROG} {name}"):
            return int(module.main(rest) or 0)
    except ModuleNotFoundError as e:  # an install without the lab's requirements (pip install --no-deps)
        if e.name is None or e.name.split(".")[0] in ("models", "viz", "ui", "guidance_lab"):
            raise
        sys.stderr.write(f"{PROG} {name}: error: this needs {e.name.split('.')[0]}, which this Python lacks: "
                         "install the lab's requirements (pip install . or pip install -r requirements.txt)\n")
        return 2


@contextmanager
def _named(module, prog: str) -> Iterator[None]:
    """The command line of ``module`` calls itself ``prog`` (its ``PROG``, read by its parser and its
    error lines) while it runs; its ``python -m`` name comes back afterwards."""
    before = module.PROG
    module.PROG = prog
    try:
        yield
    finally:
        module.PROG = before


# ----------------------------------------------------------------------------------------- the app

def app_parser() -> argparse.ArgumentParser:
    """``guidance-lab app``'s options."""
    p = _Parser(prog=f"{PROG} app", description="Start the app (Streamlit) on the installed app.py.",
                epilog="Options after -- go to `streamlit run` as they are, e.g. -- --theme.base dark.")
    p.add_argument("--address", default=DEFAULT_ADDRESS,
                   help=f"the network interface to listen on (default: {DEFAULT_ADDRESS}, this computer only; "
                        "0.0.0.0 serves every interface, for a class: see the README's 'Running the app for a class')")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"the port, 1..65535 (default: {DEFAULT_PORT})")
    p.add_argument("--headless", action="store_true", help="do not open a browser (a server without a screen)")
    return p


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 1..65535")
    return port


def config_flags(path: Path) -> list[str]:
    """The settings of a Streamlit ``config.toml`` as ``streamlit run`` options (``--server.maxUploadSize 5``;
    a list gives one option per item), so they hold whatever folder the app starts from."""
    flags = []
    with open(path, "rb") as f:
        for section, table in tomllib.load(f).items():
            for key, value in table.items():
                for item in value if isinstance(value, list) else [value]:
                    text = str(item).lower() if isinstance(item, bool) else str(item)
                    flags += [f"--{section}.{key}", text]
    return flags


def streamlit_command(args: argparse.Namespace, extra: Sequence[str] = ()) -> list[str]:
    """The ``streamlit run`` command line of ``guidance-lab app``: the app's own settings, no file
    watching (an installed app does not change; `make run` is the server that follows edits), then the
    address and the port, then ``extra``."""
    flags = config_flags(CONFIG)
    flags += ["--server.fileWatcherType", "none", "--server.address", args.address, "--server.port", str(args.port)]
    if args.headless:
        flags += ["--server.headless", "true"]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags, *extra]


def app_main(argv: Sequence[str]) -> int:
    """``guidance-lab app``: run Streamlit until it stops (Ctrl-C); its exit status."""
    argv = list(argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    parser = app_parser()
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    for needed in (APP, CONFIG):  # the app, and its settings (upload limit, no tracebacks, no usage statistics)
        if not needed.is_file():
            parser.exit(2, f"{parser.prog}: error: the app's file {needed} is missing: reinstall Guidance Lab\n")
    if importlib.util.find_spec("streamlit") is None:
        parser.exit(2, f"{parser.prog}: error: the app needs Streamlit, which this Python lacks: "
                       f"pip install -r requirements.txt (or pip install .)\n")
    try:
        return subprocess.call(streamlit_command(args, extra))
    except KeyboardInterrupt:  # Ctrl-C reached Streamlit too, which has stopped
        return 130


if __name__ == "__main__":
    sys.exit(main())
