"""How far the natively trained flow network is from the VP network moved onto the flow path, level by level.

Two networks can denoise on the flow path ``x_t = (1 - sigma) x0 + sigma eps``: the velocity network trained
there (``neural_flow``, ``models.flow.nets.VelocityNet``) and the VP network evaluated through the change of
variables (``neural`` via ``models.flow.nets.OnPath``: scale by ``k`` and ask at the VP level of equal
signal-to-noise ratio). With perfect training both would be the exact denoiser ``E[x0 | x_t, y]``, which is
the same on every path; what separates them is how each one learnt. ``path_gap`` measures, per ``sigma``:

* ``<part>_native_vs_mapped``: the RMS distance between their x0 predictions;
* ``<part>_native_vs_exact`` and ``<part>_mapped_vs_exact``: each one's RMS distance to the exact denoiser;

for ``part`` ``cond`` (the true label of each point) and ``uncond`` (the null label). RMS is per coordinate,
``sqrt(mean over points and coordinates of the squared difference)``, so that the 64-D digits and the 2-D
mixture read on one scale (the data lie in about [-1, 1] on both).

The points are drawn from the flow path's own marginal of the data: ``x0`` and its label from the data set
(the digits: the training images, the exact model's data; gmm2d: the mixture), ``eps`` standard normal, the same
``(x0, eps)`` pairs at every ``sigma`` (common random numbers: the curves are smooth in ``sigma``).
Everything is seeded; the answer is plain numpy, for pages that never import torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

#: the default levels: 0.05, 0.10, ..., 1.00
DEFAULT_SIGMAS = np.round(np.linspace(0.05, 1.0, 20), 10)
PARTS = ("cond", "uncond")
PAIRS = ("native_vs_mapped", "native_vs_exact", "mapped_vs_exact")
#: the keys of ``path_gap``'s answer that hold a distance, one value per ``sigma``
GAP_NAMES = tuple(f"{part}_{pair}" for part in PARTS for pair in PAIRS)
MAX_POINTS = 100_000


def _draw(data: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clean points (n, D) float64 and their labels (n,): the digits' images, or the mixture's draws."""
    from models.engine.data import load_dataset, make_gmm2d

    if data == "gmm2d":
        x, y = make_gmm2d().sample(n, rng)
        return np.asarray(x, np.float64), np.asarray(y, np.int64)
    d = load_dataset(data)
    idx = rng.integers(len(d.x), size=n)
    return np.asarray(d.x, np.float64)[idx], np.asarray(d.labels, np.int64)[idx]


def path_gap(data: str, sigmas: Sequence[float] = DEFAULT_SIGMAS, n: int = 2000, seed: int = 0,
             assets: Optional[Path] = None) -> dict[str, np.ndarray]:
    """The per-level distances between the native flow network, the mapped VP network and the exact denoiser.

    ``data``: ``digits`` or ``gmm2d``; ``sigmas``: flow levels in (0, 1] (sorted or not: the answer keeps
    their order); ``n``: points per level (the same points at every level); ``seed``: the draws;
    ``assets``: another weights folder (default: the shipped one). Returns float64 arrays of shape (G,)
    for G levels:

    * ``sigma``: the levels; ``vp_t``: the VP timestep (fractional) the mapped network is asked at;
      ``vp_clipped``: bool, where ``sigma`` lies beyond the VP schedule's ends and the signal-to-noise
      ratio could not be matched (``models.flow.path.match_level``: near ``sigma = 1``);
    * ``GAP_NAMES``: ``cond_native_vs_mapped``, ``cond_native_vs_exact``, ``cond_mapped_vs_exact`` and the same
      three for ``uncond`` (module docstring).

    Raises ``ValueError`` for an unknown data set, a level outside (0, 1], or ``n`` outside 1..``MAX_POINTS``;
    ``models.engine.loading.WeightsError`` when a network's files are missing.
    """
    import torch

    from models.engine.data import DATA_NAMES
    from models.engine.loading import load_bundle
    from models.flow.path import FlowSchedule, match_level

    if data not in DATA_NAMES:
        raise ValueError(f"unknown data set {data!r}; valid: {', '.join(DATA_NAMES)}")
    sig = np.asarray(sigmas, np.float64).reshape(-1)
    if sig.size == 0 or not np.all((sig > 0) & (sig <= 1)):
        raise ValueError(f"sigmas must be levels in (0, 1], got {sig.tolist()}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_POINTS:
        raise ValueError(f"n must be an integer in 1..{MAX_POINTS}, got {n!r}")

    models = {name: load_bundle(data, model, "cpu", path="flow", assets=assets).denoiser
              for name, model in (("native", "neural_flow"), ("mapped", "neural"), ("exact", "exact"))}
    vp = models["mapped"].inner.schedule  # the VP levels the mapped network was trained on
    rng = np.random.default_rng(seed)
    x0, labels = _draw(data, n, rng)
    eps = rng.standard_normal(x0.shape)
    y = torch.as_tensor(labels)
    out = {name: np.zeros(len(sig)) for name in GAP_NAMES}
    _, vp_t, _, _ = match_level(1 - sig, sig, vp)
    with torch.no_grad():
        for i, s in enumerate(sig):
            x_t = torch.as_tensor((1 - s) * x0 + s * eps)  # float64
            t = torch.full((n,), s * FlowSchedule.T, dtype=torch.float64)
            for part, label in (("cond", y), ("uncond", None)):
                pred = {name: den(x_t, t, label).double().numpy() for name, den in models.items()}
                for pair in PAIRS:
                    a, b = pair.split("_vs_")
                    out[f"{part}_{pair}"][i] = float(np.sqrt(np.mean((pred[a] - pred[b]) ** 2)))
    return {"sigma": sig, "vp_t": np.asarray(vp_t, np.float64),
            "vp_clipped": (vp_t <= 0) | (vp_t >= vp.T - 1), **out}


def gap_table(gap: dict[str, np.ndarray], part: str = "cond") -> str:
    """``path_gap``'s answer for ``part`` as a plain-text table, one line per level."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; valid: {', '.join(PARTS)}")
    lines = [f"{'sigma':>6}  {'vp t':>7}  {'native-mapped':>13}  {'native-exact':>12}  {'mapped-exact':>12}"]
    for i, s in enumerate(gap["sigma"]):
        t = f"{gap['vp_t'][i]:7.1f}" + ("*" if gap["vp_clipped"][i] else " ")
        lines.append(f"{s:6.2f}  {t}  " + "  ".join(f"{gap[f'{part}_{p}'][i]:{w}.4f}"
                                                     for p, w in zip(PAIRS, (13, 12, 12))))
    return "\n".join(lines)
