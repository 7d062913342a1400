"""One visual vocabulary for every figure: the same vector always has the same colour and arrow."""

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
}
LABELS = {
    "x_t": r"$x_t$", "x_next": r"$x_{t-1}$", "x0": r"$x_0$ (final sample)", "x0_hat": r"$\hat{x}_0$",
    "step": "step", "noise": r"noise $\sigma z$", "x0_uncond": r"$\hat{x}_0$ unconditional",
    "x0_cond": r"$\hat{x}_0$ conditional", "diff": "classifier direction", "guided": r"guided $\hat{x}_0$",
}
GAMMA_CMAP = "viridis"
FONT_SIZE = 13
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
