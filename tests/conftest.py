"""Every test runs on the CPU, from the repository root."""
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

import models.engine.pipeline  # noqa: E402
import ui.run_cache  # noqa: E402
import ui.view_cache  # noqa: E402

# Tiny tensors run fastest on one thread, and a shared 2-core machine makes more threads slower.
torch.set_num_threads(1)


class _DropMessage(logging.Filter):
    """Drops one known, harmless log message so that real warnings stand out in ``make test``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


# Streamlit's cached functions called outside a running app (figure and cache tests, AppTest set-up)
# log "No runtime found, using MemoryCacheStorageManager" on every call: hundreds of lines per run.
logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
    _DropMessage("No runtime found, using MemoryCacheStorageManager"))


@pytest.fixture
def sample_calls(monkeypatch):
    """The specs of every trajectory the pages sample through ``ui.run_cache`` (its cache emptied first:
    runs cached by earlier tests would not be sampled again)."""
    calls = []
    real = models.engine.pipeline.run

    def counting(spec, *args, **kwargs):
        calls.append(spec)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(ui.run_cache, "run", counting)
    ui.run_cache.cached_trajectory.clear()
    yield calls
    ui.run_cache.cached_trajectory.clear()


@pytest.fixture
def frame_calls(monkeypatch):
    """The arguments of every frame a page draws through ``ui.views.view_frame``, in order."""
    import ui.views

    calls = []
    real = ui.views.view_frame

    def recording(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.views, "view_frame", recording)
    return calls
