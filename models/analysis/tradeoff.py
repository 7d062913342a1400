"""What the guidance trade-off's numbers say: the data set's own scores, and the papers' claims
checked against measured rows of ``models.analysis.evaluate.evaluate``.

* ``data_reference``: the metrics of the data set itself, what a perfect sampler would score.
* ``findings``: as the guidance scale grows, quality should rise and diversity fall (Dhariwal &
  Nichol, arXiv 2105.05233; Ho & Salimans, arXiv 2207.12598); each claim gets a verdict and the
  numbers behind it, in words, read off the curve the page plots (``trend``: rises, falls, peaks,
  dips or flat, over the whole sweep from gamma = 0).
* ``describe_blobs``: the sampler's share of each blob of a class against the tilted density's
  (``models.analysis.tilted_density.blob_shares``), in one sentence.

Numbers and sentences only: ``viz.figures.tradeoff`` draws the curves and the tilted density. Conventions
as in ``models.guidance``: gamma = 0 is unconditional and gamma = 1 conditional sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional, Sequence

import numpy as np

from models.engine.data import load_dataset
from models.analysis.metrics import accuracy, diversity
from models.engine.settings import GAMMA, Setting
from models.guidance import SETTINGS, settings_for
from models.analysis.tilted_density_records import Blob

#: the guidance scales the trade-off page sweeps, and those it draws the tilted density at
DEFAULT_GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
TILT_GAMMAS = (0.0, 1.0, 3.0, 7.0)
#: what the page sweeps for a method that reads its own setting instead of gamma (CFG++'s λ in [0, 1])
DEFAULT_LAMBDAS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: how the sentences and axes name each setting a sweep can vary
SYMBOLS = {"gamma": "γ", "cfgpp_lambda": "λ"}


def swept(guidance: str) -> Setting:
    """The setting a trade-off sweep varies for ``guidance``: ``GAMMA``, or the setting the method
    reads instead of gamma (CFG++: ``cfgpp_lambda``, ``models.engine.settings``). Each measured row holds
    its value under that setting's name (``row["gamma"]``, ``row["cfgpp_lambda"]``)."""
    instead = [s for s in settings_for(guidance) if s.replaces == GAMMA.name]
    return instead[0] if instead else GAMMA


def row_scale(rows: Sequence[Mapping]) -> Setting:
    """The swept setting that rows of ``models.analysis.evaluate.evaluate`` hold: ``GAMMA`` when they have a
    ``gamma``, else the setting a method reads instead (``cfgpp_lambda``). Raises ``ValueError`` when
    the first row has neither."""
    for setting in (GAMMA, *(s for s in SETTINGS.values() if s.replaces == GAMMA.name)):
        if rows and setting.name in rows[0]:
            return setting
    raise ValueError("rows of models.analysis.evaluate.evaluate hold gamma, or the setting their method reads instead")


def sweep_values(guidance: str) -> tuple[float, ...]:
    """The values the trade-off page sweeps for ``guidance``: ``DEFAULT_GAMMAS``, or ``DEFAULT_LAMBDAS``
    for a method that reads its own setting instead of gamma."""
    return DEFAULT_GAMMAS if swept(guidance).name == GAMMA.name else DEFAULT_LAMBDAS


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


@dataclass(frozen=True)
class Finding:
    """One claim of the papers, checked against measured rows: ``verdict`` is ``agrees``,
    ``partly``, ``differs`` or ``note`` (not measured in the papers); ``evidence`` quotes the numbers."""

    claim: str
    verdict: str
    evidence: str


def _fmt(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.3g}"


@dataclass(frozen=True)
class Trend:
    """The shape of one plotted curve, read the way its chart is read: from the first gamma to the last.

    ``shape`` is ``"rises"``, ``"falls"``, ``"peaks"`` (rises to its highest point, then falls),
    ``"dips"`` (falls to its lowest point, then rises) or ``"flat"`` (no change larger than ``tol``,
    the noise a curve of this many samples is allowed). ``turn`` is the index of the point the
    sentence names: the peak or the low, or, for a curve that rises or falls, where it stops
    (the highest or lowest point)."""

    shape: str
    gammas: tuple[float, ...]
    values: tuple[float, ...]
    turn: int
    tol: float
    digits: Optional[int] = None  # decimals of the numbers in its sentence (None: three significant digits)

    def fmt(self, x: float) -> str:
        """``x`` as the sentence writes it."""
        return _fmt(x) if self.digits is None or not np.isfinite(x) else f"{x:.{self.digits}f}"

    def at(self, i: int) -> str:
        """``"0.93 at γ = 3"``: the value of point ``i`` and its gamma."""
        return f"{self.fmt(self.values[i])} at γ = {self.gammas[i]:g}"

    @property
    def held(self) -> int:
        """The last point from the turn on that is still within ``tol`` of the turning value: where a
        peak's (or a low's) plateau ends (the turn itself when there is none)."""
        j = self.turn
        while j + 1 < len(self.values) and abs(self.values[j + 1] - self.values[self.turn]) <= self.tol:
            j += 1
        return j

    @property
    def first(self) -> str:
        return self.at(0)

    @property
    def last(self) -> str:
        return self.at(len(self.values) - 1)

    @property
    def lowest(self) -> float:
        return min(self.values)

    @property
    def highest(self) -> float:
        return max(self.values)


def trend(gammas: Sequence[float], values: Sequence[float], tol: float, digits: Optional[int] = None) -> Trend:
    """The shape of the curve ``values`` over ``gammas`` (points that are not finite are left out,
    as the chart leaves them out): ``Trend``. A change counts only when it is larger than ``tol``;
    ``digits``: decimals of the numbers its sentence quotes. Raises ``ValueError`` for mismatched
    lengths or no finite point."""
    g, v = np.asarray(gammas, np.float64), np.asarray(values, np.float64)
    if g.shape != v.shape or g.ndim != 1:
        raise ValueError(f"give one value per gamma, got {g.shape} gammas and {v.shape} values")
    order = np.argsort(g, kind="stable")
    g, v = g[order], v[order]
    ok = np.isfinite(v) & np.isfinite(g)
    g, v = g[ok], v[ok]
    if not len(v):
        raise ValueError("no finite value to describe")
    hi, lo = int(np.argmax(v)), int(np.argmin(v))
    rise_to_peak, fall_after_peak = v[hi] - v[0], v[hi] - v[hi:].min()
    fall_to_low, rise_after_low = v[0] - v[lo], v[lo:].max() - v[lo]
    peak = min(rise_to_peak, fall_after_peak)  # how clearly the curve turns down after rising
    dip = min(fall_to_low, rise_after_low)  # ... turns up after falling
    if v.max() - v.min() <= tol:
        shape, turn = "flat", 0
    elif max(peak, dip) > tol:
        shape, turn = ("peaks", hi) if peak >= dip else ("dips", lo)
    elif rise_to_peak > tol:
        shape, turn = "rises", hi
    else:
        shape, turn = "falls", lo
    return Trend(shape, tuple(float(x) for x in g), tuple(float(x) for x in v), turn, float(tol), digits)


def accuracy_tolerance(rows: Sequence[Mapping]) -> float:
    """The change in accuracy that counts: two standard errors of the difference of two rows (the
    binomial error of ``samples`` per gamma, the largest of the rows, times √2), and never under 0.03."""
    se = [np.sqrt(max(float(r["accuracy"]) * (1 - float(r["accuracy"])), 0.0) / float(r.get("samples") or 1))
          for r in rows if np.isfinite(float(r["accuracy"]))]
    return max(0.03, 2 * np.sqrt(2) * max(se, default=0.0))


#: the change in diversity that counts, as a share of its typical value (sampling noise of ~10
#: samples per class measured a few per cent)
DIVERSITY_TOLERANCE = 0.05


def _after(t: Trend, lowest: bool) -> int:
    """The index of the lowest (or highest) point after the turn."""
    tail = np.asarray(t.values[t.turn:])
    return t.turn + int(np.argmin(tail) if lowest else np.argmax(tail))


def _plateau(t: Trend, what: str) -> str:
    """", holds it up to γ = 7" where a peak (or a low) lasts beyond its first point."""
    return "" if t.held == t.turn else f", {what} up to γ = {t.gammas[t.held]:g}"


def _holds(t: Trend) -> str:
    """", and stays near it up to γ = 10 (0.91)" where the curve stops before its last point."""
    end = len(t.values) - 1
    return "" if t.turn == end else f", and stays near it up to γ = {t.gammas[end]:g} ({t.fmt(t.values[end])})"


def _span(t: Trend) -> str:
    """A flat curve in words: "0.5 at γ = 0 and 0.51 at γ = 10, between 0.48 and 0.52 in all"."""
    lo, hi = t.fmt(t.lowest), t.fmt(t.highest)
    where = f"{t.first} and {t.last}" if len(t.values) > 1 else t.first
    return where + ("" if lo == hi else f", between {lo} and {hi} in all")


def quality_finding(t: Trend) -> tuple[str, str]:
    """Verdict and sentence for the claim that quality (here: accuracy) rises with the guidance scale."""
    end = len(t.values) - 1
    if t.shape == "flat":
        if t.lowest >= 0.98:
            return "partly", (f"Accuracy is at its ceiling at every γ ({_span(t)}): there is nothing left for guidance "
                              "to raise.")
        return "differs", (f"Accuracy does not change with γ: {_span(t)} (changes under {t.tol:.2f} are within the "
                           "sampling noise).")
    if t.shape == "rises":
        return "agrees", f"Accuracy rises from {t.first} to {t.at(t.turn)}{_holds(t)}."
    if t.shape == "peaks":
        low = _after(t, lowest=True)
        then = "" if low == end else f", and is {t.last}"
        return "partly", (f"Accuracy rises from {t.first} to a peak of {t.at(t.turn)}{_plateau(t, 'holds it')}, then "
                          f"drops to {t.at(low)}{then}: pushed too hard, samples overshoot their class.")
    if t.shape == "falls":
        return "differs", f"Accuracy falls from {t.first} to {t.at(t.turn)}{_holds(t)}."
    return "differs", f"Accuracy falls from {t.first} to {t.at(t.turn)}, then recovers to {t.at(_after(t, lowest=False))}."


def diversity_finding(t: Trend) -> tuple[str, str]:
    """Verdict and sentence for the claim that diversity (recall) falls as the guidance scale grows."""
    end = len(t.values) - 1
    if t.shape == "flat":
        return "differs", f"Diversity does not change with γ: {_span(t)}."
    if t.shape == "falls":
        change = 100 * (t.values[t.turn] / t.values[0] - 1) if t.values[0] else float("nan")
        return "agrees", f"Diversity falls from {t.first} to {t.at(t.turn)} ({change:+.0f} %){_holds(t)}."
    if t.shape == "dips":
        return "partly", (f"Diversity falls from {t.first} to {t.at(t.turn)}{_plateau(t, 'stays there')}, then rises "
                          f"again to {t.at(_after(t, lowest=False))}.")
    if t.shape == "peaks":
        return "partly", f"Diversity first rises, from {t.first} to {t.at(t.turn)}, and only then falls, to {t.at(_after(t, lowest=True))}."
    return "differs", f"Diversity does not fall: it rises from {t.first} to {t.at(t.turn)}{_holds(t)}."


def findings(rows: Sequence[Mapping], reference: Mapping[str, float], scale: Optional[Setting] = None) -> list[Finding]:
    """Check the trade-off Dhariwal & Nichol (arXiv 2105.05233) and Ho & Salimans (arXiv
    2207.12598) report against ``rows`` (``models.analysis.evaluate.evaluate``): as the guidance scale grows,
    quality should rise and diversity fall. Each sentence describes the curve the page plots, over
    the whole sweep (from its first gamma, usually 0, to its extreme and past it: ``trend``), with
    changes within the sampling noise called no change. Also says whether the samples copy the
    training set or leave it, which the papers do not measure. ``scale`` is the swept setting
    (``swept(guidance)``; by default the one the rows hold, ``row_scale``): rows are read by its name
    and the sentences name its symbol (CFG++: λ)."""
    if not rows:
        raise ValueError("give at least one row of models.analysis.evaluate.evaluate")
    scale = scale or row_scale(rows)
    if scale.name != GAMMA.name:  # the sentences below say γ; they read the rows' own scale under that name
        symbol = SYMBOLS.get(scale.name, scale.name)
        return [Finding(f.claim, f.verdict, f.evidence.replace("γ", symbol))
                for f in findings([{**r, GAMMA.name: r[scale.name]} for r in rows], reference)]
    rows = sorted(rows, key=lambda r: float(r["gamma"]))
    gammas = [float(r["gamma"]) for r in rows]
    # Quality: accuracy stands in for precision / Inception score (is each sample clearly its class?).
    acc = trend(gammas, [float(r["accuracy"]) for r in rows], accuracy_tolerance(rows), digits=2)
    verdict, text = quality_finding(acc)
    return [Finding("Quality (precision, Inception score) rises with the guidance scale", verdict, text),
            _diversity_row_finding(rows, gammas, acc, reference),
            _copies_finding(rows, gammas[-1], reference)]


def _nearest_by_gamma(rows: Sequence[Mapping]) -> dict[float, float]:
    """Each row's gamma -> its samples' distance to the nearest training point."""
    return {float(r["gamma"]): float(r["nearest_train"]) for r in rows}


def _diversity_row_finding(rows: Sequence[Mapping], gammas: list[float], acc: Trend,
                           reference: Mapping[str, float]) -> Finding:
    """The diversity finding of ``findings`` (diversity stands in for recall) for rows sorted by gamma:
    the trend's sentence, whether the samples spread away from the data instead, whether samples
    landing in another class count toward it (``acc``, the accuracy trend), and the training data's
    own diversity."""
    values = [float(r["diversity"]) for r in rows]
    typical = float(np.nanmedian(np.abs(values))) if np.isfinite(values).any() else 0.0
    n_at = _nearest_by_gamma(rows)
    glast = gammas[-1]
    if np.isfinite(values).any():
        div = trend(gammas, values, DIVERSITY_TOLERANCE * typical)
        verdict, text = diversity_finding(div)
        glow = div.gammas[int(np.argmin(div.values))]
        if div.shape in ("dips", "rises", "flat") and n_at[glast] > max(1.5 * n_at[glow], 1.2 * reference["nearest_train"]):
            text += (f" The samples spread away from the data instead: their distance to the nearest training point "
                     f"grows from {_fmt(n_at[glow])} at γ = {glow:g} to {_fmt(n_at[glast])} at γ = {glast:g}.")
        if div.shape == "dips" and acc.shape == "peaks":
            low = _after(acc, lowest=True)
            text += (f" Samples that land in another class count toward it too (accuracy drops to "
                     f"{acc.at(low)}).")
    else:
        verdict, text = "differs", "Diversity could not be measured: no γ left two finite samples of a class."
    return Finding("Diversity (recall) falls as the guidance scale grows", verdict,
                   text + f" The training data's own diversity is {_fmt(reference['diversity'])}.")


def _copies_finding(rows: Sequence[Mapping], glast: float, reference: Mapping[str, float]) -> Finding:
    """The memorisation finding of ``findings`` (not in the papers, decisive for reading the toy): do
    the samples (of ``rows``, sorted by gamma) copy training points, leave the data at the largest
    gamma ``glast``, or are they new?"""
    n_at = _nearest_by_gamma(rows)
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
    return Finding("Copies or new samples? (not measured in the papers)", verdict, text)


def describe_blobs(blobs: Sequence[Blob], gamma: float, class_name: str) -> str:
    """One sentence comparing the dots' shares of the class's blobs with the tilted density's."""
    dots = ", ".join(f"{100 * b.points:.0f} %" for b in blobs)
    aim = ", ".join(f"{100 * b.density:.0f} %" for b in blobs)
    gap = max(abs(b.points - b.density) for b in blobs)
    verdict = ("close to what it aims at" if gap <= 0.08 else
               f"off by up to {100 * gap:.0f} points: the sampler does not follow the tilted density")
    return (f"At γ = {gamma:g} the {len(blobs)} blobs of class {class_name} hold {dots} of the dots; the tilted density "
            f"gives them {aim}: {verdict}.")


__all__ = ["DEFAULT_GAMMAS", "DEFAULT_LAMBDAS", "DIVERSITY_TOLERANCE", "Finding", "SYMBOLS", "TILT_GAMMAS", "Trend", "accuracy_tolerance",
           "data_reference", "describe_blobs", "diversity_finding", "findings", "quality_finding", "row_scale", "swept", "sweep_values",
           "trend"]
