"""Guidance Lab as a package (issue 18): pyproject.toml, the ``guidance-lab`` command, help that needs
neither torch nor matplotlib, the Makefile's safe default, the license, the citation and the README's
prerequisites.

Nothing here needs the network. Installing into fresh virtual environments is too slow for the suite;
what that checks is read here from pyproject.toml, from a wheel built offline with this environment's
setuptools, and from a process that cannot import anything but numpy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import guidance_lab
import guidance_lab.cli as cli

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COMMANDS = {"export": "viz.export", "gifs": "viz.lecture_gifs", "evaluate": "models.analysis.evaluate",
            "train": "models.train"}


def _requirements(name: str) -> list[str]:
    return [line.strip() for line in (ROOT / name).read_text().splitlines() if line.strip() and not line.startswith("#")]


# ------------------------------------------------------------------------------------ pyproject.toml

def test_the_project_names_its_command_python_and_license():
    project = PYPROJECT["project"]
    assert project["name"] == "guidance-lab"
    assert project["scripts"] == {"guidance-lab": "guidance_lab.cli:main"}
    assert project["requires-python"] == ">=3.11"
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert set(project["dynamic"]) == {"version", "dependencies", "optional-dependencies"}
    assert "version" not in project  # one place: guidance_lab/__init__.py


def test_the_version_lives_in_one_place():
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "guidance_lab.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", guidance_lab.__version__)
    files = [p for p in ("README.md", "CITATION.cff", "Makefile", "pyproject.toml")
             if guidance_lab.__version__ in (ROOT / p).read_text()]
    assert files == [], f"the version is repeated in {files}"


def test_the_pins_come_from_the_requirements_files():
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]
    assert dynamic["dependencies"] == {"file": ["requirements.txt"]}
    assert dynamic["optional-dependencies"] == {"notebook": {"file": ["requirements-notebook.txt"]}}
    for name in ("requirements.txt", "requirements-notebook.txt"):  # read by setuptools: no -r, every line a pin
        lines = _requirements(name)
        assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.+]*", line) for line in lines), lines
    pins: dict[str, list[str]] = {}
    for name in ("requirements.txt", "requirements-notebook.txt", "requirements-dev.txt"):
        for line in _requirements(name):
            if "==" in line:
                pins.setdefault(line.split("==")[0].lower().replace("_", "-"), []).append(name)
    assert {k: v for k, v in pins.items() if len(v) > 1} == {}, "a package pinned in two files"
    assert "-r requirements-notebook.txt" in _requirements("requirements-dev.txt")


def test_the_packages_found_are_every_code_folder_the_app_needs():
    setuptools = PYPROJECT["tool"]["setuptools"]
    include = setuptools["packages"]["find"]["include"]
    assert setuptools["packages"]["find"]["namespaces"] is True  # pages/ and assets/ have no __init__.py
    folders = {".".join(p.parent.relative_to(ROOT).parts) for top in ("models", "viz", "ui", "pages", "guidance_lab")
               for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}
    folders.add("assets")
    missing = sorted(f for f in folders if not any(re.fullmatch(pat.replace(".", r"\.").replace("*", ".*"), f)
                                                 for pat in include))
    assert not missing, missing
    assert setuptools["py-modules"] == ["app"] and (ROOT / "app.py").is_file()
    data = setuptools["package-data"]
    assert set(data["assets"]) == {"*.pt", "*.json"}
    assert {p.suffix for p in (ROOT / "assets").iterdir() if p.is_file()} <= {".pt", ".json"}
    assert data["guidance_lab"] == ["../.streamlit/config.toml"] and (ROOT / ".streamlit" / "config.toml").is_file()


def test_pip_and_setuptools_leave_nothing_git_tracks():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"/build/", "/dist/", "*.egg-info/"} <= set(ignored)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """A wheel built offline from a copy of the project's files (this environment's setuptools, no
    build isolation), so the checkout gets no build/ or egg-info."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} is older than pyproject.toml asks for")
    src = tmp_path_factory.mktemp("project")
    for name in ("pyproject.toml", "README.md", "LICENSE", "app.py", "requirements.txt", "requirements-notebook.txt"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "readme", "*.pyc")
    for name in ("models", "viz", "ui", "pages", "assets", "guidance_lab", ".streamlit", "tests"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    dist = tmp_path_factory.mktemp("dist")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    (path,) = dist.glob("guidance_lab-*.whl")
    with zipfile.ZipFile(path) as z:
        yield z


def test_the_wheel_mirrors_the_checkout(wheel):
    names = set(wheel.namelist())
    version = guidance_lab.__version__
    expected = {"app.py", ".streamlit/config.toml", "pages/sampling.py", "assets/digits_denoiser.pt",
                "assets/gmm2d_denoiser.json", "guidance_lab/cli.py", "guidance_lab/__init__.py",
                "models/engine/names.py", "models/guidance/zoo/apg.py", "viz/export.py", "ui/sidebar.py",
                "ui/column_width/index.html", "models/flow/path.py", "assets/gmm2d_flow_denoiser.pt",
                f"guidance_lab-{version}.dist-info/LICENSE" if f"guidance_lab-{version}.dist-info/LICENSE" in names
                else f"guidance_lab-{version}.dist-info/licenses/LICENSE"}
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "tools/", "notebooks/", "assets/readme"))]
    entry = wheel.read(f"guidance_lab-{version}.dist-info/entry_points.txt").decode()
    assert "guidance-lab = guidance_lab.cli:main" in entry
    meta = wheel.read(f"guidance_lab-{version}.dist-info/METADATA").decode()
    assert f"Version: {version}" in meta and "Requires-Python: >=3.11" in meta
    pins = [line.removeprefix("Requires-Dist: ") for line in meta.splitlines()
            if line.startswith("Requires-Dist: ") and "extra ==" not in line]
    assert pins == _requirements("requirements.txt")


# ------------------------------------------------------------------------------------ guidance-lab

@pytest.mark.parametrize("command, module", COMMANDS.items())
def test_each_command_runs_its_command_line_under_its_new_name(monkeypatch, command, module):
    import importlib

    target = importlib.import_module(module)
    seen = []
    monkeypatch.setattr(target, "main", lambda argv: seen.append((list(argv), target.PROG)) or 3)
    before = target.PROG
    assert cli.main([command, "--seed", "1", "x"]) == 3
    assert seen == [(["--seed", "1", "x"], f"guidance-lab {command}")]
    assert target.PROG == before  # its python -m name is back


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_says_its_new_name_in_its_errors(capsys, command):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--no-such-option"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith(f"guidance-lab {command}: error: ") and err.count("\n") == 1, err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"guidance-lab {guidance_lab.__version__}"


@pytest.mark.parametrize("argv", [[], ["bogus"], ["--bogus"], ["Export"]])
def test_no_or_an_unknown_command_is_one_line(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("guidance-lab: error: ") and err.count("\n") == 1, err


def test_the_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in ("app", *COMMANDS)), out


def test_a_missing_requirement_is_one_line(monkeypatch, capsys):
    import viz.export

    def main(argv):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(viz.export, "main", main)
    assert cli.main(["export", "--help"]) == 2
    assert "needs torch" in capsys.readouterr().err


@pytest.fixture(scope="module")
def numpy_only(tmp_path_factory) -> dict:
    """The environment of a Python that finds the lab and numpy, and nothing else outside the standard
    library (``python -S``: no site-packages; numpy linked into a folder of its own): what a virtual
    environment with ``pip install numpy`` and ``pip install --no-deps -e .`` holds."""
    import numpy

    folder = tmp_path_factory.mktemp("numpy-only")
    site = Path(numpy.__file__).resolve().parents[1]
    for name in ("numpy", "numpy.libs"):
        if (site / name).exists():
            (folder / name).symlink_to(site / name)
    return {"PYTHONPATH": f"{ROOT}:{folder}", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


@pytest.mark.parametrize("argv, code", [(["--help"], 0), (["--version"], 0), (["export", "--help"], 0),
                                        (["gifs", "--help"], 0), (["evaluate", "--help"], 0), (["train", "--help"], 0),
                                        (["app", "--help"], 0), (["export", "--steps", "0"], 2),
                                        (["export", "--batch", "4096", "--steps", "1000", "--out", "x.gif"], 2),
                                        (["export", "--out", "x.gif"], 2), (["app"], 2)])
def test_help_and_errors_need_nothing_but_numpy(tmp_path, numpy_only, argv, code):
    """``--help``, ``--version`` and a mistake answer with only numpy there; a real run says in one line
    what it lacks (torch, Streamlit)."""
    res = subprocess.run([sys.executable, "-S", "-m", "guidance_lab", *argv], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=numpy_only)
    assert res.returncode == code, res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    if code == 2:
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    if argv == ["export", "--help"]:
        assert res.stdout.startswith("usage: guidance-lab export")
    if argv[:1] == ["app"] and code == 2:
        assert "needs Streamlit" in res.stderr


def test_the_numpy_only_python_really_lacks_the_rest(numpy_only):
    probe = "import importlib.util as u; print([m for m in ('numpy', 'torch', 'matplotlib', 'streamlit', 'tqdm') if u.find_spec(m)])"
    res = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, env=numpy_only)
    assert res.stdout.strip() == "['numpy']", res.stdout + res.stderr


def test_help_loads_no_torch_measured_by_importtime():
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "guidance_lab", "export", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "import time:" in res.stderr
    assert not [line for line in res.stderr.splitlines() if line.rstrip().endswith(("| torch", "| matplotlib"))]


# ------------------------------------------------------------------------------------ guidance-lab app

def test_the_app_listens_on_this_computer_by_default():
    args = cli.app_parser().parse_args([])
    command = cli.streamlit_command(args)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    flags = dict(zip(command[5::2], command[6::2]))
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8501"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def test_the_app_takes_the_checkouts_settings_and_its_options():
    args = cli.app_parser().parse_args(["--port", "9123", "--address", "0.0.0.0", "--headless"])
    command = cli.streamlit_command(args, ["--theme.base", "dark"])
    text = " ".join(command)
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    settings = [f"--server.maxUploadSize {config['server']['maxUploadSize']}", "--client.showErrorDetails none",
                "--browser.gatherUsageStats false", "--runner.postScriptGC false", "--server.folderWatchBlacklist .venv"]
    for flag in settings + ["--server.port 9123", "--server.address 0.0.0.0", "--server.headless true",
                            "--server.fileWatcherType none"]:
        assert flag in text, flag
    assert command[-2:] == ["--theme.base", "dark"]
    # later options win: the address comes after every setting read from the file
    assert command.index("--server.address") > max(i for i, c in enumerate(command) if c == "--server.maxUploadSize")


def test_the_app_command_starts_streamlit(monkeypatch):
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    assert cli.main(["app", "--port", "8600", "--", "--logger.level", "error"]) == 0
    (cmd,) = calls
    assert cmd[cmd.index("--server.port") + 1] == "8600" and cmd[-2:] == ["--logger.level", "error"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"


@pytest.mark.parametrize("argv", [["--port", "0"], ["--port", "x"], ["--port", "65536"], ["--bogus"]])
def test_bad_app_options_are_one_line(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(["app", *argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("guidance-lab app: error: ") and err.count("\n") == 1, err


def test_the_app_without_streamlit_is_one_line(monkeypatch, capsys):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None if name == "streamlit" else real(name))
    with pytest.raises(SystemExit) as e:
        cli.main(["app"])
    assert e.value.code == 2 and "needs Streamlit" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ Makefile

def _recipe(target: str) -> str:
    """The recipe lines of ``target`` in the Makefile."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n?)+)", text, flags=re.M)
    assert match, f"no target {target}"
    return match.group(1).replace("\\\n", " ")


def test_make_run_listens_on_this_computer_and_serve_on_every_interface():
    run, serve = _recipe("run"), _recipe("serve")
    assert "streamlit run app.py" in run and "--server.address 127.0.0.1" in run and "0.0.0.0" not in run
    assert "--server.address 0.0.0.0" in serve


def test_make_notebook_installs_jupyter_and_opens_the_tour():
    assert "python -m notebook notebooks/tour.ipynb" in _recipe("notebook")
    assert "pip install -q -r requirements-notebook.txt" in _recipe("$(BIN)/.notebook")
    assert "notebook" in {line.split("==")[0] for line in _requirements("requirements-notebook.txt")}
    assert "ipykernel" in {line.split("==")[0] for line in _requirements("requirements-notebook.txt")}


def test_make_test_says_loudly_when_the_browser_was_not_tested():
    """The browser folder's hook ends the run with a section that names the skipped tests' reason."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    reason = "no Chromium at /usr/bin/chromium (CI installs it: apt-get install chromium)"
    skipped = [SimpleNamespace(nodeid=f"tests/browser/test_app_browser.py::t{i}", fspath="x",
                               longrepr=("f", 1, f"Skipped: {reason}")) for i in range(5)]
    skipped.append(SimpleNamespace(nodeid="tests/ui/test_x.py::t", fspath="y", longrepr=("f", 1, "Skipped: other")))

    class Reporter:
        def __init__(self, stats):
            self.stats, self.lines = stats, []

        def section(self, title, **kw):
            self.lines.append(title)

        def write_line(self, line, **kw):
            self.lines.append(line)

    loud = Reporter({"skipped": skipped})
    hook.pytest_terminal_summary(loud, 0, None)
    assert loud.lines[0] == "THE BROWSER WAS NOT TESTED"
    assert loud.lines[1] == f"5 browser tests skipped: {reason}" and "chromium" in loud.lines[2]
    quiet = Reporter({"skipped": skipped[-1:], "passed": []})
    hook.pytest_terminal_summary(quiet, 0, None)
    assert quiet.lines == []


# ------------------------------------------------------------------------------------ license, citation, README

def test_the_license_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 Guidance Lab contributors\n")
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_citation_file_is_cff_1_2_0():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert {"authors", "cff-version", "message", "title"} <= set(cff)  # the schema's required keys
    assert cff["authors"] == [{"name": "Guidance Lab contributors"}]
    assert cff["license"] == PYPROJECT["project"]["license"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    allowed = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi", "identifiers",
               "keywords", "license", "license-url", "message", "preferred-citation", "references", "repository",
               "repository-artifact", "repository-code", "title", "type", "url", "version"}
    assert set(cff) <= allowed


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    assert f"\n## {title}\n" in text, f"README.md has no section {title!r}"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_states_the_prerequisites_the_install_and_the_license():
    prerequisites = _section("Prerequisites")
    assert "Python 3.11" in prerequisites and PYPROJECT["project"]["requires-python"] == ">=3.11"
    assert "Chromium" in prerequisites and "THE BROWSER WAS NOT TESTED" in prerequisites
    assert "make notebook" in prerequisites
    install = _section("Install")
    assert "pip install -e ." in install and "guidance-lab app" in install and "guidance-lab --version" in install
    assert "127.0.0.1" in install
    license_ = _section("License")
    assert "MIT" in license_ and "LICENSE" in license_ and "CITATION.cff" in license_
    text = (ROOT / "README.md").read_text()
    assert text.index("## Prerequisites") < text.index("## Install") < text.index("## The app")
