"""What every guidance method shares: its card, the wrapper base, its helpers and the registry.

A guidance method is one module (``models/guidance/<name>.py`` or ``models/guidance/zoo/<name>.py``)
that holds its math and its card, and registers both::

    CARD = Card(name="mine", label="My guidance", about="...", paper="arXiv 0000.00000",
                settings=(Setting("mine_phi", "mine", 0.7, ...),), zoo=True, order=110, ...)

    @register(CARD)
    class MyGuidance(Guided):
        def __init__(self, denoiser, gamma, phi): ...   # its settings in declaration order
        def predict(self, x_t, t, y) -> Prediction: ...

The card says everything the rest of the lab reads about the method: its name and menu label, the
page's paragraph about it, its paper, the prediction space it acts in, its settings (each a
``models.engine.settings.Setting``), what it needs (a classifier, a weaker model, images), the
sampler it is defined for, the line the figure menus give its view and what the zoo page's readout
measures. ``models.guidance`` collects the cards; command lines, pages and figures derive from them.

Nothing here imports torch when the module is imported (methods import it where they compute), so
the cards are cheap to read: the figures (which never load torch) and ``--help`` read them too.
``models.guidance.make_guidance`` calls the class's ``build``, which by default passes gamma (unless
one of the method's settings replaces it) and the method's own settings in declaration order. A
method that needs more (a classifier, a weaker model) overrides ``build``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import numpy as np

from models.engine.settings import Setting

LogProbFn = Callable  # (x_t, t) -> (B, C) log p(y | x_t), tensors
CleanLogProbFn = Callable  # x0 -> (B, C) log p(y | x0), tensors

#: the prediction spaces a method may act in, in words (``models.engine.conversions`` maps between them)
SPACES = {"x0": "the clean-data prediction x0", "eps": "the noise prediction eps",
          "v": "the velocity prediction v = sqrt(abar) eps - sqrt(1 - abar) x0",
          "u": "the flow-matching velocity u = eps - x0"}
#: what a method may need beyond the denoiser (``models.engine.loading.load_bundle`` loads each)
RESOURCES = {"classifier": "a noise-aware classifier p(y | x_t)", "clean_classifier": "a classifier of clean data",
             "weak": "a weaker denoiser of the same kind", "images": "data that are 8x8 images (the digits)"}


@dataclass(frozen=True)
class Readout:
    """The number the zoo page shows beside a method's construction at one step: ``label`` and
    ``help`` in the page's words, ``measure(d_u, d_c, guided, scale)`` computed from the step's two
    recorded predictions, its guided prediction and its scale (γ, or the setting read instead)."""

    label: str
    help: str
    measure: Callable[[np.ndarray, np.ndarray, np.ndarray, float], float]


def _from_cfg(d_u, d_c, guided, scale) -> float:
    return float(np.linalg.norm(guided - (d_u + scale * (d_c - d_u))))


#: the default readout: how far the method moves CFG's prediction built from the same two predictions
FROM_CFG = Readout("‖x̂₀ − plain CFG's x̂₀‖",
                   "how far this method's prediction lies from what CFG would predict from the same two predictions",
                   _from_cfg)


@dataclass(frozen=True)
class Card:
    """Everything the lab says about one guidance method, declared once (module docstring)."""

    name: str  # the command lines' --guidance value, the .npz meta's 'guidance'
    label: str  # the zoo page's menu entry
    about: str  # the zoo page's paragraph about it (our words, with its paper)
    paper: str = ""  # arXiv id
    space: str = "x0"  # the prediction its combination acts in (a key of ``SPACES``)
    settings: tuple[Setting, ...] = ()  # its own settings, in declaration order
    needs: tuple[str, ...] = ()  # keys of ``RESOURCES``
    sampler: Optional[str] = None  # the only sampler it is defined for (CFG++: ddim)
    zoo: bool = False  # one of the newer methods, each drawn by a construction view of its own name
    order: int = 0  # its place in menus and lists (basic methods first, then the zoo's)
    figure: str = ""  # a zoo method's line in the figure menus (``--figure NAME``)
    field_name: str = ""  # how the guidance-field figure names it (default: the name)
    help_note: str = ""  # a clause the --guidance help adds about it
    images_note: str = ""  # with "images" in needs: what it does to images, for the refusal on other data
    tilted: bool = False  # it aims at p0(x) p0(y | x)^gamma, which --sampler tilted draws exactly
    readout: Readout = field(default=FROM_CFG)

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ValueError(f"guidance {self.name!r} acts in an unknown space {self.space!r}; valid: {', '.join(SPACES)}")
        unknown = sorted(set(self.needs) - set(RESOURCES))
        if unknown:
            raise ValueError(f"guidance {self.name!r} needs unknown resources {unknown}; valid: {', '.join(RESOURCES)}")
        for setting in self.settings:
            if setting.method != self.name:
                raise ValueError(f"setting {setting.name} belongs to {setting.method!r}, not to {self.name!r}")

    @property
    def replaces(self) -> tuple[str, ...]:
        """The general settings it does not read (CFG++ reads its λ instead of gamma)."""
        return tuple(s.replaces for s in self.settings if s.replaces)

    @property
    def scale(self) -> Optional[Setting]:
        """The setting it reads instead of gamma, if any (CFG++'s λ)."""
        return next((s for s in self.settings if s.replaces == "gamma"), None)


class Guided:
    """Base: ``__call__`` returns ``predict(...).x0`` so samplers treat it as a plain denoiser.

    ``gamma`` is the guidance scale, checked finite; None for a method that does not read it.
    """

    card: Card  # set by ``register``
    name: str = ""  # the card's name (set by ``register``)
    zoo: bool = False
    space: str = "x0"

    def __init__(self, denoiser, gamma: Optional[float]) -> None:
        if gamma is not None:
            gamma = float(gamma)
            if not math.isfinite(gamma):
                raise ValueError(f"gamma must be a finite number, got {gamma}")
        self.denoiser = denoiser
        self.gamma = gamma
        self.schedule = denoiser.schedule
        self.num_classes = denoiser.num_classes

    def __call__(self, x_t, t, y):
        return self.predict(x_t, t, y).x0

    def predict(self, x_t, t, y):
        """The guided prediction and the parts it was built from (``models.engine.denoiser.Prediction``)."""
        raise NotImplementedError

    @classmethod
    def build(cls, denoiser, gamma: float, settings: Mapping[str, float], *, log_prob: Optional[LogProbFn] = None,
              clean_log_prob: Optional[CleanLogProbFn] = None, weak=None) -> "Guided":
        """``cls(denoiser, gamma, *own settings)``; gamma left out where a setting replaces it."""
        scale = () if "gamma" in cls.card.replaces else (gamma,)
        return cls(denoiser, *scale, *(settings[s.name] for s in cls.card.settings))


#: guidance name -> its class, in registration order (``models.guidance`` orders them by ``Card.order``)
REGISTRY: dict[str, type[Guided]] = {}


def register(card: Card) -> Callable[[type[Guided]], type[Guided]]:
    """Class decorator: make ``card.name`` a guidance method computed by the class."""
    if not isinstance(card, Card):
        raise TypeError(f"register takes the method's Card, got {card!r}")

    def add(cls: type[Guided]) -> type[Guided]:
        if card.name in REGISTRY:
            raise ValueError(f"guidance {card.name!r} is registered twice ({REGISTRY[card.name].__name__}, {cls.__name__})")
        cls.card, cls.name, cls.zoo, cls.space = card, card.name, card.zoo, card.space
        REGISTRY[card.name] = cls
        return cls

    return add


def unregister(name: str) -> None:
    """Remove method ``name`` (a test's own method, when the test ends)."""
    REGISTRY.pop(name, None)


def need_labels(y, name: str):
    """``y``, or ``ValueError`` when a method that needs class labels got None."""
    if y is None:
        raise ValueError(f"{name} guidance needs class labels y, got None")
    return y


def unconditional_and_conditional(denoiser, x_t, t, y):
    """``(D_u, D_c)``, in one batched call where the denoiser offers ``predict_pair``."""
    if hasattr(denoiser, "predict_pair"):
        return denoiser.predict_pair(x_t, t, y)
    return denoiser(x_t, t, None), denoiser(x_t, t, y)


def dot(p, q):
    """Per-sample inner product of (B, D) tensors, (B, 1)."""
    return (p * q).sum(dim=1, keepdim=True)


__all__ = ["Card", "CleanLogProbFn", "FROM_CFG", "Guided", "LogProbFn", "REGISTRY", "RESOURCES", "Readout", "SPACES",
           "dot", "need_labels", "register", "unconditional_and_conditional", "unregister"]
