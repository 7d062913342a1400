"""What sessions share, and how: models once per process, read-only (``st.cache_resource``); figures
are plain ``matplotlib.figure.Figure`` objects, never pyplot's global registry, and none outlives its
use except the cached views that sessions share on purpose.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys

import torch
from streamlit.testing.v1 import AppTest

from models.engine.loading import assets_dir
from tests.robustness.conftest import ROOT
from ui.run_cache import cached_bundle

APP_CODE = ["app.py", "pages", "viz", "models"]


def _files() -> list:
    out = []
    for part in APP_CODE:
        path = ROOT / part
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return out


def test_no_pyplot_anywhere_in_the_app_and_the_commands():
    """pyplot keeps every figure in a global registry until closed: shared by all sessions of a
    server, and a leak for every figure not closed. The app makes Figure objects instead."""
    bad = []
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import) and any(a.name.startswith("matplotlib.pyplot") or a.name == "pylab"
                                                    for a in node.names):
                bad.append(f"{where}: import matplotlib.pyplot")
            elif isinstance(node, ast.ImportFrom) and node.module and (
                    node.module.startswith("matplotlib.pyplot") or node.module == "pylab"
                    or (node.module == "matplotlib" and any(a.name in ("pyplot", "pylab") for a in node.names))):
                bad.append(f"{where}: from {node.module} import ...")
            elif isinstance(node, ast.Attribute) and node.attr == "pyplot" and getattr(node.value, "id", "") == "st":
                bad.append(f"{where}: st.pyplot (figures go to the page as cached PNGs)")
    assert not bad, "\n".join(bad)


_PAGES_IN_A_FRESH_PROCESS = r"""
import gc, json, sys
from matplotlib.figure import Figure
from streamlit.testing.v1 import AppTest
import ui.run_cache
import ui.view_cache

pages = ["pages/sampling.py", "pages/classifier_guidance.py", "pages/classifier_free_guidance.py",
         "pages/high_dimensions.py"]
at = AppTest.from_file("app.py", default_timeout=300)
at.run()
at.selectbox(key="model").set_value("exact")
at.slider(key="steps").set_value(4)
at.run()
errors = [str(e.value) for e in at.exception]
for page in pages[1:]:
    at.switch_page(page).run()
    errors += [str(e.value) for e in at.exception]
    if page != pages[-1]:
        at.slider(key="gamma").set_value(6.0).run()
        at.toggle(key="play").set_value(True).run()  # the GIFs too
        at.toggle(key="play").set_value(False).run()
        errors += [str(e.value) for e in at.exception]
gc.collect()
alive_with_views = sum(isinstance(o, Figure) for o in gc.get_objects())
ui.view_cache._shared_view.clear()  # the views sessions share on purpose (each holds its figure)
gc.collect()
alive = sum(isinstance(o, Figure) for o in gc.get_objects())
print(json.dumps({"errors": errors, "pyplot": "matplotlib.pyplot" in sys.modules,
                  "figures_with_views": alive_with_views, "figures": alive}))
"""


def test_pages_never_load_pyplot_and_drop_every_figure():
    res = subprocess.run([sys.executable, "-c", _PAGES_IN_A_FRESH_PROCESS], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    facts = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"\nsharing: {facts}")
    assert facts["errors"] == []
    assert facts["pyplot"] is False
    assert facts["figures_with_views"] >= 1 and facts["figures"] == 0


def _fingerprint(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def test_models_are_loaded_once_and_never_changed_by_the_pages():
    folder = str(assets_dir())
    bundle = cached_bundle("digits", "neural", ("classifier",), folder)
    nets = {"denoiser": bundle.denoiser, "classifier": bundle.log_prob}
    before = {k: _fingerprint(n) for k, n in nets.items()}
    for net in nets.values():
        assert not net.training and not any(p.requires_grad for p in net.parameters())

    for _ in range(2):  # two sessions
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("pages/classifier_guidance.py").run()
        at.slider(key="steps").set_value(5).run()
        at.slider(key="gamma").set_value(8.0).run()
        assert not at.exception

    assert cached_bundle("digits", "neural", ("classifier",), folder) is bundle  # one copy, shared
    assert {k: _fingerprint(n) for k, n in nets.items()} == before  # read-only
