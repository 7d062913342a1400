"""A two-level Laplacian pyramid of small square images, as linear maps (numpy only: the figures use it too).

Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713; ``models.guidance.zoo``'s ``fdg``) splits an
image into a low band and a high band with a Laplacian pyramid (Burt & Adelson, 1983):

* down: blur with the 5-tap binomial kernel [1, 4, 6, 4, 1] / 16 along each axis (the borders
  mirrored about the edge pixel, without repeating it), then halve each side by bilinear
  interpolation at the half-pixel centres (for a factor of 2: the mean of each pair of pixels);
* up: double each side by bilinear interpolation at the half-pixel centres (the source index
  clamped to the image), then the same blur;
* low band ``L(x) = up(down(x))``, at the full size; high band ``H(x) = x - L(x)``: ``H + L = I``, so
  the pyramid gives the image back exactly.

These are the conventions of the Laplacian pyramid diffusers' ``FrequencyDecoupledGuidance`` builds
(its oracle's, kornia's ``build_laplacian_pyramid`` / ``pyrup`` with their defaults; the tests
compare). Every step is separable, so each is one small matrix per axis: an image X (n x n) goes to
``A X A^T``. ``low_pass_matrix(n)`` is the whole low band's per-axis matrix.
"""

from __future__ import annotations

import numpy as np

#: the binomial blur taps (the outer product of two of them is the 5 x 5 Gaussian of the pyramid)
BLUR_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
#: the digits are 8 x 8 images
IMAGE_SIDE = 8


def _mirror(i: int, n: int) -> int:
    """Index ``i`` mirrored into ``0..n-1`` about the edge pixels (edge not repeated)."""
    if i < 0:
        return -i
    if i > n - 1:
        return 2 * (n - 1) - i
    return i


def blur_matrix(n: int) -> np.ndarray:
    """(n, n): the 5-tap binomial blur along one axis of length n, mirrored borders (n >= 3)."""
    if n < 3:
        raise ValueError(f"the 5-tap blur with mirrored borders needs a side of at least 3, got {n}")
    m = np.zeros((n, n))
    for i in range(n):
        for offset, w in zip(range(-2, 3), BLUR_TAPS):
            m[i, _mirror(i + offset, n)] += w
    return m


def halve_matrix(n: int) -> np.ndarray:
    """(n/2, n): bilinear interpolation to half the length at the half-pixel centres (even n):
    output j samples 2j + 1/2, the mean of pixels 2j and 2j + 1."""
    if n % 2:
        raise ValueError(f"halving needs an even side, got {n}")
    m = np.zeros((n // 2, n))
    for j in range(n // 2):
        m[j, 2 * j] = m[j, 2 * j + 1] = 0.5
    return m


def double_matrix(n: int) -> np.ndarray:
    """(2n, n): bilinear interpolation to twice the length at the half-pixel centres: output j
    samples ``max(j / 2 - 1/4, 0)``, its right neighbour clamped to the last pixel."""
    m = np.zeros((2 * n, n))
    for j in range(2 * n):
        src = max((j + 0.5) / 2.0 - 0.5, 0.0)
        i0 = int(np.floor(src))
        lam = src - i0
        m[j, i0] += 1.0 - lam
        m[j, min(i0 + 1, n - 1)] += lam
    return m


def down_matrix(n: int) -> np.ndarray:
    """(n/2, n): one pyramid step down along one axis, blur then halve."""
    return halve_matrix(n) @ blur_matrix(n)


def up_matrix(m: int) -> np.ndarray:
    """(2m, m): one pyramid step up along one axis, double then blur."""
    return blur_matrix(2 * m) @ double_matrix(m)


def low_pass_matrix(n: int = IMAGE_SIDE) -> np.ndarray:
    """(n, n): the low band ``up(down(.))`` along one axis; the image's low band is ``A X A^T``."""
    return up_matrix(n // 2) @ down_matrix(n)


def low_band(x: np.ndarray, side: int = IMAGE_SIDE) -> np.ndarray:
    """The low band of flattened ``side x side`` images ``x`` (..., side^2), flattened the same way."""
    a = low_pass_matrix(side)
    img = np.asarray(x, np.float64).reshape(*np.shape(x)[:-1], side, side)
    return (a @ img @ a.T).reshape(np.shape(x))


def high_band(x: np.ndarray, side: int = IMAGE_SIDE) -> np.ndarray:
    """The high band ``x - low_band(x)`` (..., side^2)."""
    return np.asarray(x, np.float64) - low_band(x, side)


__all__ = ["BLUR_TAPS", "IMAGE_SIDE", "blur_matrix", "double_matrix", "down_matrix", "halve_matrix", "high_band",
           "low_band", "low_pass_matrix", "up_matrix"]
