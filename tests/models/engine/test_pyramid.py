"""models.engine.pyramid: the two-level Laplacian pyramid as per-axis matrices (numpy), against what its
docstring promises (the binomial blur with mirrored borders, halving as the mean of pixel pairs,
doubling at the half-pixel centres, ``H + L = I``) and against kornia's pyramid (diffusers' FDG oracle).
(The torch pyramid of ``models.guidance.zoo.fdg``, built on these matrices: guidance/zoo/test_fdg.py.)"""

import numpy as np
import pytest
import torch
from kornia.geometry.transform import pyrdown, pyrup

from models.engine.pyramid import (BLUR_TAPS, IMAGE_SIDE, blur_matrix, double_matrix, down_matrix, halve_matrix,
                                   high_band, low_band, low_pass_matrix, up_matrix)


def test_blur_is_the_binomial_kernel_mirrored_about_the_edge_pixel():
    np.testing.assert_array_equal(BLUR_TAPS * 16, [1, 4, 6, 4, 1])
    m = blur_matrix(8)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=0, atol=1e-15)  # a weighted mean: constants kept
    np.testing.assert_allclose(m[3], np.r_[0, 1, 4, 6, 4, 1, 0, 0] / 16, atol=1e-15)  # inside: the taps
    # at the edge, index -1 is pixel 1 and -2 is pixel 2 (the edge pixel not repeated)
    np.testing.assert_allclose(m[0], np.r_[6, 8, 2, 0, 0, 0, 0, 0] / 16, atol=1e-15)
    np.testing.assert_allclose(m[7], np.r_[0, 0, 0, 0, 0, 2, 8, 6] / 16, atol=1e-15)
    with pytest.raises(ValueError, match="at least 3"):
        blur_matrix(2)


def test_halving_is_the_mean_of_pixel_pairs_and_doubling_interpolates_at_half_pixels():
    x = np.arange(8.0) ** 2
    np.testing.assert_allclose(halve_matrix(8) @ x, (x[0::2] + x[1::2]) / 2)
    with pytest.raises(ValueError, match="even"):
        halve_matrix(7)
    d = double_matrix(4)
    assert d.shape == (8, 4)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)  # interpolation keeps constants
    # output j samples source position max((j + 1/2) / 2 - 1/2, 0), the right neighbour clamped
    np.testing.assert_allclose(d[0], [1, 0, 0, 0])
    np.testing.assert_allclose(d[1], [0.75, 0.25, 0, 0])
    np.testing.assert_allclose(d[2], [0.25, 0.75, 0, 0])
    np.testing.assert_allclose(d[7], [0, 0, 0, 1])  # 3.25 -> pixel 3, its neighbour clamped to pixel 3


@pytest.mark.parametrize("n", [4, 8, 16])
def test_steps_are_blur_then_halve_and_double_then_blur(n):
    assert down_matrix(n).shape == (n // 2, n) and up_matrix(n // 2).shape == (n, n // 2)
    np.testing.assert_allclose(down_matrix(n), halve_matrix(n) @ blur_matrix(n))
    np.testing.assert_allclose(up_matrix(n // 2), blur_matrix(n) @ double_matrix(n // 2))
    np.testing.assert_allclose(low_pass_matrix(n), up_matrix(n // 2) @ down_matrix(n))


def test_the_bands_add_up_and_split_low_from_high_frequencies():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, IMAGE_SIDE ** 2))
    np.testing.assert_allclose(low_band(x) + high_band(x), x, atol=1e-14)  # H + L = I
    a = low_pass_matrix()
    np.testing.assert_allclose(low_band(x), x @ np.kron(a, a).T, atol=1e-14)  # A X A^T on row-major images
    const = np.full(IMAGE_SIDE ** 2, -0.4)
    np.testing.assert_allclose(low_band(const), const, atol=1e-14)
    np.testing.assert_allclose(high_band(const), 0.0, atol=1e-14)
    checker = np.array([(-1.0) ** (i + j) for i in range(IMAGE_SIDE) for j in range(IMAGE_SIDE)])
    assert np.linalg.norm(high_band(checker)) > 0.9 * np.linalg.norm(checker)  # the finest detail is high band
    assert low_band(x).shape == x.shape and low_band(x[0]).shape == x[0].shape


@pytest.mark.parametrize("side", [8, 16])
def test_the_low_band_is_kornias_pyrup_of_its_pyrdown(side):
    rng = np.random.default_rng(side)
    img = rng.uniform(-1, 1, size=(3, side, side))
    theirs = pyrup(pyrdown(torch.from_numpy(img)[:, None]))[:, 0].numpy()
    ours = low_band(img.reshape(3, -1), side).reshape(3, side, side)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
