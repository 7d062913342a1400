"""Every numeric sampling setting, declared once: its name, range, default, help and paper.

A ``Setting``'s ``name`` is at once the ``models.engine.pipeline.SampleSpec`` field, the ``.npz`` meta
name and (dashes for underscores) the command-line flag; the pages build their sliders from
``slider`` / ``choices`` and ``label``. Guidance methods read their own settings
(``settings_for(method)``); ``GAMMA`` and ``ETA`` are read by every guided run / the DDIM sampler.

Two settings may share one flag: the interval's ends ``interval_lo`` and ``interval_hi`` are the
single ``--interval LO,HI`` (``group="interval"``, checked together: lo <= hi).

Plain Python only (no torch, numpy, matplotlib or Streamlit): the pages and the command lines
import it cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class Setting:
    """One setting. Valid values lie between ``lo`` and ``hi`` (open ends where ``lo_open`` /
    ``hi_open``); ``inf`` is valid only where ``hi`` is ``inf`` and the end is closed."""

    name: str  # SampleSpec field and .npz meta name
    method: Optional[str]  # the guidance method that reads it; None for general settings (gamma, eta)
    default: float
    lo: float
    hi: float
    label: str  # the page's slider label: our words, with the symbol
    help: str  # one sentence
    paper: str = ""  # where the setting comes from, e.g. "arXiv 2410.02416"
    lo_open: bool = False
    hi_open: bool = False
    slider: Optional[tuple[float, float, float]] = None  # page slider (min, max, step) ...
    choices: Optional[tuple[float, ...]] = None  # ... or the values of a select_slider
    group: Optional[str] = None  # settings that share one flag (--GROUP LO,HI), e.g. the interval's two ends
    replaces: Optional[str] = None  # a general setting the method reads this one instead of (CFG++'s λ: gamma)
    inf_text: str = "∞"  # how a page shows the value inf (APG's r: "off")
    integer: bool = False  # only whole numbers are valid (a count, e.g. corrector steps)

    def __post_init__(self) -> None:
        if (self.slider is None) == (self.choices is None):
            raise TypeError(f"setting {self.name}: give exactly one of slider and choices")
        ends = self.slider[:2] if self.slider is not None else self.choices
        for value in (self.default, *ends):
            if not self.valid(value):
                raise ValueError(f"setting {self.name}: {value} is outside its range {self.range_text()}")

    @property
    def flag(self) -> str:
        """The command-line flag: the name (or its group's) with dashes, ``--apg-eta``."""
        return "--" + (self.group or self.name).replace("_", "-")

    @property
    def words(self) -> str:
        """The name as words for messages: ``apg eta``."""
        return self.name.replace("_", " ")

    def range_text(self) -> str:
        """``[0, 1]``, ``(-1, 1)``, ``(0, inf]``; ``any finite number`` when unbounded."""
        if math.isinf(self.lo) and math.isinf(self.hi) and self.lo_open and self.hi_open:
            return "any finite number"
        return f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"

    def valid(self, value: float) -> bool:
        """Whether ``value`` is a number in the setting's range (NaN never is)."""
        try:
            value = float(value)
        except (TypeError, ValueError):
            return False
        if math.isnan(value) or (self.integer and (math.isinf(value) or value != round(value))):
            return False
        above = self.lo < value if self.lo_open else self.lo <= value
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def check(self, value) -> float:
        """``value`` as a float (an int for an ``integer`` setting), or ``ValueError`` with one sentence
        naming the setting and its range."""
        if isinstance(value, bool) or not self.valid(value):
            what = "a finite number" if self.range_text() == "any finite number" else f"a number in {self.range_text()}"
            raise ValueError(f"{self.words} must be {'an integer' if self.integer else what}"
                             f"{' in ' + self.range_text() if self.integer else ''}, got {value!r}")
        return int(round(float(value))) if self.integer else float(value)

    def format(self, value: float) -> str:
        """How a page shows a value: ``inf`` as ``inf_text``, others as ``%g``."""
        return self.inf_text if math.isinf(value) else f"{value:g}"

    def help_text(self) -> str:
        """The command line's ``--help`` text: help, range, paper and default."""
        paper = f"; {self.paper}" if self.paper else ""
        what = self.range_text()
        what = "Any finite number" if what == "any finite number" else f"Range {what}"
        return f"{self.help} {what}{paper} (default: {self.default:g})"


# --------------------------------------------------------------------------------------------- general

#: the guidance scale gamma (0 = unconditional, 1 = conditional); the command line's range is the
#: pipeline's bound, the pages' slider 0..10
GAMMA = Setting("gamma", None, 3.0, -100.0, 100.0, "Guidance scale γ",
                "Guidance scale: 0 samples unconditionally, 1 conditionally, larger values push harder toward the class.",
                "arXiv 2207.12598", slider=(0.0, 10.0, 0.5))
#: DDIM's noise level (0 = deterministic, 1 = as much fresh noise as DDPM)
ETA = Setting("eta", None, 0.0, 0.0, 1.0, "DDIM η (0 = deterministic)",
              "DDIM noise level: 0 is deterministic, 1 adds as much fresh noise as DDPM.",
              "arXiv 2010.02502", slider=(0.0, 1.0, 0.1))

#: Langevin corrector steps on the guided score after each sampler step (models.engine.corrector)
CORRECTOR_STEPS = Setting("corrector_steps", None, 0, 0, 100, "Corrector steps K",
                          "Langevin corrector steps on the guided score after each sampler step "
                          "(predictor-corrector sampling); 0 turns the corrector off.",
                          "arXiv 2011.13456", slider=(0, 10, 1), integer=True)
#: the corrector's step size, by Song et al.'s signal-to-noise rule (models.engine.corrector)
CORRECTOR_SNR = Setting("corrector_snr", None, 0.16, 0.0, 1.0, "Corrector signal-to-noise ratio r",
                        "Corrector step size eps = 2 (1 - beta_t) (r |z| / |g|)^2, beta_t of the 1000-step schedule, with |z| and |g| the batch's mean "
                        "noise and guided-score norms (Algorithm 5 of the paper, whose value is 0.16).",
                        "arXiv 2011.13456", lo_open=True, hi_open=True, slider=(0.02, 0.5, 0.02))

#: the flow path's timestep shift (SD3, arXiv 2403.03206): sigma -> shift sigma / (1 + (shift - 1) sigma);
#: 1 leaves the levels evenly spaced in sigma, 3 is Stable Diffusion 3's (more steps at high noise)
SHIFT = Setting("shift", None, 1.0, 0.1, 10.0, "Timestep shift",
                "The flow path's timestep shift: sigma becomes shift sigma / (1 + (shift - 1) sigma); 1 keeps the levels "
                "evenly spaced, Stable Diffusion 3 uses 3 (more steps at high noise). Read on --path flow only.",
                "arXiv 2403.03206", slider=(0.5, 6.0, 0.5))

# --------------------------------------------------------------------------------------------- noise-level windows

SIGMA_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, math.inf)


def sigma_window(method: str, group: str, lo: float, hi: float, label: str, help: str, paper: str) -> tuple[Setting, Setting]:
    """The two ends ``<method>_lo`` and ``<method>_hi`` of a noise-level window (LO, HI], given as one
    flag (``group``) and chosen on the page from ``SIGMA_CHOICES``; defaults ``lo`` and ``hi``."""
    return (Setting(f"{method}_lo", method, lo, 0.0, math.inf, label, help, paper, hi_open=True,
                    choices=SIGMA_CHOICES[:-1], group=group),
            Setting(f"{method}_hi", method, hi, 0.0, math.inf, label, help, paper, choices=SIGMA_CHOICES, group=group))


# --------------------------------------------------------------------------------------------- a run and its GIF

#: the random seed: one range for the command lines and the app (whose number box holds integers up to
#: 2**53 - 1 exactly, the largest a browser's number keeps)
SEED = Setting("seed", None, 0, 0, 2**53 - 1, "Seed", "Random seed.", slider=(0, 2**53 - 1, 1), integer=True)
#: sampling steps: the export's default; the app starts with fewer (each step longer and easier to see),
#: the lecture GIFs with half (``APP_STEPS``, ``LECTURE_STEPS``)
STEPS = Setting("steps", None, 100, 1, 1000, "Sampling steps", "Sampling steps.", slider=(1, 1000, 1), integer=True)
APP_STEPS, LECTURE_STEPS = 25, 50
#: trajectories in one run (the pipeline's bound)
BATCH = Setting("batch", None, 8, 1, 4096, "Batch", "Number of trajectories.", slider=(1, 4096, 1), integer=True)
#: at most this many frames in a GIF, and its frames per second
FRAMES = Setting("frames", None, 101, 2, 1001, "GIF frames", "At most this many GIF frames.", slider=(2, 1001, 1),
                 integer=True)
FPS = Setting("fps", None, 10.0, 0.0, 50.0, "GIF frames per second", "GIF frames per second.", lo_open=True,
              slider=(1.0, 50.0, 1.0))
RUN_SETTINGS = (SEED, STEPS, BATCH, FRAMES, FPS)

#: the settings every run may read (the guidance methods declare their own on their cards,
#: ``models.guidance``, which also indexes all of them)
GENERAL_SETTINGS = (GAMMA, ETA, CORRECTOR_STEPS, CORRECTOR_SNR, SHIFT)

__all__ = ["APP_STEPS", "BATCH", "CORRECTOR_SNR", "CORRECTOR_STEPS", "ETA", "FPS", "FRAMES", "GAMMA", "GENERAL_SETTINGS",
           "LECTURE_STEPS", "RUN_SETTINGS", "SEED", "SHIFT", "SIGMA_CHOICES", "STEPS", "Setting", "sigma_window"]
