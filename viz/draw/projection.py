"""Maps from the data space (D dimensions) to the 2-D screen, each saying what it loses.

* ``pca``: principal components of the run's own points (its x_t and x0_hat over every step);
  ``pca_data``: principal components of the data set instead (the same axes for every run).
* ``random``: a seeded Gaussian random projection, scaled so lengths are preserved on average.
* ``plane``: the exact affine plane through three points (x_t and two predictions). Vectors lying
  in that plane keep their true lengths and angles. An animation of one such plane per step turns
  (or reflects) each step's basis within its plane so that the points land as near as they can to
  where the step before drew them (``aligned``): the picture does not spin or flip as the plane changes.
For a 2-D data set every view is the identity, which is exact.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np

PROJECTION_NAMES = ("pca", "pca_data", "random", "plane")


def for_whole_paths(projection: str) -> str:
    """The projection the app draws whole paths in (the trajectory view, the several-gamma overlay)
    when ``projection`` is chosen: the exact plane of each step is a different plane at every
    step, so whole paths fall back to the run's PCA; every other projection is kept."""
    return "pca" if projection == "plane" else projection


@dataclass(frozen=True)
class Projection:
    """An affine map ``p -> (p - origin) @ basis.T`` from D dimensions to 2."""

    kind: str
    origin: np.ndarray  # (D,)
    basis: np.ndarray  # (2, D)
    note: str  # what this view keeps and loses, in one sentence for the screen
    exact: bool = False  # True when distances between in-view points are kept exactly
    explained_variance_ratio: tuple[float, float] | None = None

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Project an array (..., D) to (..., 2)."""
        return (np.asarray(points, np.float64) - self.origin) @ self.basis.T

    def vectors(self, v: np.ndarray) -> np.ndarray:
        """Project displacement vectors (..., D) to (..., 2): no origin shift."""
        return np.asarray(v, np.float64) @ self.basis.T


ONE_THREAD_SVD = 4096 * 64  # elements: up to here one BLAS thread gives the very same bits (checked up to 7000 x 64)
_svd_lock = threading.Lock()  # OpenBLAS's thread count is process-wide: one SVD at a time sets and restores it
_openblas = []  # numpy's OpenBLAS thread pool, found on first use (threadpoolctl ships with scikit-learn)


def _one_blas_thread():
    """A context that runs numpy's OpenBLAS on one thread, or None without threadpoolctl."""
    if not _openblas:
        try:
            from threadpoolctl import ThreadpoolController

            _openblas.append(ThreadpoolController().select(internal_api="openblas"))
        except Exception:  # no threadpoolctl, or an unknown BLAS: leave the threads alone
            _openblas.append(None)
    return _openblas[0].limit(limits=1) if _openblas[0] else None


def small_svd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.linalg.svd(x, full_matrices=False)``, a small ``x`` (a run's points) on one BLAS thread.

    LAPACK's SVD makes dozens of small BLAS calls; with OpenBLAS's 2 threads on a busy 2-core
    server each call waits for its second thread to be scheduled, and a 200 x 64 SVD took 80-250 ms
    instead of 2 ms (benchmarks/RESULTS.md). At these sizes one thread gives bit-identical results;
    larger inputs keep the default threads. The lock keeps a concurrent SVD (another app session)
    from running while the thread count is lowered, so every result is the same bits every time."""
    with _svd_lock:
        limit = _one_blas_thread() if x.size <= ONE_THREAD_SVD else None
        if limit is None:
            return np.linalg.svd(x, full_matrices=False)
        with limit:
            return np.linalg.svd(x, full_matrices=False)


def identity_projection(dim: int = 2) -> Projection:
    """The 2-D data set itself: exact."""
    if dim != 2:
        raise ValueError(f"the identity view needs 2-D data, got D = {dim}")
    return Projection("identity", np.zeros(2), np.eye(2), "2-D data: this picture is exact, nothing is projected.", True)


def pca_projection(points: np.ndarray) -> Projection:
    """The two leading principal axes of ``points`` (N, D); the note gives the variance kept."""
    x = np.asarray(points, np.float64).reshape(-1, np.shape(points)[-1])
    if x.shape[1] == 2:
        return identity_projection()
    mean = x.mean(0)
    _, sing, vt = small_svd(x - mean)
    var = sing**2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    # Fix each axis's sign (largest |loading| positive) so the picture does not flip between runs.
    basis = vt[:2] * np.sign(vt[:2, [np.argmax(np.abs(r)) for r in vt[:2]]].diagonal())[:, None]
    kept = float(ratio[:2].sum())
    return Projection("pca", mean, basis,
                      f"PCA: these two axes keep {100 * kept:.1f}% of the variance; the other "
                      f"{100 * (1 - kept):.1f}% is flattened onto the screen.",
                      False, (float(ratio[0]), float(ratio[1])))


def random_projection(dim: int, seed: int = 0, reference: np.ndarray | None = None) -> Projection:
    """Gaussian random projection ``R / sqrt(2)``, R (2, D) standard normal from ``seed``.

    If ``reference`` points are given, the note quotes the 5th..95th percentile of how much
    pairwise distances between them are stretched or shrunk.
    """
    if dim == 2:
        return identity_projection()
    basis = np.random.default_rng(seed).standard_normal((2, dim)) / np.sqrt(2.0)
    note = "Random projection: distances are kept only on average, each pair is stretched or shrunk."
    if reference is not None:
        lo, hi = distance_distortion(reference, basis)
        note = (f"Random projection: pairwise distances are scaled by {lo:.2f}x to {hi:.2f}x "
                f"(5th to 95th percentile); a faithful random view would need far more than 2 axes.")
    return Projection("random", np.zeros(dim), basis, note, False)


def distance_distortion(points: np.ndarray, basis: np.ndarray, pairs: int = 2000, seed: int = 0) -> tuple[float, float]:
    """5th and 95th percentile of projected / true distance over random pairs of ``points``."""
    x = np.asarray(points, np.float64).reshape(-1, np.shape(points)[-1])
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(x), pairs), rng.integers(0, len(x), pairs)
    keep = i != j
    d = x[i[keep]] - x[j[keep]]
    true = np.linalg.norm(d, axis=1)
    ok = true > 1e-12
    ratio = np.linalg.norm(d[ok] @ basis.T, axis=1) / true[ok]
    return float(np.percentile(ratio, 5)), float(np.percentile(ratio, 95))


def aligned(proj: Projection, points: np.ndarray, target: np.ndarray) -> Projection:
    """``proj`` with its basis turned or reflected within its own plane so that ``points`` (N, D) land
    as close as they can to ``target`` (N, 2), where the frame before drew them (orthogonal Procrustes):
    the basis ``R B`` for the orthogonal 2 x 2 ``R`` that minimises ``|Q R^T - P|`` (Frobenius; Q the
    points in ``proj``, P the target), ``R = U V^T`` from the SVD ``P^T Q = U S V^T``. The rows stay
    orthonormal and span the same plane, so the view stays exact: only which way is right and which is
    up changes. Points that lie (nearly) on one line fit a mirror image as well as the picture itself:
    there ``R`` only turns (a reflection only where it fits better)."""
    q = proj(points)
    p = np.asarray(target, np.float64).reshape(q.shape)
    u, s, vt = np.linalg.svd(p.T @ q)
    if not s[0] > 0:
        return proj  # every point on the origin: nothing to line up
    if s[1] <= 0.05 * s[0]:
        u = u @ np.diag([1.0, np.sign(np.linalg.det(u @ vt))])  # a turn, det +1
    return replace(proj, basis=(u @ vt) @ proj.basis)


def plane_projection(origin: np.ndarray, p: np.ndarray, q: np.ndarray) -> Projection:
    """The affine plane through ``origin``, ``p`` and ``q`` (each (D,)), with an orthonormal basis:
    the first axis points from ``origin`` to ``p``. Points in the plane keep exact distances.

    If the three points are (nearly) collinear, the second axis is any unit vector orthogonal to
    the first, and the view is still exact for them.
    """
    o, p, q = (np.asarray(v, np.float64) for v in (origin, p, q))
    if o.shape[0] == 2:
        return identity_projection()
    u = p - o
    if np.linalg.norm(u) < 1e-12:
        u, q = q - o, p
    if np.linalg.norm(u) < 1e-12:
        u = np.eye(len(o))[0]
    e1 = u / np.linalg.norm(u)
    w = (q - o) - np.dot(q - o, e1) * e1
    if np.linalg.norm(w) < 1e-9 * max(1.0, np.linalg.norm(q - o)):
        w = np.eye(len(o))[np.argmin(np.abs(e1))]
        w = w - np.dot(w, e1) * e1
    e2 = w / np.linalg.norm(w)
    return Projection("plane", o, np.stack([e1, e2]),
                      "Exact plane through x_t and the two predictions: lengths and angles of the "
                      "guidance construction are true, not projected.", True)
