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
                        "Corrector step size eps = 2 (1 - beta_t) (r |z| / |g|)^2, with |z| and |g| the batch's mean "
                        "noise and guided-score norms (Algorithm 5 of the paper, whose value is 0.16).",
                        "arXiv 2011.13456", lo_open=True, hi_open=True, slider=(0.02, 0.5, 0.02))

# --------------------------------------------------------------------------------------------- the zoo

SIGMA_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, math.inf)


def sigma_window(method: str, group: str, lo: float, hi: float, label: str, help: str, paper: str) -> tuple[Setting, Setting]:
    """The two ends ``<method>_lo`` and ``<method>_hi`` of a noise-level window (LO, HI], given as one
    flag (``group``) and chosen on the page from ``SIGMA_CHOICES``; defaults ``lo`` and ``hi``."""
    return (Setting(f"{method}_lo", method, lo, 0.0, math.inf, label, help, paper, hi_open=True,
                    choices=SIGMA_CHOICES[:-1], group=group),
            Setting(f"{method}_hi", method, hi, 0.0, math.inf, label, help, paper, choices=SIGMA_CHOICES, group=group))


ZOO_SETTINGS = (
    Setting("rescale_phi", "rescale", 0.7, 0.0, 1.0, "φ (0 = CFG, 1 = fully rescaled)",
            "CFG rescale: mix of the rescaled and the plain CFG prediction. Here it rescales the x0 prediction; the "
            "paper and diffusers rescale the network's own output (eps or v), which gives other numbers.",
            "arXiv 2305.08891",
            slider=(0.0, 1.0, 0.05)),
    Setting("apg_eta", "apg", 0.0, -math.inf, math.inf, "η (weight of the parallel part)",
            "APG: weight of the part of the guidance parallel to the conditional prediction (1 keeps it, as CFG does).",
            "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(0.0, 1.0, 0.1)),
    Setting("apg_r", "apg", math.inf, 0.0, math.inf, "r (clip the difference to this norm)",
            "APG: clip the guidance difference to this norm; inf turns clipping off.", "arXiv 2410.02416",
            lo_open=True, choices=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf), inf_text="off"),
    Setting("apg_beta", "apg", 0.0, -1.0, 1.0, "β (momentum across steps)",
            "APG: momentum of the guidance difference across steps (the paper uses negative values).",
            "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(-0.9, 0.9, 0.1)),
    *sigma_window("interval", "interval", 0.3, 5.0, "Guide while σ is in",
                  "Interval: guide only while the noise level sigma lies in (LO, HI], the paper's half-open interval; "
                  "plain conditional elsewhere.", "arXiv 2404.07724"),
    Setting("cfgpp_lambda", "cfgpp", 0.6, 0.0, 1.0, "λ (interpolation, 0 = unconditional, 1 = conditional)",
            "CFG++: interpolation weight between the unconditional and the conditional prediction, used instead of gamma.",
            "arXiv 2406.08070", slider=(0.0, 1.0, 0.05), replaces="gamma"),
    # The guiders diffusers ships for any denoiser (models.guidance.zoo): CFG-Zero*, MAMBO-G, APG mixed with CFG
    # (tangential CFG has no setting of its own). 1000 zero steps: the schedule's length (the most steps a run has).
    Setting("cfgzero_zero_steps", "cfgzero", 1, 0, 1000, "Zero steps (v̂ = 0 at the first steps)",
            "CFG-Zero*, on the velocity prediction v: how many of the first noise levels of a run get v = 0 (the "
            "sample stays put, x0 = sqrt(abar) x_t); the authors' code and diffusers zero the first one.",
            "arXiv 2503.18886", slider=(0, 10, 1), integer=True),
    Setting("mambo_alpha", "mambo", 8.0, 0.0, math.inf, "α (damping; 0 = CFG)",
            "MAMBO-G, on the velocity prediction v: the guidance gamma - 1 is damped by exp(-alpha |v_c - v_u| / |v_u|), "
            "per sample; 0 is CFG (diffusers' default is 8).",
            "arXiv 2508.03442", hi_open=True, slider=(0.0, 20.0, 0.5)),
    *sigma_window("apgmix", "apgmix_window", 0.0, 50.0, "APG (not CFG) while σ is in",
                  "APG mix, on the x0 prediction: APG while the noise level sigma lies in (LO, HI], CFG at the same "
                  "gamma outside (diffusers switches to APG after a step count; the first steps are the noisiest).",
                  "arXiv 2410.02416"),
    Setting("apgmix_eta", "apgmix", 0.0, -math.inf, math.inf, "η (APG's weight of the parallel part)",
            "APG mix: inside the window, weight of the part of the guidance parallel to the conditional prediction.",
            "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(0.0, 1.0, 0.1)),
    Setting("apgmix_r", "apgmix", math.inf, 0.0, math.inf, "r (APG's clip of the difference)",
            "APG mix: inside the window, clip the (momentum-averaged) guidance difference to this norm; inf turns "
            "clipping off.", "arXiv 2410.02416", lo_open=True, choices=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf),
            inf_text="off"),
    Setting("apgmix_beta", "apgmix", -0.5, -1.0, 1.0, "β (momentum, also fed by the CFG steps)",
            "APG mix: momentum of the guidance difference across steps, updated at every step, CFG's too "
            "(diffusers' default is -0.5).", "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(-0.9, 0.9, 0.1)),
    # Frequency-decoupled guidance: gamma scales the high band, this the low one (digits only, 8x8 images).
    Setting("fdg_low", "fdg", 1.5, -100.0, 100.0, "γ_low (scale of the low frequencies)",
            "FDG, digits only: guidance scale of the low-frequency band of a two-level Laplacian pyramid of the "
            "8x8 image, gamma being the high band's; the paper keeps it below gamma (5 against 10 for SDXL), "
            "so the default is half the default gamma, and gamma_low = gamma is CFG. The bands are linear and add up "
            "to the image, so the result is the same in eps, x0 and v.",
            "arXiv 2506.19713", slider=(0.0, 10.0, 0.5)),
)

#: every setting by name
SETTINGS: dict[str, Setting] = {s.name: s for s in (GAMMA, ETA, CORRECTOR_STEPS, CORRECTOR_SNR, *ZOO_SETTINGS)}
#: the names of the zoo methods' settings, in declaration order (the SampleSpec fields after eta)
ZOO_NAMES = tuple(s.name for s in ZOO_SETTINGS)
#: group -> the names of its settings (lo first), sharing one flag ``--GROUP LO,HI``
GROUPS: dict[str, tuple[str, ...]] = {}
for _s in ZOO_SETTINGS:
    if _s.group:
        GROUPS.setdefault(_s.group, ())
        GROUPS[_s.group] += (_s.name,)
del _s


def settings_for(method: str) -> tuple[Setting, ...]:
    """The settings guidance ``method`` reads beside gamma, in declaration order (empty for most)."""
    return tuple(s for s in ZOO_SETTINGS if s.method == method)


def replaced_by(method: str) -> tuple[str, ...]:
    """The general settings ``method`` does not read (CFG++ reads its λ instead of gamma)."""
    return tuple(s.replaces for s in settings_for(method) if s.replaces)


def defaults(names=ZOO_NAMES) -> dict[str, float]:
    """The default value of each named setting."""
    return {name: SETTINGS[name].default for name in names}


def check_values(values: Mapping[str, float]) -> dict[str, float]:
    """Check named settings (each in its range, a group's ends in order); return them as floats.

    Raises ``ValueError`` (one sentence) for an unknown name or a bad value.
    """
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; valid: {', '.join(SETTINGS)}")
    checked = {name: SETTINGS[name].check(value) for name, value in values.items()}
    for group, (lo_name, hi_name) in GROUPS.items():
        if lo_name in checked or hi_name in checked:
            lo = checked.get(lo_name, SETTINGS[lo_name].default)
            hi = checked.get(hi_name, SETTINGS[hi_name].default)
            if not lo <= hi:
                raise ValueError(f"{group} must be 0 <= lo <= hi (sigma), got {lo:g}, {hi:g}")
    return checked


def parse_group(group: str, text: str) -> tuple[float, ...]:
    """``"0.3,5"`` -> ``(0.3, 5.0)`` for ``--GROUP LO,HI`` (``inf`` allowed where the range allows);
    ``ValueError`` with one sentence otherwise."""
    names = GROUPS[group]
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(names):
        raise ValueError(f"{text!r} is not {','.join(n.rsplit('_', 1)[-1].upper() for n in names)} "
                         f"({len(names)} numbers, e.g. 0.3,5)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not {len(names)} comma-separated numbers") from None
    return tuple(check_values(dict(zip(names, values))).values())


def zoo_flags(values: Mapping[str, float]) -> str:
    """The command-line flags that give these zoo settings (by name), e.g. ``--apg-eta 0.5
    --interval 0.3,5``; a group's missing end takes its default."""
    flags = [f"{SETTINGS[name].flag} {float(value):g}" for name, value in values.items() if SETTINGS[name].group is None]
    for group, names in GROUPS.items():
        if any(name in values for name in names):
            ends = ",".join(f"{float(values.get(n, SETTINGS[n].default)):g}" for n in names)
            flags.append(f"--{group.replace('_', '-')} {ends}")
    return " ".join(flags)

__all__ = ["CORRECTOR_SNR", "CORRECTOR_STEPS", "ETA", "GAMMA", "GROUPS", "SETTINGS", "SIGMA_CHOICES", "Setting", "ZOO_NAMES", "ZOO_SETTINGS",
           "check_values", "defaults", "parse_group", "replaced_by", "settings_for", "zoo_flags"]
