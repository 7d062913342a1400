"""The guidance zoo: newer guidance methods, each a geometric operation on the same few vectors.

Settings are declared and checked once, in ``models.engine.settings``; build these through
``models.guidance.make_guidance``, which finds each by the name it registers. Every wrapper
keeps the denoiser's signature and reports its parts (``models.engine.denoiser.Prediction``), like the
wrappers of ``models.guidance``. D_u and D_c are the unconditional and conditional
x0 predictions, gamma the guidance scale (gamma = 1 is conditional sampling).

* ``rescale``: CFG rescale (Lin et al., arXiv 2305.08891, section 3.4):
  ``x_r = x_cfg * std(D_c) / std(x_cfg)``, ``x = phi * x_r + (1 - phi) * x_cfg``. A departure: here it
  rescales the x0 prediction, where the paper (a v-prediction model) and diffusers' pipelines rescale
  the network's own output (eps or v); the rescale is not affine, so the numbers differ.
* ``apg``: adaptive projected guidance (Sadat et al., arXiv 2410.02416): momentum, clipping,
  and the guidance difference split into parts parallel and orthogonal to D_c, the parallel
  part down-weighted by eta: ``x0' = D_c + (gamma - 1) (orth + eta par)``.
* ``interval``: guidance only for noise levels sigma in (lo, hi], the paper's half-open interval
  (Kynkaanniemi et al., arXiv 2404.07724); plain D_c elsewhere.
* ``autoguidance``: guide with a weaker model of the same kind (Karras et al., arXiv 2406.02507):
  ``x0' = D_weak + gamma (D_main - D_weak)``, both conditional.
* ``cfgpp``: CFG++ (Chung et al., arXiv 2406.08070): the guided prediction with lambda in [0, 1],
  ``D_lambda = D_u + lambda (D_c - D_u)``, but the step re-noises along the *unconditional* noise
  estimate; implemented for the DDIM sampler (its ``x0_renoise`` part is D_u).

The guiders diffusers ships for any denoiser (``diffusers.guiders``), each in the prediction space
its paper defines (``space``; ``to_space`` / ``from_space`` convert with ``models.engine.conversions``).
``u`` and ``c`` are the unconditional and conditional predictions in that space:

* ``cfgzero``: CFG-Zero* (Fan et al., arXiv 2503.18886), on the velocity v: ``u`` scaled by the
  least-squares ``s* = <c, u> / |u|^2`` (per sample), ``v' = s* u + gamma (c - s* u)``, and ``v' = 0``
  at the first ``zero_steps`` noise levels of a run.
* ``tcfg``: tangential CFG (Kwon et al., arXiv 2503.18137, CVPR 2025), on the noise prediction eps:
  ``u`` replaced by its projection on the leading right-singular vector of the 2 x D matrix [c; u]
  (per sample), then CFG.
* ``mambo``: MAMBO-G (Zhu et al., arXiv 2508.03442), on the velocity v: CFG with the scale
  ``1 + (gamma - 1) exp(-alpha |c - u| / |u|)`` (per sample).
* ``apgmix``: diffusers' ``AdaptiveProjectedMixGuidance`` (APG, arXiv 2410.02416, as HunyuanImage-2.1
  uses it), on x0: APG while sigma lies in (lo, hi], CFG at the same gamma outside, one momentum
  buffer fed at every step.

* ``fdg``: frequency-decoupled guidance (Sadat et al., arXiv 2506.19713), on the digits as 8 x 8
  images: the guidance difference split by a two-level Laplacian pyramid (``models.engine.pyramid``) into a
  low band L (the 4 x 4 level, brought back up) and a high band H = I - L, each with its own scale:
  ``x0' = D_u + gamma H(D_c - D_u) + gamma_low L(D_c - D_u)``. The split is linear and H + L = I, so
  the result is the same in eps, x0 and v; it is applied to x0.

Each keeps gamma = 1 + w: at gamma = 1 ``tcfg``, ``mambo``, ``apgmix`` and ``cfgzero`` (after its
zero steps) are conditional sampling, and ``fdg`` with ``gamma_low = 1`` too.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from models.engine.conversions import eps_to_x0, v_to_x0, x0_eps_to_v, x0_to_eps
from models.engine.denoiser import Prediction, scales
from models.guidance.base import SPACES, Guided, need_labels, register, unconditional_and_conditional
from models.engine.pyramid import IMAGE_SIDE, down_matrix, up_matrix


def _std(x: torch.Tensor) -> torch.Tensor:
    """Standard deviation over the non-batch dimension, (B, 1)."""
    return x.std(dim=1, keepdim=True)


@register("rescale", zoo=True)
class RescaledCFG(Guided):
    """CFG rescale (arXiv 2305.08891): CFG, then pulled back toward the conditional prediction's spread."""

    def __init__(self, denoiser, gamma: float, phi: float = 0.7) -> None:
        super().__init__(denoiser, gamma)
        self.phi = float(phi)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "rescale"))
        x_cfg = d_u + self.gamma * (d_c - d_u)
        x_r = x_cfg * _std(d_c) / _std(x_cfg).clamp_min(torch.finfo(x_cfg.dtype).tiny)
        return Prediction(x0=self.phi * x_r + (1 - self.phi) * x_cfg, x0_uncond=d_u, x0_cond=d_c)


@register("apg", zoo=True)
class AdaptiveProjectedGuidance(Guided):
    """APG (arXiv 2410.02416, Algorithm 1), in x0 space. With eta = 1, r = inf and beta = 0 it is CFG.

    The momentum buffer lives in the wrapper: make a new wrapper for each sampling run.
    """

    def __init__(self, denoiser, gamma: float, eta: float = 0.0, r: float = math.inf, beta: float = 0.0) -> None:
        super().__init__(denoiser, gamma)
        self.eta, self.r, self.beta = float(eta), float(r), float(beta)
        self._momentum: Optional[torch.Tensor] = None

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "apg"))
        delta = d_c - d_u  # (B, D)
        # 1. Momentum: m <- delta + beta m.
        if self.beta != 0.0:
            self._momentum = delta if self._momentum is None else delta + self.beta * self._momentum
            delta = self._momentum
        # 2. Clip the difference to norm r.
        if math.isfinite(self.r):
            norm = delta.norm(dim=1, keepdim=True)
            delta = delta * torch.clamp(self.r / norm.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
        # 3. Split against the unit conditional prediction (in float64, as the reference does).
        unit = torch.nn.functional.normalize(d_c.double(), dim=1)
        par = ((delta.double() * unit).sum(1, keepdim=True) * unit).to(delta.dtype)
        orth = delta - par
        x0 = d_c + (self.gamma - 1.0) * (orth + self.eta * par)
        return Prediction(x0=x0, x0_uncond=d_u, x0_cond=d_c)


def in_window(sigma: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Whether each noise level lies in the half-open ``(lo, hi]``, the interval of arXiv 2404.07724
    (guidance for sigma in (sigma_lo, sigma_hi])."""
    return (sigma > lo) & (sigma <= hi)


@register("interval", zoo=True)
class IntervalGuidance(Guided):
    """CFG only while the noise level sigma lies in (lo, hi] (arXiv 2404.07724); D_c outside."""

    def __init__(self, denoiser, gamma: float, lo: float, hi: float) -> None:
        super().__init__(denoiser, gamma)
        self.lo, self.hi = float(lo), float(hi)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "interval"))
        sigma = torch.as_tensor(self.schedule.sigma(t.detach().cpu().numpy()), device=x_t.device)
        inside = in_window(sigma, self.lo, self.hi).to(x_t.dtype).reshape(-1, 1)  # (B, 1)
        gamma = 1.0 + inside * (self.gamma - 1.0)
        return Prediction(x0=d_u + gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)


@register("autoguidance", zoo=True)
class AutoGuidance(Guided):
    """``x0' = D_weak + gamma (D_main - D_weak)`` (arXiv 2406.02507), both conditional on y.

    Parts: ``x0_uncond`` holds the weak model's prediction and ``x0_cond`` the main model's,
    so the CFG construction draws autoguidance with 'weak' in place of 'unconditional'.
    """

    def __init__(self, denoiser, weak, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        if weak is None:
            raise ValueError("autoguidance needs a weak model of the same kind")
        self.weak = weak

    @classmethod
    def build(cls, denoiser, gamma, settings, *, weak=None, **resources):
        """Needs the weaker model ``weak``."""
        return cls(denoiser, weak, gamma)

    def predict(self, x_t, t, y):
        y = need_labels(y, "autoguidance")
        d_main, d_weak = self.denoiser(x_t, t, y), self.weak(x_t, t, y)
        return Prediction(x0=d_weak + self.gamma * (d_main - d_weak), x0_uncond=d_weak, x0_cond=d_main)


@register("cfgpp", zoo=True)
class CFGPlusPlus(Guided):
    """CFG++ (arXiv 2406.08070): predict ``D_lambda = D_u + lambda (D_c - D_u)``, re-noise with eps_u.

    ``lam`` is CFG++'s lambda, in [0, 1] (``models.engine.settings``: ``cfgpp_lambda``); it replaces gamma,
    which stays None. Only the DDIM sampler uses ``x0_renoise``.
    """

    def __init__(self, denoiser, lam: float) -> None:
        super().__init__(denoiser, None)
        self.lam = float(lam)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "cfgpp"))
        return Prediction(x0=d_u + self.lam * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c, x0_renoise=d_u)


# ----------------------------------------------------------------------------- the guiders of diffusers

def to_space(space: str, x0: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """The x0 prediction ``x0`` at ``x_t`` as a prediction in ``space`` (``"x0"``, ``"eps"`` or ``"v"``)."""
    if space == "x0":
        return x0
    eps = x0_to_eps(x_t, x0, a, s)
    if space == "eps":
        return eps
    if space == "v":
        return x0_eps_to_v(x0, eps, a, s)
    raise ValueError(f"unknown prediction space {space!r}; valid: {', '.join(SPACES)}")


def from_space(space: str, pred: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """The x0 prediction that ``pred``, a prediction in ``space`` at ``x_t``, stands for."""
    if space == "x0":
        return pred
    if space == "eps":
        return eps_to_x0(x_t, pred, a, s)
    if space == "v":
        return v_to_x0(x_t, pred, a, s)
    raise ValueError(f"unknown prediction space {space!r}; valid: {', '.join(SPACES)}")


def _dot(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Per-sample inner product, (B, 1)."""
    return (p * q).sum(dim=1, keepdim=True)


#: added to |u|^2 in CFG-Zero*'s s*, as the authors' code and diffusers do: s* stays finite where u = 0
CFGZERO_GUARD = 1e-8


def optimal_scale(c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """CFG-Zero*'s ``s* = <c, u> / |u|^2`` (B, 1): the multiple of ``u`` nearest to ``c``."""
    return _dot(c, u) / (_dot(u, u) + CFGZERO_GUARD)


class _LevelCounter:
    """The order in which a wrapper first meets each noise level (timestep): level 0 is the first.

    A sampler visits its levels from the noisiest down; a second evaluation at a level it has met
    (a corrector step, Heun's next step) keeps that level's number."""

    def __init__(self) -> None:
        self._order: dict[int, int] = {}

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        """Each sample's level number (B,), long."""
        values = t.detach().cpu().long()
        for value in torch.unique(values, sorted=True).flip(0).tolist():  # noisiest first within a batch
            self._order.setdefault(int(value), len(self._order))
        return torch.tensor([self._order[int(v)] for v in values.tolist()], dtype=torch.long)


@register("cfgzero", zoo=True)
class CFGZeroStar(Guided):
    """CFG-Zero* (arXiv 2503.18886), on the velocity: ``v' = s* u + gamma (c - s* u)`` with
    ``s* = <c, u> / |u|^2``; ``v' = 0`` (x0 = sqrt(abar) x_t) at the first ``zero_steps`` levels.

    The wrapper numbers the noise levels (timesteps) in the order it first meets them: reused over
    the same timesteps it zeroes the same levels; make a new one for a run with other timesteps.
    Heun's second evaluation of a step is at the next step's level, a corrector's at its own."""

    space = "v"

    def __init__(self, denoiser, gamma: float, zero_steps: int = 1) -> None:
        super().__init__(denoiser, gamma)
        self.zero_steps = int(zero_steps)
        self._levels = _LevelCounter()

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "cfgzero"))
        a, s = scales(self.schedule, t, x_t)
        u, c = to_space(self.space, d_u, x_t, a, s), to_space(self.space, d_c, x_t, a, s)
        scaled = optimal_scale(c, u) * u
        v = scaled + self.gamma * (c - scaled)
        zero = (self._levels(t) < self.zero_steps).to(x_t.device).reshape(-1, 1)
        v = torch.where(zero, torch.zeros_like(v), v)
        return Prediction(x0=from_space(self.space, v, x_t, a, s), x0_uncond=d_u, x0_cond=d_c)


def leading_direction(c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The unit leading right-singular vector (B, D) of each sample's 2 x D matrix [c; u], from the
    2 x 2 Gram matrix's top eigenvector w: the direction ``c w_0 + u w_1`` (sign arbitrary)."""
    gram = torch.stack([torch.cat([_dot(c, c), _dot(c, u)], 1), torch.cat([_dot(u, c), _dot(u, u)], 1)], 1)  # (B, 2, 2)
    _, vectors = torch.linalg.eigh(gram)  # ascending eigenvalues
    w = vectors[:, :, -1]  # (B, 2)
    direction = w[:, :1] * c + w[:, 1:] * u
    return direction / direction.norm(dim=1, keepdim=True).clamp_min(torch.finfo(c.dtype).tiny)


@register("tcfg", zoo=True)
class TangentialCFG(Guided):
    """Tangential CFG (arXiv 2503.18137), on the noise prediction: ``u`` replaced by its projection
    ``u_n`` on the leading right-singular direction of [c; u], then ``eps' = u_n + gamma (c - u_n)``."""

    space = "eps"

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "tcfg"))
        a, s = scales(self.schedule, t, x_t)
        u, c = to_space(self.space, d_u, x_t, a, s), to_space(self.space, d_c, x_t, a, s)
        n = leading_direction(c, u)
        u_n = _dot(u, n) * n
        eps = u_n + self.gamma * (c - u_n)
        return Prediction(x0=from_space(self.space, eps, x_t, a, s), x0_uncond=d_u, x0_cond=d_c)


def damped_scale(gamma: float, alpha: float, c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """MAMBO-G's per-sample scale (B, 1): ``1 + (gamma - 1) exp(-alpha |c - u| / |u|)``."""
    ratio = (c - u).norm(dim=1, keepdim=True) / u.norm(dim=1, keepdim=True).clamp_min(torch.finfo(u.dtype).tiny)
    return 1.0 + (gamma - 1.0) * torch.exp(-alpha * ratio)


@register("mambo", zoo=True)
class MagnitudeAwareCFG(Guided):
    """MAMBO-G (arXiv 2508.03442): CFG whose guidance ``gamma - 1`` is damped by
    ``exp(-alpha |v_c - v_u| / |v_u|)``, the ratio measured on the velocity predictions. The
    combination itself is affine, so it is the same in every space: it is applied to x0 directly."""

    space = "v"

    def __init__(self, denoiser, gamma: float, alpha: float = 8.0) -> None:
        super().__init__(denoiser, gamma)
        self.alpha = float(alpha)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "mambo"))
        a, s = scales(self.schedule, t, x_t)
        scale = damped_scale(self.gamma, self.alpha, to_space(self.space, d_c, x_t, a, s),
                             to_space(self.space, d_u, x_t, a, s))
        return Prediction(x0=d_u + scale * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)


@register("apgmix", zoo=True)
class APGMix(Guided):
    """diffusers' ``AdaptiveProjectedMixGuidance``, in x0 (APG's space, arXiv 2410.02416): APG,
    ``D_c + (gamma - 1)(orth + eta par)`` of the clipped momentum average, while sigma lies in
    (lo, hi]; CFG, ``D_u + gamma (D_c - D_u)``, outside. The momentum ``m <- (D_c - D_u) + beta m``
    is updated at every step, the CFG ones too (as diffusers does).

    The momentum buffer lives in the wrapper: make a new wrapper for each sampling run.
    """

    def __init__(self, denoiser, gamma: float, lo: float = 0.0, hi: float = 50.0, eta: float = 0.0,
                 r: float = math.inf, beta: float = -0.5) -> None:
        super().__init__(denoiser, gamma)
        self.lo, self.hi = float(lo), float(hi)
        self.eta, self.r, self.beta = float(eta), float(r), float(beta)
        self._momentum: Optional[torch.Tensor] = None

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "apgmix"))
        delta = d_c - d_u
        m = delta if self._momentum is None else delta + self.beta * self._momentum
        self._momentum = m
        if math.isfinite(self.r):
            m = m * torch.clamp(self.r / m.norm(dim=1, keepdim=True).clamp_min(torch.finfo(m.dtype).tiny), max=1.0)
        unit = torch.nn.functional.normalize(d_c.double(), dim=1)  # the split in float64, as in models.guidance.zoo's apg
        par = (_dot(m.double(), unit) * unit).to(m.dtype)
        apg = d_c + (self.gamma - 1.0) * (m - par + self.eta * par)
        cfg = d_u + self.gamma * delta
        sigma = torch.as_tensor(self.schedule.sigma(t.detach().cpu().numpy()), device=x_t.device)
        inside = in_window(sigma, self.lo, self.hi).reshape(-1, 1)
        return Prediction(x0=torch.where(inside, apg, cfg), x0_uncond=d_u, x0_cond=d_c)


# ----------------------------------------------------------------------------- frequency-decoupled guidance

def _per_axis(matrix, img: torch.Tensor) -> torch.Tensor:
    """``A X A^T`` for each image X (..., n, n) of ``img``, A a numpy per-axis matrix (``models.engine.pyramid``)."""
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


@register("fdg", zoo=True)
class FrequencyDecoupledGuidance(Guided):
    """Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713) on 8 x 8 images: CFG per band of
    a two-level Laplacian pyramid, ``x0' = D_u + gamma H(D_c - D_u) + gamma_low L(D_c - D_u)``, with
    gamma the high band's scale and ``gamma_low`` (``fdg_low``) the low band's; ``gamma_low = gamma``
    is CFG.

    The pyramid is linear and its bands add up to the identity, so the combination is the same in
    eps, x0 and v (diffusers applies it to the network's output): it acts on x0. diffusers' optional
    per-band parallel weights (APG's projection) and rescale are left out: APG and rescale are
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
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "fdg"))
        high, low = frequency_bands(d_c - d_u)
        return Prediction(x0=d_u + self.gamma * high + self.low * low, x0_uncond=d_u, x0_cond=d_c)
