"""Exact (closed-form) denoisers: the optimal ``E[x0 | x_t, y]`` of a mixture of isotropic Gaussians.

The empirical digits distribution is the special case of one zero-width component per
training image, so the same code gives the memorising optimal denoiser of the data set,
``D(x_t) = sum_i softmax_i(-|x_t - a x_i|^2 / (2 s^2)) x_i`` (see ``../shared/docs/MATH.md``).

For component k with mean mu_k, std r_k and weight w_k, the noisy marginal is
``N(x_t; a mu_k, v_k I)`` with ``v_k = a^2 r_k^2 + s^2`` and the component posterior mean is
``mu_k + (a r_k^2 / v_k) (x_t - a mu_k)``. The class posterior ``p(y | x_t)`` is the
responsibility mass on the components of class y. Everything is differentiable in torch.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from models.engine.data import GaussianMixture2D, load_digits_dataset, make_gmm2d
from models.engine.denoiser import scales
from models.engine.schedule import Schedule


class ExactMixtureDenoiser:
    """Optimal denoiser and exact class posterior of a mixture of isotropic Gaussians."""

    is_exact = True

    def __init__(self, means: np.ndarray, stds: np.ndarray, weights: np.ndarray,
                 comp_class: np.ndarray, num_classes: int, schedule: Schedule,
                 device: torch.device | str = "cpu") -> None:
        self.schedule = schedule
        self.num_classes = int(num_classes)
        self.device = torch.device(device)
        # Components sorted by class, so that each class is one contiguous slice.
        order = np.argsort(np.asarray(comp_class, np.int64), kind="stable")
        cls = np.asarray(comp_class, np.int64)[order]
        self._np = dict(means=np.asarray(means, np.float64)[order], stds=np.asarray(stds, np.float64)[order],
                        log_w=np.log(np.asarray(weights, np.float64))[order])
        self.comp_class = torch.as_tensor(cls, device=self.device)
        bounds = np.searchsorted(cls, np.arange(self.num_classes + 1))
        self._slices = [slice(int(bounds[c]), int(bounds[c + 1])) for c in range(self.num_classes)]
        # All components share one width (true for the empirical data and the 2-D mixture):
        # then the noisy variance is one number per row and the logits need one matmul.
        self._shared_var = bool(np.ptp(self._np["stds"]) == 0)
        self._cache: dict[torch.dtype, dict[str, torch.Tensor]] = {}

    def _buffers(self, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        if dtype not in self._cache:
            b = {k: torch.as_tensor(v, dtype=dtype, device=self.device) for k, v in self._np.items()}
            b["sq_norm"] = (b["means"] ** 2).sum(1)  # (K,)
            b["var0"] = b["stds"] ** 2  # (K,)
            self._cache[dtype] = b
        return self._cache[dtype]

    def _logits_and_means(self, x: torch.Tensor, t: torch.Tensor):
        """Per-component log joint ``log w_k N(x; a mu_k, v_k)`` up to a per-row constant (B, K),
        and the coefficients ``c_k`` of the component posterior means ``mu_k + c_k (x - a mu_k)``
        ((B, 1) when the widths are shared, else (B, K))."""
        b = self._buffers(x.dtype)
        a, s = scales(self.schedule, t, x)  # (B, 1)
        if self._shared_var:
            var0 = b["var0"][:1]  # (1,)
            var = a**2 * var0 + s**2  # (B, 1)
            # -|x - a mu|^2 / (2 var) without the row constant -|x|^2 / (2 var), which cancels everywhere.
            logits = (x @ b["means"].T) * (a / var) + (b["log_w"] - a**2 * b["sq_norm"] / (2 * var))
            return logits, a * var0 / var, a
        var = a**2 * b["var0"] + s**2  # (B, K)
        sq_dist = (x**2).sum(1, keepdim=True) - 2 * a * (x @ b["means"].T) + a**2 * b["sq_norm"]  # (B, K)
        logits = b["log_w"] - sq_dist / (2 * var) - 0.5 * x.shape[1] * torch.log(2 * math.pi * var)
        return logits, a * b["var0"] / var, a

    def _mean(self, logits: torch.Tensor, c: torch.Tensor, a: torch.Tensor, x: torch.Tensor,
              part: slice = slice(None)) -> torch.Tensor:
        """``sum_k r_k (mu_k + c_k (x - a mu_k))`` with ``r = softmax(logits)`` over components ``part``."""
        means = self._buffers(x.dtype)["means"][part]
        r = torch.softmax(logits, dim=1)  # (B, K')
        if c.shape[1] == 1:
            return (1 - a * c) * (r @ means) + c * x
        c = c[:, part]
        return (r * (1 - a * c)) @ means + (r * c).sum(1, keepdim=True) * x

    def _conditional(self, logits, c, a, x, y: torch.Tensor) -> torch.Tensor:
        """``E[x0 | x_t, y]``: a softmax over class y's slice (one slice when the batch shares a label)."""
        y = y.to(self.device).long()
        if bool((y == y[0]).all()):
            part = self._slices[int(y[0])]
            return self._mean(logits[:, part], c, a, x, part)
        mask = self.comp_class[None, :] == y[:, None]  # (B, K)
        return self._mean(logits.masked_fill(~mask, -math.inf), c, a, x)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        """Exact ``E[x0 | x_t]`` (y None) or ``E[x0 | x_t, y]``, (B, D)."""
        logits, c, a = self._logits_and_means(x_t, t)
        if y is None:
            return self._mean(logits, c, a, x_t)
        return self._conditional(logits, c, a, x_t, y)

    def predict_pair(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor):
        """``(E[x0 | x_t], E[x0 | x_t, y])`` sharing one distance computation."""
        logits, c, a = self._logits_and_means(x_t, t)
        return self._mean(logits, c, a, x_t), self._conditional(logits, c, a, x_t, y)

    def x0_shift(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The x0-space shift of classifier guidance at gamma 1 with this posterior, in closed form:
        ``E[x0 | x_t, y] - E[x0 | x_t]``, which Tweedie's formula equals ``s^2 / a * grad log p(y | x_t)``
        wherever ``a > 0`` and which stays finite where ``a = 0`` (there it is ``E[x0 | y] - E[x0]``)."""
        d_u, d_c = self.predict_pair(x_t, t, y)
        return d_c - d_u

    def log_posterior(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(y | x_t)`` for every class, (B, C)."""
        logits, _, _ = self._logits_and_means(x_t, t)
        per_class = torch.stack([torch.logsumexp(logits[:, part], dim=1) for part in self._slices], dim=1)
        return per_class - torch.logsumexp(logits, dim=1, keepdim=True)

    def to(self, device: torch.device | str) -> "ExactMixtureDenoiser":
        """A copy on ``device``."""
        n = self._np
        return ExactMixtureDenoiser(n["means"], n["stds"], np.exp(n["log_w"]), self.comp_class.cpu().numpy(),
                                    self.num_classes, self.schedule, device)


def exact_digits_denoiser(schedule: Schedule, device: torch.device | str = "cpu") -> ExactMixtureDenoiser:
    """The optimal denoiser of the empirical digits distribution (it reproduces training images)."""
    d = load_digits_dataset()
    n = len(d.x)
    return ExactMixtureDenoiser(d.x, np.zeros(n), np.full(n, 1.0 / n), d.labels, d.num_classes, schedule, device)


def exact_gmm2d_denoiser(schedule: Schedule, device: torch.device | str = "cpu",
                         gmm: GaussianMixture2D | None = None) -> ExactMixtureDenoiser:
    """The optimal denoiser of the analytic 2-D mixture."""
    g = gmm or make_gmm2d()
    return ExactMixtureDenoiser(g.means, g.stds, g.weights, g.comp_class, g.num_classes, schedule, device)
