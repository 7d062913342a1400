"""Shared helpers of the robustness suite: one-line CLI errors, unwritable folders, broken weights."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def call_main(main, argv: list[str], capsys) -> tuple[int, str, str]:
    """Run a command line's ``main`` in this process: (exit status, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, prog: str, mentions: str | None = None) -> str:
    """Exit status 2, nothing on stdout, one line ``prog: error: ...`` on stderr, no traceback;
    ``mentions`` (an option, e.g. ``--apg-r``) is named in it (dashes and underscores read as spaces)."""
    lines = err.strip().splitlines()
    assert code == 2, f"exit status {code}, stderr: {err!r}"
    assert "Traceback" not in err and out == "", (out, err)
    assert len(lines) == 1, f"{len(lines)} lines on stderr: {err!r}"
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    if mentions:
        words = mentions.lstrip("-").replace("-", " ")
        assert words in lines[0].replace("-", " ").replace("_", " ").lower(), f"{mentions} not named in {lines[0]!r}"
    return lines[0]


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder no one may create files in: mode 555, and for root (whom modes do not stop) the
    immutable attribute; skipped where neither holds."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0 \
            if shutil.which("chattr") else False
        if not immutable:
            folder.chmod(0o755)
            pytest.skip("running as root without chattr: no folder is read-only to root")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.fixture
def assets_copy(tmp_path) -> Path:
    """A private copy of the shipped weights folder, to break one file at a time."""
    folder = tmp_path / "assets"
    folder.mkdir()
    for f in (ROOT / "assets").iterdir():
        if f.suffix in (".pt", ".json"):
            shutil.copy(f, folder / f.name)
    return folder


def pytest_configure(config):
    config.addinivalue_line("markers", "load: many concurrent sessions against one server (about a minute; "
                                       "part of `make test`, deselect with -m 'not load')")
