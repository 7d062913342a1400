"""models.analysis.metrics on hand-made arrays: diversity, distance to the training set and the judge's accuracy."""
import math

import numpy as np
import pytest

from models.engine.data import load_digits_dataset, load_gmm2d_dataset
from models.analysis.metrics import accuracy, diversity, nearest_train


def test_diversity_of_identical_samples_is_zero():
    x = np.tile(np.arange(5.0), (6, 1))  # six copies of one point
    assert diversity(x, np.array([0, 0, 0, 1, 1, 1])) == 0.0


def test_diversity_is_the_mean_pairwise_distance_within_each_class():
    # Class 0: three corners of a 3-4-5 triangle, mean distance (3 + 4 + 5) / 3 = 4.
    # Class 1: two points at distance 2. Average over the two classes: 3.
    x = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [10.0, 0.0], [12.0, 0.0]])
    labels = np.array([0, 0, 0, 1, 1])
    assert diversity(x, labels) == pytest.approx(3.0)


def test_diversity_skips_singletons_and_non_finite_rows():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [np.nan, 0.0], [5.0, 5.0]])
    assert diversity(x, np.array([0, 0, 0, 1])) == pytest.approx(1.0)
    assert math.isnan(diversity(x[3:], np.array([1])))


def test_nearest_train_of_training_points_is_zero_and_of_a_shift_is_the_shift():
    train = load_digits_dataset().x
    assert nearest_train(train[:50], train) == pytest.approx(0.0, abs=1e-6)
    far = np.array([[100.0, 0.0]])
    assert nearest_train(far, np.array([[0.0, 0.0], [97.0, 4.0]])) == pytest.approx(5.0)


def test_reference_classifier_recognises_the_training_points():
    d = load_digits_dataset()
    assert accuracy(d.x, d.labels, "digits") > 0.99
    g = load_gmm2d_dataset()
    assert accuracy(g.x, g.labels, "gmm2d") > 0.97


def test_accuracy_counts_non_finite_samples_as_wrong_and_wrong_labels_as_wrong():
    d = load_digits_dataset()
    x, y = d.x[:20].copy(), d.labels[:20]
    assert accuracy(x, (y + 1) % 10, "digits") < 0.1
    x[:10] = np.inf
    assert accuracy(x, y, "digits") == pytest.approx(0.5)
