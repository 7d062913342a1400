"""Pictures a class can read on a projector (issue 11): the runs and the checks the figure tests share,
as functions of the figures, not by timing:

* at most six key entries in any figure, and nothing in a frame's key that the frame does not draw
  (views/test_kinds.py);
* every text at least 14 px high on a 1920-px-wide screen, at the width the app shows the figure
  (``assert_readable``: views/test_kinds.py, views/test_guidance.py, figures/test_field.py);
* 8x8 images beside the points on digits, none on the 2-D mixture (draw/test_point_labels.py);
* a steady camera (consecutive frames' scales within 1.25x) and the step and the noise visible in
  every frame (at least 25 px long, or magnified in a labelled inset), over many runs
  (``check_camera_and_step``: draw/test_camera.py, views/test_construction.py);
* classifier guidance drawn head to tail at x_t, as the post draws it (views/test_guidance.py);
* the step a page opens on (draw/test_geometry.py).

Runs use the exact model (fast); every sampler, 10 and 200 steps, gamma 0, 3 and 10; each is sampled
once per process (``sample``)."""

import numpy as np
from matplotlib.text import Text

from models.engine.pipeline import SampleSpec, run
from models.guidance import ZOO_GUIDANCE
from viz.draw.sprites import PAD, TextSprite
from viz.draw.style import MIN_ARROW_PX, MIN_TEXT_PX, display_width
from viz.views.guidance import ClassifierPredictionDiagram
from viz.views.kinds import make_animation
from viz.views.paths import frame_indices


_RUNS: dict = {}


def sample(data="gmm2d", guidance="cfg", gamma=3.0, sampler="ddpm", steps=10, batch=2, label=1, **kw):
    key = (data, guidance, gamma, sampler, steps, batch, label, tuple(sorted(kw.items())))
    if key not in _RUNS:
        _RUNS[key] = run(SampleSpec(model="exact", data=data, guidance=guidance, gamma=gamma, sampler=sampler,
                                    steps=steps, batch=batch, seed=0, label=label, **kw), device="cpu")
    return _RUNS[key]


def zoo_run(method, data="gmm2d", steps=10, gamma=3.0):
    return sample(data, method, gamma, "ddim" if method == "cfgpp" else "ddpm", steps, rescale_phi=0.7, apg_eta=0.5,
                  interval_lo=0.5, interval_hi=4.0, cfgpp_lambda=0.6)


def run_for(kind, data="gmm2d", steps=10, gamma=3.0, sampler="ddpm"):
    """A run the view ``kind`` draws."""
    if kind in ZOO_GUIDANCE:
        return zoo_run(kind, data, steps, gamma)
    guidance = "classifier" if kind in ("classifier", "classifier_x0") else "cfg"
    if kind == "flow":  # the flow view draws runs on the flow path (Euler at SD3's shift 3)
        return sample(data, guidance, gamma, "euler", steps, path="flow", shift=3.0)
    return sample(data, guidance, gamma, sampler, steps)


#: views with no gmm2d run, and why (their tests run on the digits only)
NO_GMM2D_RUN = {"fdg": "fdg splits 8x8 images into frequency bands: gmm2d's 2-D points have no fdg run"}


def data_sets(kind):
    """The data sets a run of view ``kind`` exists on."""
    return ("digits",) if kind in NO_GMM2D_RUN else ("digits", "gmm2d")


def build(kind, traj, projection="plane"):
    if kind == "classifier_x0":  # the prediction-space view (the lead registers it as a figure kind)
        return ClassifierPredictionDiagram(traj, 0, projection)
    return make_animation(kind, traj, projection)


STEP_KINDS = ["step", "classifier", "classifier_x0", "cfg", *ZOO_GUIDANCE]


# ----------------------------------------------------------------------------- texts and keys

def texts_of(fig):
    """(what, font px, extent px) of every visible text of a drawn figure, in the figure's pixels."""
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (t.axes is not None and not t.axes.get_visible()):
            continue
        if t.axes is not None and not t.axes.axison and t not in t.axes.texts and t is not t.axes.title:
            continue  # a tick label of an axes drawn without its axis
        px = t.get_fontsize() * fig.dpi / 72
        out.append((t.get_text(), px, t.get_window_extent(renderer).height))
    for s in fig.findobj(TextSprite):
        if not s.get_visible() or not s.get_text() or (s.axes is not None and not s.axes.get_visible()):
            continue
        size, _, _, dpi = s.font
        out.append((s.get_text(), size * dpi / 72, s.size[1] - 2 * PAD))  # the renderer's extent, measured once
    return out


def assert_readable(fig, kind):
    """Every text at least MIN_TEXT_PX high once the figure is shown display_width(kind) px wide."""
    scale = display_width(kind) / (fig.get_figwidth() * fig.dpi)
    found = texts_of(fig)
    assert found
    small = [(t, round(px * scale, 1), round(h * scale, 1)) for t, px, h in found
             if px * scale < MIN_TEXT_PX or h * scale < MIN_TEXT_PX]
    assert not small, f"{kind}: texts under {MIN_TEXT_PX} px on a 1920-px screen: {small}"


def check_camera_and_step(view):
    """Consecutive frames (every step, and the GIF's frames) within 1.25x of each other's scale; the
    step and the noise long enough to see in every frame, or magnified in an inset that says by how much."""
    widths = np.array([view.shots[k].width for k in range(view.num_frames)])
    for idx in (list(range(view.num_frames)), frame_indices(view.num_frames, 100)):
        w = widths[idx]
        assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25 + 1e-9).all()
    for k in range(view.num_frames):
        seen = view.visibility(k)
        for gid in ("step", "noise"):
            if gid in seen:
                main, inset = seen[gid]
                assert main >= MIN_ARROW_PX or (inset is not None and inset >= MIN_ARROW_PX), (k, gid, seen[gid])
