"""The guiders diffusers ships for any denoiser (``models.guidance.zoo``: cfgzero, tcfg, mambo, apgmix, fdg), each
drawn as its own construction, one frame per step, in the plane where it lives.

Three of them combine the two predictions in another space than x0: CFG-Zero* and MAMBO-G on the
velocity v, tangential CFG on the noise eps. Every prediction in such a space stands for one x0
prediction, through a similarity of the whole space (``models.engine.conversions``):

    x0 = sqrt(abar) x_t - sqrt(1 - abar) v        x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)

a scaling about one point, the space's zero: ``sqrt(abar) x_t`` for v, ``x_t / sqrt(abar)`` for eps.
It keeps angles, ratios of lengths and which point is the projection of which. So each view draws
its method's construction in x0 coordinates, with the space's zero marked (+): a length from it
is that prediction's norm, a line through it is a line through the space's origin, and the guided
point drawn is the method's x0 prediction itself (the recorded ``x0_hat``, checked against the
method's formula from the recorded parts when the view is built). The exact plane of each step runs
through the space's zero, D_u and D_c, which hold the whole construction.

* ``CFGZeroDiagram`` (CFG-Zero*, arXiv 2503.18886, in v): the line from v = 0 through D_u, the
  point s* u on it nearest to D_c (s* = <v_c, v_u> / |v_u|^2: D_c - s* u is perpendicular to the
  line), then CFG from there: ``s* u + gamma (D_c - s* u)``; at the zero steps the guided point is
  v = 0 itself, ``sqrt(abar) x_t``.
* ``TangentialCFGDiagram`` (TCFG, arXiv 2503.18137, in eps): the line from eps = 0 along the leading
  right-singular vector of [eps_c; eps_u], D_u projected on it (its tangential part dropped), then CFG
  from the projection.
* ``MamboDiagram`` (MAMBO-G, arXiv 2508.03442, ratio in v): the CFG construction with the damped
  scale ``1 + (gamma - 1) exp(-alpha r)``, r = |v_c - v_u| / |v_u| = |D_c - D_u| / |D_u - sqrt(abar) x_t|
  (the line from v = 0 to D_u is |v_u| in x0 units); plain CFG's point hollow.
* ``APGMixDiagram`` (diffusers' AdaptiveProjectedMixGuidance, APG arXiv 2410.02416, in x0): as the
  APG view, the guidance split along and across the line through the origin and D_c, with the
  parallel part weighted by eta inside the sigma window (lo, hi] and kept whole (CFG) outside it.
* ``FDGDiagram`` (frequency-decoupled guidance, arXiv 2506.19713, on the digits' 8x8 images; the
  same in every space, drawn in x0): the difference D_c - D_u split into its low band L (a Laplacian
  pyramid's 4x4 level, brought back up) and its high band H = the rest; from D_u the low part
  ``gamma_low L`` then the high part ``gamma H``, head to tail, to the guided point.

On the figures the predictions are x̂0ᵘ and x̂0ᶜ (D_u and D_c in the code's comments), their
velocities vᵘ and vᶜ, their noises εᵘ and εᶜ, the guidance scale γ. Each view is a
``viz.views.construction.ConstructionView``: a key of at most six arrows (only those the frame draws),
the points labelled where they are (on digits with their 8x8 images), a steady camera over the run,
and insets (``viz.draw.magnifier``) where the construction or the step is too small to read in the
frame (the 2-D mixture at high noise, the last steps on digits).

Each view refuses a run of another guidance method, or one whose meta lacks its method's settings.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Optional, Sequence

import numpy as np

from models.engine.pyramid import IMAGE_SIDE, low_band
from models.engine.settings import settings_for
from models.engine.trajectory import Trajectory
from viz.views.construction import ConstructionView, Segment, step_inset, step_title
from viz.draw.geometry import StepVectors
from viz.draw.drawing import far_out
from viz.views.guidance import _toward
from viz.draw.magnifier import Magnified
from viz.draw.projection import Projection, plane_projection
from viz.draw.style import X0C, X0U

GUIDER_TITLES = {"cfgzero": "CFG-Zero*", "tcfg": "Tangential CFG", "mambo": "MAMBO-G (magnitude-aware guidance)",
                 "apgmix": "APG in a σ window (CFG outside it)", "fdg": "Frequency-decoupled guidance (FDG)"}
#: the space each method combines its predictions in (as ``models.guidance.GUIDANCE_SPACES``, torch-free here)
GUIDER_SPACES = {"cfgzero": "v", "tcfg": "eps", "mambo": "v", "apgmix": "x0", "fdg": "x0"}
#: the space's zero, as it is written on the figures
ZERO_NAMES = {"v": "v = 0", "eps": "ε = 0", "x0": "origin 0"}
CFGZERO_GUARD = 1e-8  # added to |v_u|^2 in s*, as models.guidance.zoo.CFGZERO_GUARD
_STEP = [Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
_PREDICTIONS = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"), Segment("to_cond", "to_cond", "x_t", "x0_cond")]


# ----------------------------------------------------------------------------- the numbers (numpy, float64)

def signal_noise(traj: Trajectory, k: int) -> tuple[float, float]:
    """``(a, s) = (sqrt(abar), sqrt(1 - abar))`` of step ``k``, as ``models.engine.schedule.Schedule`` computes them."""
    abar = np.float64(traj.alphas_cumprod[int(traj.timesteps[k])])
    return float(np.sqrt(abar)), float(np.sqrt(1.0 - abar))


def sigma_at(traj: Trajectory, k: int) -> float:
    """The VE noise level ``s / a`` of step ``k`` (``models.engine.schedule.Schedule.sigma``)."""
    a, s = signal_noise(traj, k)
    return s / a


def space_zero(space: str, x_t: np.ndarray, a: float) -> np.ndarray:
    """The x0 prediction that the zero of ``space`` stands for: 0 (x0), ``a x_t`` (v), ``x_t / a`` (eps)."""
    if space == "x0":
        return np.zeros_like(x_t)
    return a * x_t if space == "v" else x_t / a


def _dot(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (p * q).sum(-1, keepdims=True)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)


def cfgzero_scale(d_u: np.ndarray, d_c: np.ndarray, x_t: np.ndarray, a: float, s: float) -> np.ndarray:
    """CFG-Zero*'s ``s* = <v_c, v_u> / (|v_u|^2 + 1e-8)`` with ``v = (a x_t - x0) / s`` (..., 1)."""
    zero = a * x_t
    u, c = (zero - d_u) / s, (zero - d_c) / s
    return _dot(c, u) / (_dot(u, u) + CFGZERO_GUARD)


def leading_direction(d_u: np.ndarray, d_c: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """The unit leading right-singular vector of the 2 x D matrix [D_c - zero; D_u - zero] (any
    nonzero multiple of both rows, eps's included, has the same), signed so that D_u lies ahead."""
    _, _, vh = np.linalg.svd(np.stack([d_c - zero, d_u - zero]), full_matrices=False)
    n = vh[0]
    return n if float(np.dot(d_u - zero, n)) >= 0 else -n


def mambo_ratio(d_u: np.ndarray, d_c: np.ndarray, x_t: np.ndarray, a: float) -> np.ndarray:
    """``|v_c - v_u| / |v_u| = |D_c - D_u| / |a x_t - D_u|`` (..., 1): the 1/s of v cancels."""
    return (np.linalg.norm(d_c - d_u, axis=-1, keepdims=True)
            / np.maximum(np.linalg.norm(a * x_t - d_u, axis=-1, keepdims=True), 1e-300))


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
    """The settings of ``method`` recorded in ``traj.meta``; ``ValueError`` for a run of another
    guidance method, one without both predictions, or one that does not record the settings."""
    title = GUIDER_TITLES[method]
    used = traj.meta.get("guidance")
    if used != method:
        raise ValueError(f"the {title} view ({method!r}) draws runs with guidance {method!r}; this run used {used!r}")
    if traj.x0_uncond is None or traj.x0_cond is None:
        raise ValueError(f"the {title} view needs both predictions of every step (x0_uncond, x0_cond); "
                         f"this run does not record them")
    names = tuple(s.name for s in settings_for(method))
    missing = [n for n in (*names, "gamma") if n not in traj.meta]
    if missing:
        raise ValueError(f"the {title} view needs the run's {', '.join(missing)} in its meta (a run saved before "
                         f"they were recorded): sample it again")
    return {n: float(traj.meta[n]) for n in names}


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
    abar = np.asarray(traj.alphas_cumprod, np.float64)[np.asarray(traj.timesteps)][:, None, None]
    return d_u, d_c, x_t, np.sqrt(abar), np.sqrt(1.0 - abar)


def _fmt(v: float) -> str:
    return "∞" if math.isinf(v) else f"{v:g}"


# ----------------------------------------------------------------------------- the shared base

class _GuiderView(ConstructionView):
    """A guider's construction view: the key lists its arrows (``viz.draw.key``, at most six, only those
    a frame draws); the points are labelled where they are, the space's zero as ``v = 0``, ``ε = 0``
    or ``origin 0``; an inset magnifies the construction (``region``, its arrows ``inset``) where it
    is small in the frame, another the step and the noise, and ``extra`` ones what a method needs
    (CFG-Zero*'s rescale by s*)."""

    method = ""
    point_texts = {"x_cfg": "plain CFG's"}
    #: the space's zero ("origin", pinnable) is pinned to the edge once this many spans of the other
    #: points away, inside the data's range or not (None: only as ``max_ratio`` pins predictions)
    zero_ratio: Optional[float] = None

    def _start(self, traj: Trajectory, sample: int, projection: Projection | str, *, segments: Sequence[Segment],
               markers: Sequence[str], key: Sequence[str], labels: dict[str, str], region: tuple[str, ...],
               inset: tuple[str, ...], triggers: tuple[str, ...], plane_note: str, width: Optional[int],
               extra: tuple[Magnified, ...] = ()) -> None:
        self.point_texts = {**type(self).point_texts, "origin": ZERO_NAMES[GUIDER_SPACES[self.method]]}
        self.magnify = (Magnified("the construction", region, inset, tuple(m for m in markers if m in region),
                                  triggers=triggers, color="guided", whole_region=True), *step_inset(segments), *extra)
        super().__init__(traj, projection, sample, segments=segments, markers=markers, key=key, key_labels=labels,
                         suptitle=GUIDER_TITLES[self.method] + _toward(traj, sample), plane_note=plane_note,
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

    def exact_plane(self, k: int, names: tuple[str, str, str]) -> Projection:
        """The fixed projection, or the exact plane through the three named points of step ``k``."""
        if self.fixed is not None:
            return self.fixed
        named = self.named_points(self.vectors(k))
        return replace(plane_projection(*(named[n] for n in names)), note=self.plane_note)


# ----------------------------------------------------------------------------- CFG-Zero*

class CFGZeroDiagram(_GuiderView):
    """CFG-Zero* (Fan et al., arXiv 2503.18886), in v: from v = 0 (+, at sqrt(abar) x_t) the line
    through D_u; on it the point s* u nearest to D_c (the green arrow scales D_u's velocity by s*);
    then CFG from that point, ``s* u + gamma (D_c - s* u)`` (= x0_hat). At the zero steps the guided
    point is v = 0 itself and the construction is not drawn."""

    method = kind = "cfgzero"
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("guided",)
    pin_from = {"guided": "su"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.zero_steps = int(check_run(traj, "cfgzero")["cfgzero_zero_steps"])
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, s = _parts(traj)
        star = cfgzero_scale(d_u, d_c, x_t, a, s)
        su = a * x_t + star * (d_u - a * x_t)
        rebuilt = su + gamma * (d_c - su)
        rebuilt[:self.zero_steps] = (a * x_t)[:self.zero_steps]  # the levels a run meets first: its first steps
        check_rebuilt(traj, rebuilt, f"CFG-Zero* with γ = {gamma:g} and {self.zero_steps} zero steps")
        self.stars = star[:, sample, 0]
        segments = [*_PREDICTIONS, Segment("ray", "ray", "ray_start", "ray_end"),
                    Segment("rescale", "rescale", "x0_uncond", "su"), Segment("diff", "diff", "diff_start", "x0_cond"),
                    Segment("diff_scaled", "diff_scaled", "su", "band_end"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": r"line from v = 0 through $v^{u}$", "rescale": r"$v^{u}$ × $s^*$",
                  "diff": r"$v^{c}$ − $s^* v^{u}$", "diff_scaled": r"γ × ($v^{c}$ − $s^* v^{u}$)"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "guided", "x_next", "x_t"],
                    key=["ray", "rescale", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("origin", "x0_uncond", "x0_cond", "su", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "rescale", "diff", "diff_scaled", "to_guided"),
                    triggers=("rescale", "diff"), width=width,
                    # s* is often near 1: the rescale is then shorter than x̂0ᵘ's marker, and magnified beside the
                    # frame (after the step's inset, which it never displaces)
                    extra=(Magnified("the rescale by s*", ("x0_uncond", "su"), ("ray", "rescale", "diff", "diff_scaled"),
                                     ("x0_uncond",), ("rescale",), "rescale"),),
                    plane_note=("Exact plane through v = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units: x̂₀ = √ᾱ xₜ − √(1−ᾱ) v "
                                "scales the velocity space about v = 0, keeping angles and ratios, so each prediction "
                                "stands for its velocity vᵘ, vᶜ. s* = ⟨vᶜ, vᵘ⟩ / ‖vᵘ‖² puts s* vᵘ at the foot of the "
                                "perpendicular from x̂₀ᶜ; guided: s* vᵘ + γ (vᶜ − s* vᵘ) (Fan et al., arXiv 2503.18886); "
                                f"v = 0 at the first {self.zero_steps} step(s). xₜ, the step and the noise are "
                                "projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, v = 0 ("origin"), D_u, D_c, s* u ("su"), the end of the line from v = 0, the band's
        end (the guided point; D_u at a zero step, where nothing is built), x0_hat, the step's end, x_{t-1}."""
        a, s = signal_noise(self.traj, sv.k)
        zero = a * sv.x_t
        if sv.k < self.zero_steps:  # a zero step: nothing is built (every arrow of the construction has no length)
            su, diff_start, band_end = sv.x0_uncond, sv.x0_cond, sv.x0_uncond
        else:
            star = float(cfgzero_scale(sv.x0_uncond, sv.x0_cond, sv.x_t, a, s)[0])
            su = diff_start = zero + star * (sv.x0_uncond - zero)
            band_end = sv.x0_hat
        start, end = line_ends(zero, _unit(sv.x0_uncond - zero), [zero, sv.x0_uncond, su, sv.x0_cond])
        return {"x_t": sv.x_t, "origin": zero, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "su": su,
                "diff_start": diff_start, "ray_start": start, "ray_end": end, "band_end": band_end,
                "guided": sv.x0_hat, "mean": sv.mean, "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The exact plane through D_u, v = 0 and D_c of step ``k`` (or the fixed projection)."""
        return self.exact_plane(k, self.plane)

    def title_at(self, k: int) -> str:
        """Step, t, gamma, and s* or the zero step."""
        state = "zero step: v = 0" if k < self.zero_steps else f"s* = {self.stars[k]:.4g}"
        return f"{step_title(self.traj, k, self.gamma)}  ·  {state}"


# ----------------------------------------------------------------------------- TCFG

class TangentialCFGDiagram(_GuiderView):
    """Tangential CFG (Kwon et al., arXiv 2503.18137), in eps: from eps = 0 (+, at x_t / sqrt(abar),
    far off at high noise and pinned to the edge) the line along the leading right-singular vector
    of [eps_c; eps_u]; D_u projected on it (the green arrow drops its tangential part), then CFG from
    the projection u_n: ``u_n + gamma (D_c - u_n)`` (= x0_hat)."""

    method = kind = "tcfg"
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("origin", "guided")
    pin_from = {"origin": "u_n", "guided": "u_n"}
    max_ratio = 5.0  # predictions thrown far out are pinned once 5 spans of the rest away
    zero_ratio = 2.0  # eps = 0 lies sigma-fold beyond x_t: pinned to the edge once 2 spans of the rest away

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        check_run(traj, "tcfg")
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, s = _parts(traj)
        zero = x_t / a
        gram = np.stack([np.concatenate([_dot(d_c - zero, d_c - zero), _dot(d_c - zero, d_u - zero)], -1),
                         np.concatenate([_dot(d_u - zero, d_c - zero), _dot(d_u - zero, d_u - zero)], -1)], -2)
        w = np.linalg.eigh(gram)[1][..., -1]  # (S, B, 2): the Gram matrix's top eigenvector
        n = _unit(w[..., :1] * (d_c - zero) + w[..., 1:] * (d_u - zero))
        u_n = zero + _dot(d_u - zero, n) * n
        # float32 rounding of the model's own x0 -> eps -> x0 grows with gamma |x_t| / sqrt(abar) (measured up to
        # 2.3e-6 of |x_t| / sqrt(abar) at gamma 7): allowed 5e-6 gamma of it
        check_rebuilt(traj, u_n + gamma * (d_c - u_n), f"tangential CFG with γ = {gamma:g}",
                      scale=0.05 * max(1.0, abs(gamma)) * np.linalg.norm(x_t, axis=-1, keepdims=True) / a)
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "ray_end"),
                    Segment("rescale", "rescale", "x0_uncond", "u_n"), Segment("diff", "diff", "u_n", "x0_cond"),
                    Segment("diff_scaled", "diff_scaled", "u_n", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": "singular line from ε = 0", "rescale": X0U + " projected on it",
                  "diff": X0C + " − projected " + X0U, "diff_scaled": "γ × (" + X0C + " − projected " + X0U + ")"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "guided", "x_next", "x_t"],
                    key=["ray", "rescale", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("x0_uncond", "x0_cond", "u_n", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "rescale", "diff", "diff_scaled", "to_guided"),
                    triggers=("rescale", "diff"), width=width,
                    plane_note=("Exact plane through ε = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units: x̂₀ = (xₜ − √(1−ᾱ) ε) "
                                "/ √ᾱ scales the noise space about ε = 0 (at xₜ / √ᾱ), keeping angles and ratios. x̂₀ᵘ is "
                                "projected on the leading right-singular direction of [εᶜ; εᵘ], then CFG: guided = "
                                "projected + γ (x̂₀ᶜ − projected) (Kwon et al., arXiv 2503.18137). xₜ, the step and the "
                                "noise are projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, eps = 0 ("origin"), D_u, D_c, D_u's projection u_n, the end of the singular line,
        x0_hat, the step's end and x_{t-1}."""
        a, _ = signal_noise(self.traj, sv.k)
        zero = sv.x_t / a
        n = leading_direction(sv.x0_uncond, sv.x0_cond, zero)
        u_n = zero + float(np.dot(sv.x0_uncond - zero, n)) * n
        return {"x_t": sv.x_t, "origin": zero, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "u_n": u_n,
                "ray_end": line_ends(zero, n, [u_n, sv.x0_uncond, sv.x0_cond, sv.x0_hat])[1], "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The exact plane through D_u, eps = 0 and D_c of step ``k`` (or the fixed projection)."""
        return self.exact_plane(k, self.plane)

    def title_at(self, k: int) -> str:
        """Step, t, gamma and the angle between eps_u and eps_c."""
        sv = self.vectors(k)
        a, _ = signal_noise(self.traj, k)
        zero = sv.x_t / a
        u, c = sv.x0_uncond - zero, sv.x0_cond - zero
        cos = float(np.dot(u, c) / max(np.linalg.norm(u) * np.linalg.norm(c), 1e-300))
        return f"{step_title(self.traj, k, self.gamma)}  ·  angle(εᵘ, εᶜ) = {math.degrees(math.acos(min(1.0, max(-1.0, cos)))):.2g}°"


# ----------------------------------------------------------------------------- MAMBO-G

class MamboDiagram(_GuiderView):
    """MAMBO-G (Zhu et al., arXiv 2508.03442): the CFG construction with the scale damped by the
    ratio of |v_c - v_u| to |v_u|, ``1 + (gamma - 1) exp(-alpha r)``. In x0 units |v_u| is the
    length of the dotted line from v = 0 (+, sqrt(abar) x_t) to D_u and |v_c - v_u| that of the
    difference; plain CFG's point (gamma) is hollow."""

    method = kind = "mambo"
    point_texts = {"x_cfg": "plain CFG (γ)"}
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("guided", "x_cfg")
    pin_from = {"guided": "x0_uncond", "x_cfg": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.alpha = check_run(traj, "mambo")["mambo_alpha"]
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, _ = _parts(traj)
        ratio = mambo_ratio(d_u, d_c, x_t, a)
        scale = mambo_scale(gamma, self.alpha, ratio)
        check_rebuilt(traj, d_u + scale * (d_c - d_u), f"MAMBO-G with γ = {gamma:g}, α = {self.alpha:g}")
        self.ratios, self.scales = ratio[:, sample, 0], scale[:, sample, 0]
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "x0_uncond"),
                    Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": r"v = 0 → " + X0U + r": ‖$v^{u}$‖", "diff": X0C + " − " + X0U + r": ‖$v^{c} − v^{u}$‖",
                  "diff_scaled": "γ_eff × (" + X0C + " − " + X0U + ")"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["ray", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("origin", "x0_uncond", "x0_cond", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "cfg_diff", "cfg_diff_scaled", "to_guided"),
                    triggers=("ray", "cfg_diff"), width=width,
                    plane_note=("Exact plane through v = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units (x̂₀ = √ᾱ xₜ − √(1−ᾱ) v: "
                                "ratios of lengths are those of the velocities vᵘ, vᶜ). r = ‖vᶜ − vᵘ‖ / ‖vᵘ‖; guided = "
                                "x̂₀ᵘ + γ_eff (x̂₀ᶜ − x̂₀ᵘ), γ_eff = 1 + (γ − 1) exp(−α r) (Zhu et al., arXiv 2508.03442). "
                                "xₜ, the step and the noise are projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, v = 0 ("origin"), D_u, D_c, plain CFG's point, x0_hat, the step's end and x_{t-1}."""
        a, _ = signal_noise(self.traj, sv.k)
        gamma = float(self.traj.meta["gamma"])
        return {"x_t": sv.x_t, "origin": a * sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond), "guided": sv.x0_hat, "mean": sv.mean,
                "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The exact plane through D_u, v = 0 and D_c of step ``k`` (or the fixed projection)."""
        return self.exact_plane(k, self.plane)

    def title_at(self, k: int) -> str:
        """Step, t, gamma, alpha, r and the damped scale."""
        return (f"step {k + 1}/{self.traj.steps}  ·  t = {int(self.traj.timesteps[k])}  ·  α = {self.alpha:g}  ·  "
                f"r = {self.ratios[k]:.2g}  ·  γ_eff = {self.scales[k]:.3g} (γ = {self.gamma:g})")


# ----------------------------------------------------------------------------- APG mix

class APGMixDiagram(_GuiderView):
    """APG inside a sigma window, CFG outside (diffusers' AdaptiveProjectedMixGuidance; APG of
    Sadat et al., arXiv 2410.02416), in x0: from D_c the guidance ``x0_hat - D_c`` split along the
    line through the origin and D_c (green, the parallel part) and across it (blue). Inside the
    window it is ``(gamma - 1)(orth + eta par)`` of the clipped momentum average; outside it is
    CFG's ``(gamma - 1)(D_c - D_u)``, its parallel part whole. Plain CFG's point is hollow."""

    method = kind = "apgmix"
    plane = ("origin", "x0_cond", "guided")
    pinnable = ("origin", "guided", "par_end", "x_cfg", "ray_end")
    pin_from = {"origin": "x0_cond", "guided": "par_end", "par_end": "x0_cond", "x_cfg": "x0_uncond",
                "ray_end": "origin"}
    zero_ratio = 2.0  # on digits the origin lies far from the construction of the late steps: pinned there

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.settings = check_run(traj, "apgmix")
        self.lo, self.hi = self.settings["apgmix_lo"], self.settings["apgmix_hi"]
        self.sigmas_ve = np.array([sigma_at(traj, k) for k in range(traj.steps)])
        self.inside = np.array([in_window(sg, self.lo, self.hi) for sg in self.sigmas_ve])
        self._check(traj)
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "ray_end"),
                    Segment("apg_par", "apg_par", "x0_cond", "par_end"),
                    Segment("apg_orth", "apg_orth", "par_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": "line 0 → " + X0C, "apg_par": "parallel part (× η in APG)"}
        window = f"({_fmt(self.lo)}, {_fmt(self.hi)}]"
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["ray", "apg_par", "apg_orth", "step", "noise"], labels=labels,
                    region=("x0_cond", "par_end", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "apg_par", "apg_orth", "to_guided"),
                    triggers=("apg_par", "apg_orth"), width=width,
                    plane_note=(f"Exact plane through the origin, x̂₀ᶜ and the guided x̂₀. While σ lies in {window}: APG, "
                                "guided = x̂₀ᶜ + (γ − 1)(orth + η par) of the momentum average (Sadat et al., arXiv "
                                "2410.02416); outside: CFG at the same γ, whose parallel part is whole. The momentum is "
                                "fed at every step (as diffusers' AdaptiveProjectedMixGuidance). xₜ, x̂₀ᵘ, the step "
                                "and the noise are projected."))

    def _check(self, traj: Trajectory) -> None:
        """Rebuild x0_hat as ``models.guidance.zoo.APGMix`` does, where the recorded steps allow it (with
        momentum: samplers that predict once per step)."""
        eta, r, beta = self.settings["apgmix_eta"], self.settings["apgmix_r"], self.settings["apgmix_beta"]
        if beta != 0.0 and traj.meta.get("sampler") == "heun":
            return  # Heun's second prediction of each step fed the momentum but is not recorded
        gamma = float(traj.meta["gamma"])
        d_u, d_c, *_ = _parts(traj)
        delta = d_c - d_u
        m = delta.copy()
        for k in range(1, traj.steps):
            m[k] = delta[k] + beta * m[k - 1]
        if math.isfinite(r):
            m = m * np.minimum(r / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-300), 1.0)
        unit = _unit(d_c)
        par = _dot(m, unit) * unit
        apg = d_c + (gamma - 1.0) * (m - par + eta * par)
        cfg = d_u + gamma * delta
        check_rebuilt(traj, np.where(self.inside[:, None, None], apg, cfg),
                      f"APG (η = {eta:g}, r = {_fmt(r)}, β = {beta:g}) inside ({_fmt(self.lo)}, {_fmt(self.hi)}] "
                      f"and CFG outside, γ = {gamma:g}")

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The origin, x_t, D_u, D_c, the end of the parallel part, x0_hat, plain CFG's point, the
        end of the line through D_c, the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        u = _unit(sv.x0_cond)
        par_end = sv.x0_cond + float(np.dot(sv.x0_hat - sv.x0_cond, u)) * u
        reach = max(float(np.dot(p, u)) for p in (sv.x0_cond, par_end, sv.x0_hat))
        return {"origin": np.zeros_like(sv.x_t), "x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "par_end": par_end, "guided": sv.x0_hat, "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond),
                "ray_end": 1.1 * reach * u, "mean": sv.mean, "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The exact plane through the origin, D_c and x0_hat (through D_u where x0_hat lies on the
        line through D_c), or the fixed projection."""
        if self.fixed is not None:
            return self.fixed
        named = self.named_points(self.vectors(k))
        d_c, guided = named["x0_cond"], named["guided"]
        off = guided - named["par_end"]
        third = guided if np.linalg.norm(off) > 1e-9 * max(1.0, float(np.linalg.norm(guided))) else named["x0_uncond"]
        return replace(plane_projection(named["origin"], d_c, third), note=self.plane_note)

    def title_at(self, k: int) -> str:
        """Step, sigma, and which of APG (its settings) or CFG acts at this step."""
        window = f"({_fmt(self.lo)}, {_fmt(self.hi)}]"
        if self.inside[k]:
            st = self.settings
            extra = f", r = {st['apgmix_r']:g}" if math.isfinite(st["apgmix_r"]) else ""
            state = (f"in {window}: APG, γ = {self.gamma:g}, η = {st['apgmix_eta']:g}{extra}, "
                     f"β = {st['apgmix_beta']:g}").replace("-", "−")
        else:
            state = f"outside {window}: CFG, γ = {self.gamma:g}"
        return f"step {k + 1}/{self.traj.steps}  ·  σ = {self.sigmas_ve[k]:.3g}  ·  {state}"


# ----------------------------------------------------------------------------- frequency-decoupled guidance

class FDGDiagram(_GuiderView):
    """Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713), on 8x8 images: the difference
    D_c - D_u is split by a two-level Laplacian pyramid (``models.engine.pyramid``) into its low band L (the
    4x4 level brought back to 8x8) and its high band H = (D_c - D_u) - L. From D_u the low part
    ``gamma_low L`` (green), then the high part ``gamma H`` (blue), head to tail, reach the guided
    point (= x0_hat); plain CFG's point (both bands at gamma) is hollow. The split is linear, so the
    construction is the same in eps and v: it is drawn in x0. The exact plane of each step runs
    through D_u along L and H, which holds D_c, both parts, the guided point and CFG's."""

    method = kind = "fdg"
    point_texts = {"x_cfg": "plain CFG (γ on both)", "low_end": "low part added"}
    plane = ("x0_uncond", "band_low", "band_high")
    pinnable = ("guided", "x_cfg")
    pin_from = {"guided": "low_end", "x_cfg": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.low = check_run(traj, "fdg")["fdg_low"]
        if traj.x0_hat.shape[-1] != IMAGE_SIDE * IMAGE_SIDE:
            raise ValueError(f"the {GUIDER_TITLES['fdg']} view draws 8x8 images (the digits); this run's data are "
                             f"{traj.x0_hat.shape[-1]}-D points")
        gamma = float(traj.meta["gamma"])
        d_u, d_c, *_ = _parts(traj)
        delta = d_c - d_u
        low = low_band(delta)
        check_rebuilt(traj, d_u + gamma * (delta - low) + self.low * low,
                      f"FDG with γ = {gamma:g} on the high band and γ_low = {self.low:g} on the low")
        self.shares = np.linalg.norm(low[:, sample], axis=-1) / np.maximum(np.linalg.norm(delta[:, sample], axis=-1),
                                                                           1e-300)
        segments = [*_PREDICTIONS, Segment("diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("low_part", "apg_par", "x0_uncond", "low_end"),
                    Segment("high_part", "apg_orth", "low_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"diff": X0C + " − " + X0U, "apg_par": "γ_low × its low band (4×4 level)",
                  "apg_orth": "γ × its high band (the rest)"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["diff", "apg_par", "apg_orth", "step", "noise"], labels=labels,
                    region=("x0_uncond", "x0_cond", "low_end", "guided", "x_cfg"),
                    inset=("to_uncond", "to_cond", "diff", "low_part", "high_part", "to_guided"),
                    triggers=("low_part", "high_part"), width=width,
                    plane_note=("Exact plane through x̂₀ᵘ along the two bands of x̂₀ᶜ − x̂₀ᵘ: its low band L (blurred, "
                                "halved to 4×4, doubled back to 8×8 and blurred: a Laplacian pyramid) and its high band "
                                "H, the rest (L + H = x̂₀ᶜ − x̂₀ᵘ). guided = x̂₀ᵘ + γ_low L + γ H (Sadat et al., arXiv "
                                "2506.19713); linear, so the same in ε and v. xₜ, the step and the noise are "
                                "projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, D_u, D_c, the end of the low part, x0_hat, plain CFG's point, D_u plus each band
        (they span the plane), the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        delta = sv.x0_cond - sv.x0_uncond
        low = low_band(delta)
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "low_end": sv.x0_uncond + self.low * low, "guided": sv.x0_hat, "x_cfg": sv.x0_uncond + gamma * delta,
                "band_low": sv.x0_uncond + low, "band_high": sv.x0_uncond + (delta - low), "mean": sv.mean,
                "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The exact plane through D_u along the low and the high band of D_c - D_u (or the fixed projection)."""
        return self.exact_plane(k, self.plane)

    def title_at(self, k: int) -> str:
        """Step, t, both scales and the low band's share of the difference."""
        return (f"step {k + 1}/{self.traj.steps}  ·  t = {int(self.traj.timesteps[k])}  ·  γ = {self.gamma:g} (high), "
                f"γ_low = {self.low:g}  ·  ‖L‖ / ‖x̂₀ᶜ − x̂₀ᵘ‖ = {self.shares[k]:.2f}").replace("-", "−")


#: guidance method -> its construction view
GUIDER_VIEWS = {"cfgzero": CFGZeroDiagram, "tcfg": TangentialCFGDiagram, "mambo": MamboDiagram,
                "apgmix": APGMixDiagram, "fdg": FDGDiagram}

__all__ = ["APGMixDiagram", "CFGZeroDiagram", "FDGDiagram", "GUIDER_SPACES", "GUIDER_TITLES", "GUIDER_VIEWS",
           "MamboDiagram", "TangentialCFGDiagram", "cfgzero_scale", "check_run", "leading_direction", "line_ends",
           "mambo_ratio", "mambo_scale", "space_zero"]
