"""The record of one sampling run: plain numpy arrays, saved and loaded with ``np.savez``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

PART_NAMES = ("x0_uncond", "x0_cond", "classifier_shift")


LEVEL_NAMES = ("alpha", "sigma")  # the path's scales at each recorded state: x[i] = alpha[i] x0 + sigma[i] eps
ARRAY_NAMES = ("timesteps", "alphas_cumprod", "x", "x0_hat", "noise", "labels") + PART_NAMES + LEVEL_NAMES


@dataclass
class Trajectory:
    """Everything a diagram needs, so that plotting never calls the model again.

    ``x[0]`` is x_T (pure noise) and ``x[-1]`` the final sample; ``x0_hat[i]`` is the
    prediction used at step i (taken at ``x[i]``), ``noise[i]`` the standard-normal draw added
    in that step (zeros for deterministic samplers and for the last step).

    ``alpha[i]`` and ``sigma[i]`` are the path's scales at ``x[i]``: ``x[i] = alpha[i] x0 + sigma[i] eps``
    (``alpha[S] = 1``, ``sigma[S] = 0``). On the VP path (``meta["path"]`` "vp", the default)
    ``timesteps`` are integer steps of the schedule whose ``alphas_cumprod`` is recorded; on the flow path
    they are the levels ``sigma * 1000`` (float64) and ``alphas_cumprod`` is None.
    """

    timesteps: np.ndarray  # (S,) int64 (vp) or float64 (flow), descending
    alphas_cumprod: Optional[np.ndarray]  # (T,) float64; None on the flow path
    x: np.ndarray  # (S+1, B, D)
    x0_hat: np.ndarray  # (S, B, D)
    noise: np.ndarray  # (S, B, D)
    labels: np.ndarray  # (B,) int64, -1 for unconditional
    x0_uncond: Optional[np.ndarray] = None  # (S, B, D)
    x0_cond: Optional[np.ndarray] = None  # (S, B, D)
    classifier_shift: Optional[np.ndarray] = None  # (S, B, D), x0-space shift at gamma = 1
    alpha: Optional[np.ndarray] = None  # (S+1,) float64 signal scale at each x[i]
    sigma: Optional[np.ndarray] = None  # (S+1,) float64 noise scale at each x[i]
    meta: dict = field(default_factory=dict)  # models.guidance.meta_names(guidance), the path

    @property
    def path(self) -> str:
        """``"vp"`` or ``"flow"`` (a trajectory saved before paths existed is VP)."""
        return str(self.meta.get("path", "vp"))

    def level_text(self, i: int) -> str:
        """The level of ``x[i]`` in words: ``t = 623`` on VP, ``σ = 0.62`` on the flow path; ``t = 0`` /
        ``σ = 0`` after the last step."""
        if self.path == "flow":
            value = float(self.timesteps[i]) / 1000.0 if i < self.steps else 0.0
            return f"σ = {value:.3g}"
        return f"t = {int(self.timesteps[i])}" if i < self.steps else "t = 0"

    @property
    def steps(self) -> int:
        """Number of sampling steps S."""
        return int(self.timesteps.shape[0])

    @property
    def samples(self) -> np.ndarray:
        """The final samples x_0, (B, D)."""
        return self.x[-1]

    def parts(self) -> dict[str, np.ndarray]:
        """The guidance parts this run recorded, by name."""
        return {k: getattr(self, k) for k in PART_NAMES if getattr(self, k) is not None}

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array, ready for ``np.savez``."""
        out = dict(timesteps=self.timesteps)
        if self.alphas_cumprod is not None:
            out["alphas_cumprod"] = self.alphas_cumprod
        out.update(x=self.x, x0_hat=self.x0_hat, noise=self.noise, labels=self.labels, **self.parts())
        for k in LEVEL_NAMES:
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        for k, v in self.meta.items():
            out[k] = np.asarray(v)
        return out

    def save_npz(self, path: str | Path) -> None:
        """Write the trajectory with ``np.savez`` (readable with ``np.load(..., allow_pickle=False)``)
        to exactly ``path``: given a name, ``np.savez`` appends ``.npz`` to one that lacks it
        (``out.npz.tmp`` became ``out.npz.tmp.npz``), given an open file it writes where it is told."""
        with open(path, "wb") as f:
            np.savez(f, **self.to_arrays())

    @classmethod
    def load_npz(cls, path: str | Path) -> "Trajectory":
        """Read a trajectory written by ``save_npz``."""
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        fields = {k: arrays.pop(k) for k in ARRAY_NAMES if k in arrays}
        fields.setdefault("alphas_cumprod", None)
        meta = {k: v.item() for k, v in arrays.items() if v.ndim == 0}  # every scalar saved beside them
        return cls(**fields, meta=meta)
