"""The two data sets: scikit-learn's bundled 8x8 digits and an analytic 2-D Gaussian mixture.

Nothing is downloaded: the digits ship inside scikit-learn, and the mixture is defined here.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

DATA_NAMES = ("digits", "gmm2d")
#: each data set's class names (their number is its class count)
CLASS_NAMES = {"digits": tuple(str(i) for i in range(10)), "gmm2d": ("A", "B", "C")}


#: each data set's image shape (rows, columns); None for data that are points, not images
IMAGE_SHAPES = {"digits": (8, 8), "gmm2d": None}
#: each data set's dimension D (known before loading it: the command lines bound a run's memory with it)
DIMS = {"digits": 64, "gmm2d": 2}


def num_classes(name: str) -> int:
    """The number of classes of data set ``name``; ``ValueError`` listing the valid names."""
    if name not in CLASS_NAMES:
        raise ValueError(f"unknown data set {name!r}; valid: {', '.join(DATA_NAMES)}")
    return len(CLASS_NAMES[name])


@dataclass(frozen=True)
class Dataset:
    """Points ``x`` (N, D) in [-1, 1]-ish VP space, their labels (N,), and how to show them."""

    name: str
    x: np.ndarray  # (N, D) float64
    labels: np.ndarray  # (N,) int64
    num_classes: int
    image_shape: tuple[int, int] | None  # (8, 8) for digits, None for 2-D points
    class_names: tuple[str, ...]

    @property
    def dim(self) -> int:
        """Data dimension D."""
        return int(self.x.shape[1])


@dataclass(frozen=True)
class GaussianMixture2D:
    """A mixture of isotropic 2-D Gaussians, each component belonging to one class.

    ``p(x0) = sum_k w_k N(x0; mu_k, std_k^2 I)``; component k has class ``comp_class[k]``.
    Its noisy marginal, posterior mean and class posterior are closed-form (see ``models.engine.exact``).
    """

    means: np.ndarray  # (K, 2)
    stds: np.ndarray  # (K,)
    weights: np.ndarray  # (K,) summing to 1
    comp_class: np.ndarray  # (K,) int64
    num_classes: int

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points and their class labels."""
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        x = self.means[k] + self.stds[k, None] * rng.standard_normal((n, 2))
        return x, self.comp_class[k]


def mixture_density(gmm: GaussianMixture2D, xx: np.ndarray, yy: np.ndarray, abar: float = 1.0) -> np.ndarray:
    """Noisy marginal ``p_t(x) = sum_k w_k N(x; a mu_k, (a^2 r_k^2 + s^2) I)`` at points ``(xx, yy)``
    (any shape), with ``a = sqrt(abar)``, ``s = sqrt(1 - abar)`` (VP form, arXiv 2006.11239); abar = 1
    is the data."""
    a2, s2 = abar, 1.0 - abar
    var = a2 * gmm.stds**2 + s2  # (K,)
    mu = np.sqrt(a2) * gmm.means  # (K, 2)
    d2 = (xx[..., None] - mu[:, 0]) ** 2 + (yy[..., None] - mu[:, 1]) ** 2
    return (gmm.weights * np.exp(-d2 / (2 * var)) / (2 * np.pi * var)).sum(-1)


def make_gmm2d() -> GaussianMixture2D:
    """Three classes of three components each, on interleaved arcs of a ring (radius 0.75).

    Classes interleave so that class-conditional and unconditional predictions differ
    visibly, which is what a guidance diagram needs.
    """
    classes, per_class = num_classes("gmm2d"), 3
    k = np.arange(classes * per_class)
    angles = 2 * np.pi * k / len(k) + np.pi / 2
    radius = np.where(k % 2 == 0, 0.75, 0.5)
    means = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    comp_class = (k % classes).astype(np.int64)
    stds = np.full(len(k), 0.09)
    weights = np.full(len(k), 1.0 / len(k))
    return GaussianMixture2D(means=means, stds=stds, weights=weights, comp_class=comp_class,
                             num_classes=classes)


def sklearn_file(*parts: str) -> Optional[Path]:
    """A file shipped inside scikit-learn (``sklearn/<parts>``), found without importing scikit-learn,
    whose import (scipy, pandas, ...) takes seconds of a cold start; None where it is not there."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder).joinpath(*parts)
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=None)
def load_digits_dataset() -> Dataset:
    """scikit-learn's 1,797 8x8 digits, pixel values 0..16 scaled to [-1, 1]."""
    path = sklearn_file("datasets", "data", "digits.csv.gz")
    if path is not None:  # what sklearn.datasets.load_digits reads, read the same way
        with gzip.open(path, mode="rt", encoding="utf-8") as f:
            raw = np.loadtxt(f, delimiter=",")
        data, target = raw[:, :-1], raw[:, -1].astype(int)
    else:
        # Imported here: only when the bundled CSV is not where sklearn_file looks, and sklearn.datasets
        # costs 1.6 s on top of numpy and torch (measured with perf_counter on the 2-core box).
        from sklearn.datasets import load_digits

        d = load_digits()
        data, target = d.data, d.target
    x = data.astype(np.float64) / 8.0 - 1.0
    names = CLASS_NAMES["digits"]
    return Dataset("digits", x, target.astype(np.int64), len(names), (8, 8), names)


@lru_cache(maxsize=None)
def load_gmm2d_dataset(n: int = 3000, seed: int = 0) -> Dataset:
    """A fixed sample of ``n`` points from ``make_gmm2d()`` (for PCA, plots and evaluation)."""
    gmm = make_gmm2d()
    x, y = gmm.sample(n, np.random.default_rng(seed))
    return Dataset("gmm2d", x, y, gmm.num_classes, None, CLASS_NAMES["gmm2d"])


def load_dataset(name: str) -> Dataset:
    """Load a data set by name; raises ``ValueError`` listing the valid names."""
    if name == "digits":
        return load_digits_dataset()
    if name == "gmm2d":
        return load_gmm2d_dataset()
    raise ValueError(f"unknown data set {name!r}; valid: {', '.join(DATA_NAMES)}")
