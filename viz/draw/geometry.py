"""The vectors of one sampling step, recovered from a recorded ``Trajectory`` (numpy only).

A stochastic step (DDPM, arXiv 2006.11239; DDIM with eta > 0, arXiv 2010.02502) lands on
``x_{t-1} = mean + sigma * z``: ``mean`` is the small step from x_t toward the prediction, and
``sigma * z`` the fresh noise. The trajectory records ``z`` (``traj.noise``), so the split only
needs ``sigma`` for each step:

* DDPM, "fixed small" variance: ``sigma^2 = (1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)``
  with ``abar_prev = 1`` after the last step (which adds no noise);
* DDIM (arXiv 2010.02502, eq. 16): eta times the DDPM value, with ``meta['eta']``;
* ``sigma = 0`` wherever the recorded noise is all zeros (deterministic samplers, last steps);
* otherwise (a stochastic run without eta recorded) it is read off the run itself: every such
  step is ``x_prev = alpha x0_hat + beta x_t + sigma z`` with coefficients shared by the batch,
  so a least-squares fit over the batch recovers ``sigma``.

On the flow path (``traj.path == "flow"``, x_t = (1 - sigma) x0 + sigma eps) the levels are read from
``traj.alpha`` / ``traj.sigma``: Euler and Heun add no noise (Euler's step ``x + (sigma' - sigma)(x - x0_hat) /
sigma`` is a move toward x0_hat), and its ancestral sampler ``ddpm`` samples the path's Gaussian posterior
(``models.flow.path.posterior``), whose spread ``posterior_std`` gives here.

Symbols: ``abar`` = alphas_cumprod[t], ``abar_prev`` = alphas_cumprod at the next, less noisy,
timestep (on the flow path: the squared signal scales ``alpha^2``). Everything here is plain data; drawing lives in ``viz.draw.drawing`` and the diagrams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from models.engine.data import DATA_NAMES, GaussianMixture2D, load_dataset, make_gmm2d
from models.engine.trajectory import Trajectory
from models.flow.path import posterior


def check_finite(traj: Trajectory) -> None:
    """Raise ``ValueError`` naming the first array, step and sample holding NaN or inf."""
    arrays = {"alphas_cumprod": traj.alphas_cumprod, "alpha": traj.alpha, "sigma": traj.sigma, "x": traj.x, "x0_hat": traj.x0_hat, "noise": traj.noise,
              **traj.parts()}
    for name, arr in arrays.items():
        if arr is None:
            continue  # alphas_cumprod on the flow path; alpha, sigma of a run saved before paths
        arr = np.asarray(arr)
        bad = ~np.isfinite(arr)
        if bad.any():
            where = np.argwhere(bad)[0]
            at = f" at step {where[0]}, sample {where[1]}" if arr.ndim == 3 else ""
            raise ValueError(f"the trajectory has non-finite values (NaN or inf) in {name}{at}: "
                             f"the run diverged, try a smaller guidance scale or more steps")


def check_sample(traj: Trajectory, sample: int) -> int:
    """``sample`` as an int, or ``ValueError`` if it is not a valid batch index."""
    batch = traj.x.shape[1]
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < batch:
        raise ValueError(f"sample must be an integer in 0..{batch - 1} (the batch has {batch}), got {sample!r}")
    return int(sample)


def is_flow(traj: Trajectory) -> bool:
    """True for a run on the flow path (its levels are ``traj.alpha``, ``traj.sigma``; no ``alphas_cumprod``)."""
    return traj.path == "flow"


def scales(traj: Trajectory, k: int) -> tuple[float, float]:
    """``(a, s)`` of ``x[k]`` (``x = a x0 + s eps``): ``sqrt(abar), sqrt(1 - abar)`` on VP, ``1 - sigma, sigma`` on flow."""
    if is_flow(traj):
        return float(traj.alpha[k]), float(traj.sigma[k])
    abar = np.float64(traj.alphas_cumprod[int(traj.timesteps[k])]) if k < traj.steps else np.float64(1.0)
    return float(np.sqrt(abar)), float(np.sqrt(1.0 - abar))


def noise_fraction(traj: Trajectory, k: int) -> float:
    """How noisy step ``k`` is, 0 (data) .. 1: ``t / T`` on VP, ``sigma`` on flow."""
    if is_flow(traj):
        return float(traj.sigma[k])
    return int(traj.timesteps[k]) / len(traj.alphas_cumprod)


def posterior_std(a: float, s: float, a_next: float, s_next: float) -> float:
    """The spread of a Gaussian path's posterior ``q(x_next | x_t, x0)`` from scales ``(a, s)`` to ``(a_next,
    s_next)``: ``sqrt(v) s_next / s`` with ``v = s^2 - (a / a_next)^2 s_next^2`` (arXiv 2107.00630, eq. 33; the
    noise of ``models.flow.samplers.sample_flow_ddpm``, and DDPM's "fixed small" value on the VP path): the
    spread of ``models.flow.path.posterior``."""
    return float(posterior(a, s, a_next, s_next)[2])


def abar_pair(traj: Trajectory, k: int) -> tuple[float, float]:
    """``(abar, abar_prev)`` of step ``k``; ``abar_prev = 1`` after the last step. On the flow path the
    squared signal scales ``(alpha[k]^2, alpha[k+1]^2)`` (what abar is on VP)."""
    if is_flow(traj):
        return float(traj.alpha[k]) ** 2, float(traj.alpha[k + 1]) ** 2
    t = int(traj.timesteps[k])
    abar = float(traj.alphas_cumprod[t])
    abar_prev = float(traj.alphas_cumprod[int(traj.timesteps[k + 1])]) if k + 1 < traj.steps else 1.0
    return abar, abar_prev


def ddpm_sigma(abar: float, abar_prev: float) -> float:
    """DDPM's "fixed small" noise scale ``sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))``
    (Ho et al., arXiv 2006.11239, eq. 7)."""
    return float(np.sqrt(max((1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev), 0.0)))


def fitted_sigma(traj: Trajectory, k: int) -> float:
    """``sigma`` of step ``k`` from a least-squares fit of ``x_prev = alpha x0_hat + beta x_t + sigma z``
    over the whole batch (the form of every DDIM step, arXiv 2010.02502, eq. 12)."""
    cols = [traj.x0_hat[k], traj.x[k], traj.noise[k]]
    a = np.stack([np.asarray(c, np.float64).ravel() for c in cols], axis=1)  # (B*D, 3)
    if a.shape[0] < 3:
        raise ValueError("cannot separate the step from the noise with a single 2-D sample; use a batch of 2 or more")
    coef, *_ = np.linalg.lstsq(a, np.asarray(traj.x[k + 1], np.float64).ravel(), rcond=None)
    return float(abs(coef[2]))


def noise_scales(traj: Trajectory) -> np.ndarray:
    """``sigma`` of every step (S,): the recorded noise times sigma is the noise part of the step."""
    sampler = traj.meta.get("sampler", "")
    out = np.zeros(traj.steps)
    for k in range(traj.steps):
        if not np.any(traj.noise[k]):
            continue  # deterministic step (or the last DDPM step)
        if is_flow(traj) and sampler == "ddpm":
            out[k] = posterior_std(*(float(v) for v in (traj.alpha[k], traj.sigma[k], traj.alpha[k + 1], traj.sigma[k + 1])))
        elif sampler == "ddpm":
            out[k] = ddpm_sigma(*abar_pair(traj, k))
        elif sampler == "ddim" and traj.meta.get("eta") is not None:
            out[k] = float(traj.meta["eta"]) * ddpm_sigma(*abar_pair(traj, k))
        else:
            out[k] = fitted_sigma(traj, k)
    return out


def guidance_scale(traj: Trajectory) -> Optional[float]:
    """The run's gamma: ``meta['gamma']`` for guided runs, None for unguided ones."""
    if traj.meta.get("guidance", "none") == "none" and not traj.parts():
        return None
    gamma = traj.meta.get("gamma")
    return None if gamma is None else float(gamma)


@dataclass(frozen=True)
class StepVectors:
    """The points of step ``k`` for one sample, each (D,), in data space.

    ``x_t -> mean`` is the step toward the prediction, ``mean -> x_next`` the fresh noise
    ``sigma z`` (zero for deterministic samplers), ``x0`` the final sample of the run.
    For guided runs ``guided == x0_hat`` is built from its parts: CFG (arXiv 2207.12598)
    ``x0_uncond + gamma (x0_cond - x0_uncond)``; classifier guidance (arXiv 2105.05233)
    ``x0_uncond + gamma * shift``.
    """

    k: int
    t: int | float  # the level: an integer step on VP, sigma * 1000 on flow
    t_prev: int | float  # -1 after the last step (clean data)
    sigma: float
    x_t: np.ndarray
    x0_hat: np.ndarray
    mean: np.ndarray
    x_next: np.ndarray
    x0: np.ndarray
    x0_uncond: Optional[np.ndarray] = None
    x0_cond: Optional[np.ndarray] = None
    shift: Optional[np.ndarray] = None  # classifier shift at gamma = 1

    @property
    def stochastic(self) -> bool:
        """True when this step added fresh noise."""
        return self.sigma > 0


def step_vectors(traj: Trajectory, k: int, sample: int = 0, sigmas: Optional[np.ndarray] = None) -> StepVectors:
    """The vectors of step ``k`` (0 .. S-1) of ``sample``; pass ``noise_scales(traj)`` to reuse it."""
    if not 0 <= k < traj.steps:
        raise ValueError(f"step must be in 0..{traj.steps - 1}, got {k}")
    sigma = float((noise_scales(traj) if sigmas is None else sigmas)[k])
    f = lambda a: None if a is None else np.asarray(a[k, sample], np.float64)  # noqa: E731
    x_next = np.asarray(traj.x[k + 1, sample], np.float64)
    return StepVectors(
        k=k, t=_level(traj, k), t_prev=_level(traj, k + 1) if k + 1 < traj.steps else -1,
        sigma=sigma, x_t=np.asarray(traj.x[k, sample], np.float64), x0_hat=f(traj.x0_hat),
        mean=x_next - sigma * np.asarray(traj.noise[k, sample], np.float64), x_next=x_next,
        x0=np.asarray(traj.x[-1, sample], np.float64), x0_uncond=f(traj.x0_uncond), x0_cond=f(traj.x0_cond),
        shift=f(traj.classifier_shift))


def _level(traj: Trajectory, k: int) -> int | float:
    return float(traj.timesteps[k]) if is_flow(traj) else int(traj.timesteps[k])


def data_range(traj: Trajectory) -> Optional[tuple[float, float]]:
    """``(lo, hi)`` of every coordinate of the run's data set (``meta['data']``), or None if unknown."""
    name = traj.meta.get("data")
    if name not in DATA_NAMES:
        return None
    x = load_dataset(name).x
    return float(x.min()), float(x.max())


def outside_range(points: np.ndarray, rng: Optional[tuple[float, float]], margin: float = 0.25,
                  share: float = 0.05) -> np.ndarray:
    """Boolean (...,) mask of points (..., D) that leave the data range: more than ``share`` of their
    coordinates (at least one) lie beyond the range widened by ``margin`` times its width on each
    side. For digits: at least 4 of 64 pixels beyond [-1.5, 1.5]; for 2-D points, either coordinate.
    A trained model overshoots the odd pixel a little; a digit pushed off the data overshoots many."""
    points = np.asarray(points, np.float64)
    if rng is None:
        return np.zeros(points.shape[:-1], bool)
    lo, hi = rng
    pad = margin * (hi - lo)
    beyond = ((points < lo - pad) | (points > hi + pad)).sum(-1)
    return beyond >= max(1, int(np.ceil(share * points.shape[-1])))


def image_shape(traj: Trajectory) -> Optional[tuple[int, int]]:
    """(8, 8) for the digits, None for 2-D points (a run of another data set: a square side > 2, if any)."""
    name = traj.meta.get("data")
    if name in DATA_NAMES:
        return load_dataset(name).image_shape
    side = int(round(np.sqrt(traj.x.shape[-1])))
    return (side, side) if side * side == traj.x.shape[-1] and side > 2 else None


def class_name(traj: Trajectory, label: int) -> str:
    """The data set's own name of class ``label`` (``Dataset.class_names``: "7" on digits, "C" on
    gmm2d), the one the app's sidebar shows; the number itself for a run of an unknown data set."""
    name = traj.meta.get("data")
    if name in DATA_NAMES:
        names = load_dataset(name).class_names
        if 0 <= int(label) < len(names):
            return names[int(label)]
    return str(int(label))


def mixture_classes(points: np.ndarray, gmm: Optional[GaussianMixture2D] = None) -> np.ndarray:
    """The class (N,) of 2-D points (N, 2) under the 2-D mixture: the class of highest posterior
    ``p(y | x) ∝ sum_{k in y} w_k N(x; mu_k, r_k^2 I)`` (the data, t = 0)."""
    gmm = make_gmm2d() if gmm is None else gmm
    p = np.asarray(points, np.float64).reshape(-1, 2)
    d2 = ((p[:, None, :] - gmm.means[None]) ** 2).sum(-1)  # (N, K)
    logw = np.log(gmm.weights) - np.log(2 * np.pi * gmm.stds**2) - d2 / (2 * gmm.stds**2)
    logw -= logw.max(1, keepdims=True)
    mass = np.zeros((len(p), gmm.num_classes))
    np.add.at(mass.T, gmm.comp_class, np.exp(logw).T)
    return mass.argmax(1)


def background_labels(traj: Trajectory, background: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """The class of each background point (N,) when ``background`` is the run's data set (as the app
    and the command line pass it), else None (then the cloud is drawn grey)."""
    name = traj.meta.get("data")
    if background is None or name not in DATA_NAMES:
        return None
    ds = load_dataset(name)
    bg = np.asarray(background)
    if bg is ds.x or (bg.shape == ds.x.shape and np.array_equal(bg, ds.x)):
        return ds.labels
    return None


def guided_label(traj: Trajectory, sample: int = 0) -> Optional[int]:
    """The class ``sample`` is guided toward, or None (an unguided run, or label -1)."""
    labels = traj.labels
    if labels is None or not len(labels) or traj.meta.get("guidance", "none") == "none":
        return None
    y = int(labels[check_sample(traj, sample)])
    return y if y >= 0 else None


MIDDLE = (0.15, 0.75)  # the noise levels (t / T) a page opens on


def readable_step(traj: Trajectory, sample: int = 0) -> int:
    """The step a page should open on (0 .. S-1): where the construction reads best, not step 0
    (t = T, where the prediction is a blur far away and the step a dot) nor the last step (which
    lands on its prediction).

    Among the steps of middle noise (t between 15 % and 75 % of T, where the predictions have begun to
    look like data and guidance still moves them; every step but the ends if none is), each is scored
    by its shortest part over its longest: the step x_t -> mean, the rest of the
    way from there to the prediction, the noise (stochastic steps) and the guidance (gamma times the
    difference of the two predictions, or times the classifier shift). The best-scored step wins
    (the first of equals): the step, the noise and the guidance are most alike in length there."""
    sample = check_sample(traj, sample)
    S = traj.steps
    if S <= 2:
        return S - 1 if S == 2 else 0
    sigmas = noise_scales(traj)
    gamma = guidance_scale(traj) or 0.0
    scores = np.zeros(S)
    if is_flow(traj):
        middle = [k for k in range(1, S - 1) if MIDDLE[0] <= noise_fraction(traj, k) <= MIDDLE[1]]
    else:
        T = len(traj.alphas_cumprod)
        middle = [k for k in range(1, S - 1) if MIDDLE[0] * T <= int(traj.timesteps[k]) <= MIDDLE[1] * T]
    for k in (middle or range(1, S - 1)):
        sv = step_vectors(traj, k, sample, sigmas)
        parts = [np.linalg.norm(sv.mean - sv.x_t), np.linalg.norm(sv.x0_hat - sv.mean)]
        if sv.sigma > 0:
            parts.append(np.linalg.norm(sv.x_next - sv.mean))
        if sv.x0_cond is not None and sv.x0_uncond is not None and gamma:
            parts.append(abs(gamma) * np.linalg.norm(sv.x0_cond - sv.x0_uncond))
        elif sv.shift is not None and gamma:
            parts.append(abs(gamma) * np.linalg.norm(sv.shift))
        parts = np.asarray(parts, np.float64)
        scores[k] = parts.min() / parts.max() if parts.max() > 0 else 0.0
    return int(np.argmax(scores)) if scores.max() > 0 else S // 2


__all__ = ["StepVectors", "abar_pair", "is_flow", "noise_fraction", "posterior_std", "scales", "background_labels", "check_finite", "check_sample", "class_name", "guided_label", "data_range", "ddpm_sigma",
           "fitted_sigma", "guidance_scale", "image_shape", "mixture_classes", "noise_scales", "outside_range",
           "readable_step", "step_vectors"]
