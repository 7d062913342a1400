"""ui.preload: the heavy imports done with the garbage collector paused, then frozen (app.py's first import)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_preload_imports_the_app_then_freezes_and_reenables_the_collector():
    code = ("import gc, sys\nimport ui.preload\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 100_000, all(m in sys.modules for m in "
            "('torch', 'matplotlib.figure', 'ui.run_cache', 'ui.view_cache', 'ui.views', 'viz.views.kinds')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True", "True"]


def test_warm_trade_off_fits_the_judge_and_the_data_scores_of_every_data_set():
    code = ("import sys, ui.preload\nfrom models.analysis.metrics import reference_classifier\n"
            "from models.analysis.tradeoff import data_reference\nfrom models.engine.data import DATA_NAMES\n"
            "before = 'sklearn.svm' in sys.modules\nui.preload.warm_trade_off()\n"
            "print(before, reference_classifier.cache_info().currsize == len(DATA_NAMES), "
            "data_reference.cache_info().currsize == len(DATA_NAMES), 'sklearn.svm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True", "True", "True"]  # scikit-learn only when asked for
