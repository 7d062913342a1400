"""Changes of parameterisation, one small function each (VP form, see ``models.engine.schedule``).

``a`` and ``s`` are the signal and noise scales at the current step, broadcastable to ``x_t``.
Tweedie's formula links the x0 prediction to the score (arXiv 2011.13456, 2206.00364).
Works on torch tensors and numpy arrays alike.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

Array = TypeVar("Array")  # a torch tensor or a numpy array (torch is not imported here)


def x0_eps_to_xt(x0: Array, eps: Array, a, s) -> Array:
    """The forward (noising) process: ``x_t = a * x0 + s * eps``."""
    return a * x0 + s * eps


def eps_to_x0(x_t: Array, eps: Array, a, s) -> Array:
    """``x0 = (x_t - s * eps) / a``."""
    return (x_t - s * eps) / a


def x0_to_eps(x_t: Array, x0: Array, a, s) -> Array:
    """``eps = (x_t - a * x0) / s``."""
    return (x_t - a * x0) / s


def x0_eps_to_v(x0: Array, eps: Array, a, s) -> Array:
    """``v = a * eps - s * x0`` (arXiv 2202.00512)."""
    return a * eps - s * x0


def v_to_x0(x_t: Array, v: Array, a, s) -> Array:
    """``x0 = a * x_t - s * v``."""
    return a * x_t - s * v


def v_to_eps(x_t: Array, v: Array, a, s) -> Array:
    """``eps = a * v + s * x_t``."""
    return a * v + s * x_t


def x0_to_score(x_t: Array, x0: Array, a, s) -> Array:
    """Tweedie: ``grad log p_t(x_t) = (a * x0 - x_t) / s**2``."""
    return (a * x0 - x_t) / s**2


def eps_to_score(eps: Array, s) -> Array:
    """``grad log p_t(x_t) = -eps / s``."""
    return -eps / s


def score_to_x0(x_t: Array, score: Array, a, s) -> Array:
    """Inverse Tweedie: ``x0 = (x_t + s**2 * score) / a``."""
    return (x_t + s**2 * score) / a


def ve_denoiser(x_ve: Array, score_ve: Array, sigma) -> Array:
    """VE denoiser ``D(x; sigma) = x + sigma**2 * score`` (arXiv 2206.00364, eq. 3)."""
    return x_ve + sigma**2 * score_ve


def x0_eps_to_u(x0: Array, eps: Array) -> Array:
    """The flow-matching velocity ``u = eps - x0`` (arXiv 2209.03003, 2210.02747): ``dx_t / dsigma`` on the
    flow path, and on any Gaussian path the velocity of the scaled point ``x_t / (a + s)``."""
    return eps - x0


def u_to_x0(x_t: Array, u: Array, a, s) -> Array:
    """``x0 = (x_t - s u) / (a + s)`` (from ``x_t = a x0 + s eps`` and ``eps = u + x0``)."""
    return (x_t - s * u) / (a + s)


#: the prediction spaces a guidance method may act in (``models.guidance.base.SPACES`` says them in words)
SPACE_NAMES = ("x0", "eps", "v", "u")


def to_space(space: str, x0: Array, x_t: Array, a, s) -> Array:
    """The x0 prediction ``x0`` at ``x_t`` as a prediction in ``space`` (``"x0"``, ``"eps"``, ``"v"`` or ``"u"``)."""
    if space == "x0":
        return x0
    eps = x0_to_eps(x_t, x0, a, s)
    if space == "eps":
        return eps
    if space == "v":
        return x0_eps_to_v(x0, eps, a, s)
    if space == "u":
        return x0_eps_to_u(x0, eps)
    raise ValueError(f"unknown prediction space {space!r}; valid: {', '.join(SPACE_NAMES)}")


def from_space(space: str, pred: Array, x_t: Array, a, s) -> Array:
    """The x0 prediction that ``pred``, a prediction in ``space`` at ``x_t``, stands for."""
    if space == "x0":
        return pred
    if space == "eps":
        return eps_to_x0(x_t, pred, a, s)
    if space == "v":
        return v_to_x0(x_t, pred, a, s)
    if space == "u":
        return u_to_x0(x_t, pred, a, s)
    raise ValueError(f"unknown prediction space {space!r}; valid: {', '.join(SPACE_NAMES)}")
