"""One run sampled both ways: DDIM on the VP path and Euler on the flow path, from the same noise.

DDIM with eta = 0 is Euler on the flow path after the change of variables ``models.flow.path.match_level``
(Gao et al. 2024, "Diffusion meets flow matching"): the lecture's slide draws the two runs in one picture.
"""

from __future__ import annotations

import numpy as np
import torch

from models.engine.loading import load_bundle
from models.engine.pipeline import SampleSpec, run
from models.flow.path import FlowSchedule, match_level
from models.flow.samplers import sample_flow_euler


def meets_flow_runs(data: str, model: str, steps: int, seed: int, batch: int, device="cpu"):
    """One unguided run sampled twice from the same noise: DDIM (eta 0) on the VP path, and Euler on the
    flow path at the matched levels ``sigma = s / (a + s)`` of the VP steps, starting at ``x_T / (a + s)``
    (``models.flow.path.match_level``). Returns ``(vp, flow)`` trajectories; after the scaling they agree
    up to float32 rounding (DDIM is Euler on the flow path)."""
    spec = SampleSpec(data=data, model=model, sampler="ddim", eta=0.0, guidance="none", label=-1, steps=steps,
                      seed=seed, batch=batch)
    vp = run(spec, device=device)
    bundle = load_bundle(data, model, device, needs=(), path="flow", shift=1.0)
    k, t_flow, _, _ = match_level(vp.alpha[:-1], vp.sigma[:-1], FlowSchedule())
    x_T = torch.as_tensor(np.asarray(vp.x[0], np.float64) * k[0], dtype=torch.float32, device=bundle.device)
    flow = sample_flow_euler(bundle.denoiser, x_T, np.asarray(t_flow, np.float64), None,
                             generator=torch.Generator().manual_seed(seed))
    flow.meta = {"path": "flow", "sampler": "euler", "guidance": "none", "data": data, "model": model, "seed": seed,
                 "steps": steps}
    return vp, flow
