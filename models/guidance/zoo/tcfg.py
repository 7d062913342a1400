"""Tangential CFG (Kwon et al., arXiv 2503.18137, CVPR 2025), on the noise prediction eps: ``u``
replaced by its projection on the leading right-singular vector of the 2 x D matrix [c; u] (per
sample), then CFG.

Where the signal scale ``a`` is 0 (the flow path's first level, ``sigma = 1``) every noise prediction is
``x_t / s``, whatever x0 it stands for, and ``x0 = (x_t - s eps) / a`` is 0 / 0. There the wrapper returns
the limit of TCFG's x0 prediction as ``a -> 0`` (``tcfg_at_pure_noise``): the singular direction tends to
``x_t``'s, and ``x0' -> D_c + (gamma - 1) (d_par + d_perp / 2)``, where ``d = D_c - D_u`` is split along and
across ``x_t`` (first order in ``a / s`` of the 2 x 2 eigenproblem; tested against small ``a``).
"""

from __future__ import annotations

from models.engine.conversions import from_space, to_space
from models.engine.denoiser import Prediction, scales
from models.guidance.base import Card, Guided, dot, need_labels, register, unconditional_and_conditional

NAME = "tcfg"

CARD = Card(
    name=NAME,
    label="Tangential CFG (TCFG)",
    about=("Tangential CFG (Kwon et al., arXiv 2503.18137) works on the **noise** prediction ε. It stacks "
          "$\\epsilon_c$ and $\\epsilon_u$, keeps only the leading right-singular direction of that 2-row matrix, "
          "and replaces $\\epsilon_u$ by its projection on it (dropping the part the authors call tangential), "
          "then does CFG. The figure draws it in $\\hat{x}_0$ units: the cross marks ε = 0, far away while the "
          "noise is high."),
    paper="arXiv 2503.18137",
    space="eps",
    zoo=True,
    order=70,
    figure="tangential CFG step (in eps)",
)


def leading_direction(c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The unit leading right-singular vector (B, D) of each sample's 2 x D matrix [c; u], from the
    2 x 2 Gram matrix's top eigenvector w: the direction ``c w_0 + u w_1`` (sign arbitrary)."""
    import torch
    gram = torch.stack([torch.cat([dot(c, c), dot(c, u)], 1), torch.cat([dot(u, c), dot(u, u)], 1)], 1)  # (B, 2, 2)
    _, vectors = torch.linalg.eigh(gram)  # ascending eigenvalues
    w = vectors[:, :, -1]  # (B, 2)
    direction = w[:, :1] * c + w[:, 1:] * u
    return direction / direction.norm(dim=1, keepdim=True).clamp_min(torch.finfo(c.dtype).tiny)


def tcfg_at_pure_noise(d_u: torch.Tensor, d_c: torch.Tensor, x_t: torch.Tensor, gamma: float) -> torch.Tensor:
    """TCFG's x0 prediction in the limit ``a -> 0`` (module docstring): ``D_c + (gamma - 1) (d_par +
    d_perp / 2)`` with ``d = D_c - D_u`` split along and across ``x_t``."""
    import torch
    along = x_t / x_t.norm(dim=1, keepdim=True).clamp_min(torch.finfo(x_t.dtype).tiny)
    d = d_c - d_u
    par = dot(d, along) * along
    return d_c + (gamma - 1.0) * (par + (d - par) / 2)


@register(CARD)
class TangentialCFG(Guided):
    """Tangential CFG (arXiv 2503.18137), on the noise prediction: ``u`` replaced by its projection
    ``u_n`` on the leading right-singular direction of [c; u], then ``eps' = u_n + gamma (c - u_n)``;
    where ``a = 0``, the limit ``tcfg_at_pure_noise``."""


    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        a, s = scales(self.schedule, t, x_t)
        u, c = to_space(self.space, d_u, x_t, a, s), to_space(self.space, d_c, x_t, a, s)
        n = leading_direction(c, u)
        u_n = dot(u, n) * n
        eps = u_n + self.gamma * (c - u_n)
        signal = a > 0
        x0 = from_space(self.space, eps, x_t, torch.where(signal, a, torch.ones_like(a)), s)
        x0 = torch.where(signal, x0, tcfg_at_pure_noise(d_u, d_c, x_t, self.gamma))
        return Prediction(x0=x0, x0_uncond=d_u, x0_cond=d_c)
