"""What the guidance trade-off's numbers say: the data set's own scores, and the papers' claims
checked against measured rows of ``models.evaluate.evaluate``.

* ``data_reference``: the metrics of the data set itself, what a perfect sampler would score.
* ``findings``: from plain conditional sampling (gamma = 1) upward, quality should rise and
  diversity fall (Dhariwal & Nichol, arXiv 2105.05233; Ho & Salimans, arXiv 2207.12598); each claim
  gets a verdict and the numbers behind it, in words.
* ``describe_blobs``: the sampler's share of each blob of a class against the tilted density's
  (``models.tilt.blob_shares``), in one sentence.

Numbers and sentences only: ``viz.tradeoff`` draws the curves and the tilted density. Conventions
as in ``models.guidance``: gamma = 0 is unconditional and gamma = 1 conditional sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from models.data import load_dataset
from models.metrics import accuracy, diversity
from models.tilt_view import Blob

#: the guidance scales the trade-off page sweeps, and those it draws the tilted density at
DEFAULT_GAMMAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
TILT_GAMMAS = (0.0, 1.0, 3.0, 7.0)


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


__all__ = ["DEFAULT_GAMMAS", "Finding", "TILT_GAMMAS", "data_reference", "describe_blobs", "findings"]
