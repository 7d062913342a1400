"""Small neural networks: a class-conditional denoiser and two classifiers, all residual MLPs.

* ``NeuralDenoiser``: predicts v (arXiv 2202.00512) from ``(x_t, t, y)`` and returns x0,
  ``x0 = a x_t - s v``, which stays well-conditioned at both ends of the schedule. Label index
  ``num_classes`` is the null label: trained with label dropout, one network gives both the
  conditional and the unconditional prediction (arXiv 2207.12598).
* ``NoisyClassifier``: ``p(y | x_t, t)``, for classifier guidance (arXiv 2105.05233).
* ``CleanClassifier``: ``p(y | x0)`` on noise-free data, for forward universal guidance (arXiv 2302.07121).

Each is built from a JSON-serialisable config dict, so weights ship as state_dict + config.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from models.engine.conversions import v_to_x0
from models.engine.denoiser import scales
from models.engine.schedule import Schedule, make_schedule


def timestep_embedding(t: torch.Tensor, T: int, dim: int) -> torch.Tensor:
    """Sinusoidal features of ``t / T`` (B,) -> (B, dim), as in the Transformer / DDPM."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = (t.float() / T * 1000.0)[:, None] * freqs[None]  # (B, half)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ResMLP(nn.Module):
    """``in -> hidden``, ``depth`` pre-norm residual blocks with an additive condition, ``-> out``."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, depth: int, cond_dim: int = 0) -> None:
        super().__init__()
        self.inp = nn.Linear(in_dim, hidden)
        self.cond = nn.Sequential(nn.Linear(cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden)) if cond_dim else None
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, hidden))
            for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor, cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.inp(x)  # (B, H)
        if self.cond is not None:
            h = h + self.cond(cond)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class NeuralDenoiser(nn.Module):
    """Class-conditional v-prediction MLP that follows the denoiser contract (returns x0)."""

    is_exact = False

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = dict(config)
        self.dim, self.num_classes = int(config["dim"]), int(config["num_classes"])
        self.schedule: Schedule = make_schedule(config.get("schedule", "linear"))
        emb = int(config.get("emb_dim", 64))
        self.emb_dim = emb
        self.label_emb = nn.Embedding(self.num_classes + 1, emb)  # index num_classes = null label
        self.net = ResMLP(self.dim, self.dim, int(config["hidden"]), int(config["depth"]), cond_dim=2 * emb)

    def null_labels(self, batch: int, device: torch.device) -> torch.Tensor:
        """The null label for a batch (unconditional prediction)."""
        return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)

    def v(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        """Raw network output: the v prediction (B, D)."""
        y = self.null_labels(x_t.shape[0], x_t.device) if y is None else y.to(x_t.device).long()
        cond = torch.cat([timestep_embedding(t.to(x_t.device), self.schedule.T, self.emb_dim), self.label_emb(y)], 1)
        return self.net(x_t.float(), cond).to(x_t.dtype)

    def x0_at(self, x_t: torch.Tensor, t: torch.Tensor, a: torch.Tensor, s: torch.Tensor,
              y: Optional[torch.Tensor]) -> torch.Tensor:
        """x0 prediction at timestep ``t`` (a fraction of a step allowed) of scales ``a``, ``s`` (B, 1)."""
        return v_to_x0(x_t, self.v(x_t, t, y), a, s)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        """x0 prediction (B, D): ``x0 = a x_t - s v``."""
        a, s = scales(self.schedule, t, x_t)
        return self.x0_at(x_t, t, a, s, y)

    def predict_pair(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor):
        """``(D_u, D_c)`` from one batched forward pass."""
        return batched_pair(self, x_t, t, y, self.num_classes)


def batched_pair(denoiser, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor, null_label: int):
    """``(denoiser(x_t, t, null), denoiser(x_t, t, y))`` from one call on the doubled batch, for a
    label-conditioned network whose unconditional label is ``null_label``."""
    b = x_t.shape[0]
    labels = torch.cat([torch.full((b,), null_label, dtype=torch.long, device=x_t.device), y.to(x_t.device).long()])
    both = denoiser(torch.cat([x_t, x_t]), torch.cat([t, t]), labels)
    return both[:b], both[b:]


class NoisyClassifier(nn.Module):
    """Noise-aware classifier ``log p(y | x_t, t)`` (B, C)."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = dict(config)
        self.schedule: Schedule = make_schedule(config.get("schedule", "linear"))
        self.emb_dim = int(config.get("emb_dim", 64))
        self.net = ResMLP(int(config["dim"]), int(config["num_classes"]), int(config["hidden"]),
                          int(config["depth"]), cond_dim=self.emb_dim)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every class, (B, C)."""
        cond = timestep_embedding(t.to(x_t.device), self.schedule.T, self.emb_dim)
        return torch.log_softmax(self.net(x_t.float(), cond), dim=1).to(x_t.dtype)


class CleanClassifier(nn.Module):
    """Classifier of noise-free data ``log p(y | x0)`` (B, C)."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.config = dict(config)
        self.net = ResMLP(int(config["dim"]), int(config["num_classes"]), int(config["hidden"]), int(config["depth"]))

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every class, (B, C)."""
        return torch.log_softmax(self.net(x0.float()), dim=1).to(x0.dtype)


NETWORKS = {"denoiser": NeuralDenoiser, "noisy_classifier": NoisyClassifier, "clean_classifier": CleanClassifier,
            "weak_denoiser": NeuralDenoiser}  # the weak one: smaller and trained for fewer steps (guidance by a weaker model)
