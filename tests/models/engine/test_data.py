"""models.engine.data: the two data sets, their class counts, and the mixture's noisy density."""

import numpy as np
import pytest

from models.engine.data import (CLASS_NAMES, DATA_NAMES, load_dataset, make_gmm2d, mixture_density, num_classes)
from models.engine.schedule import make_schedule


@pytest.mark.parametrize("name", DATA_NAMES)
def test_class_counts_come_from_the_data_set(name):
    d = load_dataset(name)
    assert d.num_classes == num_classes(name) == len(CLASS_NAMES[name]) == len(d.class_names)
    assert set(np.unique(d.labels)) == set(range(d.num_classes))  # every class present, no other label
    assert np.isfinite(d.x).all() and np.abs(d.x).max() <= 1.5


def test_the_digits_are_sklearns_8x8_images_in_minus_one_to_one():
    d = load_dataset("digits")
    assert d.x.shape == (1797, 64) and d.image_shape == (8, 8) and d.num_classes == 10
    assert d.x.min() == -1.0 and d.x.max() == 1.0


def test_the_mixture_has_three_classes_of_three_components():
    g = make_gmm2d()
    assert g.num_classes == num_classes("gmm2d") == 3
    np.testing.assert_array_equal(np.bincount(g.comp_class), [3, 3, 3])
    assert g.weights.sum() == pytest.approx(1.0)


def test_unknown_data_sets_list_the_valid_names():
    for call in (load_dataset, num_classes):
        with pytest.raises(ValueError, match="digits, gmm2d"):
            call("mnist")


def test_mixture_density_is_a_density_at_every_noise_level():
    gmm, schedule = make_gmm2d(), make_schedule("linear")
    xx, yy = np.meshgrid(np.linspace(-6, 6, 400), np.linspace(-6, 6, 400))
    cell = (xx[0, 1] - xx[0, 0]) * (yy[1, 0] - yy[0, 0])
    for t in (-1, 0, 300, 999):
        dens = mixture_density(gmm, xx, yy, float(schedule.abar(t)))
        assert dens.min() >= 0 and dens.sum() * cell == pytest.approx(1.0, abs=1e-6)


def test_mixture_density_at_abar_zero_is_the_standard_normal():
    x, y = np.array([0.0, 1.0, -2.0]), np.array([0.0, 0.5, 1.0])
    expected = np.exp(-(x**2 + y**2) / 2) / (2 * np.pi)
    np.testing.assert_allclose(mixture_density(make_gmm2d(), x, y, 0.0), expected, rtol=1e-12)
