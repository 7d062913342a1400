"""Why 2-D drawings of high-dimensional vectors mislead, measured on the data: the numbers.

Facts (``../shared/docs/MATH.md``): in d dimensions the norm of standard-normal noise concentrates
near sqrt(d); two random directions are nearly orthogonal (cosine ~ N(0, 1/d)); two principal
components keep only part of the digits' variance; a 2-D random projection stretches and shrinks
distances wildly (the Johnson-Lindenstrauss lemma only guarantees a faithful random view with many
more target dimensions). ``measure`` gives the facts, ``measurements`` the draws behind them, which
``viz.figures.highdim.highdim_figure`` draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


@dataclass(frozen=True)
class HighDimMeasurements:
    """The draws behind the facts, for data of dimension ``dim``: noise norms and cosines of random
    directions in 2 and in ``dim`` dimensions, the cumulative PCA variance and the 2-D random
    projection's distance ratios."""

    dim: int
    noise_norms: dict[int, np.ndarray]  # d -> (n,) norms, d in (2, dim)
    cosines: dict[int, np.ndarray]  # d -> (n,) cosines
    explained: np.ndarray  # (D,) cumulative variance fraction of the first k components
    distortions: np.ndarray  # (pairs,) drawn / true distance


def measurements(x: np.ndarray, seed: int = 0) -> HighDimMeasurements:
    """Everything ``viz.figures.highdim.highdim_figure`` draws, for data ``x`` (N, D)."""
    dim = x.shape[1]
    return HighDimMeasurements(dim, {d: noise_norms(d, seed=seed) for d in (2, dim)},
                               {d: random_cosines(d, seed=seed) for d in (2, dim)},
                               explained_variance(x), random_distortions(x, seed))


def measure(x: np.ndarray, seed: int = 0) -> HighDimFacts:
    """All the numbers at once for data ``x`` (N, D)."""
    dim = x.shape[1]
    norms, cos = noise_norms(dim, seed=seed), random_cosines(dim, seed=seed)
    ev = explained_variance(x)
    dist = random_distortions(x, seed)
    return HighDimFacts(dim, float(norms.mean()), float(norms.std()), float(cos.std()),
                        float(ev[min(1, dim - 1)]), float(ev[min(9, dim - 1)]), int(np.searchsorted(ev, 0.9) + 1),
                        float(np.percentile(dist, 5)), float(np.percentile(dist, 95)))


__all__ = ["HighDimFacts", "HighDimMeasurements", "explained_variance", "measure", "measurements", "noise_norms",
           "random_cosines", "random_distortions"]
