"""Does guided sampling reach the density it aims at? The trade-off page's exact-target section on gmm2d.

Guidance at scale gamma aims at ``p0(x) p0(y | x)^gamma`` (``models.analysis.tilted_target``), and on the analytic
mixture that target can be drawn exactly. The section measures ``tilted_tv`` (the total variation
between the samples' and the target's shares of the mixture's components, with its Monte Carlo
error) against gamma for four samplers with the exact model (so the gap is the sampler's and
guidance's, not a network's): on the VP path DDPM, DDIM and DDPM with ``GAP_CORRECTOR`` Langevin
corrector steps after each step (``models.engine.corrector``), on the flow path Euler (``models.flow``),
and for exact draws, which score the floor that ``n`` perfect samples reach. ``describe_paths`` compares
flow-Euler with VP-DDIM, the same probability-flow ODE in other coordinates (docs/MATH.md). This module holds the section's settings, the records its figure
draws (``viz.figures.tradeoff.exact_target_figure``: numpy only, no torch) and the sentence that reads the
numbers (``describe_gap``); ``ui.tradeoff`` and ``ui.run_cache`` and ``ui.view_cache`` run the samplers.

Measured with the exact model, class B, 100 steps, 4000 samples, 6 seeds (``benchmarks/RESULTS.md``, the
section of ``benchmarks.tilted_paths``, has flow-Euler beside VP-DDPM and VP-DDIM):
``tilted_tv`` at gamma = 7 is 0.299 for DDPM, 0.259 for DDIM, 0.312 with one corrector step and
0.367 with five: the corrector widens the gap (the outer blob takes 63 % of DDPM's samples and 70 %
with five corrector steps, where the target gives each blob 33 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from models.engine.data import GaussianMixture2D, make_gmm2d
from models.analysis.tilted_target import TiltedTV, assign_components, component_shares, exact_tv_quantile, expected_tv, target_shares

GAP_GAMMAS = (0.0, 1.0, 2.0, 3.0, 5.0, 7.0)  # the gammas the section measures
GAP_SHOWN = 7.0  # the gamma whose samples the section shows first
GAP_STEPS = 100  # sampler steps: with 25 the discretisation error alone is TV 0.63 at gamma = 7 (DDPM)
GAP_CORRECTOR = 5  # Langevin corrector steps after each DDPM step (one step changes TV by ~0.01, within the noise)
# Samples per sampler and gamma. The Monte Carlo error of tilted_tv is about 0.47 / sqrt(n) for one class
# (0.015 at n = 1000) and exact draws score about 0.56 / sqrt(n) (0.018): enough to resolve the 0.06 between
# DDPM and DDPM + 5 corrector steps at gamma = 7 (about three errors of a difference). The first visit
# samples 18 runs + 6 exact draws: 16 s measured on one core of the loaded 2-core test machine (the
# corrector's 5 steps are most of it).
GAP_SAMPLES = 1000
BAND_LEVEL = 0.95  # the floor's band: from the mean TV of n exact draws up to this quantile of it
CHANGE_SIGMAS = 2.0  # a difference counts when it exceeds this many Monte Carlo errors


@dataclass(frozen=True)
class GapSampler:
    """One curve of the section: a sampler of ``models.engine.pipeline`` (``tilted``: the exact draws), its
    corrector steps and its noising path (``vp`` or ``flow``, at shift 1), with the name the figure and the
    sentence give it."""

    key: str
    name: str
    sampler: str
    corrector_steps: int = 0
    path: str = "vp"


GAP_SAMPLERS = (GapSampler("ddpm", "DDPM", "ddpm"), GapSampler("ddim", "DDIM (η = 0)", "ddim"),
                GapSampler("corrected", f"DDPM + {GAP_CORRECTOR} corrector steps", "ddpm", GAP_CORRECTOR),
                GapSampler("flow_euler", "flow Euler", "euler", path="flow"))
EXACT = GapSampler("exact", "exact draws", "tilted")
PLAIN, CORRECTED = GAP_SAMPLERS[0], GAP_SAMPLERS[2]  # the pair the first sentence compares
VP_ODE, FLOW_ODE = GAP_SAMPLERS[1], GAP_SAMPLERS[3]  # the pair the second compares: one ODE on two paths


@dataclass(frozen=True)
class GapRun:
    """One sampler's run at one gamma, measured: its final ``samples`` (N, 2), their ``tilted_tv``
    report (``models.analysis.tilted_target.tilted_tv_report``) and the ``seconds`` the sampling and measuring took."""

    samples: np.ndarray
    report: TiltedTV
    seconds: float


@dataclass(frozen=True)
class GapCurve:
    """``tilted_tv`` of one sampler against gamma, with its Monte Carlo error ``se``."""

    name: str
    gammas: tuple[float, ...]
    tv: tuple[float, ...]
    se: tuple[float, ...]


@dataclass(frozen=True)
class GapPanel:
    """Samples (N, 2) at the shown gamma, the component each belongs to (N,; -1 when not finite)
    and their share of every component (K,)."""

    name: str
    points: np.ndarray
    component: np.ndarray
    shares: np.ndarray


@dataclass(frozen=True)
class GapView:
    """What ``viz.figures.tradeoff.exact_target_figure`` draws: the curves (exact draws last), the exact-draw
    floor per gamma (mean TV of ``n`` exact draws, and its ``BAND_LEVEL`` quantile), and at ``gamma``
    the exact draws beside one sampler's samples, with the mixture (means, class of each component),
    the guided class's components and the target's share of every component."""

    label: int
    class_name: str
    n: int
    curves: tuple[GapCurve, ...]
    floor: tuple[float, ...]
    band: tuple[float, ...]
    gamma: float
    exact: GapPanel
    sampled: GapPanel
    means: np.ndarray  # (K, 2)
    comp_class: np.ndarray  # (K,)
    target: np.ndarray  # (K,) the exact target's shares at gamma
    what: str = ""

    @property
    def blobs(self) -> np.ndarray:
        """The guided class's components (indices into ``means``)."""
        return np.flatnonzero(self.comp_class == self.label)


def gap_curves(runs: Mapping[str, Sequence[GapRun]], gammas: Sequence[float]) -> tuple[GapCurve, ...]:
    """One ``GapCurve`` per named sampler from its runs, one per gamma of ``gammas`` (in that order)."""
    g = tuple(float(x) for x in gammas)
    for name, rs in runs.items():
        if len(rs) != len(g):
            raise ValueError(f"{name}: {len(rs)} runs for {len(g)} gammas")
    return tuple(GapCurve(name, g, tuple(r.report.tv for r in rs), tuple(r.report.se for r in rs)) for name, rs in runs.items())


def panel(name: str, points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> GapPanel:
    """A ``GapPanel`` of ``points`` (N, 2): each point's component and the shares."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    return GapPanel(name, p, assign_components(p, gmm), component_shares(p, gmm))


def gap_view(label: int, class_name: str, curves: Sequence[GapCurve], n: int, gamma: float, exact: np.ndarray,
             sampled: np.ndarray, sampled_name: str, what: str = "") -> GapView:
    """The figure's record for class ``label`` of the default mixture: ``curves`` (one per sampler,
    the exact draws last, all over the same gammas), ``n`` samples each; ``exact`` and ``sampled``
    (N, 2) are the points shown at ``gamma``. The floor and its band come from the target's shares
    (``models.analysis.tilted_target.expected_tv`` and ``exact_tv_quantile``). Raises ``ValueError`` for curves over
    different gammas or a shown gamma outside them."""
    gmm = make_gmm2d()
    gammas = curves[0].gammas if curves else ()
    if not curves or any(c.gammas != gammas for c in curves):
        raise ValueError("give at least one curve, every curve over the same gammas")
    if float(gamma) not in gammas:
        raise ValueError(f"the shown gamma {gamma:g} is not one of the measured {', '.join(f'{g:g}' for g in gammas)}")
    targets = [target_shares(int(label), float(g)) for g in gammas]
    return GapView(label=int(label), class_name=class_name, n=int(n), curves=tuple(curves),
                   floor=tuple(expected_tv(q, n) for q in targets),
                   band=tuple(exact_tv_quantile(q, n, BAND_LEVEL) for q in targets), gamma=float(gamma),
                   exact=panel(EXACT.name, exact, gmm), sampled=panel(sampled_name, sampled, gmm), means=gmm.means,
                   comp_class=gmm.comp_class, target=target_shares(int(label), float(gamma)), what=what)


# ----------------------------------------------------------------------------- the sentence

COMPASS = ("right", "upper right", "top", "upper left", "left", "lower left", "bottom", "lower right")


def blob_names(centres: np.ndarray) -> tuple[str, ...]:
    """Names of one class's blobs from their centres (M, 2): "outer blob" / "inner blob" when its
    distance from the origin tells it apart, with where it sits ("at the upper left") when not."""
    c = np.asarray(centres, np.float64).reshape(-1, 2)
    radius = np.round(np.linalg.norm(c, axis=1), 6)
    names = []
    for k, r in enumerate(radius):
        ring = "" if radius.max() == radius.min() else "outer " if r == radius.max() else "inner " if r == radius.min() else ""
        if ring and (radius == r).sum() == 1:
            names.append(f"{ring}blob")
            continue
        angle = math.degrees(math.atan2(c[k, 1], c[k, 0])) % 360
        names.append(f"{ring}blob at the {COMPASS[int(((angle + 22.5) % 360) // 45)]}")
    return tuple(names)


@dataclass(frozen=True)
class GapNumbers:
    """One sampler at one gamma, as the sentence reads it: ``tilted_tv`` ± ``se`` and its share of
    each blob of the guided class."""

    tv: float
    se: float
    shares: tuple[float, ...]


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _tv(m: GapNumbers) -> str:
    return f"{m.tv:.3f} ± {m.se:.3f}"


def describe_gap(gamma: float, class_name: str, blobs: Sequence[str], target: Sequence[float], plain: GapNumbers,
                 corrected: GapNumbers, floor: float, corrector_steps: int, plain_name: str = "DDPM") -> str:
    """One sentence from the numbers: at ``gamma``, which blob of the class gains against the exact
    target's share and by how much, and whether ``corrector_steps`` Langevin steps close the gap.

    ``blobs`` names the class's blobs (``blob_names``), ``target`` and each ``GapNumbers.shares``
    give their shares in that order; ``floor`` is what exact draws of the same size score. A gap is
    there when ``plain.tv`` exceeds ``floor`` by more than ``CHANGE_SIGMAS`` of its Monte Carlo error;
    the corrector changes it when the difference exceeds ``CHANGE_SIGMAS`` errors of a difference
    (the two runs are independent), and closes it when it also brings the TV to the floor.
    Mass that leaves the class's blobs altogether counts as one more place that can gain."""
    target = np.asarray(target, np.float64)
    shares = np.asarray(plain.shares, np.float64)
    fixed = np.asarray(corrected.shares, np.float64)
    if not (len(blobs) == len(target) == len(shares) == len(fixed) > 0):
        raise ValueError("give one name, one target share and one share per sampler for every blob")
    one = corrector_steps == 1
    k = f"{corrector_steps} Langevin corrector step{'' if one else 's'}"

    def verb(v: str) -> str:  # "5 steps widen", "1 step widens"
        return v + "s" if one else v
    noise = CHANGE_SIGMAS * plain.se
    sd = CHANGE_SIGMAS * math.hypot(plain.se, corrected.se)
    start = f"At γ = {gamma:g}"
    if plain.tv - floor <= noise:  # no gap
        after = (f"and with {k} it stays there ({_tv(corrected)})" if corrected.tv - floor <= CHANGE_SIGMAS * corrected.se
                 else f"yet {k} {verb('open')} one ({_tv(corrected)})")
        return (f"{start} {plain_name}'s samples of class {class_name} fall on the mixture's components in the exact "
                f"target's shares (tilted_tv {_tv(plain)}, where exact draws score {floor:.3f}): there is no gap to close, "
                f"{after}.")
    gain = shares - target
    off, off_target = 1.0 - shares.sum(), 1.0 - target.sum()
    if off - off_target > gain.max():
        where, mine, aim, theirs = "off its blobs (in other classes' regions)", off, off_target, 1.0 - fixed.sum()
    else:
        b = int(gain.argmax())
        where, mine, aim, theirs = f"on its {blobs[b]}", shares[b], target[b], fixed[b]
    head = (f"{start} {plain_name} puts {_pct(mine)} of class {class_name}'s samples {where}, where the exact target "
            f"puts {_pct(aim)} (tilted_tv {_tv(plain)}; exact draws score {floor:.3f})")
    change = corrected.tv - plain.tv
    if change > sd:
        tail = f"and {k} {verb('widen')} the gap to {_tv(corrected)} ({_pct(theirs)} there)"
    elif change < -sd and corrected.tv - floor <= CHANGE_SIGMAS * corrected.se:
        tail = f"and {k} {verb('close')} the gap ({_tv(corrected)}, {_pct(theirs)} there)"
    elif change < -sd:
        tail = (f"and {k} {verb('narrow')} the gap to {_tv(corrected)} ({_pct(theirs)} there) but "
                f"{'does' if one else 'do'} not close it")
    else:
        tail = (f"and {k} {verb('leave')} the gap as it is ({_tv(corrected)}, {_pct(theirs)} there; the change is "
                "within the Monte Carlo error)")
    return f"{head}, {tail}."


def describe_paths(gamma: float, flow: GapNumbers, vp: GapNumbers, floor: float, flow_name: str = "flow Euler",
                   vp_name: str = "DDIM") -> str:
    """One sentence from the numbers: at ``gamma``, Euler on the flow path against DDIM (η = 0) on VP.

    The two integrate the same probability-flow ODE, written in other coordinates (DDIM on VP is Euler
    on the flow path after the change of variables x / (a + s), docs/MATH.md), each on its own grid of
    noise levels. They differ when their TVs are more than ``CHANGE_SIGMAS`` errors of a difference apart
    (counted as independent runs, which overstates the error of two runs from one seed); each misses the
    target when it lies more than ``CHANGE_SIGMAS`` of its own errors above ``floor``."""
    sd = CHANGE_SIGMAS * math.hypot(flow.se, vp.se)
    both = f"{flow_name} on the flow path scores {_tv(flow)} and {vp_name} on the VP path {_tv(vp)}"
    missed = [flow.tv - floor > CHANGE_SIGMAS * flow.se, vp.tv - floor > CHANGE_SIGMAS * vp.se]
    if abs(flow.tv - vp.tv) <= sd:
        gap = ("so both miss the target by as much: the gap is guidance's, not the path's" if all(missed) else
               "and both land on the target" if not any(missed) else
               f"though only {flow_name if missed[0] else vp_name} lies more than its error above what exact draws score")
        return (f"At γ = {gamma:g} {both}: one ODE on two paths and two grids of noise levels lands as close, within "
                f"the Monte Carlo error, {gap} (exact draws score {floor:.3f}).")
    closer, further = (flow_name, vp_name) if flow.tv < vp.tv else (vp_name, flow_name)
    return (f"At γ = {gamma:g} {both}: {closer} lands closer to the target by {abs(flow.tv - vp.tv):.3f}, more than "
            f"the Monte Carlo error, so with these steps the grid of noise levels matters and {further}'s grid "
            f"adds to the gap (exact draws score {floor:.3f}).")


def path_sentence(view: GapView, flow, vp) -> str:
    """``describe_paths`` at the view's gamma for two reports (``tv``, ``se``) of flow-Euler and VP-DDIM."""
    i = view.curves[0].gammas.index(view.gamma)
    return describe_paths(view.gamma, GapNumbers(float(flow.tv), float(flow.se), ()), GapNumbers(float(vp.tv), float(vp.se), ()),
                          view.floor[i], FLOW_ODE.name, VP_ODE.name)


def gap_numbers(tv: float, se: float, shares: np.ndarray, blobs: np.ndarray) -> GapNumbers:
    """``GapNumbers`` from a sampler's TV, its error and its shares of every component (K,)."""
    return GapNumbers(float(tv), float(se), tuple(float(x) for x in np.asarray(shares)[blobs]))


def gap_sentence(view: GapView, plain, corrected, corrector_steps: int = GAP_CORRECTOR, plain_name: str = PLAIN.name) -> str:
    """``describe_gap`` at the view's gamma for two reports (``models.analysis.tilted_target.TiltedTV``: ``tv``, ``se``,
    ``shares``) of the plain and the corrected sampler, the class's blobs in the mixture's order."""
    blobs = view.blobs
    i = view.curves[0].gammas.index(view.gamma)
    return describe_gap(view.gamma, view.class_name, blob_names(view.means[blobs]), view.target[blobs],
                        gap_numbers(plain.tv, plain.se, plain.shares, blobs),
                        gap_numbers(corrected.tv, corrected.se, corrected.shares, blobs), view.floor[i], corrector_steps,
                        plain_name)


__all__ = ["BAND_LEVEL", "CHANGE_SIGMAS", "CORRECTED", "EXACT", "FLOW_ODE", "GAP_CORRECTOR", "GAP_GAMMAS", "GAP_SAMPLERS",
           "GAP_SAMPLES", "GAP_SHOWN", "GAP_STEPS", "GapCurve", "GapRun", "GapNumbers", "GapPanel", "GapSampler", "GapView", "PLAIN",
           "VP_ODE", "blob_names", "describe_gap", "describe_paths", "gap_curves", "gap_numbers", "gap_sentence", "gap_view", "panel",
           "path_sentence"]
