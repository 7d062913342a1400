"""Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713), on the digits as 8 x 8 images: the
guidance difference split by a two-level Laplacian pyramid (``models.engine.pyramid``) into a low
band L (the 4 x 4 level, brought back up) and a high band H = I - L, each with its own scale: ``x0'
= D_u + gamma H(D_c - D_u) + gamma_low L(D_c - D_u)``. The split is linear and H + L = I, so the
result is the same in eps, x0 and v; it is applied to x0.
"""

from __future__ import annotations

from models.engine.denoiser import Prediction
from models.engine.pyramid import IMAGE_SIDE, down_matrix, up_matrix
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, need_labels, register, unconditional_and_conditional

NAME = "fdg"

CARD = Card(
    name=NAME,
    label="Frequency-decoupled guidance (FDG)",
    about=("Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713) treats each digit as an 8×8 **image**. "
          "A Laplacian pyramid splits the difference $\\hat{x}_0^{c} - \\hat{x}_0^{u}$ into a low band (blurred "
          "and shrunk to 4×4, then brought back to 8×8: the coarse shape) and a high band (the rest: strokes "
          "and edges), and each band gets its own scale: γ for the high band, γ_low for the low one. The "
          "authors keep γ_low below γ, so the coarse layout is guided gently (keeping diversity) and the "
          "details strongly; γ_low = γ is CFG. The split is linear and the two bands add up to the difference, "
          "so the result is the same whether it is applied to $\\hat{x}_0$, ε or v. Digits only: the 2-D points "
          "of gmm2d are not images."),
    paper="arXiv 2506.19713",
    settings=(
        Setting("fdg_low", NAME, 1.5, -100.0, 100.0, "γ_low (scale of the low frequencies)",
                "FDG, digits only: guidance scale of the low-frequency band of a two-level Laplacian pyramid of the "
                "8x8 image, gamma being the high band's; the paper keeps it below gamma (5 against 10 for SDXL), "
                "so the default is half the default gamma, and gamma_low = gamma is CFG. The bands are linear and add up "
                "to the image, so the result is the same in eps, x0 and v.",
                "arXiv 2506.19713", slider=(0.0, 10.0, 0.5)),
    ),
    needs=("images",),
    images_note="fdg (frequency-decoupled guidance) splits 8x8 images into frequency bands",
    zoo=True,
    order=100,
    figure="frequency-decoupled guidance step (digits; each needs its own --guidance)",
)


def _per_axis(matrix, img: torch.Tensor) -> torch.Tensor:
    """``A X A^T`` for each image X (..., n, n) of ``img``, A a numpy per-axis matrix (``models.engine.pyramid``)."""
    import torch
    a = torch.as_tensor(matrix, dtype=img.dtype, device=img.device)
    return a @ img @ a.T


def pyr_down(img: torch.Tensor) -> torch.Tensor:
    """One Laplacian-pyramid level down (..., n, n) -> (..., n/2, n/2): binomial blur, mirrored
    borders, then bilinear halving (``models.engine.pyramid``)."""
    return _per_axis(down_matrix(img.shape[-1]), img)


def pyr_up(img: torch.Tensor) -> torch.Tensor:
    """One level up (..., m, m) -> (..., 2m, 2m): bilinear doubling, then the blur."""
    return _per_axis(up_matrix(img.shape[-1]), img)


def laplacian_split(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two-level Laplacian pyramid of images (..., n, n): ``(high, low)``, the high band
    ``img - pyr_up(low)`` at full size and the low level ``pyr_down(img)`` at half size;
    ``high + pyr_up(low)`` is ``img`` again."""
    low = pyr_down(img)
    return img - pyr_up(low), low


def frequency_bands(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(H x, L x)`` of flattened 8 x 8 images x (B, 64): the high band and the low band brought
    back to full size, both (B, 64); they add up to x."""
    img = x.reshape(*x.shape[:-1], IMAGE_SIDE, IMAGE_SIDE)
    high, low = laplacian_split(img)
    return high.reshape(x.shape), pyr_up(low).reshape(x.shape)


@register(CARD)
class FrequencyDecoupledGuidance(Guided):
    """Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713) on 8 x 8 images: CFG per band of
    a two-level Laplacian pyramid, ``x0' = D_u + gamma H(D_c - D_u) + gamma_low L(D_c - D_u)``, with
    gamma the high band's scale and ``gamma_low`` (``fdg_low``) the low band's; ``gamma_low = gamma``
    is CFG.

    The pyramid is linear and its bands add up to the identity, so the combination is the same in
    eps, x0 and v (diffusers applies it to the network's output): it acts on x0. diffusers' optional
    per-band parallel weights (APG's projection) and rescaling are left out: APG and CFG rescaling are
    methods of their own here, and FDG with neither is the paper's method.

    Only images: ``ValueError`` for data that are not 8 x 8 images (gmm2d's 2-D points).
    """

    def __init__(self, denoiser, gamma: float, low: float = 1.5) -> None:
        super().__init__(denoiser, gamma)
        self.low = float(low)

    def predict(self, x_t, t, y):
        if x_t.shape[-1] != IMAGE_SIDE * IMAGE_SIDE:
            raise ValueError(f"fdg (frequency-decoupled guidance) splits {IMAGE_SIDE}x{IMAGE_SIDE} images into "
                             f"frequency bands, and these data are {x_t.shape[-1]}-D points, not images: use the digits")
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        high, low = frequency_bands(d_c - d_u)
        return Prediction(x0=d_u + self.gamma * high + self.low * low, x0_uncond=d_u, x0_cond=d_c)
