"""Labels have room at the extremes (issue 17.3): at γ = 0 and γ = 10, on the first and the last step,
with every sampler, in the exact plane and the run's PCA, on both data sets, in the classifier and CFG
views and every method view, each frame drawn as the GIF draws it and measured with the renderer:

* no label's box (its ink, ``Sprite.get_window_extent``) overlaps another label or a thumbnail (a
  point's 8x8 image) by more than 10 % of the label's area;
* no zoom frame (the rectangle on the main view that marks what an inset magnifies) hides an arrow's
  head: where its outline crosses a head, the head is drawn over it.

Runs use the exact model, one sample, 6 steps (the first and the last step are the extremes the issue
names); each test is one view kind on one data set, its runs sampled once (2 γ x every sampler). The
settings the issue found wrong (the neural model, γ = 10, Euler and Heun, the exact plane and a random
view, classes 5 and 8, seed 4242) are checked as they were seen."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path

from models.engine.names import SAMPLER_NAMES
from models.engine.pipeline import SampleSpec, run
from models.guidance import card
from viz.draw.sprites import Sprite, TextSprite
from viz.methods import views as method_views
from viz.views.kinds import make_animation

GAMMAS = (0.0, 10.0)
PROJECTIONS = ("plane", "pca")
KINDS = ("classifier", "cfg", *sorted(method_views()))
MAX_SHARE = 0.10  # of a label's area under another label or a thumbnail
STEPS = 6


def _runs(kind: str, data: str):
    """(sampler, γ, run) for every sampler the method supports and both γ on ``data``."""
    method = card(kind)
    samplers = (method.sampler,) if method.sampler else SAMPLER_NAMES
    label = 5 if data == "digits" else 1
    for sampler in samplers:
        for gamma in GAMMAS:
            yield sampler, gamma, run(SampleSpec(model="exact", data=data, guidance=kind, gamma=gamma, sampler=sampler,
                                                 steps=STEPS, batch=1, seed=4242, label=label), device="cpu")


def _box(bbox) -> np.ndarray:
    return np.array([bbox.x0, bbox.y0, bbox.x1, bbox.y1], np.float64)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def label_clashes(view) -> list[str]:
    """Each label of the frame drawn last whose box lies more than ``MAX_SHARE`` under another label or a
    thumbnail, measured with the renderer's extents."""
    sprites = [s for s in view.ax.get_children() if isinstance(s, Sprite) and s.get_visible()
               and str(s.get_gid()).startswith(("label:", "image:"))]
    boxes = {s.get_gid(): _box(s.get_window_extent()) for s in sprites}
    out = []
    for s in sprites:
        if not isinstance(s, TextSprite):
            continue
        mine = boxes[s.get_gid()]
        area = (mine[2] - mine[0]) * (mine[3] - mine[1])
        for gid, other in boxes.items():
            if gid == s.get_gid():
                continue
            share = _overlap(mine, other) / max(area, 1.0)
            if share > MAX_SHARE:
                out.append(f"{s.get_gid()} ({s.get_text()!r}) {100 * share:.0f}% under {gid}")
    return out


def _heads(ax) -> list[tuple[FancyArrowPatch, np.ndarray]]:
    """(patch, head polygon (N, 2) in display px) of every arrow head drawn on ``ax``."""
    out = []
    for p in ax.patches:
        if not isinstance(p, FancyArrowPatch) or not p.get_visible():
            continue
        paths, fillable = p._get_path_in_displaycoord()  # noqa: SLF001 (the drawn shaft and head)
        out.extend((p, path.vertices) for path, fill in zip(paths, fillable) if fill and len(path.vertices) > 2)
    return out


def _crosses_outline(polygon: np.ndarray, rect: np.ndarray, half_width: float) -> bool:
    """Whether the filled ``polygon`` (display px) meets the outline of ``rect`` (x0, y0, x1, y1), a
    stroke ``2 half_width`` px wide: sampled every half pixel over the polygon."""
    lo, hi = polygon.min(0), polygon.max(0)
    xs, ys = np.meshgrid(np.arange(lo[0], hi[0] + 0.5, 0.5), np.arange(lo[1], hi[1] + 0.5, 0.5))
    pts = np.stack([xs.ravel(), ys.ravel()], 1)
    pts = pts[Path(polygon).contains_points(pts)] if len(pts) > 3 else pts
    x0, y0, x1, y1 = rect
    h = half_width
    outer = (pts[:, 0] >= x0 - h) & (pts[:, 0] <= x1 + h) & (pts[:, 1] >= y0 - h) & (pts[:, 1] <= y1 + h)
    inner = (pts[:, 0] > x0 + h) & (pts[:, 0] < x1 - h) & (pts[:, 1] > y0 + h) & (pts[:, 1] < y1 - h)
    return bool((outer & ~inner).any())


def _drawn_after(ax, a, b) -> bool:
    """Whether artist ``a`` is drawn after (over) ``b`` on ``ax`` (matplotlib: by z-order, then in order of adding)."""
    children = ax.get_children()
    return (a.get_zorder(), children.index(a)) > (b.get_zorder(), children.index(b))


def hidden_heads(view) -> list[str]:
    """Each arrow head of the frame drawn last that a zoom frame's outline is drawn over."""
    ax = view.ax
    out = []
    for m in view.magnifiers:
        if not m.box.get_visible():
            continue
        rect = _box(m.box.get_window_extent())
        half = m.box.get_linewidth() * view.fig.dpi / 72 / 2
        for patch, head in _heads(ax):
            if _drawn_after(ax, m.box, patch) and _crosses_outline(head, rect, half):
                out.append(f"{patch.get_gid()}'s head under the frame of {m.spec.what!r}")
    return out


CASES = [(kind, data) for kind in KINDS for data in ("digits", "gmm2d")
         if not (data == "gmm2d" and "images" in card(kind).needs)]


@pytest.mark.parametrize("kind, data", CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_labels_have_room_and_zoom_frames_hide_no_arrow_head(kind, data):
    problems = []
    for sampler, gamma, traj in _runs(kind, data):
        for projection in PROJECTIONS:
            view = make_animation(kind, traj, projection)
            for k in (0, view.num_frames - 1):
                view.frame(k)
                where = f"{sampler} γ={gamma:g} {projection} step {k + 1}"
                problems += [f"{where}: {p}" for p in label_clashes(view) + hidden_heads(view)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("sampler", ["euler", "heun"])
def test_the_settings_the_issue_found_wrong_have_room(sampler):
    problems = []
    for label in (5, 8):
        for kind in ("classifier", "cfg"):
            traj = run(SampleSpec(model="neural", data="digits", guidance=kind, gamma=10.0, sampler=sampler, steps=25,
                                  batch=1, seed=4242, label=label), device="cpu")
            for projection in ("plane", "random"):
                view = make_animation(kind, traj, projection, seed=4242)
                for k in (0, view.num_frames - 1):
                    view.frame(k)
                    where = f"{kind} class {label} {projection} step {k + 1}"
                    problems += [f"{where}: {p}" for p in label_clashes(view) + hidden_heads(view)]
    assert not problems, "\n".join(problems)
