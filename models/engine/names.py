"""The names the command lines and the app offer, readable without torch.

The modules that implement them (``loading``: models and devices; ``samplers``; ``pipeline``: the
exact tilted draws) import torch, which takes seconds to load. ``--help``, ``--version`` and an
argument error read only these tuples, so they answer before torch loads; those modules import the
names from here and keep offering them under their old homes.
"""

from __future__ import annotations

from models.engine.settings import BATCH

ASSETS_ENV = "GUIDANCE_LAB_ASSETS"  # names a weights folder other than the shipped assets/ (tests, experiments)
#: exact: the closed-form denoiser; neural: the shipped v-prediction network trained on the VP path;
#: neural_flow: the shipped velocity network trained on the flow path (each runs on either path, models.flow.path)
MODEL_NAMES = ("exact", "neural", "neural_flow")
#: the noising paths: vp (x_t = sqrt(abar) x0 + sqrt(1 - abar) eps) and flow (x_t = (1 - sigma) x0 + sigma eps)
PATH_NAMES = ("vp", "flow")
DEVICE_NAMES = ("auto", "cpu", "cuda")
SAMPLER_NAMES = ("ddpm", "ddim", "euler", "heun", "dpmpp2m")
STOCHASTIC_SAMPLERS = ("ddpm", "ddim")  # ddim only when eta > 0
ETA_SAMPLERS = ("ddim",)  # the samplers that read eta; the others would ignore it
#: the samplers each path offers (tilted draws on both); DDIM with eta = 0 is Euler on the flow path
PATH_SAMPLERS = {"vp": SAMPLER_NAMES, "flow": ("euler", "heun", "ddpm")}
TILTED = "tilted"  # exact draws of the tilted target (models.analysis.tilted_target), not a sampler of models.engine.samplers
RUN_SAMPLERS = SAMPLER_NAMES + (TILTED,)  # what SampleSpec.sampler and the command lines accept
MAX_BATCH = int(BATCH.hi)
#: the command lines' word on --sampler tilted
TILTED_HELP = ("tilted: exact draws of p0(x) p0(y|x)^gamma, what guidance aims at, as one step "
               "(gmm2d with --model exact, gamma >= 0, guidance cfg, classifier or universal)")

__all__ = ["ASSETS_ENV", "DEVICE_NAMES", "ETA_SAMPLERS", "MAX_BATCH", "MODEL_NAMES", "PATH_NAMES", "PATH_SAMPLERS",
           "RUN_SAMPLERS", "SAMPLER_NAMES",
           "STOCHASTIC_SAMPLERS", "TILTED", "TILTED_HELP"]
