"""The exact denoisers the guidance tests share, built once per module: ``digits`` (the digits'
exact model), ``exact`` (both data sets' exact models), ``exact_on`` (those on each noising path) and
``models`` (each with its dimension)."""

from __future__ import annotations

import pytest

from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.flow.path import FlowSchedule

FLOW_SHIFT = 3.0  # SD3's shift: the flow levels sigma * 1000 come closer than 1 apart near sigma = 0


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule)


@pytest.fixture(scope="module")
def exact(schedule):
    """``{data: exact denoiser}``."""
    return {"digits": exact_digits_denoiser(schedule), "gmm2d": exact_gmm2d_denoiser(schedule)}


@pytest.fixture(scope="module")
def exact_on(exact):
    """``{path: {data: exact denoiser}}``: VP's (the ``exact`` fixture) and the flow path's at ``FLOW_SHIFT``."""
    flow = FlowSchedule(shift=FLOW_SHIFT)
    return {"vp": exact, "flow": {"digits": exact_digits_denoiser(flow), "gmm2d": exact_gmm2d_denoiser(flow)}}


@pytest.fixture(scope="module")
def models(schedule):
    return {"digits": (exact_digits_denoiser(schedule), 64), "gmm2d": (exact_gmm2d_denoiser(schedule), 2)}
