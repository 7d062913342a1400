"""Shared fixtures of the AppTest suites."""

import pytest

import models.pipeline
import ui.cache


@pytest.fixture
def sample_calls(monkeypatch):
    """The specs of every trajectory the pages sample through ``ui.cache`` (its cache emptied first:
    runs cached by earlier tests would not be sampled again)."""
    calls = []
    real = models.pipeline.run

    def counting(spec, *args, **kwargs):
        calls.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(ui.cache, "run", counting)
    ui.cache.cached_trajectory.clear()
    return calls
