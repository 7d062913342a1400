"""Every test runs on the CPU, from the repository root."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

# Tiny tensors run fastest on one thread, and a shared 2-core machine makes more threads slower.
torch.set_num_threads(1)
