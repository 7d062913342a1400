"""Fixtures shared by the engine tests (torch runs on one thread: see tests/conftest.py)."""

import pytest

from models.engine.schedule import make_schedule


@pytest.fixture(scope="module")
def schedule():
    """The default schedule: DDPM linear betas, T = 1000."""
    return make_schedule("linear")
