"""Loading models by name: exact denoisers are built in memory, networks come from ``assets/``.

Each network ships as ``assets/<data>_<role>.pt`` (a state_dict, loaded with
``torch.load(..., weights_only=True)``) beside ``assets/<data>_<role>.json`` (its config).
Anything wrong with those files raises ``WeightsError`` naming the file and how to rebuild it.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from models.guidance.base import RESOURCES
from models.engine.data import DATA_NAMES, Dataset, load_dataset, make_gmm2d
from models.engine.exact import ExactMixtureDenoiser, exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.names import ASSETS_ENV, DEVICE_NAMES, MODEL_NAMES
from models.engine.nets import NETWORKS
from models.engine.schedule import Schedule
from models.flow.nets import ClassifierOnPath, OnPath, VelocityNet
from models.flow.path import make_levels, path_of

#: every shipped network by role; ``flow_denoiser`` is the velocity network trained on the flow path
ROLES = {**NETWORKS, "flow_denoiser": VelocityNet}

ASSETS = Path(__file__).resolve().parents[2] / "assets"
REBUILD_HINT = "rebuild the shipped weights with `python -m models.train`"


class WeightsError(RuntimeError):
    """A weights or config file is missing, corrupt or does not fit its network."""


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU raises ``ValueError``."""
    if name not in DEVICE_NAMES:
        raise ValueError(f"unknown device {name!r}; valid: {', '.join(DEVICE_NAMES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available; use --device cpu or auto")
    return torch.device(name)


def assets_dir() -> Path:
    """The weights folder: ``$GUIDANCE_LAB_ASSETS`` if set, else the shipped ``assets/``."""
    return Path(os.environ.get(ASSETS_ENV) or ASSETS)


def asset_paths(data: str, role: str, assets: Optional[Path] = None) -> tuple[Path, Path]:
    """``(weights.pt, config.json)`` of one network."""
    assets = Path(assets) if assets is not None else assets_dir()
    return assets / f"{data}_{role}.pt", assets / f"{data}_{role}.json"


# Sizes a config may ask for: a corrupt one must not make the server allocate terabytes.
CONFIG_LIMITS = {"hidden": (1, 4096), "depth": (0, 32), "emb_dim": (2, 1024)}


def check_config(config: object, data: str) -> None:
    """Raise ``ValueError`` unless ``config`` is a network config that fits the data set ``data``:
    integer sizes within ``CONFIG_LIMITS``, and the data set's dimension and number of classes."""
    if not isinstance(config, dict):
        raise ValueError(f"expected a JSON object, got {type(config).__name__}")
    dataset = load_dataset(data)
    expected = {"dim": dataset.dim, "num_classes": dataset.num_classes}
    for key in ("dim", "num_classes", "hidden", "depth", "emb_dim"):
        if key not in config:
            if key == "emb_dim":
                continue
            raise ValueError(f"no {key!r}")
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key!r} must be an integer, got {value!r}")
        if key in expected and value != expected[key]:
            raise ValueError(f"{key!r} is {value}, but the {data} data set has {expected[key]}")
        lo, hi = CONFIG_LIMITS.get(key, (value, value))
        if not lo <= value <= hi:
            raise ValueError(f"{key!r} is {value}, outside {lo}..{hi}")


def load_network(data: str, role: str, device: torch.device | str = "cpu",
                 assets: Optional[Path] = None) -> torch.nn.Module:
    """Build the network ``role`` for ``data`` from its config and load its weights (eval mode)."""
    pt, cfg_path = asset_paths(data, role, assets)
    for path in (cfg_path, pt):
        if not path.is_file():
            what = f"weights file {path} is not a file" if path.exists() else f"missing weights file {path}"
            raise WeightsError(f"{what}: {REBUILD_HINT}")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
        check_config(config, data)
        net = ROLES[role](config)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise WeightsError(f"corrupt config {cfg_path} ({e}): {REBUILD_HINT}") from None
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles on stderr; the error says it all
            warnings.simplefilter("ignore")
            state = torch.load(pt, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses any pickled object, e.g. torch.save(module)
        raise WeightsError(f"weights file {pt} is not a plain state_dict (a pickled module or other Python "
                           f"object, which is never unpickled, or no weights at all): {REBUILD_HINT}") from None
    except Exception as e:  # unpickling errors come in many types; all mean the same thing here
        raise WeightsError(f"weights file {pt} is corrupt or truncated ({type(e).__name__}): {REBUILD_HINT}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {pt} does not hold a state_dict of tensors: {REBUILD_HINT}")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        first = (lines[1] if len(lines) > 1 else lines[0] if lines else type(e).__name__)[:200].rstrip(".")  # line 0: a header
        raise WeightsError(f"weights file {pt} does not fit its network ({first}): {REBUILD_HINT}") from None
    if not all(torch.isfinite(p).all() for p in net.state_dict().values()):
        raise WeightsError(f"weights file {pt} holds NaN or inf values: {REBUILD_HINT}")
    return net.to(device).eval().requires_grad_(False)


@dataclass
class ModelBundle:
    """A denoiser with what each kind of guidance needs, for one data set."""

    data: str
    model: str
    dataset: Dataset
    denoiser: Callable
    schedule: Schedule
    device: torch.device
    log_prob: Optional[Callable] = None  # (x_t, t) -> (B, C) log p(y | x_t): classifier guidance
    clean_log_prob: Optional[Callable] = None  # x0 -> (B, C) log p(y | x0): universal guidance
    weak: Optional[Callable] = None  # a weaker denoiser of the same kind (guidance by a weaker model)


def _on(net, levels, moved=OnPath):
    """``net`` on the path of ``levels``: itself where it was trained on that path, else ``moved(net, levels)``
    (``OnPath`` for a denoiser, ``ClassifierOnPath`` for a noise-aware classifier)."""
    return net if path_of(net.schedule) == path_of(levels) else moved(net, levels)


def load_bundle(data: str, model: str, device: torch.device | str = "cpu",
                needs: tuple[str, ...] = (), assets: Optional[Path] = None, path: str = "vp",
                shift: float = 1.0) -> ModelBundle:
    """Load ``model`` (``exact``, ``neural`` or ``neural_flow``) for ``data`` on ``path`` (``vp`` or ``flow``
    at timestep ``shift``: ``models.flow.path``); ``needs`` lists extra parts to load:
    ``classifier`` (noise-aware classifier), ``clean_classifier`` (clean classifier), ``weak`` (a weaker
    denoiser): the resources of ``models.guidance.base.RESOURCES``, ``models.guidance.resources(method)``
    gives a method's.

    The exact model's classifier is its exact posterior and needs no file; its weak model is the
    exact denoiser of a blurred data distribution (each component widened by ``WEAK_BLUR``). The exact
    denoisers are closed forms on any path; a network trained on another path than ``path`` (and the
    noise-aware classifier and weak network, trained on VP) is evaluated through ``models.flow.nets.OnPath``.
    The bundle's ``schedule`` is the run's levels (``models.flow.path.make_levels``).
    """
    if data not in DATA_NAMES:
        raise ValueError(f"unknown data set {data!r}; valid: {', '.join(DATA_NAMES)}")
    unknown = sorted(set(needs) - set(RESOURCES))
    if unknown:  # a method's name instead of its resources (models.guidance.resources) would load nothing
        raise ValueError(f"unknown resources {unknown}; valid: {', '.join(RESOURCES)}")
    if model not in MODEL_NAMES:
        raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODEL_NAMES)}")
    device = torch.device(device)
    dataset = load_dataset(data)
    schedule = make_levels(path, shift)
    if model == "exact":
        build = exact_digits_denoiser if data == "digits" else exact_gmm2d_denoiser
        denoiser = build(schedule, device)
        log_prob = denoiser.log_posterior
        weak = blurred_exact_denoiser(data, schedule, device) if "weak" in needs else None
    else:
        net = load_network(data, "denoiser" if model == "neural" else "flow_denoiser", device, assets)
        if path == "vp" and model == "neural":
            schedule = net.schedule
        denoiser = _on(net, schedule)
        log_prob = weak = None
        if "classifier" in needs:
            log_prob = _on(load_network(data, "noisy_classifier", device, assets), schedule, ClassifierOnPath)
        if "weak" in needs:  # the weak network is trained on VP, as the main neural one
            weak = _on(load_network(data, "weak_denoiser", device, assets), schedule)
    clean = load_network(data, "clean_classifier", device, assets) if "clean_classifier" in needs else None
    return ModelBundle(data, model, dataset, denoiser, schedule, device, log_prob, clean, weak)


WEAK_BLUR = {"digits": 0.5, "gmm2d": 0.25}  # std of the Gaussian that widens each exact component


def blurred_exact_denoiser(data: str, schedule: Schedule, device: torch.device | str = "cpu"):
    """The exact denoiser of the data convolved with N(0, WEAK_BLUR^2 I): a weaker model of the same kind."""
    if data == "digits":
        d = load_dataset("digits")
        n = len(d.x)
        return ExactMixtureDenoiser(d.x, np.full(n, WEAK_BLUR[data]), np.full(n, 1.0 / n), d.labels, d.num_classes,
                                    schedule, device)
    g = make_gmm2d()
    widened = (g.stds**2 + WEAK_BLUR[data] ** 2) ** 0.5
    return ExactMixtureDenoiser(g.means, widened, g.weights, g.comp_class, g.num_classes, schedule, device)
