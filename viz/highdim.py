"""Why 2-D drawings of high-dimensional vectors mislead, measured live on the data.

Facts shown (``../shared/docs/MATH.md``): in d dimensions the norm of standard-normal noise
concentrates near sqrt(d); two random directions are nearly orthogonal (cosine ~ N(0, 1/d));
two principal components keep only part of the digits' variance; a 2-D random projection
stretches and shrinks distances wildly (the Johnson-Lindenstrauss lemma only guarantees a
faithful random view with many more target dimensions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from viz.style import COLORS, FONT_SIZE, new_figure, style_axes


@dataclass(frozen=True)
class HighDimFacts:
    """Measured numbers for one data set of dimension ``dim``."""

    dim: int
    noise_norm_mean: float
    noise_norm_std: float
    cosine_std: float
    pca_two: float  # variance fraction kept by 2 components
    pca_ten: float
    pca_for_90: int  # components needed for 90 %
    distortion_5: float
    distortion_95: float


def noise_norms(dim: int, n: int = 4000, seed: int = 0) -> np.ndarray:
    """Norms of ``n`` standard-normal vectors in ``dim`` dimensions."""
    return np.linalg.norm(np.random.default_rng(seed).standard_normal((n, dim)), axis=1)


def random_cosines(dim: int, n: int = 4000, seed: int = 0) -> np.ndarray:
    """Cosines between ``n`` pairs of independent random directions in ``dim`` dimensions."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, n, dim))
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def explained_variance(x: np.ndarray) -> np.ndarray:
    """Fraction of variance kept by the first k principal components, k = 1..D (cumulative)."""
    sing = np.linalg.svd(x - x.mean(0), compute_uv=False)
    var = sing**2
    return np.cumsum(var) / var.sum()


def random_distortions(x: np.ndarray, seed: int = 0, pairs: int = 4000) -> np.ndarray:
    """Projected / true distance for random pairs of ``x`` under a 2-D Gaussian random projection
    ``R / sqrt(2)`` (lengths preserved on average)."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((2, x.shape[1])) / np.sqrt(2.0)
    i, j = rng.integers(0, len(x), (2, pairs))
    d = x[i[i != j]] - x[j[i != j]]
    true = np.linalg.norm(d, axis=1)
    keep = true > 1e-12
    return np.linalg.norm(d[keep] @ basis.T, axis=1) / true[keep]


def measure(x: np.ndarray, seed: int = 0) -> HighDimFacts:
    """All the numbers at once for data ``x`` (N, D)."""
    dim = x.shape[1]
    norms, cos = noise_norms(dim, seed=seed), random_cosines(dim, seed=seed)
    ev = explained_variance(x)
    dist = random_distortions(x, seed)
    return HighDimFacts(dim, float(norms.mean()), float(norms.std()), float(cos.std()),
                        float(ev[min(1, dim - 1)]), float(ev[min(9, dim - 1)]), int(np.searchsorted(ev, 0.9) + 1),
                        float(np.percentile(dist, 5)), float(np.percentile(dist, 95)))


def highdim_figure(x: np.ndarray, seed: int = 0) -> Figure:
    """Four panels: noise norms (2-D vs D), cosines of random directions, PCA variance, distance distortion."""
    dim = x.shape[1]
    fig = new_figure((12.8, 8.0))
    axes = fig.subplots(2, 2)
    (a1, a2), (a3, a4) = axes
    for ax in axes.flat:
        style_axes(ax, equal=False)
    bins = 60
    for d, color in ((2, COLORS["diff"]), (dim, COLORS["x0_hat"])):
        n = noise_norms(d, seed=seed)
        a1.hist(n, bins=bins, color=color, alpha=0.7, density=True, label=f"d = {d}: {n.mean():.2f} ± {n.std():.2f}")
        a1.axvline(np.sqrt(d), color=color, ls="--", lw=1)
    a1.set_title("Length of a noise vector concentrates near √d", fontsize=FONT_SIZE)
    a1.set_xlabel("‖ε‖", fontsize=FONT_SIZE - 2)
    a1.legend(fontsize=FONT_SIZE - 3)
    for d, color in ((2, COLORS["diff"]), (dim, COLORS["x0_hat"])):
        c = random_cosines(d, seed=seed)
        a2.hist(c, bins=bins, range=(-1, 1), color=color, alpha=0.7, density=True, label=f"d = {d}: std {c.std():.3f}")
    a2.set_title("Two random directions are nearly orthogonal", fontsize=FONT_SIZE)
    a2.set_xlabel("cosine of the angle", fontsize=FONT_SIZE - 2)
    a2.legend(fontsize=FONT_SIZE - 3)
    ev = explained_variance(x)
    k = np.arange(1, len(ev) + 1)
    a3.plot(k, 100 * ev, color=COLORS["x0_hat"], lw=2)
    a3.scatter([2], [100 * ev[1]], color=COLORS["diff"], zorder=3, label=f"2 axes keep {100 * ev[1]:.1f}%")
    a3.axhline(90, color="#888888", ls=":", lw=1)
    a3.set_title("Variance kept by the first k principal axes", fontsize=FONT_SIZE)
    a3.set_xlabel("k", fontsize=FONT_SIZE - 2)
    a3.set_ylabel("% of variance", fontsize=FONT_SIZE - 2)
    a3.legend(fontsize=FONT_SIZE - 3, loc="lower right")
    dist = random_distortions(x, seed)
    lo, hi = np.percentile(dist, [5, 95])
    a4.hist(dist, bins=bins, color=COLORS["x0_uncond"], alpha=0.8, density=True)
    a4.axvline(1, color="black", lw=1)
    for v in (lo, hi):
        a4.axvline(v, color=COLORS["diff"], ls="--", lw=1)
    a4.set_title(f"A 2-D random view scales distances by {lo:.2f}x to {hi:.2f}x", fontsize=FONT_SIZE)
    a4.set_xlabel("drawn distance / true distance (5th, 95th percentile dashed)", fontsize=FONT_SIZE - 2)
    return fig
