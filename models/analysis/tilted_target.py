"""The exact target of guidance on gmm2d, and how far a sampler's output is from it.

Guidance at scale gamma aims at the tilted density ``pi_gamma(x) = p0(x) p0(y | x)^gamma / Z_gamma``
(Dhariwal & Nichol, arXiv 2105.05233, Sec. 4; Ho & Salimans, arXiv 2207.12598, Sec. 3), but CFG does
not sample it: its guided score at noise level t is the score of ``p_t(x) p_t(y | x_t)^gamma``, a
different family of densities that is not the noised version of ``pi_gamma`` (Bradley & Nakkiran,
arXiv 2408.09000; Chidambaram et al., arXiv 2409.13074). On the analytic 2-D mixture (``make_gmm2d``)
``pi_gamma`` is known exactly, so the gap can be measured:

* ``tilted_sample``: exact draws from ``pi_gamma`` for gamma >= 0, by rejection from the mixture.
  For gamma >= 0, ``p0(y | x)^gamma <= 1``; a point drawn from ``p0`` and kept with probability
  ``p0(y | x)^gamma`` is a draw from ``pi_gamma``, exactly (no tuning constant, no approximation).
  The acceptance rate is ``Z_gamma = E_p0[p0(y | x)^gamma]``, about 0.33 for every class and gamma
  here (the classes hardly overlap), so ``n`` draws cost about ``3 n`` mixture draws.
* ``responsibilities`` / ``assign_components`` / ``component_shares``: which of the mixture's
  components each point most likely came from (the largest responsibility ``w_k N(x; mu_k, r_k^2)``),
  and the share of points on each.
* ``target_shares``: the exact target's share of each component's assignment region,
  ``q_k = Pr_{x ~ pi_gamma}[argmax_j r_j(x) = k]``, by a semianalytic quadrature (below).
* ``tilted_tv``: the total variation distance ``1/2 sum_k |p_hat_k - q_k|`` between the samples'
  component shares and the target's, and ``tilted_tv_report`` with its Monte Carlo error.

How ``target_shares`` integrates (numerical quadrature on exact geometry). With one shared width
``r`` the assignment regions are convex polygons (the boundary between components k and l is the
line ``(mu_k - mu_l) . x = (|mu_k|^2 - |mu_l|^2) / 2 - r^2 log(w_k / w_l)``). ``q_k`` is
``sum_j w_j int_{V_k} N(x; mu_j, r^2 I) p0(y | x)^gamma dx`` normalised over k. Each inner integral
is taken in polar coordinates around ``mu_j``: along a ray the polygon ``V_k`` is one interval of the
radius, found exactly from the half-planes; the radial integral over that interval (out to 9 widths)
is composite Gauss-Legendre, the angle uses the trapezoid rule (periodic; its error, from the kinks
where rays meet the polygons' corners, dominates). With the defaults (128 angles, 6 x 10 radial
nodes; about 0.5 s per class and gamma, cached) the shares agree with an 8-times-finer quadrature
to about 1e-6, with a plain 801 x 801 grid integration of ``pi_gamma`` to about 3e-6, and the total
Gaussian mass at gamma = 0 is 1 to within 1e-9; at gamma = 1 the normaliser ``Z_1 = p(y) = 1/3``
(tests/models/analysis/test_tilted_target.py checks these, and a lopsided mixture where the tilt moves mass).

How many samples make ``tilted_tv`` meaningful. Even exact draws have ``tilted_tv > 0``: the share
of a component with target share q fluctuates by ``sqrt(q (1 - q) / n)``. ``expected_tv(q, n)``
gives that floor exactly (each ``|p_hat_k - q_k|`` depends only on a binomial marginal). For class B
(three blobs of about 1/3) it is about ``0.56 / sqrt(n)``: 0.025 at n = 500, 0.009 at n = 4000; at
gamma = 0 (nine blobs of about 1/9) about ``1.1 / sqrt(n)``. A measured ``tilted_tv`` says something
only when it is well above that floor: to resolve a gap of size ``delta`` take ``n`` with
``0.56 / sqrt(n) << delta`` (for the 0.3 gap of CFG at gamma = 7, n = 500 is plenty; to see a
0.02 gap, n >= 4000). The report's ``se`` is the standard deviation of the measured TV under
multinomial resampling of the samples' own shares (a parametric bootstrap): the Monte Carlo error
of the number itself, whatever sampler made it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from models.engine.data import DATA_NAMES, GaussianMixture2D, make_gmm2d
from models.engine.trajectory import Trajectory

#: data sets whose tilted density is known in closed form (the analytic mixture). The digits are
#: an empirical distribution of 1,797 points: there ``p0(y | x)`` is 0 or 1 at every training image,
#: so their "tilted density" is the class's training images for every gamma > 0, and what a trained
#: network samples has no known target; ``--sampler tilted`` is refused there.
TILTED_DATA = ("gmm2d",)
CHUNK = 8192  # mixture draws per rejection round: fixed, so n draws are a prefix of n' > n draws
MAX_DRAWS = 1 << 26  # give up (ValueError) after this many mixture draws: acceptance too low
MAX_SAMPLES = 1 << 22
BOOTSTRAP = 2000  # multinomial resamples behind the report's standard error
BOOTSTRAP_SEED = 12  # fixed: the same samples always get the same report


# ----------------------------------------------------------------------------- checks

def check_exact_target(data: str) -> None:
    """Raise ``ValueError`` (one sentence) unless ``data`` has an exact tilted target."""
    if data in TILTED_DATA:
        return
    if data in DATA_NAMES:
        raise ValueError(f"no exact tilted target for the {data} data set: exact draws of "
                         f"p0(x) p0(y | x)^gamma exist only for {', '.join(TILTED_DATA)} (the analytic mixture)")
    raise ValueError(f"unknown data set {data!r}; valid: {', '.join(DATA_NAMES)}")


def _check_label_gamma(label: int, gamma: float, gmm: GaussianMixture2D) -> tuple[int, float]:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < gmm.num_classes:
        raise ValueError(f"label must be a class in 0..{gmm.num_classes - 1}, got {label!r}")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) or not math.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number, got {gamma!r}")
    if gamma < 0:
        raise ValueError(f"the tilted target needs gamma >= 0 (for gamma < 0, p0(y | x)^gamma is unbounded and "
                         f"rejection from the mixture is not exact), got {gamma:g}")
    return int(label), float(gamma)


# ----------------------------------------------------------------------------- responsibilities

def log_joint(points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """``log w_k + log N(x; mu_k, r_k^2 I)`` for each point (N, 2) and component, (N, K)."""
    g = gmm or make_gmm2d()
    p = np.asarray(points, np.float64).reshape(-1, 2)
    var = g.stds**2  # (K,)
    sq = ((p[:, None, :] - g.means[None]) ** 2).sum(-1)  # (N, K)
    return np.log(g.weights) - sq / (2 * var) - np.log(2 * np.pi * var)


def responsibilities(points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """``r_k(x) = w_k N(x; mu_k, r_k^2 I) / p0(x)`` (N, K); rows of non-finite points are NaN."""
    lj = log_joint(points, gmm)
    ok = np.isfinite(lj).all(1)
    out = np.full(lj.shape, np.nan)
    z = lj[ok] - lj[ok].max(1, keepdims=True)
    e = np.exp(z)
    out[ok] = e / e.sum(1, keepdims=True)
    return out


def class_log_posterior(points: np.ndarray, label: int, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """``log p0(y = label | x)`` at clean points (N, 2), (N,): the log of the responsibility mass
    on the components of class ``label``."""
    g = gmm or make_gmm2d()
    lj = log_joint(points, g)
    mine = g.comp_class == int(label)
    top = lj.max(1, keepdims=True)
    return (np.log(np.exp(lj[:, mine] - top).sum(1)) - np.log(np.exp(lj - top).sum(1)))


def assign_components(points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """Index of each point's most responsible component (N,) int64; -1 for a non-finite point."""
    lj = log_joint(points, gmm)
    ok = np.isfinite(lj).all(1)
    out = np.full(len(lj), -1, np.int64)
    out[ok] = lj[ok].argmax(1)
    return out


def component_shares(points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """Share of all points (N, 2) assigned to each component (K,). Non-finite points are assigned
    to none, so the shares sum to the finite share (1 when every point is finite)."""
    g = gmm or make_gmm2d()
    k = assign_components(points, g)
    if len(k) == 0:
        raise ValueError("component shares need at least one point")
    return np.bincount(k[k >= 0], minlength=len(g.weights)) / len(k)


# ----------------------------------------------------------------------------- exact draws

def class_rng(seed: int, label: int) -> np.random.Generator:
    """The random stream of class ``label``'s exact draws under ``seed`` (independent per class)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0, int(label))))


def noise_rng(seed: int) -> np.random.Generator:
    """The random stream of ``tilted_trajectory``'s x_T noise under ``seed`` (apart from the draws')."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1,)))


def _label_array(labels, gmm: GaussianMixture2D) -> np.ndarray:
    y = np.atleast_1d(np.asarray(labels))
    if y.ndim != 1 or len(y) == 0 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be one class or a 1-D array of classes, got {labels!r}")
    if not ((0 <= y) & (y < gmm.num_classes)).all():
        raise ValueError(f"every label must be a class in 0..{gmm.num_classes - 1}, got {sorted(set(y.tolist()))}")
    return y.astype(np.int64)


def tilted_draws(labels: np.ndarray, gamma: float, seed: int, *, data: str = "gmm2d",
                 gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """Exact draws (N, 2), draw i from the tilted density of class ``labels[i]`` (N,): the samples of
    class c are ``tilted_sample(n_c, c, gamma, seed)`` in the order their labels come."""
    check_exact_target(data)
    g = gmm or make_gmm2d()
    y = _label_array(labels, g)
    out = np.empty((len(y), 2))
    for c in np.unique(y):
        mine = y == c
        out[mine] = tilted_sample(int(mine.sum()), int(c), gamma, seed, data=data, gmm=g)
    return out


def tilted_sample(n: int, label: int, gamma: float, seed: int, *, data: str = "gmm2d",
                  gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """``n`` exact draws (n, 2) of ``p0(x) p0(y = label | x)^gamma`` on ``data`` (gmm2d only).

    Rejection from the mixture: draw ``x ~ p0`` and keep it when ``U < p0(y | x)^gamma`` (U uniform),
    in rounds of ``CHUNK`` draws from the class's own stream of ``seed`` (``class_rng``); the first
    ``n`` kept points are returned, so the same seed gives the same points, ``n`` draws are the first
    ``n`` of any larger request, and the classes' draws are independent of each other. Raises ``ValueError`` for gamma < 0, a data set without an exact target, a bad
    label or ``n``, or an acceptance rate too low to finish (never for the default mixture).
    """
    check_exact_target(data)
    g = gmm or make_gmm2d()
    label, gamma = _check_label_gamma(label, gamma, g)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"n must be an integer in 1..{MAX_SAMPLES}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = class_rng(int(seed), label)
    kept: list[np.ndarray] = []
    have = drawn = 0
    while have < n:
        if drawn >= MAX_DRAWS:
            raise ValueError(f"rejection kept {have} of {drawn} draws (acceptance {have / drawn:.2g}); "
                             f"the tilted density of class {label} at gamma {gamma:g} is too far from the mixture")
        x, _ = g.sample(CHUNK, rng)  # (CHUNK, 2)
        u = rng.random(CHUNK)
        drawn += CHUNK
        # Keep with probability p(y | x)^gamma: log U < gamma log p(y | x). gamma = 0 keeps everything.
        keep = np.ones(CHUNK, bool) if gamma == 0 else np.log(u) < gamma * class_log_posterior(x, label, g)
        kept.append(x[keep])
        have += int(keep.sum())
    return np.concatenate(kept)[:n]


def tilted_trajectory(labels, gamma: float, seed: int, alphas_cumprod: Optional[np.ndarray], *,
                      data: str = "gmm2d", levels=None) -> Trajectory:
    """The exact draws as a ``Trajectory`` of one step, what ``--sampler tilted`` returns.

    ``x[1]`` (the samples) and ``x0_hat[0]`` are ``tilted_draws(labels, gamma, seed)``; ``x[0]`` is
    an x_T drawn given them by the forward process, ``sqrt(abar_T) x0 + sqrt(1 - abar_T) eps`` with
    ``eps`` from ``noise_rng(seed)`` (so the one step runs from noise to the exact draw); ``noise`` is
    zero and ``timesteps`` is ``[T - 1]``. Labels: one class or an (N,) array.

    ``levels``, a flow path's ``models.flow.path.FlowSchedule``, puts ``x[0]`` at its noisiest level
    instead (``(1 - sigma) x0 + sigma eps`` at ``sigma = 1``: pure noise); ``alphas_cumprod`` is then None."""
    g = make_gmm2d()
    check_exact_target(data)
    y = _label_array(labels, g)
    x0 = tilted_draws(y, gamma, seed, data=data)  # (N, 2)
    eps = noise_rng(seed).standard_normal(x0.shape)
    flow = levels is not None and getattr(levels, "kind", None) == "flow"
    if flow:
        abar, t = None, levels.timesteps(1)
        a, s = float(levels.a(t)[0]), float(levels.s(t)[0])
    else:
        abar = np.asarray(alphas_cumprod, np.float64)
        t = np.array([len(abar) - 1], np.int64)
        a, s = math.sqrt(abar[-1]), math.sqrt(1.0 - abar[-1])
    return Trajectory(timesteps=t, alphas_cumprod=abar, x=np.stack([a * x0 + s * eps, x0]), x0_hat=x0[None],
                      noise=np.zeros((1, *x0.shape)), labels=y, alpha=np.array([a, 1.0]), sigma=np.array([s, 0.0]),
                      meta={"path": "flow" if flow else "vp"})


# ----------------------------------------------------------------------------- the target's shares

def _gauss_legendre(panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of composite Gauss-Legendre on [0, 1] (panels * order,)."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, 1.0, panels + 1)
    lo, width = edges[:-1, None], np.diff(edges)[:, None]
    return (lo + width * (x + 1) / 2).ravel(), (width * w / 2).ravel()


def _cell_intervals(centre: np.ndarray, dirs: np.ndarray, k: int, gmm: GaussianMixture2D) -> tuple[np.ndarray, np.ndarray]:
    """Along each ray ``centre + rho * dir`` (dirs (M, 2)), the interval ``[lo, hi]`` of rho >= 0
    inside component k's assignment region (a convex polygon: equal widths); lo > hi when empty."""
    r2 = float(gmm.stds[0]) ** 2
    lo = np.zeros(len(dirs))
    hi = np.full(len(dirs), np.inf)
    for l in range(len(gmm.weights)):
        if l == k:
            continue
        normal = gmm.means[k] - gmm.means[l]  # region k: normal . x >= b
        b = ((gmm.means[k] ** 2).sum() - (gmm.means[l] ** 2).sum()) / 2 - r2 * math.log(gmm.weights[k] / gmm.weights[l])
        slope, gap = dirs @ normal, b - float(normal @ centre)  # slope * rho >= gap
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = gap / slope
        lo = np.where(slope > 0, np.maximum(lo, bound), lo)
        hi = np.where(slope < 0, np.minimum(hi, bound), hi)
        blocked = (slope == 0) & (gap > 0)
        hi = np.where(blocked, -1.0, hi)
    return lo, hi


def _region_masses(label: int, gamma: float, gmm: GaussianMixture2D, angles: int, panels: int, order: int,
                   reach: float = 9.0) -> np.ndarray:
    """``M[j, k] = int_{V_k} N(x; mu_j, r^2 I) p0(label | x)^gamma dx`` by polar quadrature (K, K),
    out to ``reach`` widths from each mean (the Gaussian mass beyond 9 widths is e^-40.5)."""
    K = len(gmm.weights)
    r = float(gmm.stds[0])
    theta = 2 * np.pi * np.arange(angles) / angles
    dirs = np.stack([np.cos(theta), np.sin(theta)], 1)  # (M, 2)
    nodes, weights = _gauss_legendre(panels, order)  # on [0, 1]
    out = np.zeros((K, K))
    for j in range(K):
        for k in range(K):
            lo, hi = _cell_intervals(gmm.means[j], dirs, k, gmm)
            lo, hi = np.minimum(lo, reach * r), np.minimum(hi, reach * r)
            span = np.where(hi > lo, hi - lo, 0.0)  # (M,) empty interval: no mass
            if not (span > 0).any():
                continue
            rho = lo[:, None] + span[:, None] * nodes[None]  # (M, Q)
            pts = gmm.means[j] + rho[..., None] * dirs[:, None, :]  # (M, Q, 2)
            # The 2-D Gaussian in polar coordinates: rho / r^2 exp(-rho^2 / (2 r^2)) drho dtheta / (2 pi).
            f = rho / (r * r) * np.exp(-rho**2 / (2 * r * r))
            if gamma != 0:
                f = f * np.exp(gamma * class_log_posterior(pts.reshape(-1, 2), label, gmm)).reshape(rho.shape)
            out[j, k] = float(((f * weights[None]).sum(1) * span).sum() / angles)
    return out


def target_shares(label: int, gamma: float, gmm: Optional[GaussianMixture2D] = None, *,
                  angles: int = 128, panels: int = 6, order: int = 10) -> np.ndarray:
    """The exact target's share of each component's assignment region (K,) at ``gamma`` >= 0:
    ``q_k = Pr[argmax_j r_j(x) = k]`` for ``x ~ p0(x) p0(label | x)^gamma`` (quadrature: module doc).
    Needs components of one shared width (true for ``make_gmm2d``); cached for the default mixture."""
    if gmm is None:
        label, gamma = _check_label_gamma(label, gamma, make_gmm2d())
        return _default_target_shares(label, gamma, angles, panels, order).copy()
    return _target_shares(label, gamma, gmm, angles, panels, order)


@lru_cache(maxsize=256)
def _default_target_shares(label: int, gamma: float, angles: int, panels: int, order: int) -> np.ndarray:
    return _target_shares(label, gamma, make_gmm2d(), angles, panels, order)


def _target_shares(label, gamma, gmm, angles, panels, order) -> np.ndarray:
    label, gamma = _check_label_gamma(label, gamma, gmm)
    if np.ptp(gmm.stds) != 0:
        raise ValueError("target_shares needs mixture components of one shared width")
    masses = _region_masses(label, gamma, gmm, angles, panels, order)  # (K, K)
    per_region = gmm.weights @ masses  # (K,)
    return per_region / per_region.sum()


def normaliser(label: int, gamma: float, gmm: Optional[GaussianMixture2D] = None, **quadrature) -> float:
    """``Z_gamma = E_p0[p0(label | x)^gamma]``: the rejection sampler's acceptance rate."""
    g = gmm or make_gmm2d()
    label, gamma = _check_label_gamma(label, gamma, g)
    masses = _region_masses(label, gamma, g, quadrature.get("angles", 128), quadrature.get("panels", 6),
                            quadrature.get("order", 10))
    return float(g.weights @ masses.sum(1))


# ----------------------------------------------------------------------------- distance and its error

def batch_target_shares(labels, gamma: float, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """The expected component shares (K,) of exact draws for a batch whose samples carry ``labels``
    (one class, or an (N,) array): ``sum_c (n_c / N) target_shares(c, gamma)``. Each component
    belongs to one class, so the TV against it is about the label-weighted mean of the per-class TVs."""
    g = gmm or make_gmm2d()
    y = _label_array(labels, g)
    counts = np.bincount(y, minlength=g.num_classes) / len(y)
    return sum(counts[c] * target_shares(int(c), gamma, gmm) for c in np.flatnonzero(counts))


def _tv(shares: np.ndarray, target: np.ndarray) -> float:
    """``1/2 (sum_k |p_k - q_k| + off)`` where ``off = 1 - sum_k p_k`` is the non-finite share."""
    off = max(0.0, 1.0 - float(shares.sum()))
    return 0.5 * (float(np.abs(shares - target).sum()) + off)


def tilted_tv(samples: np.ndarray, label, gamma: float, gmm: Optional[GaussianMixture2D] = None) -> float:
    """Total variation distance between the component shares of ``samples`` (N, 2) and the exact
    target's at ``gamma`` (``target_shares``; ``batch_target_shares`` when ``label`` is an (N,) array
    of the samples' classes), in [0, 1]. Non-finite samples sit in no component and count fully
    toward the distance. Its Monte Carlo error: ``tilted_tv_report``."""
    return _tv(component_shares(samples, gmm), batch_target_shares(label, gamma, gmm))


def expected_tv(target: np.ndarray, n: int) -> float:
    """``E[tilted_tv]`` for ``n`` exact draws: ``1/2 sum_k E|B_k / n - q_k|``, ``B_k ~ Binomial(n, q_k)``,
    summed exactly over each binomial (the expectation of a sum needs only the marginals)."""
    q = np.asarray(target, np.float64)
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    x = np.arange(n + 1)
    log_choose = np.array([math.lgamma(n + 1)]) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in x])
    total = 0.0
    for qk in q:
        if qk <= 0 or qk >= 1:
            continue  # a share of 0 or 1 never fluctuates
        pmf = np.exp(log_choose + x * math.log(qk) + (n - x) * math.log1p(-qk))
        total += float((pmf * np.abs(x / n - qk)).sum())
    return 0.5 * total


def _binomial_pmf(n: int, q: float) -> np.ndarray:
    """The pmf (n + 1,) of Binomial(n, q)."""
    x = np.arange(n + 1)
    if q <= 0 or q >= 1:
        return (x == (n if q >= 1 else 0)).astype(np.float64)
    log_choose = math.lgamma(n + 1) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in x])
    return np.exp(log_choose + x * math.log(q) + (n - x) * math.log1p(-q))


def expected_tv_by_class(targets: np.ndarray, counts) -> float:
    """``E[tilted_tv]`` of exact draws for a batch with fixed class counts ``counts`` (C,): class c's
    ``counts[c]`` samples are a multinomial draw from ``targets[c]`` (C, K). A component's count is then
    a sum of independent binomials, one per class (its pmf their convolution), so again the
    expectation needs only each component's marginal. Treating the batch as one multinomial of the
    mixed shares (``expected_tv``) overstates it: the class counts do not fluctuate."""
    targets = np.asarray(targets, np.float64)
    counts = [int(c) for c in counts]
    n = sum(counts)
    if n < 1:
        raise ValueError(f"the batch must hold at least one sample, got counts {counts}")
    mixed = sum(c * q for c, q in zip(counts, targets)) / n
    total = 0.0
    for k in range(targets.shape[1]):
        pmf = np.ones(1)
        for c, q in zip(counts, targets):
            if c:
                pmf = np.convolve(pmf, _binomial_pmf(c, float(q[k])))
        total += float((pmf * np.abs(np.arange(len(pmf)) / n - mixed[k])).sum())
    return 0.5 * total


def exact_tv_quantile(target: np.ndarray, n: int, level: float = 0.99, draws: int = 4000, seed: int = 0) -> float:
    """The ``level`` quantile of ``tilted_tv`` for ``n`` exact draws (simulated: ``draws`` multinomial
    samples of ``n`` from ``target``, fixed ``seed``). A sampler of the target stays below it with
    probability ``level``. By the triangle inequality a sampler whose expected shares lie ``delta`` (in TV)
    from the target stays below it plus ``delta`` with about that probability (its shares fluctuate
    around its own expected shares as much as exact draws do around the target's, to first order)."""
    q = np.asarray(target, np.float64)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    counts = np.random.default_rng(seed).multinomial(int(n), q / q.sum(), size=int(draws)) / int(n)
    return float(np.quantile(0.5 * np.abs(counts - q[None]).sum(1), level))


@dataclass(frozen=True)
class TiltedTV:
    """``tilted_tv`` with what it needs to be read: ``se`` the standard deviation of the measured TV
    under multinomial resampling of the samples' own shares (its Monte Carlo error), ``floor`` the
    expected TV of ``n`` exact draws (what a perfect sampler scores at this ``n``), the samples'
    ``shares`` and the ``target`` shares per component, and ``n``."""

    tv: float
    se: float
    floor: float
    n: int
    shares: np.ndarray  # (K,)
    target: np.ndarray  # (K,)


def tilted_tv_report(samples: np.ndarray, label, gamma: float,
                     gmm: Optional[GaussianMixture2D] = None) -> TiltedTV:
    """``tilted_tv`` of ``samples`` (N, 2), its Monte Carlo error and the exact-draw floor.

    ``se`` comes from ``BOOTSTRAP`` multinomial resamples (fixed seed: the same samples give the same
    report) of the samples' shares, the non-finite share as one more cell. For a batch of several
    classes (``label`` an (N,) array) both treat the batch as one multinomial, which slightly
    overstates them (its classes' counts are fixed); the floor does not: it is computed from the
    batch's per-class counts (``expected_tv_by_class``)."""
    g = gmm or make_gmm2d()
    shares = component_shares(samples, g)
    target = batch_target_shares(label, gamma, gmm)
    n = int(np.asarray(samples).reshape(-1, 2).shape[0])
    y = _label_array(label, g) if np.ndim(label) else np.full(n, int(label))
    per_class = np.bincount(y, minlength=g.num_classes)
    present = np.flatnonzero(per_class)
    floor = (expected_tv(target, n) if len(present) == 1 else
             expected_tv_by_class(np.stack([target_shares(int(c), gamma, gmm) for c in present]), per_class[present]))
    cells = np.append(shares, max(0.0, 1.0 - shares.sum()))
    cells = cells / cells.sum()
    counts = np.random.default_rng(BOOTSTRAP_SEED).multinomial(n, cells, size=BOOTSTRAP) / n  # (R, K+1)
    resampled = 0.5 * (np.abs(counts[:, :-1] - target[None]).sum(1) + counts[:, -1])
    return TiltedTV(tv=_tv(shares, target), se=float(resampled.std(ddof=1)), floor=floor, n=n,
                    shares=shares, target=target)
