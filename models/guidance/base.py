"""What every guidance method shares: the wrapper base, its helpers and the registry of methods by name.

A guidance method is one class derived from ``Guided``, registered under its name::

    @register("rescale", zoo=True)
    class RescaledCFG(Guided):
        def __init__(self, denoiser, gamma, phi): ...   # its settings (models.engine.settings) in declaration order
        def predict(self, x_t, t, y) -> Prediction: ...

``models.guidance.make_guidance`` looks the name up here and calls the class's ``build``, which by
default passes gamma (unless one of the method's settings replaces it) and the method's own
settings in the order ``models.engine.settings.settings_for`` gives them. A method that needs more (a
classifier, a weaker model) overrides ``build``.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

import torch

from models.engine.denoiser import Prediction
from models.engine.settings import replaced_by, settings_for

LogProbFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_t, t) -> (B, C) log p(y | x_t)
CleanLogProbFn = Callable[[torch.Tensor], torch.Tensor]  # x0 -> (B, C) log p(y | x0)


class Guided:
    """Base: ``__call__`` returns ``predict(...).x0`` so samplers treat it as a plain denoiser.

    ``gamma`` is the guidance scale, checked finite; None for a method that does not read it.
    """

    name: str = ""  # set by ``register``
    zoo: bool = False  # one of the newer methods of models.guidance.zoo (each has its own view)
    #: the prediction its combination acts in (a key of ``SPACES``): the result depends on it unless
    #: the combination is affine (weights summing to 1, as CFG's), which every change of space keeps
    space: str = "x0"

    def __init__(self, denoiser, gamma: Optional[float]) -> None:
        if gamma is not None:
            gamma = float(gamma)
            if not torch.isfinite(torch.tensor(gamma)):
                raise ValueError(f"gamma must be a finite number, got {gamma}")
        self.denoiser = denoiser
        self.gamma = gamma
        self.schedule = denoiser.schedule
        self.num_classes = denoiser.num_classes

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        return self.predict(x_t, t, y).x0

    def predict(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> Prediction:
        """The guided prediction and the parts it was built from."""
        raise NotImplementedError

    @classmethod
    def build(cls, denoiser, gamma: float, settings: Mapping[str, float], *, log_prob: Optional[LogProbFn] = None,
              clean_log_prob: Optional[CleanLogProbFn] = None, weak=None) -> "Guided":
        """``cls(denoiser, gamma, *own settings)``; gamma left out where a setting replaces it."""
        scale = () if "gamma" in replaced_by(cls.name) else (gamma,)
        return cls(denoiser, *scale, *(settings[s.name] for s in settings_for(cls.name)))


#: the prediction spaces a method may act in, in words (``models.engine.conversions`` maps between them)
SPACES = {"x0": "the clean-data prediction x0", "eps": "the noise prediction eps",
          "v": "the velocity prediction v = sqrt(abar) eps - sqrt(1 - abar) x0"}


#: guidance name -> its class, in registration order
REGISTRY: dict[str, type[Guided]] = {}


def register(name: str, *, zoo: bool = False) -> Callable[[type[Guided]], type[Guided]]:
    """Class decorator: make ``name`` a guidance method (``zoo``: one of the newer methods, drawn
    by its own view)."""

    def add(cls: type[Guided]) -> type[Guided]:
        if name in REGISTRY:
            raise ValueError(f"guidance {name!r} is registered twice ({REGISTRY[name].__name__}, {cls.__name__})")
        if cls.space not in SPACES:
            raise ValueError(f"guidance {name!r} acts in an unknown space {cls.space!r}; valid: {', '.join(SPACES)}")
        cls.name, cls.zoo = name, zoo
        REGISTRY[name] = cls
        return cls

    return add


def need_labels(y: Optional[torch.Tensor], name: str) -> torch.Tensor:
    """``y``, or ``ValueError`` when a method that needs class labels got None."""
    if y is None:
        raise ValueError(f"{name} guidance needs class labels y, got None")
    return y


def unconditional_and_conditional(denoiser, x_t, t, y) -> tuple[torch.Tensor, torch.Tensor]:
    """``(D_u, D_c)``, in one batched call where the denoiser offers ``predict_pair``."""
    if hasattr(denoiser, "predict_pair"):
        return denoiser.predict_pair(x_t, t, y)
    return denoiser(x_t, t, None), denoiser(x_t, t, y)


__all__ = ["CleanLogProbFn", "Guided", "LogProbFn", "REGISTRY", "SPACES", "need_labels", "register",
           "unconditional_and_conditional"]
