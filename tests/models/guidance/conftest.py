"""The exact denoisers the guidance tests share, built once per module: ``digits`` (the digits'
exact model), ``exact`` (both data sets' exact models) and ``models`` (each with its dimension)."""

from __future__ import annotations

import pytest

from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule)


@pytest.fixture(scope="module")
def exact(schedule):
    """``{data: exact denoiser}``."""
    return {"digits": exact_digits_denoiser(schedule), "gmm2d": exact_gmm2d_denoiser(schedule)}


@pytest.fixture(scope="module")
def models(schedule):
    return {"digits": (exact_digits_denoiser(schedule), 64), "gmm2d": (exact_gmm2d_denoiser(schedule), 2)}
