"""One call from settings to a Trajectory: validate, load, guide, sample.

Besides the samplers of ``models.engine.samplers``, ``sampler = "tilted"`` returns exact draws of the
density guidance aims at, ``p0(x) p0(y | x)^gamma``, as a one-step trajectory (``models.analysis.tilted_target``):
only on gmm2d with the exact model (the analytic mixture's target; the digits' empirical
distribution and the networks have none we can draw), for gamma >= 0 and the guidance methods that
aim at it (cfg, classifier, universal), without a corrector; ``steps`` is ignored (recorded as 1).
``corrector_steps > 0`` adds Langevin corrector steps on the guided score after each sampler step
(``models.engine.corrector``). ``eta`` is DDIM's: another sampler, which would ignore it, refuses any
value but 0 (so a run never records an η it did not use).
"""

from __future__ import annotations

from dataclasses import asdict, field, make_dataclass
from typing import Optional

import numpy as np
import torch

from models.engine.corrector import Corrector, with_corrector
from models.engine.data import DATA_NAMES, IMAGE_SHAPES, num_classes
from models.analysis.tilted_target import check_exact_target, tilted_trajectory
from models.engine.loading import ModelBundle, load_bundle, resolve_device
from models.engine.names import (ETA_SAMPLERS, MAX_BATCH, MODEL_NAMES, PATH_NAMES, PATH_SAMPLERS, RUN_SAMPLERS,
                                 SAMPLER_NAMES, TILTED, TILTED_HELP)
from models.engine.samplers import get_sampler
from models.engine.schedule import TRAINING_STEPS
from models.engine.settings import BATCH, CORRECTOR_SNR, CORRECTOR_STEPS, ETA, GAMMA, SEED, SHIFT, STEPS
from models.flow.path import path_of
from models.flow.samplers import FLOW_SAMPLERS
from models.engine.trajectory import Trajectory
from models.guidance import ZOO_NAMES, ZOO_SETTINGS, card, cards, check_values, make_guidance, meta_names, names, resources

CORRECTOR_META = ("corrector_steps", "corrector_snr")  # recorded when the corrector runs


class _Spec:
    """The methods of ``SampleSpec`` (its fields are declared below, the methods' settings from their cards)."""

    def settings(self) -> dict[str, float]:
        """The methods' own settings (``models.guidance.ZOO_NAMES``) by name."""
        return {name: getattr(self, name) for name in ZOO_NAMES}

    def validate(self) -> "SampleSpec":
        """Raise ``ValueError`` with one clear sentence for any bad setting; return self."""
        for value, valid, what in ((self.data, DATA_NAMES, "data set"), (self.model, MODEL_NAMES, "model"),
                                   (self.path, PATH_NAMES, "path"), (self.sampler, RUN_SAMPLERS, "sampler"),
                                   (self.guidance, names(), "guidance")):
            if value not in valid:
                raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")
        for name in ("steps", "batch", "seed", "label", "corrector_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        for name in ("gamma", "eta", "corrector_snr", "shift"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"{name} must be a number, got {value!r}")
        GAMMA.check(self.gamma)
        if not STEPS.lo <= self.steps <= STEPS.hi:
            raise ValueError(f"steps must be an integer in 1..{TRAINING_STEPS}, got {self.steps}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise ValueError(f"batch must be an integer in 1..{MAX_BATCH}, got {self.batch}")
        if not SEED.lo <= self.seed <= SEED.hi:
            raise ValueError(f"seed must be an integer in 0..{SEED.hi:.0f}, got {self.seed}")
        ETA.check(self.eta)
        if self.eta != ETA.default and self.sampler not in ETA_SAMPLERS:
            raise ValueError(f"eta = {self.eta:g} is read by the {' and '.join(ETA_SAMPLERS)} sampler only, and sampler "
                             f"{self.sampler!r} would ignore it: use sampler {ETA_SAMPLERS[0]}, or eta {ETA.default:g}")
        CORRECTOR_STEPS.check(self.corrector_steps)
        CORRECTOR_SNR.check(self.corrector_snr)
        self._validate_path()
        check_values(self.settings())
        method = card(self.guidance)
        if method.sampler is not None and self.sampler != method.sampler:
            raise ValueError(f"{method.name} ({method.label}) is implemented for the {method.sampler} sampler only, "
                             f"got {self.sampler!r}")
        if "images" in method.needs and IMAGE_SHAPES.get(self.data) is None:  # before any sampling starts
            raise ValueError(f"{method.images_note}, and {self.data} holds 2-D points, not images: use the digits")
        classes = num_classes(self.data)
        if self.label == -1 and self.guidance != "none":
            raise ValueError(f"guidance {self.guidance!r} needs a class label in 0..{classes - 1}")
        if not -1 <= self.label < classes:
            raise ValueError(f"label must be in 0..{classes - 1} (or -1 for unconditional), got {self.label}")
        if self.sampler == TILTED:
            self._validate_tilted()
        return self

    def _validate_path(self) -> None:
        """The path's own conditions: its samplers, the shift on flow only, the corrector on VP only."""
        SHIFT.check(self.shift)
        if self.path == "vp" and self.shift != SHIFT.default:
            raise ValueError(f"shift = {self.shift:g} is read on the flow path only: use path flow, or shift {SHIFT.default:g}")
        offered = PATH_SAMPLERS[self.path]
        method = card(self.guidance)
        if method.sampler is not None and method.sampler not in offered:
            raise ValueError(f"{method.name} ({method.label}) needs the {method.sampler} sampler, which the {self.path} "
                             f"path does not offer: use path {next(p for p in PATH_NAMES if method.sampler in PATH_SAMPLERS[p])}")
        if self.sampler != TILTED and self.sampler not in offered:
            raise ValueError(f"sampler {self.sampler!r} does not run on the {self.path} path; there use "
                             f"{', '.join(offered)}" + (" (DDIM with eta 0 is Euler there)" if self.path == "flow" else ""))
        if self.path == "flow" and self.corrector_steps:
            raise ValueError("corrector steps run on the vp path only: use path vp, or 0 corrector steps")

    def _validate_tilted(self) -> None:
        """The tilted sampler's own conditions (module docstring), one sentence each."""
        check_exact_target(self.data)
        if self.model != "exact":
            raise ValueError(f"sampler 'tilted' draws the analytic mixture's exact target, not the {self.model} "
                             "model's (whose tilted density is unknown); use model 'exact'")
        if not card(self.guidance).tilted:
            raise ValueError(f"sampler 'tilted' draws p0(x) p0(y | x)^gamma, what {', '.join(tilted_guidance())} aim at; "
                             f"guidance {self.guidance!r} has no such target")
        if self.gamma < 0:
            raise ValueError(f"sampler 'tilted' needs gamma >= 0 (for gamma < 0 the target is not a bounded "
                             f"reweighting of the data), got {self.gamma:g}")
        if self.corrector_steps:
            raise ValueError("sampler 'tilted' draws exact samples; corrector steps do not apply (use 0)")


def tilted_guidance() -> tuple[str, ...]:
    """The methods that aim at p0(x) p0(y | x)^gamma (their cards say ``tilted``)."""
    return tuple(c.name for c in cards() if c.tilted)


TILTED_GUIDANCE = tilted_guidance()  # the shipped methods that aim at p0(x) p0(y | x)^gamma

#: ``SampleSpec``'s fields: the general ones, then each method's own settings (``models.guidance``, in
#: ``names()`` order, each declared on its method's card), then the corrector's
SPEC_FIELDS = (
    ("data", str, "digits"), ("model", str, "neural"), ("sampler", str, "ddpm"), ("guidance", str, "cfg"),
    ("path", str, "vp"),  # the noising path (models.flow.path): vp or flow
    ("gamma", float, GAMMA.default),
    ("label", int, 0),  # class of every sample; -1 = unconditional (guidance 'none' only)
    ("steps", int, STEPS.default), ("seed", int, SEED.default), ("batch", int, BATCH.default),
    ("eta", float, ETA.default),  # DDIM only
    ("shift", float, SHIFT.default),  # the flow path's timestep shift (flow only)
    *((s.name, int if s.integer else float, s.default) for s in ZOO_SETTINGS),
    ("corrector_steps", int, CORRECTOR_STEPS.default), ("corrector_snr", float, CORRECTOR_SNR.default),
)
#: Everything that decides a trajectory. Same spec, same trajectory (bit for bit on one device).
SampleSpec = make_dataclass("SampleSpec", [(name, kind, field(default=value)) for name, kind, value in SPEC_FIELDS],
                            bases=(_Spec,), frozen=True, namespace={"__module__": __name__})
SampleSpec.__doc__ = ("Everything that decides a trajectory. Same spec, same trajectory (bit for bit on one device). "
                      "Fields: " + ", ".join(name for name, _, _ in SPEC_FIELDS) + ".")


def check_bundle(spec: SampleSpec, bundle: ModelBundle) -> None:
    """Raise ``ValueError`` (one sentence) where ``bundle`` was not loaded for ``spec``: another data set,
    model, path or shift would sample the wrong thing without a word."""
    if (bundle.data, bundle.model) != (spec.data, spec.model):
        raise ValueError(f"bundle holds {bundle.model}/{bundle.data}, asked for {spec.model}/{spec.data}")
    path, shift = path_of(bundle.schedule), float(getattr(bundle.schedule, "shift", SHIFT.default))
    if (path, shift) != (spec.path, float(spec.shift)):
        at = lambda p, s: f" at shift {s:g}" if p == "flow" else ""  # noqa: E731
        raise ValueError(f"bundle runs on the {path} path{at(path, shift)}, asked for {spec.path}"
                         f"{at(spec.path, float(spec.shift))}")


def run(spec: SampleSpec, bundle: Optional[ModelBundle] = None, device: str | torch.device = "auto",
        labels: Optional[np.ndarray] = None) -> Trajectory:
    """Sample one batch of trajectories. ``labels`` (B,) overrides ``spec.label`` per sample."""
    spec.validate()
    if bundle is None:
        dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
        bundle = load_bundle(spec.data, spec.model, dev, needs=resources(spec.guidance), path=spec.path, shift=spec.shift)
    dev = bundle.device
    check_bundle(spec, bundle)
    guided = make_guidance(spec.guidance, bundle.denoiser, spec.gamma, log_prob=bundle.log_prob,
                           clean_log_prob=bundle.clean_log_prob, weak=bundle.weak,
                           settings=spec.settings())
    generator = torch.Generator().manual_seed(spec.seed)
    x_T = torch.randn((spec.batch, bundle.dataset.dim), generator=generator, dtype=torch.float32).to(dev)
    if labels is not None:
        y = torch.as_tensor(np.asarray(labels, np.int64), device=dev)
    else:
        y = None if spec.label == -1 else torch.full((spec.batch,), spec.label, dtype=torch.long, device=dev)
    recorded = meta_names(spec.guidance) + (("shift",) if spec.path == "flow" else ())
    # (a zoo method's own settings too, not gamma where they replace it)
    # (inf is kept: np.savez scalars)
    if spec.sampler == TILTED:
        traj = tilted_trajectory(y.cpu().numpy(), spec.gamma, spec.seed, getattr(bundle.schedule, "alphas_cumprod", None),
                                 data=spec.data, levels=bundle.schedule)
        traj.meta = {k: v for k, v in asdict(spec).items() if k in recorded} | {"steps": traj.steps}
        return traj
    options = {"eta": spec.eta} if spec.sampler == "ddim" else {}
    corrector = Corrector(steps=spec.corrector_steps, snr=spec.corrector_snr) if spec.corrector_steps else None
    sampler = FLOW_SAMPLERS[spec.sampler] if spec.path == "flow" else get_sampler(spec.sampler)
    traj = with_corrector(sampler, corrector)(guided, x_T, bundle.schedule.timesteps(spec.steps), y,
                                              generator=generator, **options)
    recorded += CORRECTOR_META if corrector is not None else ()
    traj.meta = {k: v for k, v in asdict(spec).items() if k in recorded}
    return traj
