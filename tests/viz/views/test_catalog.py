"""viz.views.catalog: the figure kinds by name without drawing anything: the run views then one kind per
newer guidance method (described by its card), the field figure's line, the projection the lecture's
GIFs draw each kind in, and neither matplotlib nor torch loaded to answer."""

import subprocess
import sys

import pytest

from models.guidance import card, zoo_names
from tests.conftest import ROOT
from viz.views.catalog import (FIELD_FIGURE, METHOD_PROJECTION, RUN_KINDS, TILTED_FIGURES, description,
                               descriptions, figure_kinds, lecture_projection)
from viz.views.kinds import ANIMATIONS


def test_the_kinds_are_the_run_views_then_one_per_newer_method():
    kinds = figure_kinds()
    assert kinds[:len(RUN_KINDS)] == tuple(RUN_KINDS) and kinds[len(RUN_KINDS):] == zoo_names()
    assert len(set(kinds)) == len(kinds) and FIELD_FIGURE not in kinds  # the field is no view of a run
    assert set(kinds) <= set(ANIMATIONS) | {"classifier_x0"}  # each kind can be drawn
    assert set(TILTED_FIGURES) <= set(RUN_KINDS)


def test_each_kind_has_its_line_and_its_lecture_projection():
    for kind, (line, projection) in RUN_KINDS.items():
        assert description(kind) == line and lecture_projection(kind) == projection
        assert projection in ("pca", "plane")
    for method in zoo_names():
        assert description(method) == card(method).figure and description(method)
        assert lecture_projection(method) == METHOD_PROJECTION == "plane"  # a construction in its exact plane
    assert "no sampling" in description(FIELD_FIGURE)
    lines = descriptions()
    assert list(lines) == [*figure_kinds(), FIELD_FIGURE] and all(lines.values())
    with pytest.raises(ValueError, match="unknown guidance"):
        description("spiral")


def test_reading_the_catalog_loads_no_matplotlib():
    code = ("import sys; import viz.views.catalog as c; c.descriptions(); "
            "print('matplotlib' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
