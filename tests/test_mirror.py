"""The tests mirror the modules: every module of models/, viz/, ui/ with at least one function or class
has ``tests/<its folder>/test_<its name>.py`` (a package's ``__init__.py``: ``test_<package>.py`` in
its own test folder), and every page ``pages/<page>.py`` has ``tests/app/test_<page>.py`` (a page is a
script: it has behaviour without defining anything). The other way round, every test module in those
folders is named after a module of its folder (``test_<module>.py``, or ``test_<module>_<aspect>.py``
where a module's tests come in several files), but for the few named for what they check across modules.
Every test folder is a package (the tests import each other as ``tests.models.…``).

A module without its own test module is listed in ``ALLOWED`` with the reason, where its behaviour is
tested elsewhere; the list is kept short and current (an entry that is no longer needed fails too).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

MIRRORED = ("models", "viz", "ui")
#: modules with behaviour but no test module of their own, and where they are tested
ALLOWED = {
    "models/analysis/tilted_density_records.py": "frozen dataclasses without methods (Blob, TiltPanel, TiltView), "
                                                 "filled by tilt_view and checked in tests/models/analysis/"
                                                 "test_tilted_density.py",
}
#: test modules named for what they check across modules, not after one module
ACROSS = {
    "tests/app/test_app.py": "app.py and the tests across its pages (every page runs, settings follow the teacher)",
    "tests/models/test_layout.py": "the shape of models/ as a whole (no import cycle, no matplotlib or Streamlit)",
    "tests/models/guidance/test_parity.py": "every method with a diffusers guider against it over whole runs",
    "tests/app/test_flow_path.py": "every page on both noising paths, every sampler and model a path offers (issue 19)",
    "tests/models/guidance/test_cards.py": "a method declared once, in a test, reaches the command lines and pages",
    "tests/viz/views/test_camera_steadiness.py": "every view kind's camera and exact planes over hidden settings "
                                                 "(issue 17.2: draw/camera, draw/projection, every view)",
    "tests/viz/views/test_label_room.py": "labels, images and zoom frames of every construction view at the extremes "
                                          "(issue 17.3: draw/placement, draw/magnifier, every view)",
}


def _has_behaviour(path: Path) -> bool:
    """Whether the module defines at least one function or class at its top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def _modules() -> list[Path]:
    """Every module of the mirrored packages and every page, relative to the repository root."""
    found = [p for top in MIRRORED for p in (ROOT / top).rglob("*.py")] + list((ROOT / "pages").glob("*.py"))
    return sorted(p.relative_to(ROOT) for p in found if "__pycache__" not in p.parts)


def mirror_of(module: Path) -> Path:
    """Where the tests of ``module`` live."""
    if module.parts[0] == "pages":
        return Path("tests", "app", f"test_{module.stem}.py")
    if module.name == "__init__.py":
        return Path("tests", module.parent, f"test_{module.parent.name}.py")
    return Path("tests", module.parent, f"test_{module.stem}.py")


def test_every_module_with_behaviour_has_its_test_module():
    missing = [f"{m} -> {mirror_of(m)}" for m in _modules()
               if (m.parts[0] == "pages" or _has_behaviour(ROOT / m)) and str(m) not in ALLOWED
               and not (ROOT / mirror_of(m)).exists()]
    assert not missing, "modules without their test module (write one, or add the module to ALLOWED with " \
                        "where it is tested):\n" + "\n".join(missing)


def test_the_allowlist_is_current():
    for module, reason in ALLOWED.items():
        path = ROOT / module
        assert path.exists() and _has_behaviour(path), f"{module}: gone or without behaviour; drop it from ALLOWED"
        assert not (ROOT / mirror_of(Path(module))).exists(), f"{module} has its test module now; drop it"
        assert reason


def _mirrors_a_module(test: Path, modules: set[Path]) -> bool:
    """Whether ``test`` is ``test_<module>.py`` or ``test_<module>_<aspect>.py`` of a module of its folder."""
    if test in modules:
        return True
    stem = test.stem.removeprefix("test_")
    return any(m.parent == test.parent and stem.startswith(m.stem.removeprefix("test_") + "_") for m in modules)


def test_every_test_module_is_named_after_a_module():
    modules = {mirror_of(m) for m in _modules()}
    folders = [ROOT / "tests" / top for top in (*MIRRORED, "app")]
    tests = sorted(p.relative_to(ROOT) for f in folders for p in f.rglob("test_*.py") if "__pycache__" not in p.parts)
    strays = [str(t) for t in tests if not _mirrors_a_module(t, modules) and str(t) not in ACROSS]
    assert not strays, "test modules named after no module of their folder (name them test_<module>.py or " \
                       "test_<module>_<aspect>.py, or add them to ACROSS with what they check):\n" + "\n".join(strays)
    assert all((ROOT / t).exists() for t in ACROSS), "ACROSS names a test module that is gone"


def test_every_test_folder_is_a_package():
    folders = {p.parent for p in (ROOT / "tests").rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert not missing, f"test folders without __init__.py: {missing}"
