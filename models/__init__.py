"""Guidance Lab's diffusion engine: schedule, data, denoisers, guidance and samplers, and the numbers
the figures draw. Plain numpy and torch: nothing here imports matplotlib or Streamlit
(tests/models/test_layout.py checks it, and that the modules import each other without a cycle).

* ``settings``: every numeric sampling setting declared once (range, default, slider, help, paper);
  the command-line flags, the checks, ``pipeline.SampleSpec``'s defaults and the ``.npz`` meta names
  derive from it.
* ``schedule``, ``conversions``, ``data``, ``denoiser``, ``exact``, ``nets``, ``registry``: the noise
  schedule, the one place of each change of parameterisation, the data sets, the denoiser contract,
  the exact and the neural denoisers and loading them by name.
* ``guidance_base``, ``guidance``, ``zoo``: guidance methods, each a class registered by name
  (``guidance_base.register``) and built by ``guidance.make_guidance``.
* ``samplers``, ``trajectory``, ``pipeline``: sampling, the recorded run, one call from a spec to a run.
* ``corrector``: Langevin corrector steps on the guided score after each sampler step (the samplers'
  ``corrector=``); ``tilted``: exact draws of the tilted target ``p0(x) p0(y | x)^gamma`` on gmm2d
  (``sampler = "tilted"``), component shares and ``tilted_tv`` with its Monte Carlo error; ``tilted_gap``:
  the trade-off page's comparison of DDPM, DDIM and DDPM + corrector with those draws (its settings, the
  records its figure imports, numpy only, and the sentence read off its numbers).
* ``metrics``, ``evaluate``, ``tradeoff``, ``tilt``, ``tilt_view``, ``highdim``: measurements (accuracy,
  diversity, the tilted density, high-dimension facts) that ``viz`` draws and the pages show; the
  records a figure imports (``metrics.METRIC_NAMES``, ``tilt_view``) hold no torch.
* ``cli``, ``train``: command-line plumbing and the training of the shipped networks.

Adding a guidance method: one class derived from ``guidance_base.Guided`` with ``@register(name)``
(in ``zoo`` or a module that ``guidance`` imports), and its settings, if any, in ``settings``; a method
that combines its predictions in another space than x0 says so in ``space`` ("eps" or "v", converted
with ``conversions``: ``zoo.to_space`` / ``zoo.from_space``), which the command lines' help lists.
"""
