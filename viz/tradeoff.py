"""The guidance trade-off: quality and diversity against the guidance scale, and the tilted density
that guidance aims at.

* ``curves_figure``: class accuracy, within-class diversity and distance to the nearest training
  point against gamma (rows of ``models.evaluate.evaluate``), beside what the data set itself scores.
* ``tilted_density``: ``p_t(x) p(y | x_t)^gamma`` on the 2-D mixture, exactly: ``p_t`` is the
  mixture's noisy marginal (``viz.drawing.mixture_density``) and ``p(y | x_t)`` the exact class
  posterior (``models.exact``). gamma = 0 gives ``p_t(x)``, gamma = 1 gives ``p_t(x | y)``, larger
  gamma sharpens the classifier's preference (Dhariwal & Nichol, arXiv 2105.05233, Sec. 4;
  Ho & Salimans, arXiv 2207.12598, Sec. 3). ``tilted_figure`` draws it under the samples.
* ``findings``: what the measured curves say about the trade-off the papers report, in words.

Conventions as in ``models.guidance``: gamma = 0 is unconditional and gamma = 1 conditional
sampling (Ho & Salimans' ``1 + w``). Timestep ``t = -1`` is the clean data (``Schedule.abar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.data import GaussianMixture2D, load_dataset, make_gmm2d
from models.evaluate import METRIC_NAMES, accuracy, diversity
from models.exact import exact_gmm2d_denoiser
from models.schedule import Schedule, make_schedule
from models.trajectory import Trajectory
from viz.drawing import add_headline, add_note, mixture_density
from viz.style import COLORS, FONT_SIZE, LEGEND_SIZE, new_figure, style_axes

DEFAULT_GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
TILT_GAMMAS = (0.0, 1.0, 3.0, 7.0)
CLEAN = -1  # the timestep index of the clean data (abar = 1)

METRIC_TITLES = {"accuracy": "class accuracy", "diversity": "within-class diversity",
                 "nearest_train": "distance to nearest training point"}
METRIC_HELP = {
    "accuracy": "share of samples an independent classifier puts in the class asked for",
    "diversity": "mean distance between two samples of the same class",
    "nearest_train": "median distance from a sample to its closest training point",
}
METRIC_COLORS = {"accuracy": COLORS["x0_cond"], "diversity": COLORS["x0_hat"], "nearest_train": COLORS["diff"]}
TILT_CMAP = "Purples"


# ----------------------------------------------------------------------------- the data's own scores

@lru_cache(maxsize=None)
def data_reference(data: str) -> dict[str, float]:
    """The metrics of the data set itself, what a perfect sampler would score: the judge's accuracy
    on the training points, their within-class diversity and the median distance from a training
    point to its nearest *other* training point (where a fresh sample of the data would lie)."""
    d = load_dataset(data)
    x = np.asarray(d.x, np.float64)  # (N, D)
    sq = (x**2).sum(1)
    nearest = []
    for rows in np.array_split(np.arange(len(x)), max(1, len(x) // 500)):
        dist = sq[rows, None] - 2 * x[rows] @ x.T + sq[None, :]  # (n, N)
        dist[np.arange(len(rows)), rows] = np.inf  # not itself
        nearest.append(np.sqrt(np.maximum(dist.min(1), 0.0)))
    return {"accuracy": accuracy(x, d.labels, data), "diversity": diversity(x, d.labels),
            "nearest_train": float(np.median(np.concatenate(nearest)))}


# ----------------------------------------------------------------------------- curves against gamma

def _column(rows: Sequence[Mapping], name: str) -> np.ndarray:
    return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows], np.float64)


def curves_figure(rows: Sequence[Mapping], reference: Optional[Mapping[str, float]] = None, title: str = "") -> Figure:
    """One panel per metric (``models.evaluate.METRIC_NAMES``), each with one line (gid = the
    metric's name) of the metric against gamma; the data set's own score (``reference``) as a
    dashed line and gamma = 1 (plain conditional sampling) as a dotted one."""
    if not rows:
        raise ValueError("give at least one row of models.evaluate.evaluate")
    order = np.argsort(_column(rows, "gamma"))
    rows = [rows[i] for i in order]
    gammas = _column(rows, "gamma")
    if not np.isfinite(gammas).all():
        raise ValueError(f"every gamma must be finite, got {gammas.tolist()}")
    fig = new_figure((13.0, 4.3))
    axes = fig.subplots(1, len(METRIC_NAMES))
    for ax, name in zip(axes, METRIC_NAMES):
        style_axes(ax, equal=False)
        ax.axvline(1.0, color="#888888", ls=":", lw=1.4, zorder=1)
        if reference is not None and name in reference:
            ax.axhline(reference[name], color="#555555", ls="--", lw=1.4, zorder=1)
        ax.plot(gammas, _column(rows, name), color=METRIC_COLORS[name], lw=2.6, marker="o", ms=7, zorder=3, gid=name)
        ax.set_title(METRIC_TITLES[name], fontsize=FONT_SIZE, loc="left")
        ax.set_xlabel("guidance scale γ", fontsize=FONT_SIZE - 2)
        if name == "accuracy":
            ax.set_ylim(-0.03, 1.05)
        else:
            ax.set_ylim(bottom=0)
    handles = [Line2D([], [], color="#555555", ls="--", lw=1.4), Line2D([], [], color="#888888", ls=":", lw=1.4)]
    labels = ["the training data itself", "γ = 1: plain conditional sampling"]
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=LEGEND_SIZE, frameon=False)
    if title:
        add_headline(fig, title)
    return fig


# ----------------------------------------------------------------------------- the tilted density

def _check_tilt(label: int, gamma: float, t: int, gmm: GaussianMixture2D, schedule: Schedule) -> None:
    if not 0 <= int(label) < gmm.num_classes:
        raise ValueError(f"label must be a class in 0..{gmm.num_classes - 1}, got {label}")
    if not np.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number, got {gamma}")
    if not CLEAN <= int(t) < schedule.T:
        raise ValueError(f"t must be a timestep in {CLEAN}..{schedule.T - 1} ({CLEAN}: the clean data), got {t}")


def log_tilted(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, gmm: Optional[GaussianMixture2D] = None,
               schedule: Optional[Schedule] = None) -> np.ndarray:
    """``log p_t(x) + gamma log p(y | x_t)`` at ``points`` (N, 2), unnormalised (N,): the marginal
    from the mixture's closed form, the class posterior from the exact model."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    _check_tilt(label, gamma, t, gmm, schedule)
    p = np.asarray(points, np.float64).reshape(-1, 2)
    abar = float(schedule.abar(int(t)))
    with np.errstate(divide="ignore"):
        log_p = np.log(mixture_density(gmm, p[:, 0], p[:, 1], abar))  # (N,)
    exact = exact_gmm2d_denoiser(schedule, gmm=gmm)
    x = torch.as_tensor(p, dtype=torch.float64)
    log_post = exact.log_posterior(x, torch.full((len(p),), int(t), dtype=torch.long))[:, int(label)].numpy()  # (N,)
    return log_p + float(gamma) * log_post


def grid(limits: tuple[tuple[float, float], tuple[float, float]], n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """``(xx, yy)`` meshgrid of ``n`` x ``n`` points over ``limits``."""
    (x0, x1), (y0, y1) = limits
    return np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))


def _cell_area(xx: np.ndarray, yy: np.ndarray) -> float:
    return float(abs(xx[0, 1] - xx[0, 0]) * abs(yy[1, 0] - yy[0, 0]))


def tilted_density(label: int, gamma: float, xx: np.ndarray, yy: np.ndarray, t: int = CLEAN,
                   gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None) -> np.ndarray:
    """``p_t(x) p(y | x_t)^gamma`` on the grid ``(xx, yy)``, normalised so that it sums to 1 times
    the cell area over the grid (a density on the grid's box)."""
    logw = log_tilted(np.stack([xx.ravel(), yy.ravel()], 1), label, gamma, t, gmm, schedule).reshape(xx.shape)
    finite = np.isfinite(logw)
    if not finite.any():
        raise ValueError("the tilted density is zero everywhere on this grid; widen the limits")
    w = np.where(finite, np.exp(logw - logw[finite].max()), 0.0)
    return w / (w.sum() * _cell_area(xx, yy))


def densest_region_threshold(density: np.ndarray, cell: float, mass: float = 0.9) -> float:
    """The density level whose super-level set holds ``mass`` of the grid's probability (the
    densest region of that mass, its highest-density region)."""
    p = np.sort(density.ravel())[::-1] * cell
    k = int(np.searchsorted(np.cumsum(p), mass * p.sum()))
    return float(p[min(k, len(p) - 1)] / cell)


def densest_region_share(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, mass: float = 0.9,
                         n: int = 200, limits=None, gmm: Optional[GaussianMixture2D] = None,
                         schedule: Optional[Schedule] = None) -> float:
    """Share of ``points`` (N, 2) inside the densest region holding ``mass`` of the tilted density:
    about ``mass`` when the points are samples of it, less when they miss it."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    limits = limits or tilt_limits(t, gmm, schedule)
    xx, yy = grid(limits, n)
    logw = log_tilted(np.stack([xx.ravel(), yy.ravel()], 1), label, gamma, t, gmm, schedule)
    peak = logw[np.isfinite(logw)].max()
    w = np.exp(logw - peak).reshape(xx.shape)
    cell = _cell_area(xx, yy)
    norm = w.sum() * cell
    level = densest_region_threshold(w / norm, cell, mass)
    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        return 0.0
    at_points = np.exp(log_tilted(p, label, gamma, t, gmm, schedule) - peak) / norm
    return float(np.mean(at_points >= level))


def tilt_limits(t: int = CLEAN, gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None,
                reach: float = 3.2) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square box holding every component of ``p_t`` out to ``reach`` of its standard deviations."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    abar = float(schedule.abar(int(t)))
    std = np.sqrt(abar * gmm.stds**2 + 1.0 - abar)  # (K,)
    half = float(np.max(np.linalg.norm(np.sqrt(abar) * gmm.means, axis=1) + reach * std))
    return (-half, half), (-half, half)


def points_at(traj: Trajectory, t: int) -> tuple[np.ndarray, int]:
    """The canvases of every sample at the step nearest to timestep ``t`` ((B, 2), that step's
    timestep); ``t = -1`` gives the final samples."""
    if int(t) == CLEAN:
        return traj.x[-1], CLEAN
    i = int(np.argmin(np.abs(traj.timesteps - int(t))))
    return traj.x[i], int(traj.timesteps[i])


@dataclass(frozen=True)
class Blob:
    """One mixture component of the guided class at noise level t: where it sits, the share of the
    sampler's points nearest to it and the share of the tilted density's mass nearest to it."""

    centre: np.ndarray  # (2,)
    points: float
    density: float


def blob_shares(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, n: int = 200,
                gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None) -> list[Blob]:
    """For each component of class ``label``: the share of ``points`` (N, 2) and of the tilted
    density's mass that lie nearer to it than to any other component (of any class). A sampler of
    the tilted density gets the two shares equal, up to sampling noise."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    centres = np.sqrt(float(schedule.abar(int(t)))) * gmm.means  # (K, 2)
    xx, yy = grid(tilt_limits(t, gmm, schedule), n)
    dens = tilted_density(label, gamma, xx, yy, t, gmm, schedule).ravel()
    cells = np.stack([xx.ravel(), yy.ravel()], 1)

    def nearest(p: np.ndarray) -> np.ndarray:
        return np.linalg.norm(p[:, None, :] - centres[None], axis=2).argmin(1)  # (N,)

    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    mass = np.bincount(nearest(cells), weights=dens, minlength=len(centres)) / dens.sum()
    counts = np.bincount(nearest(p), minlength=len(centres)) / max(len(p), 1)
    return [Blob(centres[k], float(counts[k]), float(mass[k])) for k in np.flatnonzero(gmm.comp_class == int(label))]


def tilted_figure(points: Mapping[float, np.ndarray], label: int, t: int = CLEAN, class_name: Optional[str] = None,
                  what: str = "", gmm: Optional[GaussianMixture2D] = None,
                  schedule: Optional[Schedule] = None) -> Figure:
    """One panel per gamma: the tilted density ``p_t(x) p(y | x_t)^gamma`` shaded (darker = more
    likely) with the line around its densest 90 %, ``p_t(x)`` itself as grey dashed contours, and
    the points (N, 2) the sampler gave at that gamma on top. Below each panel, the share of points
    inside that line; on the clean data, beside each blob of the class, the share of points on it
    against the share of the tilted density's mass."""
    if not points:
        raise ValueError("give the samples of at least one gamma")
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    gammas = sorted(float(g) for g in points)
    by_gamma = {float(g): np.asarray(p, np.float64).reshape(-1, 2) for g, p in points.items()}
    separated = float(schedule.abar(int(t))) >= 0.95  # blobs still apart: their shares mean something
    limits = tilt_limits(t, gmm, schedule, reach=4.6 if separated else 3.2)  # room for the blobs' labels
    xx, yy = grid(limits, 220)
    abar = float(schedule.abar(int(t)))
    base = mixture_density(gmm, xx, yy, abar)
    name = class_name if class_name is not None else str(label)
    sub = "" if int(t) == CLEAN else "_t"

    fig = new_figure((3.5 * len(gammas) + 0.3, 5.0))
    axes = np.atleast_1d(fig.subplots(1, len(gammas)))
    for ax, g in zip(axes, gammas):
        dens = tilted_density(label, g, xx, yy, t, gmm, schedule)
        ax.imshow(dens / dens.max(), origin="lower", extent=(*limits[0], *limits[1]), cmap=TILT_CMAP, vmin=0, vmax=1.15,
                  interpolation="bilinear", zorder=0)
        level = densest_region_threshold(dens, _cell_area(xx, yy), 0.9)
        ax.contour(xx, yy, dens, levels=[level], colors=[COLORS["guided"]], linewidths=1.6, zorder=1)
        ax.contour(xx, yy, base, levels=base.max() * np.array([0.05, 0.3]), colors=COLORS["density"], linewidths=0.8,
                   linestyles="--", zorder=1)
        p = by_gamma[g]
        ax.scatter(p[:, 0], p[:, 1], s=7, c=COLORS["x0"], edgecolors="black", linewidths=0.25, zorder=3)
        share = densest_region_share(p, label, g, t, gmm=gmm, schedule=schedule, limits=limits)
        if separated:
            for blob in blob_shares(p, label, g, t, gmm=gmm, schedule=schedule):
                out = blob.centre / max(np.linalg.norm(blob.centre), 1e-9)
                ax.annotate(f"{100 * blob.points:.0f} % dots\n{100 * blob.density:.0f} % aim", blob.centre + 0.33 * out,
                            ha="center", va="center", fontsize=FONT_SIZE - 4, color="#222222", zorder=5,
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        meaning = {0.0: f"  ·  $p{sub}(x)$", 1.0: f"  ·  $p{sub}(x \\mid {name})$"}.get(g, "")
        ax.set_title(f"γ = {g:g}{meaning}", fontsize=FONT_SIZE, loc="left")
        ax.set_xlabel(f"{100 * share:.0f} % of dots inside the purple line", fontsize=FONT_SIZE - 2, color=COLORS["guided"])
    when = "on the clean data" if int(t) == CLEAN else f"at noise level t = {int(t)}"
    add_headline(fig, f"What guidance aims at: $p{sub}(x)\\,p({name} \\mid x{sub})^{{\\gamma}}$, {when}")
    add_note(fig, "Shading: the tilted density, computed exactly from the mixture and normalised on this box; "
                  "purple line: the smallest region holding 90 % of it; grey dashes: the density without guidance; "
                  "dots: the sampler's points" + (f" ({what})" if what else "") +
                  (". Beside each blob of the class: its share of the dots and of the tilted density." if separated else "."))
    return fig


# ----------------------------------------------------------------------------- what the numbers say

@dataclass(frozen=True)
class Finding:
    """One claim of the papers, checked against measured rows: ``verdict`` is ``agrees``,
    ``partly``, ``differs`` or ``note`` (not measured in the papers); ``evidence`` quotes the numbers."""

    claim: str
    verdict: str
    evidence: str


def _row_near(rows: Sequence[Mapping], gamma: float) -> Mapping:
    return min(rows, key=lambda r: abs(float(r["gamma"]) - gamma))


def _fmt(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.3g}"


def findings(rows: Sequence[Mapping], reference: Mapping[str, float]) -> list[Finding]:
    """Check the trade-off Dhariwal & Nichol (arXiv 2105.05233) and Ho & Salimans (arXiv
    2207.12598) report against ``rows`` (``models.evaluate.evaluate``): from plain conditional
    sampling (gamma = 1) upward, quality should rise and diversity fall. Also says whether the
    samples copy the training set or leave it, which the papers do not measure."""
    if not rows:
        raise ValueError("give at least one row of models.evaluate.evaluate")
    rows = sorted(rows, key=lambda r: float(r["gamma"]))
    first, last = rows[0], rows[-1]
    cond = _row_near(rows, 1.0)
    g1, glast = float(cond["gamma"]), float(last["gamma"])
    upper = [r for r in rows if float(r["gamma"]) >= g1]
    out = []

    # Quality: accuracy stands in for precision / Inception score (is each sample clearly its class?).
    a = {k: float(r["accuracy"]) for k, r in (("first", first), ("cond", cond), ("last", last))}
    peak = max(upper, key=lambda r: float(r["accuracy"]))
    apeak, gpeak = float(peak["accuracy"]), float(peak["gamma"])
    dip = min((r for r in upper if float(r["gamma"]) >= gpeak), key=lambda r: float(r["accuracy"]))
    adip, gdip = float(dip["accuracy"]), float(dip["gamma"])
    start = (f"From γ = {float(first['gamma']):g} to γ = {g1:g} accuracy goes from {a['first']:.2f} to {a['cond']:.2f}. "
             if first is not cond else "")
    falls = adip < apeak - 0.05
    if falls:
        then = "" if gdip == glast else f", and is {a['last']:.2f} at γ = {glast:g}"
        verdict, text = "partly", (f"It peaks at {apeak:.2f} at γ = {gpeak:g}, then drops to {adip:.2f} at "
                                   f"γ = {gdip:g}{then}: pushed too hard, samples overshoot their class.")
    elif a["cond"] >= 0.98:
        verdict, text = "agrees", (f"At γ = {g1:g} it is already {a['cond']:.2f}, at its ceiling, and it never drops "
                                   f"below {min(float(r['accuracy']) for r in upper):.2f} up to γ = {glast:g}.")
    elif apeak - a["cond"] >= 0.03:
        verdict, text = "agrees", f"It rises further, to {a['last']:.2f} at γ = {glast:g}."
    else:
        verdict, text = "differs", f"It does not rise past γ = {g1:g}: {a['cond']:.2f} there, {a['last']:.2f} at γ = {glast:g}."
    out.append(Finding("Quality (precision, Inception score) rises with the guidance scale", verdict, start + text))

    # Diversity stands in for recall.
    d1, dlast = float(cond["diversity"]), float(last["diversity"])
    low = min(upper, key=lambda r: float(r["diversity"]))
    dmin, gmin = float(low["diversity"]), float(low["gamma"])
    n_at = {float(r["gamma"]): float(r["nearest_train"]) for r in rows}
    leaves = n_at[glast] > max(1.5 * n_at[gmin], 1.2 * reference["nearest_train"])
    strays = (f" Samples that land in another class count toward it too (accuracy drops to {adip:.2f})."
              if falls else "")
    away = (f" The samples spread away from the data instead: their distance to the nearest training point grows "
            f"from {_fmt(n_at[gmin])} to {_fmt(n_at[glast])}." if leaves else "")
    if dlast <= 0.97 * d1 and dlast <= 1.05 * dmin:
        verdict, text = "agrees", f"Diversity falls from {_fmt(d1)} at γ = {g1:g} to {_fmt(dlast)} at γ = {glast:g} ({100 * (dlast / d1 - 1):+.0f} %)."
    elif dmin <= 0.97 * d1:
        verdict, text = "partly", (f"Diversity falls from {_fmt(d1)} at γ = {g1:g} to {_fmt(dmin)} at γ = {gmin:g}, "
                                   f"then rises again to {_fmt(dlast)} at γ = {glast:g}." + away + strays)
    else:
        verdict, text = "differs", f"Diversity does not fall: {_fmt(d1)} at γ = {g1:g}, {_fmt(dlast)} at γ = {glast:g}." + away + strays
    out.append(Finding("Diversity (recall) falls as the guidance scale grows", verdict,
                       text + f" The training data's own diversity is {_fmt(reference['diversity'])}."))

    # Memorisation: not in the papers, decisive for reading the toy.
    ref = float(reference["nearest_train"])
    nmax = max(n_at.values())
    if nmax <= 0.05 * ref:
        verdict, text = "note", (f"Every sample is a training point (median distance {_fmt(nmax)} at most, while two training "
                                 f"points lie {_fmt(ref)} apart): this model memorises, so guidance can only choose among "
                                 "training points, never make new ones.")
    elif n_at[glast] > 1.5 * ref:
        verdict, text = "note", (f"At γ = {glast:g} samples lie {_fmt(n_at[glast])} from the nearest training point, "
                                 f"{n_at[glast] / ref:.1f} times as far as training points lie from each other: "
                                 "strong guidance leaves the data.")
    else:
        verdict, text = "note", (f"Samples lie {_fmt(min(n_at.values()))} to {_fmt(nmax)} from the nearest training point, "
                                 f"about as far as training points lie from each other ({_fmt(ref)}): new points, not copies.")
    out.append(Finding("Copies or new samples? (not measured in the papers)", verdict, text))
    return out


def describe_blobs(blobs: Sequence[Blob], gamma: float, class_name: str) -> str:
    """One sentence comparing the dots' shares of the class's blobs with the tilted density's."""
    dots = ", ".join(f"{100 * b.points:.0f} %" for b in blobs)
    aim = ", ".join(f"{100 * b.density:.0f} %" for b in blobs)
    gap = max(abs(b.points - b.density) for b in blobs)
    verdict = ("close to what it aims at" if gap <= 0.08 else
               f"off by up to {100 * gap:.0f} points: the sampler does not follow the tilted density")
    return (f"At γ = {gamma:g} the {len(blobs)} blobs of class {class_name} hold {dots} of the dots; the tilted density "
            f"gives them {aim}: {verdict}.")
