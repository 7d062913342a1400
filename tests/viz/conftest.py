"""Fixtures shared by the figure tests: ``cfg_digits``, a small exact CFG run on the digits, built once per module."""

import pytest

from tests.viz.small_runs import exact_run


@pytest.fixture(scope="module")
def cfg_digits():
    return exact_run()
