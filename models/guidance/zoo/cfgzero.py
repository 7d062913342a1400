"""CFG-Zero* (Fan et al., arXiv 2503.18886), on the velocity v: ``u`` scaled by the least-squares ``s*
= <c, u> / |u|^2`` (per sample), ``v' = s* u + gamma (c - s* u)``, and ``v' = 0`` at the first
``zero_steps`` noise levels of a run.
"""

from __future__ import annotations

from models.engine.conversions import from_space, to_space
from models.engine.denoiser import Prediction, scales
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, dot, need_labels, register, unconditional_and_conditional

NAME = "cfgzero"

CARD = Card(
    name=NAME,
    label="CFG-Zero*",
    about=("CFG-Zero* (Fan et al., arXiv 2503.18886) works on the **velocity** prediction $v$. Before "
          "extrapolating it shrinks the unconditional velocity to the multiple $s^* v_u$ closest to $v_c$, $s^* "
          "= \\langle v_c, v_u \\rangle / \\|v_u\\|^2$, then does CFG from there; and for the first steps it "
          "outputs $v = 0$, which leaves $\\hat{x}_0 = \\sqrt{\\bar\\alpha}\\, x_t$. The figure draws the velocity "
          "construction in $\\hat{x}_0$ units: the cross marks $v = 0$."),
    paper="arXiv 2503.18886",
    space="v",
    settings=(
        Setting("cfgzero_zero_steps", NAME, 1, 0, 1000, "Zero steps (v̂ = 0 at the first steps)",
                "CFG-Zero*, on the velocity prediction v: how many of the first noise levels of a run get v = 0 (the "
                "prediction is x0 = sqrt(abar) x_t: with DDIM the sample stays put, while DDPM still mixes in fresh noise); "
                "the authors' code and diffusers zero the first one.",
                "arXiv 2503.18886", slider=(0, 10, 1), integer=True),
    ),
    zoo=True,
    order=60,
    figure="CFG-Zero* step (in v)",
)


#: added to |u|^2 in CFG-Zero*'s s*, as the authors' code and diffusers do: s* stays finite where u = 0
CFGZERO_GUARD = 1e-8


def optimal_scale(c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """CFG-Zero*'s ``s* = <c, u> / |u|^2`` (B, 1): the multiple of ``u`` nearest to ``c``."""
    return dot(c, u) / (dot(u, u) + CFGZERO_GUARD)


class _LevelCounter:
    """The order in which a wrapper first meets each noise level (timestep): level 0 is the first.

    A sampler visits its levels from the noisiest down; a second evaluation at a level it has met
    (a corrector step, Heun's next step) keeps that level's number."""

    def __init__(self) -> None:
        self._order: dict[int, int] = {}

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        """Each sample's level number (B,), long."""
        import torch
        values = t.detach().cpu().long()
        for value in torch.unique(values, sorted=True).flip(0).tolist():  # noisiest first within a batch
            self._order.setdefault(int(value), len(self._order))
        return torch.tensor([self._order[int(v)] for v in values.tolist()], dtype=torch.long)


@register(CARD)
class CFGZeroStar(Guided):
    """CFG-Zero* (arXiv 2503.18886), on the velocity: ``v' = s* u + gamma (c - s* u)`` with
    ``s* = <c, u> / |u|^2``; ``v' = 0`` (x0 = sqrt(abar) x_t) at the first ``zero_steps`` levels.

    The wrapper numbers the noise levels (timesteps) in the order it first meets them: reused over
    the same timesteps it zeroes the same levels; make a new one for a run with other timesteps.
    Heun's second evaluation of a step is at the next step's level, a corrector's at its own."""


    def __init__(self, denoiser, gamma: float, zero_steps: int = 1) -> None:
        super().__init__(denoiser, gamma)
        self.zero_steps = int(zero_steps)
        self._levels = _LevelCounter()

    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        a, s = scales(self.schedule, t, x_t)
        u, c = to_space(self.space, d_u, x_t, a, s), to_space(self.space, d_c, x_t, a, s)
        scaled = optimal_scale(c, u) * u
        v = scaled + self.gamma * (c - scaled)
        zero = (self._levels(t) < self.zero_steps).to(x_t.device).reshape(-1, 1)
        v = torch.where(zero, torch.zeros_like(v), v)
        return Prediction(x0=from_space(self.space, v, x_t, a, s), x0_uncond=d_u, x0_cond=d_c)
