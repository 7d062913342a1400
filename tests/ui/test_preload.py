"""ui.preload: the heavy imports done with the garbage collector paused, then frozen (app.py's first import)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_preload_imports_the_app_then_freezes_and_reenables_the_collector():
    code = ("import gc, sys\nimport ui.preload\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 100_000, all(m in sys.modules for m in "
            "('torch', 'matplotlib.figure', 'ui.cache', 'ui.views', 'viz.diagrams')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True", "True"]
