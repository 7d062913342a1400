"""The runs the pages ask for, as named specs, and the command lines that repeat them (no Streamlit).

A page turns the sidebar's ``Settings`` and its own widgets into a ``models.engine.pipeline.SampleSpec``
(``run_spec``): frozen and hashable, it is the key of every cache in ``ui.run_cache`` and ``ui.view_cache`` and is read by
name everywhere (``spec.seed``, ``dataclasses.replace(spec, gamma=g)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Optional, Sequence

import numpy as np

from models.engine.names import PATH_SAMPLERS
from models.engine.pipeline import SampleSpec
from models.engine.schedule import make_schedule
from models.engine.settings import GAMMA, SHIFT
from models.flow.path import match_level
from models.guidance import ZOO_NAMES, replaced_by, settings_for, zoo_flags
from models.engine.trajectory import ARRAY_NAMES, Trajectory
import viz.draw.geometry
from viz.draw.geometry import data_range, outside_range

BATCH = 8  # trajectories per run on the pages; the one-sample views follow sample 0
OPENING_SHARE = 0.4  # without viz.draw.geometry.readable_step: open this far through the run


@dataclass(frozen=True)
class Settings:
    """What the sidebar decides."""

    data: str
    model: str
    sampler: str
    steps: int
    seed: int
    label: int
    projection: str
    path: str = "vp"  # the noising path (models.engine.names.PATH_NAMES)
    shift: float = SHIFT.default  # the flow path's timestep shift (the default on vp, which never reads it)


def sampler_on(path: str, sampler: str) -> str:
    """``sampler`` where the ``path`` offers it (``models.engine.names.PATH_SAMPLERS``), else the path's first
    (on flow: euler, which is what DDIM with η = 0 becomes there)."""
    offered = PATH_SAMPLERS[path]
    return sampler if sampler in offered else offered[0]


def on_path(spec: SampleSpec, path: str, shift: float = SHIFT.default) -> SampleSpec:
    """The run ``spec`` on the noising ``path`` (the same noise, model, guidance and steps): its sampler where
    the path offers it (``sampler_on``), ``shift`` on flow (vp reads none)."""
    return replace(spec, path=path, sampler=sampler_on(path, spec.sampler),
                   shift=float(shift) if path == "flow" else SHIFT.default)


def vp_level(traj: Trajectory, k: int) -> tuple[float, float]:
    """Where state ``k`` of a flow run sits on the VP path: ``(t, factor)``, the (fractional) VP timestep with
    the same signal-to-noise ratio and the factor that scales the flow point onto it
    (``models.flow.path.match_level``, the one change of variables between the paths)."""
    factor, t, _, _ = match_level(traj.alpha[k], traj.sigma[k], make_schedule("linear"))
    return float(t), float(factor)


def run_spec(s: Settings, guidance: str, gamma: float, *, label: Optional[int] = None, model: Optional[str] = None,
             sampler: Optional[str] = None, zoo: Optional[Mapping[str, float]] = None, batch: int = BATCH) -> SampleSpec:
    """The run of the sidebar's settings ``s`` with ``guidance`` at scale ``gamma``: ``label``,
    ``model`` and ``sampler`` override the sidebar's, ``zoo`` sets zoo settings by ``SampleSpec``
    field name (the others keep their defaults). Raises ``ValueError`` for an unknown zoo setting.

    Numbers are normalised (``float`` gamma and zoo settings, ``int`` label), so that two equal
    specs are also one cache entry (Streamlit hashes ``3`` and ``3.0`` differently)."""
    zoo = dict(zoo or {})
    unknown = set(zoo) - set(ZOO_NAMES)
    if unknown:
        raise ValueError(f"unknown zoo settings {sorted(unknown)}; valid: {', '.join(ZOO_NAMES)}")
    return SampleSpec(data=s.data, model=model or s.model, sampler=sampler or s.sampler, guidance=guidance,
                      gamma=float(gamma), label=s.label if label is None else int(label), steps=int(s.steps),
                      seed=int(s.seed), batch=int(batch), eta=0.0, path=s.path,
                      shift=float(s.shift) if s.path == "flow" else SHIFT.default,
                      **{k: float(v) for k, v in zoo.items()})


def with_gammas(spec: SampleSpec, gammas: Sequence[float]) -> tuple[SampleSpec, ...]:
    """The same run at each of ``gammas`` (same seed, same everything else)."""
    return tuple(replace(spec, gamma=float(g)) for g in gammas)


def zoo_values(spec: SampleSpec) -> dict[str, float]:
    """The zoo settings that ``spec``'s guidance method reads (``models.engine.settings.settings_for``), by name."""
    return {setting.name: getattr(spec, setting.name) for setting in settings_for(spec.guidance)}


def export_command(spec: SampleSpec, kind: str, projection: str) -> str:
    """The ``python -m viz.export`` command line that writes view ``kind`` of ``spec`` as the
    page's GIF download (byte for byte)."""
    zoo = zoo_values(spec)
    extra = f" {zoo_flags(zoo)}" if zoo else ""
    gamma = "" if GAMMA.name in replaced_by(spec.guidance) else f" --gamma {spec.gamma:g}"  # CFG++ reads its λ instead
    path = f" --path flow --shift {spec.shift:g}" if spec.path == "flow" else ""
    return (f"python -m viz.export --data {spec.data} --model {spec.model}{path} --sampler {spec.sampler} "
            f"--guidance {spec.guidance}{gamma} --label {spec.label} --steps {spec.steps} "
            f"--seed {spec.seed} --batch {spec.batch}{extra} --projection {projection} --figure {kind} --out {kind}.gif")


@dataclass(frozen=True)
class Sweep:
    """The settings of a trade-off measurement (``models.analysis.evaluate.evaluate``) but its gammas:
    ``samples`` samples, spread over every class, from one seed, on the noising ``path`` (at ``shift``)."""

    data: str
    model: str
    sampler: str
    steps: int
    guidance: str
    samples: int
    seed: int
    path: str = "vp"
    shift: float = 1.0


def evaluate_command(sweep: Sweep, gammas: Sequence[float]) -> str:
    """The ``python -m models.evaluate`` command line that measures the same rows."""
    path = "" if sweep.path == "vp" else f" --path {sweep.path}" + (f" --shift {sweep.shift:g}" if sweep.shift != 1 else "")
    return (f"python -m models.evaluate --data {sweep.data} --model {sweep.model} --sampler {sweep.sampler} "
            f"--steps {sweep.steps} --guidance {sweep.guidance} --gammas {','.join(f'{g:g}' for g in gammas)} "
            f"--samples {sweep.samples} --seed {sweep.seed}{path}")


def non_finite_parts(traj: Trajectory) -> list[str]:
    """Names of the trajectory's float arrays that hold NaN or inf (empty when all is finite)."""
    arrays = {name: getattr(traj, name) for name in ARRAY_NAMES if getattr(traj, name) is not None}
    return [name for name, a in arrays.items() if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all()]


def samples_off_data(traj: Trajectory) -> np.ndarray:
    """(B,) bool: the final samples that left the data's range (``viz.draw.geometry.outside_range``);
    a sample that is not finite has left it too."""
    return outside_range(traj.samples, data_range(traj)) | ~np.isfinite(traj.samples).all(axis=-1)


def readable_step(traj: Trajectory) -> int:
    """The step (0-based, 0..S-1) a page opens on: where the run's construction reads well
    (``viz.draw.geometry.readable_step``), not step 0 (t = T, where the prediction is a far-off blur and
    the step a dot); where that function is missing, ``OPENING_SHARE`` of the way through the run."""
    pick = getattr(viz.draw.geometry, "readable_step", None)
    k = pick(traj) if pick is not None else round(OPENING_SHARE * (traj.steps - 1))
    return min(max(int(k), 0), traj.steps - 1)
