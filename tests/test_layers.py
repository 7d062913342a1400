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
    skip = {".venv", "__pycache__", ".git", "out", "build", "dist"}  # build/, dist/: what `pip install .` leaves
    return sorted(p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts))


def _module_level(tree: ast.Module):
    """The statements that run when a module is imported: its body, and the bodies of its top-level
    ``if``/``try`` blocks and classes (not functions)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.ClassDef, ast.With)):
            todo += [n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)]


@lru_cache(maxsize=None)
def imported(path: Path, anywhere: bool = True) -> frozenset[str]:
    """The modules a file imports anywhere (``from a.b import c`` gives ``a.b`` and ``a.b.c``), or
    (``anywhere=False``) only those it imports when it is itself imported."""
    names = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in (ast.walk(tree) if anywhere else _module_level(tree)):
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
    # a figure module's own imports count wherever they are; of the modules it uses, those that load
    # when they are imported (the guidance cards compute with torch inside their methods only)
    names = imported(path, anywhere=path.relative_to(ROOT).parts[0] == "viz")
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
    assert {"app.py", "ui/view_cache.py", "viz/views/kinds.py", "models/engine/pipeline.py", "pages/sampling.py"} <= files
    assert "streamlit" in imported(ROOT / "ui" / "view_cache.py")  # the reader sees a real import


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


def test_no_folder_holds_more_than_15_modules():
    folders: dict[str, int] = {}
    for path in python_files():
        rel = path.relative_to(ROOT)
        folders[str(rel.parent)] = folders.get(str(rel.parent), 0) + 1
    assert folders["viz/methods"] >= 10 and folders["models/engine"] >= 10  # the count is really read
    crowded = {folder: n for folder, n in folders.items() if n > 15}
    assert not crowded, crowded


def test_reading_the_guidance_cards_loads_no_torch():
    """Every method's card (models.guidance) is read by the figures and the command lines' help."""
    code = "import sys, models.guidance, viz.methods\nviz.methods.views()\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
