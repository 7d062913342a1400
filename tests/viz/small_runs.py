"""Small exact runs (``STEPS`` = 6) and the arrows read off a drawn view: shared by the view tests
(tests/viz/views, tests/viz/draw/test_geometry.py)."""

import numpy as np
from matplotlib.patches import FancyArrowPatch

from models.engine.pipeline import SampleSpec, run
from viz.draw.drawing import arrow_ends


STEPS = 6


def exact_run(data="digits", guidance="cfg", gamma=3.0, sampler="ddpm", steps=STEPS, batch=3, seed=0, eta=0.0, label=2):
    return run(SampleSpec(model="exact", data=data, sampler=sampler, guidance=guidance, gamma=gamma, label=label,
                          steps=steps, batch=batch, seed=seed, eta=eta))


def arrows(fig_or_view):
    """gid -> visible FancyArrowPatch of the main view (separate solid heads left out)."""
    ax = fig_or_view.ax if hasattr(fig_or_view, "ax") else fig_or_view.axes[0]
    return {p.get_gid(): p for p in ax.patches
            if isinstance(p, FancyArrowPatch) and p.get_visible() and ":" not in str(p.get_gid())}


def length(arrow):
    a, b = arrow_ends(arrow)
    return float(np.linalg.norm(b - a))
