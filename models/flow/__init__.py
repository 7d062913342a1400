"""The flow-matching (rectified-flow) path ``x_t = (1 - sigma) x0 + sigma eps`` beside the VP path.

* ``path``: the flow path's levels (``FlowSchedule``: SD3's timestep shift, diffusers' default grid), the
  path choice, the one change of variables between any two Gaussian paths (``match_level``) and the
  Gaussian posterior of any path (``posterior``; torch-free, so the figures read its spread);
* ``samplers``: Euler, Heun and an ancestral (re-noising) sampler on the flow path;
* ``nets``: the natively trained velocity network and a denoiser of one path evaluated on another.

Every Gaussian path is every other one scaled: ``x_t / (a + s)`` lies on the flow path at
``sigma = s / (a + s)`` (Gao et al. 2024, "Diffusion meets flow matching"; arXiv 2209.03003, 2210.02747).
"""
