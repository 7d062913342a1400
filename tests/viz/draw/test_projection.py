"""Projections: PCA against scikit-learn, seeded random projections, the exact guidance plane."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from models.engine.data import load_digits_dataset
from viz.draw.projection import distance_distortion, pca_projection, plane_projection, random_projection


def test_pca_matches_sklearn_on_digits():
    x = load_digits_dataset().x
    ours = pca_projection(x)
    ref = PCA(n_components=2).fit(x)
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-10)
    # Same axes up to sign, hence the same coordinates up to sign.
    np.testing.assert_allclose(np.abs(ours(x)), np.abs(ref.transform(x)), atol=1e-9)
    # MATH.md: two components keep 28.5 % of the digits' variance.
    assert sum(ours.explained_variance_ratio) == pytest.approx(0.285, abs=0.001)
    assert "28.5%" in ours.note


def test_random_projection_is_reproducible_by_seed():
    a, b, c = random_projection(64, 3), random_projection(64, 3), random_projection(64, 4)
    np.testing.assert_array_equal(a.basis, b.basis)
    assert not np.allclose(a.basis, c.basis)


def test_random_projection_distortion_is_reported():
    x = load_digits_dataset().x
    proj = random_projection(64, 0, reference=x)
    lo, hi = distance_distortion(x, proj.basis)
    assert lo < 0.6 and hi > 1.4  # a 2-D random view cannot keep distances (MATH.md: 0.24x .. 1.84x)
    assert f"{lo:.2f}x" in proj.note and f"{hi:.2f}x" in proj.note


def test_plane_keeps_in_plane_distances_exactly():
    rng = np.random.default_rng(0)
    o, p, q = rng.standard_normal((3, 64))
    proj = plane_projection(o, p, q)
    assert proj.exact
    np.testing.assert_allclose(proj.basis @ proj.basis.T, np.eye(2), atol=1e-12)
    # Any affine combination of the three points lies in the plane; distances must be kept.
    w = rng.standard_normal((20, 2))
    pts = o + w[:, :1] * (p - o) + w[:, 1:] * (q - o)
    flat = proj(pts)
    true = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    drawn = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    np.testing.assert_allclose(drawn, true, atol=1e-10)
    np.testing.assert_allclose(proj(o), [0, 0], atol=1e-12)


def test_plane_handles_collinear_points():
    o = np.zeros(8)
    p = np.ones(8)
    proj = plane_projection(o, p, 2 * p)
    np.testing.assert_allclose(np.linalg.norm(proj(2 * p)), np.linalg.norm(2 * p), rtol=1e-12)
    assert np.all(np.isfinite(proj.basis))


def test_two_dimensional_data_is_drawn_exactly():
    x = np.random.default_rng(1).standard_normal((50, 2))
    for proj in (pca_projection(x), random_projection(2, 0), plane_projection(x[0], x[1], x[2])):
        assert proj.exact
        np.testing.assert_array_equal(proj(x), x)
