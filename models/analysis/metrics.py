"""How good are samples? Plain numpy in, one float out (``models.analysis.evaluate`` samples and calls these).

* ``accuracy``: the fraction of samples that an independent judge assigns to the requested class.
  The judge is a scikit-learn RBF support-vector machine fitted on the clean data set; guidance
  never sees it, so guidance cannot game it the way it can game its own classifier.
* ``diversity``: the mean pairwise Euclidean distance between samples of the same requested class,
  averaged over classes. Guidance that collapses each class onto a few prototypes lowers it.
* ``nearest_train``: the median, over samples, of the Euclidean distance to the closest training
  point. Near 0 means the model reproduces training data (the exact denoiser memorises).

Samples that are not finite (a diverging guidance scale) count as misclassified and are left out
of ``diversity`` and ``nearest_train``. No torch here: the figures import ``METRIC_NAMES``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from models.engine.data import load_dataset

METRIC_NAMES = ("accuracy", "diversity", "nearest_train")


@lru_cache(maxsize=None)
def reference_classifier(data: str):
    """The independent judge for ``data``: an RBF SVC fitted on the clean data set (cached)."""
    # Imported here, not at the top: sklearn.svm costs 1.1 s on top of numpy and torch (measured with
    # perf_counter on the 2-core box), and the app imports this module at start but needs the judge only
    # on the trade-off page.
    from sklearn.svm import SVC

    d = load_dataset(data)
    return SVC(kernel="rbf", C=10.0, gamma="scale").fit(d.x, d.labels)


def accuracy(samples: np.ndarray, labels: np.ndarray, data: str) -> float:
    """Fraction of ``samples`` (N, D) that the reference classifier puts in class ``labels`` (N,).

    Non-finite samples count as wrong.
    """
    samples, labels = np.asarray(samples, np.float64), np.asarray(labels)
    ok = np.isfinite(samples).all(axis=1)
    if not ok.any():
        return 0.0
    predicted = reference_classifier(data).predict(samples[ok])
    return float((predicted == labels[ok]).sum() / len(samples))


def diversity(samples: np.ndarray, labels: np.ndarray) -> float:
    """Mean pairwise Euclidean distance within each requested class, averaged over classes.

    Classes with fewer than two (finite) samples are skipped; NaN when none is left.
    """
    samples, labels = np.asarray(samples, np.float64), np.asarray(labels)
    ok = np.isfinite(samples).all(axis=1)
    per_class = []
    for c in np.unique(labels):
        x = samples[ok & (labels == c)]  # (n, D)
        n = len(x)
        if n < 2:
            continue
        dist = np.sqrt(np.maximum(_sq_dists(x, x), 0.0))  # (n, n)
        per_class.append(dist.sum() / (n * (n - 1)))  # the diagonal is zero
    return float(np.mean(per_class)) if per_class else math.nan


def nearest_train(samples: np.ndarray, train: np.ndarray) -> float:
    """Median over (finite) samples of the Euclidean distance to the closest row of ``train``."""
    samples = np.asarray(samples, np.float64)
    samples = samples[np.isfinite(samples).all(axis=1)]
    if len(samples) == 0:
        return math.nan
    train = np.asarray(train, np.float64)
    closest = np.concatenate([_sq_dists(chunk, train).min(axis=1) for chunk in np.array_split(samples, max(1, len(samples) // 512))])
    return float(np.median(np.sqrt(np.maximum(closest, 0.0))))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b))."""
    return (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None, :]


__all__ = ["METRIC_NAMES", "accuracy", "diversity", "nearest_train", "reference_classifier"]
