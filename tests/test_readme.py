"""README.md's "Use it from Python" example runs as printed (so it cannot rot), with the repository
root on the import path as the README says, and does what its comments claim: the trajectory's
shapes, a PNG of the CFG step, an animated GIF, and one line of numbers per γ."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from viz.gif import gif_frame_count

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Use it from Python"


def python_example() -> str:
    """The first ```python block under the README's "Use it from Python" heading."""
    text = (ROOT / "README.md").read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, f"no python code block under {SECTION!r}"
    return blocks[0]


def test_the_readme_example_runs_as_printed(tmp_path):
    code = python_example()
    script = tmp_path / "example.py"
    script.write_text(code)
    work = tmp_path / "work"  # the reader's folder: the example leaves nothing there but out/
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "(51, 8, 64) (50, 8, 64)"
    gammas = [re.match(r"γ = (\S+): accuracy (\S+), diversity (\S+)$", line) for line in lines[1:]]
    assert all(gammas) and [m.group(1) for m in gammas] == ["0", "1", "3"], lines
    accuracy = [float(m.group(2)) for m in gammas]
    assert accuracy[0] < 0.5 < accuracy[1] <= accuracy[2]  # unconditional vs guided toward each class
    assert [p.name for p in work.iterdir()] == ["out"]
    with Image.open(work / "out" / "cfg_step.png") as im:
        assert im.size[0] >= 300 and im.size[1] >= 200
    assert gif_frame_count((work / "out" / "cfg.gif").read_bytes()) > 10


def test_the_readme_command_lines_write_under_out():
    """The export examples name files under out/ (ignored by git), after a `mkdir -p out`."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Command lines", 1)[1].split("\n## ", 1)[0]
    outs = re.findall(r"--(?:out|npz) (\S+)", section)
    assert outs and all(o.startswith("out/") for o in outs), outs
    assert "mkdir -p out" in section
    assert "/out/" in (ROOT / ".gitignore").read_text().split()


def test_the_readme_says_where_commands_run():
    text = (ROOT / "README.md").read_text()
    assert "runs from the repository root" in text and "No module named 'viz'" in text
