"""One visual vocabulary for every figure: the same vector always has the same colour and arrow.

Grammar of the diagrams (after the figures of Dieleman's "The geometry of diffusion guidance"):

* a point is a marker (``POINTS``): circles for the noisy canvas x_t, diamonds for predictions of
  x_0, a star for the final sample;
* a dashed line without a head joins x_t to a prediction ("the model thinks x_0 is there");
* a solid arrow is a displacement that is taken or added (the step, a guidance direction);
* a dotted arrow is fresh noise;
* a vector scaled by gamma is drawn as a wide pale band under its unscaled version.
``VECTORS`` holds the arrow style of every named vector; the legend explains names, so no
free text is ever placed next to an arrow.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg

# Okabe-Ito colour-blind-safe palette, one colour per kind of vector.
COLORS = {
    "x_t": "#000000",        # the noisy canvas
    "x_next": "#555555",     # where the step lands
    "x0": "#009E73",         # the final sample
    "x0_hat": "#0072B2",     # the model's prediction
    "step": "#E69F00",       # the small step toward the prediction
    "noise": "#999999",      # fresh noise
    "x0_uncond": "#56B4E9",  # unconditional prediction
    "x0_cond": "#CC79A7",    # conditional prediction
    "diff": "#D55E00",       # the classifier direction / conditional minus unconditional
    "guided": "#7B2D8E",     # the guided (implied) prediction
    "data": "#BBBBBB",       # the data set in the background
    "mean": "#E69F00",       # where the step lands before noise (same hue as the step)
    "outside": "#C00000",    # ring around a point outside the data range
    "density": "#9A9A9A",    # contours / shading of the data density
    "diff_band": "#F0C7A6",  # the gamma-scaled difference: "diff" at 35 % over white, drawn under it
    # The guidance zoo (viz.zoo_diagrams): the operations each method adds to the CFG construction.
    "origin": "#333333",     # the origin 0 of data space, and dotted lines through it
    "rescale": "#009E73",    # CFG rescale: the CFG prediction scaled toward / away from the origin
    "apg_par": "#009E73",    # APG: the part of the guidance along D_c (down-weighted by eta)
    "apg_orth": "#0072B2",   # APG: the part of the guidance orthogonal to D_c
    "renoise": "#0072B2",    # CFG++: where re-noising with eps_uncond moves the step's end
}
LABELS = {
    "x_t": r"$x_t$", "x_next": r"$x_{t-1}$", "x0": r"$x_0$ (final sample)", "x0_hat": r"$\hat{x}_0$",
    "step": "step", "noise": r"noise $\sigma z$", "x0_uncond": r"$\hat{x}_0$ unconditional",
    "x0_cond": r"$\hat{x}_0$ conditional", "diff": "classifier direction", "guided": r"guided $\hat{x}_0$",
    "x_T": r"$x_T$ (start)", "prediction": r"$x_t \to \hat{x}_0$", "step_to_mean": "step (before noise)",
    "diff_scaled": "γ × classifier direction", "cfg_diff": "cond. − uncond.",
    "cfg_diff_scaled": "γ × (cond. − uncond.)", "outside": "outside data range",
    "offscale": "off-scale (pinned to edge)", "x0_hat_path": r"$\hat{x}_0$ so far", "x_t_path": r"path of $x_t$",
    "origin": "origin 0", "ray": "line through the origin", "x_cfg": "CFG would go here",
    "rescale": "× std(cond.) / std(CFG)", "apg_par": "parallel part (× η)", "apg_orth": "orthogonal part",
    "x_ddim": r"with $\hat{\epsilon}_\lambda$: lands here",
    "renoise": r"$\hat{\epsilon}_u$ in place of $\hat{\epsilon}_\lambda$",
}

# Marker of every named point: (marker, size in points, colour key). Predictions are diamonds.
POINTS = {
    "x_T": ("s", 8, "x_t"), "x_t": ("o", 10, "x_t"), "x_next": ("o", 9, "x_next"), "x0": ("*", 17, "x0"),
    "x0_hat": ("D", 9, "x0_hat"), "x0_uncond": ("D", 9, "x0_uncond"), "x0_cond": ("D", 9, "x0_cond"),
    "guided": ("D", 10, "guided"), "origin": ("P", 11, "origin"), "x_cfg": ("D", 10, "guided"),
    "x_ddim": ("o", 10, "x_next"),
}
HOLLOW_POINTS = ("x_cfg", "x_ddim")  # "would be here" markers: drawn hollow, in their colour

# Arrow style of every named vector: colour key, line style, width, head, alpha.
# Lines from x_t to a prediction have no head (they end on the prediction's diamond).
VECTORS = {
    "prediction": dict(color="x0_hat", ls="--", lw=1.8, head=False, alpha=1.0),
    "to_uncond": dict(color="x0_uncond", ls="--", lw=1.8, head=False, alpha=1.0),
    "to_cond": dict(color="x0_cond", ls="--", lw=1.8, head=False, alpha=1.0),
    "to_guided": dict(color="guided", ls="--", lw=1.8, head=False, alpha=1.0),
    "step": dict(color="step", ls="-", lw=3.0, head=True, alpha=1.0),
    "noise": dict(color="noise", ls=":", lw=2.6, head=True, alpha=1.0),
    "diff": dict(color="diff", ls="-", lw=2.6, head=True, alpha=1.0),
    "diff_scaled": dict(color="diff_band", ls="-", lw=7.0, head=True, alpha=1.0),
    "ray": dict(color="origin", ls=":", lw=1.6, head=False, alpha=1.0),
    "rescale": dict(color="rescale", ls="-", lw=2.6, head=True, alpha=1.0),
    "apg_par": dict(color="apg_par", ls="-", lw=2.6, head=True, alpha=1.0),
    "apg_orth": dict(color="apg_orth", ls="-", lw=2.6, head=True, alpha=1.0),
    "renoise": dict(color="renoise", ls="-", lw=2.2, head=True, alpha=1.0),
}
UNDERLAYS = {"diff_scaled": 2.5, "ray": 2.2}  # z-order of vectors drawn under the others (default 3)
ARROW_HEAD = 20  # mutation scale of arrow heads, in points
GAMMA_CMAP = "viridis"
FONT_SIZE = 13
LEGEND_SIZE = 11  # legend entries
NOTE_SIZE = 8  # the line at the bottom saying what the projection loses
FIG_SIZE = (6.4, 4.8)
DPI = 100


def new_figure(size: tuple[float, float] = FIG_SIZE, dpi: int = DPI) -> Figure:
    """A pyplot-free Figure with an Agg canvas (safe to share a server between sessions)."""
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax, equal: bool = True) -> None:
    """Projector-friendly axes: large type, light grid, equal aspect for geometry."""
    ax.tick_params(labelsize=FONT_SIZE - 3)
    ax.grid(True, color="#eeeeee", lw=0.8)
    ax.set_axisbelow(True)
    if equal:
        ax.set_aspect("equal", adjustable="box")
