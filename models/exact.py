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

from models.data import GaussianMixture2D, load_digits_dataset, make_gmm2d
from models.denoiser import scales
from models.schedule import Schedule


class ExactMixtureDenoiser:
    """Optimal denoiser and exact class posterior of a mixture of isotropic Gaussians."""

    is_exact = True

    def __init__(self, means: np.ndarray, stds: np.ndarray, weights: np.ndarray,
                 comp_class: np.ndarray, num_classes: int, schedule: Schedule,
                 device: torch.device | str = "cpu") -> None:
        self.schedule = schedule
        self.num_classes = int(num_classes)
        self.device = torch.device(device)
        self._np = dict(means=np.asarray(means, np.float64), stds=np.asarray(stds, np.float64),
                        log_w=np.log(np.asarray(weights, np.float64)))
        self.comp_class = torch.as_tensor(np.asarray(comp_class, np.int64), device=self.device)
        self._cache: dict[torch.dtype, dict[str, torch.Tensor]] = {}

    def _buffers(self, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        if dtype not in self._cache:
            b = {k: torch.as_tensor(v, dtype=dtype, device=self.device) for k, v in self._np.items()}
            b["sq_norm"] = (b["means"] ** 2).sum(1)  # (K,)
            b["var0"] = b["stds"] ** 2  # (K,)
            self._cache[dtype] = b
        return self._cache[dtype]

    def _logits_and_means(self, x: torch.Tensor, t: torch.Tensor):
        """Per-component log joint ``log w_k N(x; a mu_k, v_k)`` (B, K) and the coefficients of the
        component posterior means ``m_k = alpha_k mu_k + c_k x`` (both (B, K))."""
        b = self._buffers(x.dtype)
        a, s = scales(self.schedule, t, x)  # (B, 1)
        var = a**2 * b["var0"] + s**2  # (B, K)
        sq_dist = (x**2).sum(1, keepdim=True) - 2 * a * (x @ b["means"].T) + a**2 * b["sq_norm"]  # (B, K)
        dim = x.shape[1]
        logits = b["log_w"] - sq_dist / (2 * var) - 0.5 * dim * torch.log(2 * math.pi * var)
        c = a * b["var0"] / var  # (B, K)
        return logits, c, a

    def _mean(self, r: torch.Tensor, c: torch.Tensor, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``sum_k r_k (mu_k + c_k (x - a mu_k))`` for responsibilities r (B, K)."""
        means = self._buffers(x.dtype)["means"]
        return (r * (1 - a * c)) @ means + (r * c).sum(1, keepdim=True) * x

    def _class_mask(self, y: torch.Tensor) -> torch.Tensor:
        return self.comp_class[None, :] == y.to(self.device)[:, None]  # (B, K)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        """Exact ``E[x0 | x_t]`` (y None) or ``E[x0 | x_t, y]``, (B, D)."""
        logits, c, a = self._logits_and_means(x_t, t)
        if y is not None:
            logits = logits.masked_fill(~self._class_mask(y), -math.inf)
        return self._mean(torch.softmax(logits, dim=1), c, a, x_t)

    def predict_pair(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor):
        """``(E[x0 | x_t], E[x0 | x_t, y])`` sharing one distance computation."""
        logits, c, a = self._logits_and_means(x_t, t)
        d_u = self._mean(torch.softmax(logits, dim=1), c, a, x_t)
        masked = logits.masked_fill(~self._class_mask(y), -math.inf)
        d_c = self._mean(torch.softmax(masked, dim=1), c, a, x_t)
        return d_u, d_c

    def log_posterior(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(y | x_t)`` for every class, (B, C)."""
        logits, _, _ = self._logits_and_means(x_t, t)
        total = torch.logsumexp(logits, dim=1, keepdim=True)
        onehot = torch.nn.functional.one_hot(self.comp_class, self.num_classes).to(torch.bool)  # (K, C)
        per_class = logits[:, :, None].masked_fill(~onehot[None], -math.inf)
        return torch.logsumexp(per_class, dim=1) - total

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
