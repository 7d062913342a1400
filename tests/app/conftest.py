"""Shared fixtures of the AppTest suites."""

import pytest

import models.pipeline
import viz.cache


@pytest.fixture
def sample_calls(monkeypatch):
    """The specs of every trajectory the pages sample through ``viz.cache`` (its cache emptied first:
    runs cached by earlier tests would not be sampled again)."""
    calls = []
    real = models.pipeline.run

    def counting(spec, *args, **kwargs):
        calls.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(viz.cache, "run", counting)
    viz.cache.cached_trajectory.clear()
    return calls
