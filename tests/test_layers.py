"""The layers of the code: Streamlit only in the app's glue (``app.py``, ``pages/``, ``ui/``), and
figures (``viz/``, but its two command lines) that never reach torch.

Imports are read from the source (every ``import`` statement, inside functions too), so a lazy
import cannot hide; the torch check follows the project's own modules transitively.
"""

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: where Streamlit may be imported: the app and its glue; the tests and benchmarks drive the app
#: (AppTest), and benchmarks/trivial_app.py is the benchmarks' own baseline app
STREAMLIT_ALLOWED = ("app.py", "pages", "ui", "tests", "benchmarks")
VIZ_COMMAND_LINES = ("viz/export.py", "viz/lecture_gifs.py")  # they sample, so they need torch


def python_files() -> list[Path]:
    """Every tracked-looking .py of the project (no virtual environment, no caches)."""
    skip = {".venv", "__pycache__", ".git", "out"}
    return sorted(p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts))


@lru_cache(maxsize=None)
def imported(path: Path) -> frozenset[str]:
    """The modules a file imports anywhere (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def module_file(name: str) -> Path | None:
    """The project file of module ``name`` (a package's ``__init__.py``), or None if it is not ours."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def reaches(path: Path, target: str, seen: set[Path] | None = None) -> list[str]:
    """A chain of project modules from ``path`` to an import of ``target`` (empty if none)."""
    seen = set() if seen is None else seen
    seen.add(path)
    names = imported(path)
    if any(n == target or n.startswith(target + ".") for n in names):
        return [str(path.relative_to(ROOT)), target]
    for name in sorted(names):
        dep = module_file(name)
        if dep is not None and dep not in seen:
            chain = reaches(dep, target, seen)
            if chain:
                return [str(path.relative_to(ROOT))] + chain
    return []


def test_the_files_are_found():
    files = {str(p.relative_to(ROOT)) for p in python_files()}
    assert {"app.py", "ui/cache.py", "viz/views/kinds.py", "models/engine/pipeline.py", "pages/sampling.py"} <= files
    assert "streamlit" in imported(ROOT / "ui" / "cache.py")  # the reader sees a real import


def test_only_the_app_and_its_glue_import_streamlit():
    bad = []
    for path in python_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] in STREAMLIT_ALLOWED:
            continue
        hits = sorted(n for n in imported(path) if n == "streamlit" or n.startswith("streamlit."))
        if hits:
            bad.append(f"{rel}: {', '.join(hits)}")
    assert not bad, "Streamlit outside app.py, pages/ and ui/:\n" + "\n".join(bad)


def test_figures_never_reach_torch():
    viz = [p for p in sorted((ROOT / "viz").rglob("*.py")) if str(p.relative_to(ROOT)) not in VIZ_COMMAND_LINES]
    assert len(viz) > 10
    chains = [" -> ".join(chain) for chain in (reaches(p, "torch") for p in viz) if chain]
    assert not chains, "viz modules that import torch:\n" + "\n".join(chains)


def test_importing_every_figure_module_loads_neither_torch_nor_streamlit():
    """The same, measured: a fresh interpreter imports every figure module (third-party imports count too)."""
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in sorted((ROOT / "viz").rglob("*.py"))
             if str(p.relative_to(ROOT)) not in VIZ_COMMAND_LINES and p.stem != "__init__"]
    code = f"import sys\nfor n in {names!r}: __import__(n)\nprint(sorted({{'torch', 'streamlit'}} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "[]"


def test_every_page_is_a_short_description_of_its_ui():
    """A page is widgets, a call or two and display: the logic lives in ui/ (issue 10: under 90 lines)."""
    lengths = {p.name: len(p.read_text().splitlines()) for p in sorted((ROOT / "pages").glob("*.py"))}
    assert len(lengths) >= 8 and all(n < 90 for n in lengths.values()), lengths
