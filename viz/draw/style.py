"""One visual vocabulary for every figure: the same vector always has the same colour and arrow.

Grammar of the diagrams (after the figures of Dieleman's "The geometry of diffusion guidance"):

* a point is a marker (``POINTS``): circles for the noisy canvas x_t, diamonds for predictions of
  x_0, a star for the final sample;
* a dashed line without a head joins x_t to a prediction ("the model thinks x_0 is there");
* a solid arrow is a displacement that is taken or added (the step, a guidance direction);
* a dotted arrow is fresh noise;
* a vector scaled by gamma is drawn as a wide pale band under its unscaled version.
``VECTORS`` holds the arrow style of every named vector; a short key explains the arrows (at most
six entries, only those the frame shows), and every point is labelled where it is, on digits with
its 8x8 image beside it (``POINT_LABELS``).

Sizes are for a projector: each figure kind is drawn at the width the app shows it on a 1920-px
screen (``DISPLAY_WIDTH``), with type sizes in CSS px (``TEXT_PX``, none under ``MIN_TEXT_PX``).
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
    # The newer methods' views (viz.methods): the operations each method adds to the CFG construction.
    "origin": "#333333",     # the origin 0 of data space, and dotted lines through it
    "scaled": "#009E73",    # the CFG prediction scaled toward / away from the origin
    "apg_par": "#009E73",    # APG: the part of the guidance along D_c (down-weighted by eta)
    "apg_orth": "#0072B2",   # APG: the part of the guidance orthogonal to D_c
    "renoise": "#0072B2",    # CFG++: where re-noising with eps_uncond moves the step's end
    # The flow path's picture (viz.views.flow), in colours already above (the GIF palette is made of them).
    "eps_hat": "#999999",    # the noise the prediction implies, eps_hat (the colour of noise)
    "velocity": "#333333",   # the velocity u = eps_hat - x0_hat, along the segment
}
# One notation on every figure: x̂0ᵘ and x̂0ᶜ for the unconditional and conditional predictions, γ for
# the guidance scale (a paper's own symbols only where a note quotes its formula).
X0U, X0C = r"$\hat{x}_0^{u}$", r"$\hat{x}_0^{c}$"
LABELS = {
    "x_t": r"$x_t$", "x_next": r"$x_{t-1}$", "x0": r"$x_0$ (final sample)", "x0_hat": r"$\hat{x}_0$",
    "step": "step", "noise": r"noise $\sigma z$", "x0_uncond": X0U, "x0_cond": X0C,
    "diff": "classifier direction", "guided": r"guided $\hat{x}_0$",
    "x_T": r"$x_T$ (start)", "prediction": r"$x_t \to \hat{x}_0$", "step_to_mean": "step (before noise)",
    "diff_scaled": "γ × classifier direction", "cfg_diff": X0C + " − " + X0U,
    "cfg_diff_scaled": "γ × (" + X0C + " − " + X0U + ")", "outside": "outside data range",
    "offscale": "off-scale (pinned to edge)", "x0_hat_path": r"$\hat{x}_0$ so far", "x_t_path": r"path of $x_t$",
    "origin": "origin 0", "ray": "line through the origin", "x_cfg": r"CFG's $\hat{x}_0$",
    "scaled": "× std(" + X0C + ") / std(CFG)", "apg_par": "parallel part (× η)", "apg_orth": "orthogonal part",
    "x_ddim": r"CFG-DDIM would land here",
    "renoise": r"$\hat{\epsilon}^{u}$ in place of $\hat{\epsilon}_\lambda$",
    # classifier guidance drawn at x_t (the post's construction), in units of s² × score
    "model_dir": "model's direction", "guided_dir": "their sum: the step's direction",
}
#: the short name written beside each point on the plot (images and labels replace legend entries)
POINT_LABELS = {
    "x_t": r"$x_t$", "x_next": r"$x_{t-1}$", "x0": r"final $x_0$", "x0_hat": r"$\hat{x}_0$", "x0_uncond": X0U,
    "x0_cond": X0C, "guided": r"guided $\hat{x}_0$", "origin": "0", "x_cfg": r"CFG's $\hat{x}_0$",
    "x_ddim": "CFG-DDIM", "x_T": r"$x_T$", "u_tip": r"$a\,\hat{x}_0^{u}$", "c_tip": r"$a\,\hat{x}_0$ (guided)",
}

# Marker of every named point: (marker, size in points, colour key). Predictions are diamonds.
POINTS = {
    "x_T": ("s", 8, "x_t"), "x_t": ("o", 10, "x_t"), "x_next": ("o", 9, "x_next"), "x0": ("*", 17, "x0"),
    "x0_hat": ("D", 9, "x0_hat"), "x0_uncond": ("D", 9, "x0_uncond"), "x0_cond": ("D", 9, "x0_cond"),
    "guided": ("D", 10, "guided"), "origin": ("P", 11, "origin"), "x_cfg": ("D", 10, "guided"),
    "x_ddim": ("o", 10, "x_next"), "u_tip": ("D", 9, "x0_uncond"), "c_tip": ("D", 10, "guided"),
    # the flow path's noise ends (viz.views.flow): squares, in their prediction's colour
    "eps_hat": ("s", 10, "eps_hat"), "eps_uncond": ("s", 9, "x0_uncond"), "eps_cond": ("s", 9, "x0_cond"),
    "eps_guided": ("s", 10, "guided"),
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
    "scaled": dict(color="scaled", ls="-", lw=2.6, head=True, alpha=1.0),
    "apg_par": dict(color="apg_par", ls="-", lw=2.6, head=True, alpha=1.0),
    "apg_orth": dict(color="apg_orth", ls="-", lw=2.6, head=True, alpha=1.0),
    "renoise": dict(color="renoise", ls="-", lw=2.2, head=True, alpha=1.0),
    # classifier guidance at x_t: the model's direction and the guided sum are displacements, drawn solid
    "model_dir": dict(color="x0_uncond", ls="-", lw=2.8, head=True, alpha=1.0),
    "guided_dir": dict(color="guided", ls="-", lw=2.8, head=True, alpha=1.0),
    # the flow path: the velocity u = eps_hat - x0_hat, drawn along the segment from x0_hat to eps_hat
    "velocity": dict(color="velocity", ls="-", lw=2.2, head=True, alpha=1.0),
}
UNDERLAYS = {"diff_scaled": 2.5, "ray": 2.2}  # z-order of vectors drawn under the others (default 3)
ARROW_HEAD = 20  # mutation scale of arrow heads, in points
GAMMA_CMAP = "viridis"
FONT_SIZE = 13  # the older figures' type (trade-off, high dimensions); the figures below size theirs in px
LEGEND_SIZE = 11
NOTE_SIZE = 8
FIG_SIZE = (6.4, 4.8)
DPI = 100

# ----------------------------------------------------------------------------- sizes for a projector

#: The width, in CSS px, at which the app shows each figure kind on a 1920x1080 screen. Each figure is
#: drawn that many pixels wide (one figure pixel = one CSS pixel), so its type sizes below are what
#: the audience sees. Step views sit beside their controls (~1100 px); the γ overlay beside a step view.
DISPLAY_WIDTH = {
    "step": 1100, "classifier": 1100, "classifier_x0": 1100, "cfg": 1100, "trajectory": 1100, "paths": 1100,
    "field": 1100, "noising": 800, "noising_strip": 1100, "overlay": 700,
}
DEFAULT_WIDTH = 1100  # px: every other kind (each newer method's construction view) is shown as wide as a step view
#: ... and the height in CSS px (width / height keeps each picture on a 1080-px-high screen with its controls)
DISPLAY_HEIGHT = {"overlay": 620, "noising": 400, "noising_strip": 250}
DEFAULT_HEIGHT = 640


def display_width(kind: str) -> int:
    """The width in CSS px at which the app shows figure ``kind`` (``DISPLAY_WIDTH``, else ``DEFAULT_WIDTH``)."""
    return DISPLAY_WIDTH.get(kind, DEFAULT_WIDTH)


def display_height(kind: str) -> int:
    """Its height in CSS px (``DISPLAY_HEIGHT``, else ``DEFAULT_HEIGHT``)."""
    return DISPLAY_HEIGHT.get(kind, DEFAULT_HEIGHT)


#: a view in one of the side-by-side page's two columns on a 1920x1080 screen with the sidebar open (CSS px)
HALF_SIZE = (730, 500)
#: figures narrower than this get the compact layout (a narrower key column, the info line across the figure)
COMPACT_WIDTH = 900
MIN_TEXT_PX = 14  # no text smaller than this on a 1920-px-wide screen
#: type sizes in CSS px: the headline, a frame's title, labels on the plot and in the key, small print
TEXT_PX = {"headline": 21, "title": 19, "label": 18, "key": 17, "small": 15}
MIN_ARROW_PX = 25  # a step or noise arrow shorter than this (in CSS px) is shown magnified in an inset

# One colour per class on every figure (the data cloud, paths that end in a class); the guided class is
# drawn opaque and larger, the others faded. Tableau's ten, then the 2-D mixture's three (A, B, C) reuse them.
CLASS_COLORS = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2", "#EDC948", "#B07AA1", "#FF9DA7",
                "#9C755F", "#BAB0AC")


#: the colour of each of ``CLASS_COLORS`` in words, for a caption that names them
CLASS_COLOR_NAMES = ("blue", "orange", "green", "red", "teal", "yellow", "purple", "pink", "brown", "grey")


def class_color_name(c: int) -> str:
    """The colour of class ``c`` in words (``CLASS_COLOR_NAMES``, the same on every figure)."""
    return CLASS_COLOR_NAMES[int(c) % len(CLASS_COLOR_NAMES)]


def class_color(c: int) -> str:
    """The colour of class ``c`` (the same on every figure)."""
    return CLASS_COLORS[int(c) % len(CLASS_COLORS)]


def font_pt(px: float, dpi: int = DPI) -> float:
    """Points for type ``px`` CSS px high on a figure drawn at its display width (1 figure px = 1 CSS px)."""
    return float(px) * 72.0 / dpi


def text_pt(role: str) -> float:
    """Points of the type role ``role`` of ``TEXT_PX`` ("headline", "title", "label", "key", "small")."""
    return font_pt(TEXT_PX[role])


def display_size(kind: str, width: int | tuple[int, int] | None = None) -> tuple[float, float]:
    """Figure size in inches (at ``DPI``) of figure ``kind`` drawn ``width`` CSS px wide (default its
    ``DISPLAY_WIDTH``), keeping its declared width / height; or ``width`` = (width, height) in CSS px
    (``HALF_SIZE``: a panel of the side-by-side page)."""
    if isinstance(width, tuple):
        return int(width[0]) / DPI, int(width[1]) / DPI
    w = display_width(kind) if width is None else int(width)
    h = display_height(kind) * w / display_width(kind)
    return w / DPI, round(h) / DPI


def new_figure(size: tuple[float, float] = FIG_SIZE, dpi: int = DPI, layout: str | None = "constrained") -> Figure:
    """A pyplot-free Figure with an Agg canvas (safe to share a server between sessions); ``layout=None``
    for figures that place their axes themselves (in px, ``viz.frame_layout``)."""
    fig = Figure(figsize=size, dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax, equal: bool = True) -> None:
    """Projector-friendly axes: large type, light grid, equal aspect for geometry."""
    ax.tick_params(labelsize=FONT_SIZE - 3)
    ax.grid(True, color="#eeeeee", lw=0.8)
    ax.set_axisbelow(True)
    if equal:
        ax.set_aspect("equal", adjustable="box")
