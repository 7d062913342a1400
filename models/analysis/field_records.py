"""The whole guidance field on gmm2d, the numbers without the model: what a field picture is made of.

A path shows where one sample went; the field shows the guided update direction over a grid, at a
chosen timestep t and guidance scale gamma, for any method ``models.guidance.make_guidance`` builds.

Symbols (VP form, ``models.engine.schedule``): ``x_t = a x0 + s eps``, ``sigma = s / a``; D_u and D_c are the
unconditional and conditional x0 predictions, ``x0_g`` the guided one.

Two fields (``QUANTITIES``):

* ``score`` (the default): the guided score ``(a x0_g - x_t) / s^2`` (Tweedie, arXiv 2011.13456). It is
  the default because, for CFG with the exact model, it *is* the gradient of the log of the density
  drawn under it: ``(1 - gamma) grad log p_t(x) + gamma grad log p_t(x | y) = grad log [p_t(x) p_t(y | x)^gamma]``
  (Ho & Salimans, arXiv 2207.12598, Sec. 3). Its arrows climb the shaded tilted density and its sinks
  are that density's modes, at every noise level; the samplers integrate exactly this vector.
* ``x0``: the guided displacement ``x0_g - x_t``, "where the model says the clean point is". It
  mixes scales (x0 lives at clean scale, x_t at noisy scale ``a``), so its arrows cross the noisy
  density's contours at an angle: read it together with the prediction views.

``tilted_log_density``: ``log p_t(x) + gamma log p_t(y | x)`` in closed form (``p_t`` is the mixture
convolved with the noise at t: component k is ``N(a mu_k, (a^2 r_k^2 + s^2) I)``). At gamma = 0 it is the
normalised ``log p_t``; otherwise it is unnormalised (its normaliser has no closed form).

``flow_sinks``: where following a field at a *fixed* noise level ends, and which grid points end
where (the basins), with the share of the tilted density's mass in each basin. Samplers lower the
noise as they go, so a basin is where the field points *now*. On gmm2d at gamma = 7 (class B), exact
model, the guided field has a single sink, past class B's outer blob, at every level from the noisiest
down to t ~ 185 (sigma ~ 0.66); a second sink opens there (26 % of the tilted mass at t = 180), a third
at t ~ 125, and the outer blob's basin still holds 86 % at t = 100 and 47 % at t = 50, the three
shares evening out to a third only near t = 20. A sampler's points follow these basins while the
noise falls, and little noise is left to move them across once the other basins open: 100 DDPM steps
put about 64 % of the samples on the outer blob where the tilted density puts 33 %.

APG's momentum (``apg_beta``) belongs to a sampling run, not to a point: every evaluation builds a
fresh wrapper (``models.analysis.field``), so the field shows one step's guidance with no history, the same at
every grid point.
CFG++ (``cfgpp``) re-noises along D_u in its DDIM step; its field is that of its x0 prediction
``D_u + lambda (D_c - D_u)``. Everything is float64 on the CPU and deterministic.

This module holds the settings (``FieldSpec``), the result (``GuidedField``), the exact tilted density
and the basins, in numpy alone, so that the figures (``viz.figures.field``) never load torch;
``models.analysis.field`` evaluates the denoisers and fills a ``GuidedField``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from models.engine.data import GaussianMixture2D, make_gmm2d
from models.engine.schedule import Schedule
from models.guidance import check_values, defaults, settings_for

QUANTITIES = ("score", "x0")
DEFAULT_QUANTITY = "score"
FIELD_DATA = "gmm2d"
#: the view's half-width: every clean component out to ~9 of its standard deviations, the same at every t
VIEW_HALF = float(np.max(np.linalg.norm(make_gmm2d().means, axis=1)) + 0.85)
MAX_GRID = 128
REACH = 3.2  # the basins' box holds every component of p_t out to this many of its standard deviations
BASIN_GRID = 64  # points a side of the grid the basins are found on
#: the animation over t: frames (noise levels) and frames per second, the defaults of
#: ``python -m viz.export --figure field`` and the page's GIF (same settings, same bytes)
FIELD_GIF_FRAMES, FIELD_GIF_FPS = 40, 4.0


def check_data(data: str) -> None:
    """``ValueError`` unless ``data`` is gmm2d: the only data set with a plane to draw the field in and
    an exact density to draw it over."""
    if data != FIELD_DATA:
        raise ValueError(f"the guidance field is drawn on gmm2d only (a 2-D data set with an exact density); "
                         f"{data!r} has {'64 dimensions' if data == 'digits' else 'no such plane'}")


@dataclass(frozen=True)
class FieldSpec:
    """Everything that decides a field picture (hashable: a cache key).

    ``t`` is a timestep in 0..T-1 (the field needs noise: at t = -1, the clean data, the score's
    ``1 / s^2`` is undefined); ``settings`` are ``(name, value)`` pairs of ``models.engine.settings``.
    """

    model: str = "exact"
    guidance: str = "cfg"
    gamma: float = 7.0
    label: int = 1
    t: int = 150
    quantity: str = DEFAULT_QUANTITY
    n: int = 25
    settings: tuple[tuple[str, float], ...] = ()
    data: str = FIELD_DATA

    def validate(self, schedule_T: int = 1000) -> "FieldSpec":
        """Raise ``ValueError`` (one sentence) for any bad number or name but the model's and the
        method's (``models.analysis.field.check_spec`` checks those, against the registries); return self."""
        check_data(self.data)
        if self.quantity not in QUANTITIES:
            raise ValueError(f"unknown field quantity {self.quantity!r}; valid: {', '.join(QUANTITIES)}")
        for name, lo, hi in (("t", 0, schedule_T - 1), ("label", 0, make_gmm2d().num_classes - 1), ("n", 2, MAX_GRID)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
                raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
        check_values({"gamma": self.gamma, **dict(self.settings)})
        return self

    @property
    def tilt_gamma(self) -> float:
        """The exponent of the tilted density this method aims at: gamma, 1 for ``none`` (the
        conditional model), and the setting that replaces gamma where one does (CFG++'s lambda)."""
        if self.guidance == "none":
            return 1.0
        values = {**defaults(), **dict(self.settings)}
        for setting in settings_for(self.guidance):
            if setting.replaces == "gamma":
                return float(values[setting.name])
        return float(self.gamma)


def to_quantity(x0: np.ndarray, x: np.ndarray, a: float, s: float, quantity: str = DEFAULT_QUANTITY) -> np.ndarray:
    """The field vector from an x0 prediction: the score ``(a x0 - x) / s^2`` or the displacement ``x0 - x``."""
    if quantity == "score":
        return (a * x0 - x) / s**2
    if quantity == "x0":
        return x0 - x
    raise ValueError(f"unknown field quantity {quantity!r}; valid: {', '.join(QUANTITIES)}")



# ----------------------------------------------------------------------------- the tilted density

def component_params(t: int, schedule: Schedule, gmm: Optional[GaussianMixture2D] = None):
    """``(centres a mu_k (K, 2), variances a^2 r_k^2 + s^2 (K,))`` of the noisy mixture at timestep t."""
    gmm = gmm or make_gmm2d()
    abar = float(schedule.abar(int(t)))
    return math.sqrt(abar) * gmm.means, abar * gmm.stds**2 + (1.0 - abar)


def log_terms(points: np.ndarray, t: int, label: int, schedule: Schedule,
              gmm: Optional[GaussianMixture2D] = None) -> tuple[np.ndarray, np.ndarray]:
    """``(log p_t(x), log p_t(y | x))`` at ``points`` (N, 2), each (N,), in closed form."""
    gmm = gmm or make_gmm2d()
    centres, var = component_params(t, schedule, gmm)
    p = np.asarray(points, np.float64).reshape(-1, 2)
    d2 = ((p[:, None, :] - centres[None]) ** 2).sum(-1)  # (N, K)
    log_joint = np.log(gmm.weights) - d2 / (2 * var) - np.log(2 * np.pi * var)  # (N, K)
    log_p = np.logaddexp.reduce(log_joint, axis=1)
    return log_p, np.logaddexp.reduce(log_joint[:, gmm.comp_class == int(label)], axis=1) - log_p


def tilted_log_density(points: np.ndarray, t: int, label: int, gamma: float, schedule: Schedule,
                       gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """``log p_t(x) + gamma log p_t(y | x)`` at ``points`` (N, 2), (N,): exact, normalised at gamma = 0."""
    log_p, log_py = log_terms(points, t, label, schedule, gmm)
    return log_p + float(gamma) * log_py


def peak_one(logd: np.ndarray) -> np.ndarray:
    """``exp(logd)`` divided by its largest value."""
    return np.exp(logd - logd.max())


# ----------------------------------------------------------------------------- grids

def square_grid(half: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(xx, yy)``: n x n points over the square ``[-half, half]^2`` (xy indexing: ``xx[i, j] = x_j``)."""
    axis = np.linspace(-half, half, n)
    return np.meshgrid(axis, axis)


def basin_half(t: int, schedule: Schedule) -> float:
    """Half-width of the box the basins are found on: the view, widened at high noise to hold every
    component of ``p_t`` out to ``REACH`` of its standard deviations."""
    centres, var = component_params(t, schedule)
    return max(VIEW_HALF, float(np.max(np.linalg.norm(centres, axis=1) + REACH * np.sqrt(var))))


# ----------------------------------------------------------------------------- sinks and basins

@dataclass(frozen=True)
class Basins:
    """Where following a field at a fixed noise level ends.

    ``sinks`` (S, 2) where the flow ends, ``share`` (S,) the share of the density's mass (on the
    basin grid) that flows to each, ``labels`` (m, m) which sink each point of the grid
    ``(xx, yy)`` flows to, ``settled`` whether the sinks' positions had stopped moving."""

    sinks: np.ndarray
    share: np.ndarray
    labels: np.ndarray
    xx: np.ndarray
    yy: np.ndarray
    settled: bool
    weights: Optional[np.ndarray] = None  # (m, m) the density whose mass ``share`` counts

    def main(self, min_share: float = 0.01) -> np.ndarray:
        """Indices of the sinks holding at least ``min_share`` of the mass, largest first."""
        order = np.argsort(-self.share, kind="stable")
        return order[self.share[order] >= min_share]

    def main_labels(self, min_share: float = 0.01) -> np.ndarray:
        """``labels`` with each basin of a sink under ``min_share`` given to the main basins around it
        (grown into it from its edge, a step at a time), for drawing the main basins' boundaries."""
        out = self.labels.copy()
        open_ = ~np.isin(out, self.main(min_share))
        if open_.all():
            return out
        while open_.any():
            for axis in (0, 1):
                for shift in (1, -1):
                    near = np.roll(out, shift, axis=axis)
                    near_open = np.roll(open_, shift, axis=axis)
                    edge = np.zeros_like(open_)  # np.roll wraps around: the wrapped row or column does not count
                    index = [slice(None)] * 2
                    index[axis] = slice(1, None) if shift == 1 else slice(None, -1)
                    edge[tuple(index)] = True
                    take = open_ & ~near_open & edge
                    out[take] = near[take]
                    open_ &= ~take
        return out


def _bilinear(values: np.ndarray, half: float, points: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``values`` (m, m, 2) on ``square_grid(half, m)`` at ``points`` (N, 2)."""
    m = values.shape[0]
    u = (points + half) / (2 * half) * (m - 1)  # grid coordinates (N, 2): column, row
    u = np.clip(u, 0.0, m - 1.0)
    j0 = np.minimum(np.floor(u).astype(np.int64), m - 2)
    f = u - j0  # (N, 2)
    c, r = j0[:, 0], j0[:, 1]
    fx, fy = f[:, :1], f[:, 1:]
    return ((1 - fx) * (1 - fy) * values[r, c] + fx * (1 - fy) * values[r, c + 1]
            + (1 - fx) * fy * values[r + 1, c] + fx * fy * values[r + 1, c + 1])


# The eight neighbours of a grid cell, by the direction's angle in steps of 45 degrees: (row, column) offsets.
STAY = 0.05  # a grid point whose step is shorter than this many cells is where its path ends
_NEIGHBOURS = np.array([(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)], np.int64)


def flow_sinks(vectors: np.ndarray, half: float, step_scale: float, weights: np.ndarray,
               merge_cells: float = 2.5, refine: int = 2000) -> Basins:
    """Follow a field given on ``square_grid(half, m)`` (``vectors`` (m, m, 2)) from every grid point
    to where it ends, and group the ends into sinks; ``weights`` (m, m) is the density whose mass
    each basin's ``share`` counts.

    The flow moves by ``step_scale * v``. On the grid, each point steps to the neighbour in the
    direction of its vector, or stays where that step is under half a cell; following these
    pointers (by repeated squaring, 2^k steps in k gathers) takes every point to where its path
    ends (near a sink, in a short cycle around it). Ends within ``merge_cells`` cells of each other are
    one group; each group's sink is then placed by up to ``refine`` small steps of the bilinearly
    interpolated field from its ends' mass-weighted mean, and groups whose sinks meet are merged.
    With ``step_scale`` half the narrowest component's variance and the score, the steps converge
    on the modes of a Gaussian mixture without overshooting them."""
    m = vectors.shape[0]
    cell = 2 * half / (m - 1)
    v = np.nan_to_num(np.asarray(vectors, np.float64), nan=0.0, posinf=0.0, neginf=0.0) * step_scale / cell  # in cells
    rows, cols = np.divmod(np.arange(m * m), m)
    direction = np.round(np.arctan2(v[..., 1], v[..., 0]).ravel() / (np.pi / 4)).astype(np.int64) % 8
    move = (np.linalg.norm(v, axis=-1).ravel() >= STAY)[:, None] * _NEIGHBOURS[direction]  # (m*m, 2)
    pointer = np.clip(rows + move[:, 0], 0, m - 1) * m + np.clip(cols + move[:, 1], 0, m - 1)
    for _ in range(int(np.ceil(np.log2(4 * m * m)))):  # 2^k >= 4 m^2 steps: longer than any path
        pointer = pointer[pointer]
    ends, end_of = np.unique(pointer, return_inverse=True)  # the distinct ends, and each point's
    w = np.asarray(weights, np.float64).ravel()
    end_mass = np.bincount(end_of, weights=w, minlength=len(ends))
    end_xy = np.stack([cols[ends], rows[ends]], 1) * cell - half  # (U, 2) data coordinates
    group = _merge(end_xy, merge_cells * cell)  # ends within merge_cells of each other: one group
    start = np.array([np.average(end_xy[group == k], axis=0, weights=end_mass[group == k] + 1e-300)
                      for k in range(group.max() + 1)])
    sinks, settled = _refine(v * cell, half, start, refine, 0.5 * cell)
    # Groups whose refined sinks meet are one sink (a flat ridge the grid cut in pieces).
    final = _merge(sinks, merge_cells * cell)
    labels = final[group[end_of]]
    share = np.bincount(labels, weights=w, minlength=final.max() + 1) / max(w.sum(), 1e-300)
    group_mass = np.bincount(group[end_of], weights=w, minlength=len(sinks)) + 1e-300
    sinks = np.array([np.average(sinks[final == k], axis=0, weights=group_mass[final == k])
                      for k in range(final.max() + 1)])
    xx, yy = square_grid(half, m)
    return Basins(sinks, share, labels.reshape(m, m), xx, yy, settled, np.asarray(weights, np.float64).reshape(m, m))


def _merge(points: np.ndarray, radius: float) -> np.ndarray:
    """Group labels (N,) for points (N, 2): each joins the first group whose first point lies within
    ``radius`` (in each coordinate), in the given order (deterministic)."""
    firsts: list[np.ndarray] = []
    labels = np.empty(len(points), np.int64)
    for i, p in enumerate(points):
        for k, c in enumerate(firsts):
            if np.abs(p - c).max() <= radius:
                labels[i] = k
                break
        else:
            labels[i] = len(firsts)
            firsts.append(p)
    return labels


def _refine(steps: np.ndarray, half: float, x: np.ndarray, iterations: int, max_step: float) -> tuple[np.ndarray, bool]:
    """Follow the bilinear interpolation of ``steps`` (m, m, 2) from ``x`` (S, 2) by at most ``max_step``
    per step; returns the end points and whether they stopped moving."""
    for _ in range(iterations):
        step = _bilinear(steps, half, x)
        length = np.linalg.norm(step, axis=1, keepdims=True)
        x = np.clip(x + step * np.minimum(1.0, max_step / np.maximum(length, 1e-300)), -half, half)
        if float(length.max(initial=0.0)) < 1e-6 * half:
            return x, True
    return x, False


# ----------------------------------------------------------------------------- the field

@dataclass(frozen=True)
class GuidedField:
    """The numbers of one field picture (all float64 numpy arrays).

    Arrow grid ``(xx, yy)`` (n, n) over the view ``[-VIEW_HALF, VIEW_HALF]^2``; ``unguided`` and
    ``guided`` (n, n, 2) the fields there; ``exact_guided`` the exact model's guided field (by default
    for the neural model only). Density grid ``(dx, dy)`` (m, m): ``density`` the tilted density and ``base`` ``p_t`` itself,
    each divided by its largest value. ``basins`` / ``base_basins`` follow the guided / unguided field
    (None when not asked for). ``centres`` (K, 2) are the components' centres ``a mu_k`` at t."""

    spec: FieldSpec
    schedule: Schedule
    a: float
    s: float
    sigma: float
    xx: np.ndarray
    yy: np.ndarray
    unguided: np.ndarray
    guided: np.ndarray
    exact_guided: Optional[np.ndarray]
    dx: np.ndarray
    dy: np.ndarray
    density: np.ndarray
    base: np.ndarray
    centres: np.ndarray
    comp_class: np.ndarray
    basins: Optional[Basins] = None
    base_basins: Optional[Basins] = None
    exact_basins: Optional[Basins] = None  # the exact model's guided basins, beside another model's (``compare``)

    @property
    def departure(self) -> Optional[dict[str, float]]:
        """Where this model's guided field departs from the exact model's, from their basins on one grid:
        ``sinks`` and ``exact_sinks`` (those holding at least 1 % of the tilted density) and ``moved``, the
        share of the tilted density whose sink lies more than ``MOVED_DISTANCE`` from the exact model's sink
        for the same point. None unless both were computed."""
        if self.basins is None or self.exact_basins is None:
            return None
        b, e = self.basins, self.exact_basins
        ends = b.sinks[b.labels]  # (m, m, 2): where each grid point's flow ends under this model
        exact_ends = e.sinks[e.labels]
        moved = np.linalg.norm(ends - exact_ends, axis=-1) > MOVED_DISTANCE
        weights = b.weights if b.weights is not None else np.ones(moved.shape)
        return {"sinks": float(len(b.main(0.01))), "exact_sinks": float(len(e.main(0.01))),
                "moved": float(weights[moved].sum() / max(weights.sum(), 1e-300))}

    @property
    def difference(self) -> Optional[np.ndarray]:
        """The model's guided field minus the exact model's (n, n, 2); None where that was not computed."""
        return None if self.exact_guided is None else self.guided - self.exact_guided

    def difference_summary(self) -> Optional[dict[str, float]]:
        """``mean_abs``: mean |neural - exact| over the arrow grid; ``relative``: that over the mean |exact|;
        ``weighted``: the mean |difference| weighted by the tilted density (where guided samples go)."""
        diff = self.difference
        if diff is None:
            return None
        size = np.linalg.norm(diff, axis=-1)
        exact = np.linalg.norm(self.exact_guided, axis=-1)
        w = np.exp(tilted_log_density(np.stack([self.xx.ravel(), self.yy.ravel()], 1), self.spec.t, self.spec.label,
                                      self.spec.tilt_gamma, self.schedule))
        w = w.reshape(size.shape)
        return {"mean_abs": float(size.mean()), "relative": float(size.mean() / max(exact.mean(), 1e-300)),
                "weighted": float((w * size).sum() / max(w.sum(), 1e-300))}


def flow_step_scale(spec: FieldSpec, schedule: Schedule) -> float:
    """The flow's step per unit of field (``flow_sinks``): half the narrowest noisy component's variance
    for the score, a fifth of the way to x0 for the displacement."""
    if spec.quantity == "x0":
        return 0.2
    _, var = component_params(spec.t, schedule)
    return 0.5 * float(var.min())


def frame_timesteps(num_frames: int, T: int = 1000) -> np.ndarray:
    """``num_frames`` descending timesteps of a T-step schedule from the noisiest (T - 1) to the cleanest (0), evenly spaced
    in t as a sampler's steps are (DDPM spends as many steps below t = 150 as this spends frames there)."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or not 2 <= num_frames <= T:
        raise ValueError(f"the number of frames must be an integer in 2..{T}, got {num_frames!r}")
    return np.unique(np.round(np.linspace(T - 1, 0, num_frames)).astype(np.int64))[::-1]


def _sigma(sigma: float) -> str:
    return f"{sigma:.0f}" if sigma >= 10 else f"{sigma:.2g}"


#: two sinks closer than this (data units: the 2-D mixture's blobs are about 1.5 apart) are the same place
MOVED_DISTANCE = 0.3


def describe_departure(f: GuidedField) -> Optional[str]:
    """Where a model's guided field departs from the exact one, in one sentence computed from
    ``GuidedField.departure``; None for the exact model (nothing to compare)."""
    d = f.departure
    if d is None:
        return None
    sinks, exact = int(d["sinks"]), int(d["exact_sinks"])
    count = (f"has as many sinks as the exact model's ({exact})" if sinks == exact
             else f"has {sinks} sink{'s' * (sinks != 1)} where the exact model's has {exact}")
    return (f"At σ = {_sigma(f.sigma)} the {f.spec.model} model's guided field {count}; {100 * d['moved']:.0f} % of the "
            f"tilted density ends at a different place than under the exact field (more than {MOVED_DISTANCE:g} "
            "away from the exact sink of the same starting point).")


def describe_basins(f: GuidedField, class_name: str) -> str:
    """One sentence from the guided basins' numbers: how many sinks the guided field has at this
    noise level and how the tilted density's mass splits between them."""
    if f.basins is None:
        raise ValueError("the field was computed without basins")
    main = f.basins.main(0.01)
    shares = ", ".join(f"{100 * f.basins.share[k]:.0f} %" for k in main)
    if len(main) == 1:
        return (f"At σ = {_sigma(f.sigma)} the guided field has one sink: everything flows toward the same point "
                f"({100 * f.basins.share[main[0]]:.0f} % of the tilted density).")
    return (f"At σ = {_sigma(f.sigma)} the guided field has {len(main)} sinks; the tilted density's mass splits "
            f"{shares} between their basins (class {class_name}).")



def describe_series(fields: Sequence[GuidedField], class_name: str) -> str:
    """What the guided basins do from the noisiest level to the cleanest (``fields`` noisiest first,
    each with basins), in one or two sentences computed from their numbers: down to which level the
    guided field has a single sink, down to which level its largest basin still holds more than half
    of the tilted density, and how the mass splits at the cleanest level."""
    if not fields or any(f.basins is None for f in fields):
        raise ValueError("give fields computed with their basins, noisiest first")
    counts = [len(f.basins.main(0.01)) for f in fields]
    largest = [float(f.basins.share.max()) for f in fields]
    last = fields[-1]
    final = ", ".join(f"{100 * last.basins.share[k]:.0f} %" for k in last.basins.main(0.01))
    scale = f"{'λ' if fields[0].spec.tilt_gamma != fields[0].spec.gamma else 'γ'} = {fields[0].spec.tilt_gamma:g}"

    def level(i: int) -> str:
        return f"t = {fields[i].spec.t} (σ = {_sigma(fields[i].sigma)})"

    if all(c == 1 for c in counts):
        return (f"At {scale} the guided field has one sink at every noise level shown: all of the tilted density "
                f"drains to one point, down to {level(len(fields) - 1)}.")
    single = next(i for i, c in enumerate(counts) if c > 1) - 1  # the last level with one sink (-1: none)
    start = (f"At {scale} the guided field has a single sink from the noisiest level down to {level(single)}; "
             f"its basins split below that" if single >= 0 else f"At {scale} the guided field has several sinks "
             f"from the noisiest level on")
    majority = [i for i, p in enumerate(largest) if p > 0.5]
    if len(majority) == len(fields):
        middle = ", and one basin keeps more than half of the tilted density at every level"
    elif majority and majority[-1] > single:
        middle = f", but the largest basin keeps more than half of the tilted density down to {level(majority[-1])}"
    else:
        middle = ""
    return (f"{start}{middle}. At {level(len(fields) - 1)} the tilted density (class {class_name}) splits {final} "
            f"between the basins.")
