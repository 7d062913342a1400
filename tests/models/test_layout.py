"""The shape of models/: no import cycle between its modules, each importable on its own, and no
matplotlib or Streamlit anywhere in it (a notebook gets the numbers without drawing anything)."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.robustness.conftest import ROOT

MODELS = ROOT / "models"
MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for p in MODELS.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """The models.* modules ``path`` imports anywhere (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("models.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "models":
                found |= {f"models.{a.name}" for a in node.names}
            elif node.module.startswith("models."):
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return found & set(MODULES)


def test_no_import_cycle_in_models():
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in MODELS.rglob("*.py") if "__pycache__" not in p.parts}
    graph = {m: _imports(files[m]) - {m} for m in MODULES}
    assert graph["models.guidance"] >= {"models.guidance.zoo", "models.guidance.base"}  # the graph is really read
    state: dict[str, str] = {}

    def visit(m: str, path: tuple[str, ...]) -> None:
        state[m] = "open"
        for n in sorted(graph[m]):
            assert state.get(n) != "open", f"import cycle: {' -> '.join(path + (m, n))}"
            if n not in state:
                visit(n, path + (m,))
        state[m] = "done"

    for m in MODULES:
        if m not in state:
            visit(m, ())


def test_each_module_imports_on_its_own_without_matplotlib_or_streamlit():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    for loaded in [k for k in sys.modules if k == 'models' or k.startswith('models.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('matplotlib', 'streamlit'))\n"
        "print('drawing modules:', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "drawing modules: []" in done.stdout
    assert len(MODULES) >= 20
