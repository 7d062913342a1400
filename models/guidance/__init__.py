"""Guidance methods: wrappers that keep the denoiser's signature and report the parts they combined.

Every method is one module of this package (``none``, ``cfg``, ``classifier``, ``universal``) or of
``models.guidance.zoo`` (the newer methods), holding its math and its card
(``models.guidance.base.Card``). Importing this package imports every such module, so a method joins
by being written: the command lines, pages and figures read the cards through the functions below,
which list the methods by ``Card.order``. ``gamma`` is the guidance scale: gamma = 0 is unconditional
sampling and gamma = 1 conditional sampling.

The index of every setting (the general ones of ``models.engine.settings`` and each method's own) is
here too, because the methods declare their settings on their cards. Nothing here imports torch.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Mapping, Optional

from models.engine.settings import GENERAL_SETTINGS, Setting
from models.guidance import zoo as _zoo_package
from models.guidance.base import (REGISTRY, SPACES, Card, CleanLogProbFn, Guided, LogProbFn, need_labels, register,
                                  unconditional_and_conditional)


def _import_every_method() -> None:
    """Import every module of this package and of ``zoo``: each registers its method."""
    for package in (__name__, _zoo_package.__name__):
        path = importlib.import_module(package).__path__
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
            if not info.ispkg and info.name != "base":
                importlib.import_module(f"{package}.{info.name}")


_import_every_method()


# ----------------------------------------------------------------------------- the cards

def names() -> tuple[str, ...]:
    """Every guidance method, by ``Card.order`` (read at call time: a method registered later joins)."""
    return tuple(sorted(REGISTRY, key=lambda name: (REGISTRY[name].card.order, name)))


def guided_names() -> tuple[str, ...]:
    """Every method that guides, in ``names()`` order: all but ``none`` (the denoiser as it is)."""
    return tuple(name for name in names() if name != "none")


def zoo_names() -> tuple[str, ...]:
    """The newer methods, each drawn by a construction view of its own name."""
    return tuple(name for name in names() if REGISTRY[name].card.zoo)


def card(name: str) -> Card:
    """The card of method ``name``; ``ValueError`` listing the methods for an unknown one."""
    if name not in REGISTRY:
        raise ValueError(f"unknown guidance {name!r}; valid: {', '.join(names())}")
    return REGISTRY[name].card


def cards() -> tuple[Card, ...]:
    """Every card, in ``names()`` order."""
    return tuple(REGISTRY[name].card for name in names())


def resources(*methods: str) -> tuple[str, ...]:
    """What the methods need loaded beside the denoiser (keys of ``base.RESOURCES``), for
    ``models.engine.loading.load_bundle``."""
    return tuple(dict.fromkeys(r for m in methods for r in card(m).needs))


def guidance_help() -> str:
    """The command lines' ``--guidance`` help: which methods act on which prediction, from the cards."""
    others: dict[str, list[str]] = {}
    for c in cards():
        if c.space != "x0":
            others.setdefault(c.space, []).append(c.name)
    spaces = "; ".join(f"{' and '.join(ns)} on {SPACES[space]}" for space, ns in others.items())
    notes = "".join(f"; {c.name} {c.help_note}" for c in cards() if c.help_note)
    return f"guidance method. Each acts on the x0 prediction but {spaces}, the spaces their papers define{notes} (default: cfg)"


#: every shipped guidance method (``names()`` at import): the basic ones first, then the zoo's
GUIDANCE_NAMES = names()
BASIC_GUIDANCE = tuple(name for name in GUIDANCE_NAMES if not REGISTRY[name].card.zoo)
ZOO_GUIDANCE = zoo_names()
#: guidance name -> the prediction space its combination acts in (``base.SPACES``)
GUIDANCE_SPACES = {name: REGISTRY[name].card.space for name in GUIDANCE_NAMES}
#: the ``--guidance`` help of the command lines
GUIDANCE_HELP = guidance_help()


# ----------------------------------------------------------------------------- the settings index

def settings_for(method: str) -> tuple[Setting, ...]:
    """The settings guidance ``method`` reads beside gamma, in declaration order (empty for most)."""
    return REGISTRY[method].card.settings if method in REGISTRY else ()


def method_settings() -> tuple[Setting, ...]:
    """Every method's own settings, method by method (``names()`` order), each in declaration order."""
    return tuple(s for c in cards() for s in c.settings)


def replaced_by(method: str) -> tuple[str, ...]:
    """The general settings ``method`` does not read (CFG++ reads its λ instead of gamma)."""
    return REGISTRY[method].card.replaces if method in REGISTRY else ()


#: the methods' own settings (the SampleSpec fields after eta), and their names
ZOO_SETTINGS = method_settings()
ZOO_NAMES = tuple(s.name for s in ZOO_SETTINGS)
#: every setting by name: the general ones, then each method's
SETTINGS: dict[str, Setting] = {s.name: s for s in (*GENERAL_SETTINGS, *ZOO_SETTINGS)}
#: group -> the names of its settings (lo first), sharing one flag ``--GROUP LO,HI``
GROUPS: dict[str, tuple[str, ...]] = {}
for _s in ZOO_SETTINGS:
    if _s.group:
        GROUPS[_s.group] = GROUPS.get(_s.group, ()) + (_s.name,)
del _s


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
    group_names = GROUPS[group]
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(group_names):
        raise ValueError(f"{text!r} is not {','.join(n.rsplit('_', 1)[-1].upper() for n in group_names)} "
                         f"({len(group_names)} numbers, e.g. 0.3,5)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not {len(group_names)} comma-separated numbers") from None
    return tuple(check_values(dict(zip(group_names, values))).values())


def zoo_flags(values: Mapping[str, float]) -> str:
    """The command-line flags that give these method settings (by name), e.g. ``--apg-eta 0.5
    --interval 0.3,5``; a group's missing end takes its default."""
    flags = [f"{SETTINGS[name].flag} {float(value):g}" for name, value in values.items() if SETTINGS[name].group is None]
    for group, group_names in GROUPS.items():
        if any(name in values for name in group_names):
            ends = ",".join(f"{float(values.get(n, SETTINGS[n].default)):g}" for n in group_names)
            flags.append(f"--{group.replace('_', '-')} {ends}")
    return " ".join(flags)


#: the meta names every run records (``models.engine.trajectory.Trajectory.meta``)
META_NAMES = ("gamma", "sampler", "guidance", "model", "data", "seed", "eta", "label", "steps", "path")


def meta_names(guidance: str) -> tuple[str, ...]:
    """The ``meta`` keys a run of ``guidance`` records: ``META_NAMES`` but those its own settings
    replace (CFG++'s lambda replaces gamma), then its own settings, if any."""
    replaced = replaced_by(guidance)
    return tuple(n for n in META_NAMES if n not in replaced) + tuple(s.name for s in settings_for(guidance))


# ----------------------------------------------------------------------------- building one

def make_guidance(name: str, denoiser, gamma: float = 1.0, *, log_prob: Optional[LogProbFn] = None,
                  clean_log_prob: Optional[CleanLogProbFn] = None, weak=None,
                  settings: Optional[Mapping[str, float]] = None) -> Guided:
    """Wrap ``denoiser`` with the guidance called ``name`` (one of ``names()``).

    ``settings`` holds settings by name (each checked; a method reads its own, the rest keep their
    defaults); ``log_prob`` / ``clean_log_prob`` are the classifiers of classifier and universal
    guidance, ``weak`` the weaker model of guidance by a weaker model.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown guidance {name!r}; valid: {', '.join(names())}")
    values = {**defaults(), **check_values(settings or {})}
    return REGISTRY[name].build(denoiser, gamma, values, log_prob=log_prob, clean_log_prob=clean_log_prob, weak=weak)


__all__ = ["BASIC_GUIDANCE", "GROUPS", "GUIDANCE_HELP", "GUIDANCE_NAMES", "GUIDANCE_SPACES", "Guided", "META_NAMES",
           "REGISTRY", "SETTINGS", "ZOO_GUIDANCE", "ZOO_NAMES", "ZOO_SETTINGS", "card", "cards", "check_values",
           "defaults", "guidance_help", "guided_names", "make_guidance", "meta_names", "method_settings", "names", "need_labels",
           "parse_group", "register", "replaced_by", "resources", "settings_for", "unconditional_and_conditional",
           "zoo_flags", "zoo_names"]
