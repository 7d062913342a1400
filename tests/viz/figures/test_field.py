"""viz.figures.field: the field figure and its animation (readable sizes, few legend entries, same bytes twice)."""

import ast
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from models.analysis.field import compute_field, field_series
from models.analysis.field_records import FieldSpec
from viz.draw.key import MAX_ENTRIES
from viz.draw import style
from viz.draw.style import class_color
from viz.figures.field import (DISPLAY_WIDTH, MIN_TEXT_PX, FieldAnimation, FieldFigure, arrow_reference, arrow_vectors,
                               field_figure, legend_entry_count, text_heights)
from viz.gif import gif_frame_count

from tests.viz.projector import assert_readable


SMALL = dict(n=11)  # a coarse arrow grid keeps the figure tests quick; the layout is the same


def drawn(fig: Figure) -> Figure:
    fig.canvas.draw()
    return fig


@pytest.fixture(scope="module")
def exact_fig() -> Figure:
    return drawn(field_figure(compute_field(FieldSpec(gamma=7.0, t=150))))


@pytest.fixture(scope="module")
def neural_fig() -> Figure:
    return drawn(field_figure(compute_field(FieldSpec(model="neural", gamma=7.0, t=30))))


@pytest.mark.parametrize("which", ["exact_fig", "neural_fig"])
def test_legend_has_at_most_six_entries(which, request):
    fig = request.getfixturevalue(which)
    assert 1 <= legend_entry_count(fig) <= 6


@pytest.mark.parametrize("which", ["exact_fig", "neural_fig"])
def test_every_text_is_readable_at_the_display_width(which, request):
    """Every visible text's font is at least 14 px high when the figure is shown 1100 px wide."""
    fig = request.getfixturevalue(which)
    heights = text_heights(fig, DISPLAY_WIDTH)
    assert len(heights) >= 8  # headline, panel titles, legend, note, sink labels
    small = [(text, round(px, 1)) for text, px in heights if px < MIN_TEXT_PX]
    assert not small


@pytest.mark.parametrize("which", ["exact_fig", "neural_fig"])
def test_texts_stay_inside_the_figure_and_apart(which, request):
    """No text runs off the figure, and the headline, panel titles, legend and note do not overlap."""
    fig = request.getfixturevalue(which)
    renderer = fig.canvas.get_renderer()
    boxes = []
    for text in fig.findobj(Text):
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= fig.bbox.x1 + 1 and box.y0 >= -1 and box.y1 <= fig.bbox.y1 + 1, text.get_text()
        if text.axes is None or text.axes.get_title(loc="left") == text.get_text() or text.get_text().startswith("Arrows"):
            boxes.append((text.get_text(), box))
    legend = fig.axes[-1].get_legend().get_window_extent(renderer)
    boxes.append(("legend", legend))
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), (a, b)


def test_figure_says_t_sigma_and_gamma(exact_fig):
    texts = " ".join(t for t, _ in text_heights(exact_fig))
    assert "t = 150" in texts and "σ = 0.52" in texts and "γ = 7" in texts and "class B" in texts


def test_sinks_and_their_shares_are_drawn():
    """The guided panel marks each sink holding >= 1 % of the tilted mass and writes its share."""
    spec = FieldSpec(gamma=7.0, t=60, **SMALL)
    f = compute_field(spec)
    view = FieldFigure(spec)
    view.update(f)
    main = f.basins.main(0.01)
    xs, ys = view.right.sinks.get_data()
    assert len(xs) == len(main) == 3
    labels = sorted(t.get_text() for t in view.right.labels if t.get_visible())
    assert labels == sorted(f"{100 * s:.0f} %" for s in f.basins.share[main])
    assert view.right.boundaries  # three basins: their boundaries are drawn


def test_arrows_are_scaled_as_stated():
    """An arrow is 0.9 cell long at |field| >= the stated reference, shorter in proportion."""
    v = np.array([[[3.0, 4.0], [0.3, 0.4]], [[0.0, 0.0], [30.0, 40.0]]])
    a = arrow_vectors(v, ref=5.0, cell=0.2)
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), [[0.18, 0.018], [0.0, 0.18]])
    np.testing.assert_allclose(a[0, 0] / np.linalg.norm(a[0, 0]), [0.6, 0.8])


@pytest.mark.parametrize("gamma", [0.0, 7.0, 100.0])
@pytest.mark.parametrize("t", [999, 0])
@pytest.mark.parametrize("model", ["exact", "neural"])
def test_no_nan_up_to_gamma_100(model, gamma, t):
    spec = FieldSpec(model=model, gamma=gamma, t=t, **SMALL)
    f = compute_field(spec)
    assert np.isfinite(f.guided).all() and np.isfinite(f.unguided).all()
    assert np.isfinite(arrow_reference(f))
    view = FieldFigure(spec)
    view.update(f)
    for panel in (view.left, view.right):
        assert np.isfinite(panel.quiver.U).all() and np.isfinite(panel.quiver.V).all()
        assert np.isfinite(np.asarray(panel.sinks.get_data(), dtype=float)).all()
    pixels = np.asarray(drawn(view.fig).canvas.buffer_rgba())
    assert pixels.std() > 0


def test_gif_is_the_same_bytes_twice():
    spec = FieldSpec(gamma=7.0, **SMALL)
    first = FieldAnimation(field_series(spec, num_frames=3)).gif(3, fps=4.0)
    second = FieldAnimation(field_series(spec, num_frames=3)).gif(3, fps=4.0)
    assert first == second
    assert gif_frame_count(first) == 3


def test_animation_runs_from_noisiest_to_clean_with_a_still_camera():
    anim = FieldAnimation(field_series(FieldSpec(gamma=7.0, **SMALL), num_frames=4))
    assert anim.num_frames == 4 and anim.timesteps[0] == 999 and anim.timesteps[-1] == 0
    frame = anim.frame(0)
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    limits = []
    for k in range(anim.num_frames):
        anim.frame(k)
        limits.append([ax.get_xlim() + ax.get_ylim() for ax in anim.zoom_axes])
    assert all(lim == limits[0] for lim in limits)  # one box for every noise level
    assert not np.array_equal(anim.frame(0), anim.frame(3))
    heights = text_heights(anim.fig)
    assert min(px for _, px in heights) >= MIN_TEXT_PX


def test_frames_must_share_their_settings():
    a, b = compute_field(FieldSpec(t=999, **SMALL)), compute_field(FieldSpec(t=0, gamma=3.0, **SMALL))
    with pytest.raises(ValueError, match="same settings"):
        FieldAnimation([a, b])


def test_figure_module_uses_neither_pyplot_nor_torch_nor_streamlit():
    tree = ast.parse(Path(__file__).resolve().parents[3].joinpath("viz", "figures", "field.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m and (m.startswith(("torch", "streamlit")) or m == "matplotlib.pyplot")}


@pytest.mark.parametrize("model", ["exact", "neural"])
def test_the_guidance_field_is_readable_on_a_projector(model):
    """The guidance field (``--figure field``, gmm2d only, not a view of a run): drawn at its display
    width, every text at least 14 px there, at most six legend entries, each class in the colour
    every other figure gives it; its animation keeps one box and stays readable frame after frame."""
    fig = field_figure(compute_field(FieldSpec(model=model, gamma=3.0, t=150, label=1, n=11)))
    fig.canvas.draw()
    assert fig.get_figwidth() * fig.dpi == style.DISPLAY_WIDTH["field"]
    assert_readable(fig, "field")
    legends = fig.findobj(Legend)
    assert legends and all(len(lg.get_texts()) <= MAX_ENTRIES for lg in legends)
    blobs = {t.get_text(): h for lg in legends for t, h in zip(lg.get_texts(), lg.legend_handles)
             if t.get_text().startswith("class ")}
    for c, name in enumerate("ABC"):
        handle = next(h for text, h in blobs.items() if text.startswith(f"class {name} "))
        assert to_hex(handle.get_markerfacecolor()) == to_hex(class_color(c))
    anim = FieldAnimation(field_series(FieldSpec(gamma=3.0, label=1, n=11), num_frames=3))
    boxes = []
    for k in range(anim.num_frames):
        anim.frame(k)
        boxes.append([ax.get_xlim() + ax.get_ylim() for ax in anim.zoom_axes])
        anim.fig.canvas.draw()
        assert_readable(anim.fig, "field")
    assert all(b == boxes[0] for b in boxes)
