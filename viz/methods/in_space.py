"""What the views drawn in the plane of a prediction space share (``viz.methods``): the space's zero,
the checks of a run and of its recorded prediction, and the base view that draws a construction with
that zero marked.

Some methods combine the two predictions in another space than x0 (the flow-matching velocity u = eps - x0,
the noise eps). Every prediction in such a space stands for one x0 prediction, through a similarity of
the whole space (``models.engine.conversions``; ``x_t = a x0 + s eps`` on either path):

    x0 = (x_t - s u) / (a + s)        x0 = (x_t - s eps) / a

a scaling about one point, the space's zero: ``x_t / (a + s)`` for u, ``x_t / a`` for eps.
It keeps angles, ratios of lengths and which point is the projection of which. So each view draws
its method's construction in x0 coordinates, with the space's zero marked (+): a length from it
is that prediction's norm, a line through it is a line through the space's origin, and the guided
point drawn is the method's x0 prediction itself (the recorded ``x0_hat``, checked against the
method's formula from the recorded parts when the view is built). The exact plane of each step runs
through the space's zero, D_u and D_c, which hold the whole construction.

On the figures the predictions are x̂0ᵘ and x̂0ᶜ (D_u and D_c in the code's comments), their
velocities uᵘ and uᶜ, their noises εᵘ and εᶜ, the guidance scale γ. Each view is a
``viz.views.construction.ConstructionView``: a key of at most six arrows (only those the frame draws),
the points labelled where they are (on digits with their 8x8 images), a steady camera over the run,
and insets (``viz.draw.magnifier``) where the construction or the step is too small to read in the
frame (the 2-D mixture at high noise, the last steps on digits).

Each view refuses a run of another guidance method, or one whose meta lacks its method's settings.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from models.guidance import card
from models.engine.trajectory import Trajectory
from viz.views.construction import ConstructionView, Segment, step_inset
from viz.draw.drawing import far_out
from viz.views.guidance import _toward
from viz.draw.magnifier import Magnified
from viz.draw.projection import Projection
from viz.methods import check_method

#: the space's zero, as it is written on the figures
ZERO_NAMES = {"v": "v = 0", "eps": "ε = 0", "x0": "origin 0", "u": "u = 0"}
_STEP = [Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
_PREDICTIONS = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"), Segment("to_cond", "to_cond", "x_t", "x0_cond")]


# ----------------------------------------------------------------------------- the numbers (numpy, float64)

def signal_noise(traj: Trajectory, k: int) -> tuple[float, float]:
    """``(a, s) = (sqrt(abar), sqrt(1 - abar))`` of step ``k``, as ``models.engine.schedule.Schedule`` computes them."""
    if traj.path == "flow":
        return float(traj.alpha[k]), float(traj.sigma[k])
    abar = np.float64(traj.alphas_cumprod[int(traj.timesteps[k])])
    return float(np.sqrt(abar)), float(np.sqrt(1.0 - abar))


def sigma_at(traj: Trajectory, k: int) -> float:
    """The VE noise level ``s / a`` of step ``k`` (``models.engine.schedule.Schedule.sigma``)."""
    a, s = signal_noise(traj, k)
    return s / a if a > 0 else math.inf  # the flow path's first level, sigma = 1, is pure noise


def space_zero(space: str, x_t: np.ndarray, a: float) -> np.ndarray:
    """The x0 prediction that the zero of ``space`` stands for: 0 (x0), ``a x_t`` (v), ``x_t / a`` (eps)."""
    if space == "x0":
        return np.zeros_like(x_t)
    return a * x_t if space == "v" else x_t / a


def _dot(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (p * q).sum(-1, keepdims=True)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)


def leading_direction(d_u: np.ndarray, d_c: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """The unit leading right-singular vector of the 2 x D matrix [D_c - zero; D_u - zero] (any
    nonzero multiple of both rows, eps's included, has the same), signed so that D_u lies ahead."""
    _, _, vh = np.linalg.svd(np.stack([d_c - zero, d_u - zero]), full_matrices=False)
    n = vh[0]
    return n if float(np.dot(d_u - zero, n)) >= 0 else -n


def mambo_scale(gamma: float, alpha: float, ratio: np.ndarray) -> np.ndarray:
    """MAMBO-G's damped scale ``1 + (gamma - 1) exp(-alpha r)``."""
    return 1.0 + (gamma - 1.0) * np.exp(-alpha * ratio)


def line_ends(zero: np.ndarray, direction: np.ndarray, points: Sequence[np.ndarray],
              margin: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the line through ``zero`` along the unit ``direction`` drawn just past
    ``points`` (``zero`` among them where it should show) on both sides, by ``margin`` of their
    spread along it."""
    along = [float(np.dot(p - zero, direction)) for p in points]
    pad = margin * max(max(along) - min(along), 1e-12)
    return zero + (min(along) - pad) * direction, zero + (max(along) + pad) * direction


def in_window(sigma: float, lo: float, hi: float) -> bool:
    """Whether sigma lies in the half-open ``(lo, hi]`` (as ``models.guidance.zoo.in_window``)."""
    return lo < sigma <= hi


# ----------------------------------------------------------------------------- checks

def check_run(traj: Trajectory, method: str) -> dict[str, float]:
    """``viz.methods.check_method``, with gamma recorded too: these views rebuild the method's formula."""
    return check_method(traj, method, also=("gamma",))


def check_rebuilt(traj: Trajectory, rebuilt: np.ndarray, what: str, scale: Optional[np.ndarray] = None) -> None:
    """``ValueError`` unless ``rebuilt`` (S, B, D), the guided prediction recomputed in float64 from
    the run's float32 parts and settings, equals its recorded ``x0_hat`` to float32 rounding.

    ``scale`` (S, B, 1) is the size that rounding is relative to, where the method's conversions
    magnify it (eps -> x0 divides by sqrt(abar)); by default the size of the predictions."""
    recorded = np.asarray(traj.x0_hat, np.float64)
    size = np.maximum(1.0, np.maximum(np.abs(recorded).max(-1, keepdims=True), np.abs(rebuilt).max(-1, keepdims=True)))
    if scale is not None:
        size = np.maximum(size, scale)
    err = np.abs(rebuilt - recorded)
    if not (err <= 1e-4 * size).all():
        raise ValueError(f"this run's guided predictions are not {what} of its recorded parts and settings "
                         f"(off by up to {float(err.max()):.3g}): its meta does not describe how it was sampled")


def _parts(traj: Trajectory):
    """``(D_u, D_c, x_t, a, s)`` of every step (S, B, D) / (S, 1, 1), float64."""
    d_u, d_c = np.asarray(traj.x0_uncond, np.float64), np.asarray(traj.x0_cond, np.float64)
    x_t = np.asarray(traj.x[:-1], np.float64)
    if traj.path == "flow":
        a, s = (np.asarray(v, np.float64)[:-1, None, None] for v in (traj.alpha, traj.sigma))
        return d_u, d_c, x_t, a, s
    abar = np.asarray(traj.alphas_cumprod, np.float64)[np.asarray(traj.timesteps)][:, None, None]
    return d_u, d_c, x_t, np.sqrt(abar), np.sqrt(1.0 - abar)


def _fmt(v: float) -> str:
    return "∞" if math.isinf(v) else f"{v:g}"


# ----------------------------------------------------------------------------- the shared base

class _GuiderView(ConstructionView):
    """A guider's construction view: the key lists its arrows (``viz.draw.key``, at most six, only those
    a frame draws); the points are labelled where they are, the space's zero as ``u = 0``, ``ε = 0``
    or ``origin 0``; an inset magnifies the construction (``region``, its arrows ``inset``) where it
    is small in the frame, another the step and the noise, and ``extra`` ones what a method needs
    (CFG-Zero*'s scaling by s*)."""

    method = ""
    point_texts = {"x_cfg": "plain CFG's"}
    #: the space's zero ("origin", pinnable) is pinned to the edge once this many spans of the other
    #: points away, inside the data's range or not (None: only as ``max_ratio`` pins predictions)
    zero_ratio: Optional[float] = None

    def _start(self, traj: Trajectory, sample: int, projection: Projection | str, *, segments: Sequence[Segment],
               markers: Sequence[str], key: Sequence[str], labels: dict[str, str], region: tuple[str, ...],
               inset: tuple[str, ...], triggers: tuple[str, ...], plane_note: str, width: Optional[int],
               extra: tuple[Magnified, ...] = ()) -> None:
        self.point_texts = {**type(self).point_texts, "origin": ZERO_NAMES[card(self.method).space]}
        self.magnify = (Magnified("the construction", region, inset, tuple(m for m in markers if m in region),
                                  triggers=triggers, color="guided", whole_region=True), *step_inset(segments), *extra)
        super().__init__(traj, projection, sample, segments=segments, markers=markers, key=key, key_labels=labels,
                         suptitle=self.title + _toward(traj, sample), plane_note=plane_note,
                         width=width)

    def _frame_positions(self, k: int):
        """As ``ConstructionView._frame_positions``, with the space's zero pinned once ``zero_ratio``
        spans of the rest away: far from the construction it would shrink it in the frame."""
        names, pts, outside, far = super()._frame_positions(k)
        if self.zero_ratio is not None:
            core = np.array([n not in self.pinnable for n in names])
            i = names.index("origin")
            far[i] = bool(far_out(pts[core], pts[i:i + 1], self.zero_ratio)[0])
        return names, pts, outside, far



# ----------------------------------------------------------------------------- CFG-Zero*


# ----------------------------------------------------------------------------- TCFG


# ----------------------------------------------------------------------------- MAMBO-G


# ----------------------------------------------------------------------------- APG mix


# ----------------------------------------------------------------------------- frequency-decoupled guidance



__all__ = ["check_rebuilt", "check_run", "line_ends", "signal_noise", "space_zero"]
