"""Broken weights: every way a weights or config file can be wrong makes the command line fail in one
line naming the file and the rebuild command, and makes the app say the same and fall back to the
exact model. And weights are only ever unpickled with ``weights_only=True``.
"""

from __future__ import annotations

import ast
import io
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import models.analysis.evaluate
import viz.export
from models.engine.nets import NETWORKS
from models.engine.loading import ASSETS_ENV, WeightsError, load_bundle
from tests.robustness.conftest import ROOT, assert_one_line_error, call_main
from ui.run_cache import usable_model

HINT = "python -m models.train"
PWNED = Path("/tmp/guidance-lab-weights-test-pwned")


class _Evil:
    """A pickle that would run a shell command if it were ever unpickled without weights_only."""

    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


def _config(folder: Path, role: str) -> dict:
    return json.loads((folder / f"digits_{role}.json").read_text())


def _state(role: str, **changes) -> dict:
    """A freshly initialised state_dict of ``role`` for digits (config changed by ``changes``)."""
    config = {**_config(ROOT / "assets", role), **changes}
    return NETWORKS[role](config).state_dict()


def _save(obj, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    path.write_bytes(buf.getvalue())


def _nan_state(role: str, value: float) -> dict:
    state = torch.load(ROOT / "assets" / f"digits_{role}.pt", weights_only=True)
    first = next(iter(state))
    state[first] = state[first].clone()
    state[first].view(-1)[0] = value
    return state


# How to break one file: (file suffix, what to do with the path). Each names what goes wrong.
BREAKS = {
    "missing weights": (".pt", lambda p, role: p.unlink()),
    "missing config": (".json", lambda p, role: p.unlink()),
    "empty weights": (".pt", lambda p, role: p.write_bytes(b"")),
    "truncated weights": (".pt", lambda p, role: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])),
    "truncated by one byte": (".pt", lambda p, role: p.write_bytes(p.read_bytes()[:-1])),
    "garbage weights": (".pt", lambda p, role: p.write_bytes(os.urandom(4096))),
    "text as weights": (".pt", lambda p, role: p.write_text("not a torch file")),
    "weights are a folder": (".pt", lambda p, role: (p.unlink(), p.mkdir())),
    "wrong shapes (other hidden size)": (".pt", lambda p, role: _save(_state(role, hidden=32), p)),
    "wrong shapes (other depth)": (".pt", lambda p, role: _save(_state(role, depth=1), p)),
    "a missing tensor": (".pt", lambda p, role: _save(dict(list(_state(role).items())[1:]), p)),
    "an extra tensor": (".pt", lambda p, role: _save({**_state(role), "extra.weight": torch.zeros(3)}, p)),
    "empty state_dict": (".pt", lambda p, role: _save({}, p)),
    "a pickled module": (".pt", lambda p, role: _save(NETWORKS[role](_config(ROOT / "assets", role)), p)),
    "a training checkpoint": (".pt", lambda p, role: _save({"model": _state(role), "step": 3}, p)),
    "a bare tensor": (".pt", lambda p, role: _save(torch.zeros(3), p)),
    "a malicious pickle": (".pt", lambda p, role: p.write_bytes(pickle.dumps(_Evil()))),
    "NaN weights": (".pt", lambda p, role: _save(_nan_state(role, float("nan")), p)),
    "inf weights": (".pt", lambda p, role: _save(_nan_state(role, float("inf")), p)),
    "corrupt JSON": (".json", lambda p, role: p.write_text(p.read_text()[:40])),
    "JSON not UTF-8": (".json", lambda p, role: p.write_bytes(b"\xff\xfe{\x00")),
    "JSON is a list": (".json", lambda p, role: p.write_text("[1, 2, 3]")),
    "JSON without hidden": (".json", lambda p, role: p.write_text(json.dumps({k: v for k, v in _config(p.parent, role).items()
                                                                               if k != "hidden"}))),
    "JSON with a huge network": (".json", lambda p, role: p.write_text(json.dumps({**_config(p.parent, role), "hidden": 10**9}))),
    "JSON with negative depth": (".json", lambda p, role: p.write_text(json.dumps({**_config(p.parent, role), "depth": -2}))),
    "JSON with NaN size": (".json", lambda p, role: p.write_text(p.read_text().replace('"hidden": ', '"hidden": NaN, "x": '))),
    "JSON of another data set": (".json", lambda p, role: p.write_text(json.dumps({**_config(p.parent, role), "dim": 2}))),
    "JSON with an unknown schedule": (".json", lambda p, role: p.write_text(json.dumps({**_config(p.parent, role),
                                                                                        "schedule": "bogus"}))),
}
# Which resource (models.guidance.base.RESOURCES) loads which network (the denoiser is loaded by all).
ROLES = {"denoiser": "classifier", "noisy_classifier": "classifier", "clean_classifier": "clean_classifier",
         "weak_denoiser": "weak"}


def _break(folder: Path, case: str, role: str = "denoiser") -> Path:
    suffix, how = BREAKS[case]
    path = folder / f"digits_{role}{suffix}"
    how(path, role)
    return path


@pytest.fixture(autouse=True)
def _no_side_effects():
    PWNED.unlink(missing_ok=True)
    yield
    assert not PWNED.exists(), "a weights file ran code while being loaded"


@pytest.mark.parametrize("case", BREAKS)
def test_registry_names_the_file_and_the_fix(assets_copy, case):
    broken = _break(assets_copy, case)
    with pytest.raises(WeightsError) as e:
        load_bundle("digits", "neural", "cpu", assets=assets_copy)
    message = str(e.value)
    assert broken.name in message and HINT in message and "\n" not in message, message


@pytest.mark.parametrize("role", [r for r in ROLES if r != "denoiser"])
@pytest.mark.parametrize("case", ["truncated weights", "wrong shapes (other hidden size)", "a pickled module",
                                  "NaN weights", "corrupt JSON"])
def test_other_networks_name_their_file(assets_copy, role, case):
    broken = _break(assets_copy, case, role)
    with pytest.raises(WeightsError, match=broken.name):
        load_bundle("digits", "neural", "cpu", needs=(ROLES[role],), assets=assets_copy)
    load_bundle("digits", "neural", "cpu", needs=(), assets=assets_copy)  # not needed: not loaded


@pytest.mark.parametrize("case", BREAKS)
def test_export_fails_in_one_line_naming_the_file(assets_copy, tmp_path, capsys, monkeypatch, case):
    broken = _break(assets_copy, case)
    monkeypatch.setenv(ASSETS_ENV, str(assets_copy))
    code, out, err = call_main(viz.export.main, ["--model", "neural", "--steps", "2", "--batch", "1",
                                                 "--out", str(tmp_path / "x.gif")], capsys)
    line = assert_one_line_error(code, out, err, "python -m viz.export")
    assert broken.name in line and HINT in line
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("case", ["missing weights", "a pickled module", "wrong shapes (other hidden size)", "corrupt JSON"])
def test_evaluate_fails_in_one_line_naming_the_file(assets_copy, capsys, monkeypatch, case):
    broken = _break(assets_copy, case, "noisy_classifier")
    monkeypatch.setenv(ASSETS_ENV, str(assets_copy))
    code, out, err = call_main(models.analysis.evaluate.main, ["--model", "neural", "--guidance", "classifier", "--steps", "2",
                                                      "--samples", "4"], capsys)
    line = assert_one_line_error(code, out, err, "python -m models.evaluate")
    assert broken.name in line and HINT in line


# ------------------------------------------------------------------------- the app


@pytest.mark.parametrize("case", BREAKS)
def test_app_cache_falls_back_to_the_exact_model(assets_copy, monkeypatch, case):
    """What the pages call (ui.run_cache.usable_model): the exact model and a message naming the file."""
    broken = _break(assets_copy, case)
    monkeypatch.setenv(ASSETS_ENV, str(assets_copy))
    model, warning = usable_model("digits", "neural", "cfg")
    assert model == "exact"
    assert broken.name in warning and HINT in warning and "exact model" in warning


PAGE_CASES = [  # (page, radio value of the classifier page or None, broken role, case)
    ("pages/classifier_free_guidance.py", None, "denoiser", "a pickled module"),
    ("pages/classifier_free_guidance.py", None, "denoiser", "wrong shapes (other hidden size)"),
    ("pages/classifier_free_guidance.py", None, "denoiser", "corrupt JSON"),
    ("pages/sampling.py", None, "denoiser", "truncated weights"),
    ("pages/sampling.py", None, "denoiser", "NaN weights"),
    ("pages/classifier_guidance.py", None, "noisy_classifier", "missing weights"),
]


def _open(page: str, kind: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    at.slider(key="steps").set_value(4).run()
    if kind:
        at.radio(key="cg_kind").set_value(kind).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page, kind, role, case", PAGE_CASES)
def test_page_says_it_shows_the_exact_model_and_the_log_which_file(assets_copy, monkeypatch, caplog, page, kind, role,
                                                                    case):
    broken = _break(assets_copy, case, role)
    monkeypatch.setenv(ASSETS_ENV, str(assets_copy))
    with caplog.at_level("WARNING", logger="guidance_lab"):
        at = _open(page, kind)
    assert at.selectbox(key="model").value == "neural"  # the student's choice is kept...
    warnings = " ".join(w.value for w in at.warning)
    assert "exact model" in warnings and "server's log" in warnings, warnings  # ...and explained in plain words,
    assert broken.name not in warnings and "python -m" not in warnings  # without a server path or a command
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert broken.name in logged and HINT in logged, logged  # those go to the server's log
    shown = at.selectbox(key="model")
    assert ("unavailable, showing exact" in shown.format_func("neural")) == (role == "denoiser")  # the sidebar says so
    assert len(at.get("image")) >= 2 and not at.error


def test_universal_guidance_needs_its_file_even_for_the_exact_model(assets_copy, monkeypatch, caplog):
    """The clean classifier has no exact stand-in: the page says which file and stops, nothing crashes."""
    broken = _break(assets_copy, "a malicious pickle", "clean_classifier")
    monkeypatch.setenv(ASSETS_ENV, str(assets_copy))
    with caplog.at_level("ERROR", logger="guidance_lab"):
        at = _open("pages/classifier_guidance.py", "universal")
    errors = " ".join(e.value for e in at.error)
    assert "server's log" in errors and broken.name not in errors, errors
    assert broken.name in " ".join(r.getMessage() for r in caplog.records)
    at.radio(key="cg_kind").set_value("classifier").run()  # the other kind still works
    assert not at.exception and not at.error and len(at.get("image")) >= 2


# ------------------------------------------------------------------------- only weights_only=True


def _python_files() -> list[Path]:
    skip = {".git", ".venv", "node_modules", "__pycache__"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts) and not p.name.startswith(".")]


def _dotted(node: ast.AST) -> str:
    return f"{_dotted(node.value)}.{node.attr}" if isinstance(node, ast.Attribute) else getattr(node, "id", "?")


def test_every_torch_load_passes_weights_only_true():
    calls, bad = 0, []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "torch" and any(a.name == "load" for a in node.names):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: from torch import load (call torch.load)")
            if isinstance(node, ast.Call) and _dotted(node.func) == "torch.load":
                calls += 1
                flag = {k.arg: k.value for k in node.keywords}.get("weights_only")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: torch.load without weights_only=True")
    assert calls >= 1 and not bad, "\n".join(bad)


def test_no_other_unpickling_in_the_app_and_commands():
    bad = []
    for path in _python_files():
        if path.relative_to(ROOT).parts[0] not in ("models", "viz", "pages", "app.py", "tools"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                flags = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                if name in ("pickle.load", "pickle.loads", "joblib.load") or flags.get("allow_pickle") is True:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not bad, "\n".join(bad)
