"""CFG-Zero* (Fan et al., arXiv 2503.18886), on the flow-matching velocity ``u = eps - x0``: the
unconditional velocity scaled by the least-squares ``s* = <c, u> / |u|^2`` (per sample), ``u' = s* u +
gamma (c - s* u)``, and ``u' = 0`` at the first ``zero_steps`` noise levels of a run.

The paper works with flow-matching models, whose network predicts ``u``; on the flow path ``x_t = (1 -
sigma) x0 + sigma eps`` it is ``dx_t / dsigma``. On any Gaussian path ``x_t = a x0 + s eps`` (the VP path
included) ``u`` is the velocity of the scaled point ``x_t / (a + s)``, which lies on the flow path
(``models.flow.path.match_level``), so the method is the same on both paths.

A zeroed step predicts ``u = 0``, i.e. ``x0 = eps = x_t / (a + s)``. The deterministic samplers then
keep ``x_t / (a + s)`` where it is: flow Euler leaves ``x_t`` unchanged, VP DDIM (eta = 0) moves it to
``x_t (a' + s') / (a + s)``, the same point of the flow path scaled to the next level. Ancestral samplers
(DDPM, on either path) still add fresh noise.
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
    about=("CFG-Zero* (Fan et al., arXiv 2503.18886) works on the **flow-matching velocity** $u = \\epsilon - x_0$ "
          "(on the VP path, the velocity of the scaled point $x_t / (a + s)$). Before extrapolating it shrinks the "
          "unconditional velocity to the multiple $s^* u_u$ closest to $u_c$, $s^* = \\langle u_c, u_u \\rangle / "
          "\\|u_u\\|^2$, then does CFG from there; and for the first steps it outputs $u = 0$, which predicts "
          "$\\hat{x}_0 = x_t / (a + s)$: Euler on the flow path and DDIM on VP keep that scaled point where it is. "
          "The figure draws the velocity construction in $\\hat{x}_0$ units: the cross marks $u = 0$."),
    paper="arXiv 2503.18886",
    space="u",
    settings=(
        Setting("cfgzero_zero_steps", NAME, 1, 0, 1000, "Zero steps (û = 0 at the first steps)",
                "CFG-Zero*, on the flow-matching velocity u = eps - x0: how many of the first noise levels of a run get "
                "u = 0 (the prediction is x0 = x_t / (a + s): flow Euler leaves the sample where it is, VP DDIM scales it "
                "to x_t (a' + s') / (a + s), while DDPM still mixes in fresh noise); the authors' code and diffusers "
                "zero the first one.",
                "arXiv 2503.18886", slider=(0, 10, 1), integer=True),
    ),
    zoo=True,
    order=60,
    figure="CFG-Zero* step (in u)",
)


#: added to |u|^2 in CFG-Zero*'s s*, as the authors' code and diffusers do: s* stays finite where u = 0
CFGZERO_GUARD = 1e-8


def optimal_scale(c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """CFG-Zero*'s ``s* = <c, u> / |u|^2`` (B, 1): the multiple of ``u`` nearest to ``c``."""
    return dot(c, u) / (dot(u, u) + CFGZERO_GUARD)


class _LevelCounter:
    """The order in which a wrapper first meets each noise level: level 0 is the first.

    Levels are keyed by their exact value (VP's integer timesteps, the flow path's float ``sigma * T``,
    which can lie less than 1 apart). A sampler visits its levels from the noisiest down; a second
    evaluation at a level it has met (a corrector step, Heun's next step) keeps that level's number."""

    def __init__(self) -> None:
        self._order: dict[float, int] = {}

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        """Each sample's level number (B,), long."""
        import torch
        values = t.detach().cpu().to(torch.float64)
        for value in torch.unique(values, sorted=True).flip(0).tolist():  # noisiest first within a batch
            self._order.setdefault(value, len(self._order))
        return torch.tensor([self._order[v] for v in values.tolist()], dtype=torch.long)


@register(CARD)
class CFGZeroStar(Guided):
    """CFG-Zero* (arXiv 2503.18886), on the flow-matching velocity ``u = eps - x0``: ``u' = s* u_u +
    gamma (u_c - s* u_u)`` with ``s* = <u_c, u_u> / |u_u|^2``; ``u' = 0`` (x0 = x_t / (a + s)) at the first
    ``zero_steps`` levels.

    The wrapper numbers the noise levels in the order it first meets them: reused over the same
    levels it zeroes the same ones; make a new one for a run with other levels. Heun's second
    evaluation of a step is at the next step's level, a corrector's at its own."""


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
        guided = scaled + self.gamma * (c - scaled)
        zero = (self._levels(t) < self.zero_steps).to(x_t.device).reshape(-1, 1)
        guided = torch.where(zero, torch.zeros_like(guided), guided)
        return Prediction(x0=from_space(self.space, guided, x_t, a, s), x0_uncond=d_u, x0_cond=d_c)
