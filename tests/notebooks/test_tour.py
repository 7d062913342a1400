"""notebooks/tour.ipynb runs top to bottom in a fresh Jupyter kernel (nbclient, the project's
environment): no cell fails, every cell tagged ``figure`` shows a picture (a PNG, or the GIF it
wrote), the GIF it writes is an animation, and the notebook is stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image

from viz.gif import gif_frame_count

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "tour.ipynb"
PICTURES = ("image/png", "image/gif")
CELL_TIMEOUT_S = 600  # a busy 2-core machine: the trade-off cell samples 300 digits and fits the judge


def _figure_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "figure" in c.metadata.get("tags", [])]


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code"
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"code cells {dirty} keep outputs or execution counts: clear them before committing"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run by a fresh ``python3`` kernel from its own folder; its GIF goes to a temporary folder."""
    out = tmp_path_factory.mktemp("notebook-out")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("GUIDANCE_LAB_OUT", str(out))
    mp.delenv("MPLBACKEND", raising=False)  # the notebook chooses its own (inline) backend
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    except CellExecutionError as e:
        pytest.fail(f"a cell of {NOTEBOOK.name} failed:\n{str(e)[-3000:]}")
    finally:
        mp.undo()
    return nb, out


def test_every_cell_runs_and_every_figure_cell_draws(executed):
    nb, _ = executed
    figures = _figure_cells(nb)
    assert len(figures) >= 6, "the tour draws samples, the CFG step, the trajectory, the γ overlay, a GIF and the curves"
    blank = [c.source.splitlines()[0] for c in figures
             if not any(kind in o.get("data", {}) for o in c.outputs for kind in PICTURES)]
    assert not blank, f"cells that should draw showed no picture: {blank}"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_the_pictures_are_real(executed):
    """Each PNG decodes to a picture of some size, and the GIF on disk is the one shown, animated."""
    import base64
    import io

    nb, out = executed
    sizes = []
    for c in _figure_cells(nb):
        for o in c.outputs:
            if "image/png" in o.get("data", {}):
                with Image.open(io.BytesIO(base64.b64decode(o["data"]["image/png"]))) as im:
                    sizes.append(im.size)
    assert sizes and all(w >= 100 and h >= 50 for w, h in sizes), sizes
    gifs = list(out.glob("*.gif"))
    assert len(gifs) == 1
    data = gifs[0].read_bytes()
    assert gif_frame_count(data) > 10
    shown = [o["data"]["image/gif"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "image/gif" in o.get("data", {})]
    assert shown and base64.b64decode(shown[0]) == data
