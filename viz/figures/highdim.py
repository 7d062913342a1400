"""Why 2-D drawings of high-dimensional vectors mislead: the figure of the numbers that
``models.analysis.highdim.measurements`` measures on the data.

Facts shown (``../shared/docs/MATH.md``): in d dimensions the norm of standard-normal noise
concentrates near sqrt(d); two random directions are nearly orthogonal (cosine ~ N(0, 1/d));
two principal components keep only part of the digits' variance; a 2-D random projection
stretches and shrinks distances wildly (the Johnson-Lindenstrauss lemma only guarantees a
faithful random view with many more target dimensions).
"""

from __future__ import annotations

import textwrap

from typing import Optional

import numpy as np
from matplotlib.figure import Figure

from models.analysis.highdim import HighDimMeasurements
from viz.draw.style import COLORS, DPI, TEXT_PX, new_figure, style_axes, text_pt

#: The width, in CSS px, at which the high-dimensions page shows the figure on a 1920x1080 screen: the
#: main column beside the open sidebar (``st.image(..., width="stretch")`` in the wide layout, as on the
#: trade-off page: 1556 px). It is drawn that wide (one figure pixel = one CSS pixel), so its type sizes
#: are ``viz.draw.style.TEXT_PX`` in px; five legend entries in all. 860 px high: the app caps a picture at
#: the window's height less 6rem (``ui.sidebar``: 984 px at 1080), and a taller one would be shown narrower.
HIGHDIM_DISPLAY_WIDTH = 1556
HIGHDIM_DISPLAY_HEIGHT = 860
TITLE, LABEL, KEY, TICKS = text_pt("title"), text_pt("label"), text_pt("key"), text_pt("small")


def highdim_figure(m: HighDimMeasurements, width: Optional[int] = None) -> Figure:
    """Four panels of ``m``: noise norms (2-D vs D), cosines of random directions, PCA variance,
    distance distortion; ``width`` CSS px wide in its proportions (default ``HIGHDIM_DISPLAY_WIDTH``; the
    type keeps its size, so a narrower figure shows it larger)."""
    dim = m.dim
    w = HIGHDIM_DISPLAY_WIDTH if width is None else int(width)
    fig = new_figure((w / DPI, HIGHDIM_DISPLAY_HEIGHT * w / HIGHDIM_DISPLAY_WIDTH / DPI))
    axes = fig.subplots(2, 2)
    (a1, a2), (a3, a4) = axes
    for ax in axes.flat:
        style_axes(ax, equal=False)
        ax.tick_params(labelsize=TICKS)
    # a panel's title and label on two lines where the figure is drawn narrower than declared (a laptop's column)
    chars = int(w / 2 / (0.6 * TEXT_PX["title"]))
    fit = (lambda text: text) if width is None else (lambda text: textwrap.fill(text, chars))
    bins = 60
    for d, color in ((2, COLORS["diff"]), (dim, COLORS["x0_hat"])):
        n = m.noise_norms[d]
        a1.hist(n, bins=bins, color=color, alpha=0.7, density=True, label=f"d = {d}: {n.mean():.2f} ± {n.std():.2f}")
        a1.axvline(np.sqrt(d), color=color, ls="--", lw=1)
    a1.set_title(fit("Length of a noise vector concentrates near √d"), fontsize=TITLE)
    a1.set_xlabel("‖ε‖", fontsize=LABEL)
    a1.legend(fontsize=KEY)
    for d, color in ((2, COLORS["diff"]), (dim, COLORS["x0_hat"])):
        c = m.cosines[d]
        a2.hist(c, bins=bins, range=(-1, 1), color=color, alpha=0.7, density=True, label=f"d = {d}: std {c.std():.3f}")
    a2.set_title(fit("Two random directions are nearly orthogonal"), fontsize=TITLE)
    a2.set_xlabel("cosine of the angle", fontsize=LABEL)
    a2.legend(fontsize=KEY)
    ev = m.explained
    k = np.arange(1, len(ev) + 1)
    a3.plot(k, 100 * ev, color=COLORS["x0_hat"], lw=2)
    a3.scatter([2], [100 * ev[1]], color=COLORS["diff"], zorder=3, label=f"2 axes keep {100 * ev[1]:.1f}%")
    a3.axhline(90, color="#888888", ls=":", lw=1)
    a3.set_title(fit("Variance kept by the first k principal axes"), fontsize=TITLE)
    a3.set_xlabel("k", fontsize=LABEL)
    a3.set_ylabel("% of variance", fontsize=LABEL)
    a3.legend(fontsize=KEY, loc="lower right")
    dist = m.distortions
    lo, hi = np.percentile(dist, [5, 95])
    a4.hist(dist, bins=bins, color=COLORS["x0_uncond"], alpha=0.8, density=True)
    a4.axvline(1, color="black", lw=1)
    for v in (lo, hi):
        a4.axvline(v, color=COLORS["diff"], ls="--", lw=1)
    a4.set_title(fit(f"A 2-D random view scales distances by {lo:.2f}x to {hi:.2f}x"), fontsize=TITLE)
    a4.set_xlabel(fit("drawn distance / true distance (5th, 95th percentile dashed)"), fontsize=LABEL)
    return fig
