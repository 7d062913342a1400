"""Animations do not jump (issue 17.2): over the frames a GIF shows and over every step the page's scrubber
shows, the scale (a shot's width) moves in each direction at most once and by at most 1.25x from one
frame to the next, for every view kind with a camera (each one-step construction of
``viz.views.kinds.animations()``, the paths and the trajectory), at settings drawn here from a seeded
generator (steps, seeds, γ, data set, model, sampler, projection) that nobody tuned the camera for; and
an exact plane that changes every step is turned or reflected to line up with the frame before."""

from __future__ import annotations

import numpy as np
import pytest

from models.engine.pipeline import SampleSpec, run
from models.engine.settings import FRAMES
from models.guidance import card
from viz.draw.camera import hill, steady_widths, valley
from viz.draw.projection import aligned, plane_projection
from viz.views.construction import ConstructionView
from viz.views.kinds import animations, make_animation
from viz.views.paths import frame_indices

MAX_STEP = 1.25  # the largest factor between consecutive frames' scales
GIF_FRAMES = (FRAMES.default, 25, 9)  # the default GIF, a downloaded one of 25 frames, the snapshot's 9
#: the kinds without a camera: a photograph noised step by step
NO_CAMERA = ("noising",)
KINDS = [k for k in animations() if k not in NO_CAMERA]
GUIDANCE = {"step": ("cfg", "classifier"), "paths": ("cfg", "classifier"), "trajectory": ("cfg", "classifier"),
            "classifier": ("classifier", "universal"), "classifier_x0": ("classifier", "universal"), "cfg": ("cfg",)}
SETTINGS_PER_KIND = 3


def direction_runs(widths, tol=1e-9) -> int:
    """Runs of one direction among the changes of ``widths`` (0: still; 1: one way; 2: out then in, or in then out)."""
    steps = np.diff(np.log(np.asarray(widths, np.float64)))
    signs = np.sign(steps[np.abs(steps) > tol])
    return int((signs[1:] != signs[:-1]).sum()) + 1 if len(signs) else 0


def largest_step(widths) -> float:
    w = np.asarray(widths, np.float64)
    return float(np.exp(np.abs(np.diff(np.log(w))).max())) if len(w) > 1 else 1.0


def hidden_settings(kind: str, rng: np.random.Generator) -> dict:
    """One setting of a run for view ``kind``, drawn from ``rng`` (a method's own sampler and data where it
    has only those)."""
    guidance = str(rng.choice(GUIDANCE.get(kind, (kind,))))
    method = card(guidance)
    data = "digits" if "images" in method.needs else str(rng.choice(["digits", "gmm2d"]))
    sampler = method.sampler or str(rng.choice(["ddpm", "ddim", "heun"]))
    return dict(data=data, model=str(rng.choice(["exact", "neural"])), sampler=sampler, guidance=guidance,
                gamma=float(rng.choice([0.0, 1.0, 3.0, 10.0])), label=int(rng.integers(0, 3)),
                steps=int(rng.integers(8, 41)), seed=int(rng.integers(0, 10**6)), batch=1)


def _cases():
    rng = np.random.default_rng(20261207)
    cases = [(kind, hidden_settings(kind, rng), str(rng.choice(["plane", "pca"])))
             for kind in KINDS if kind != "flow" for _ in range(SETTINGS_PER_KIND)]
    for _ in range(SETTINGS_PER_KIND):  # drawn last, so the other kinds keep the settings they had
        spec = hidden_settings("cfg", rng) | dict(path="flow", sampler=str(rng.choice(["euler", "heun", "ddpm"])),
                                                 shift=float(rng.choice([1.0, 3.0])))
        cases.append(("flow", spec, str(rng.choice(["plane", "pca"]))))
    return cases


CASES = _cases()


@pytest.mark.parametrize("kind", KINDS)
def test_the_scale_moves_each_way_at_most_once_and_by_at_most_125_percent(kind):
    problems = []
    for case_kind, spec, projection in CASES:
        if case_kind != kind:
            continue
        view = make_animation(kind, run(SampleSpec(**spec), device="cpu"), projection)
        where = f"{kind} {projection} {spec}"
        sequences = {"every step": [view.shots[k] for k in range(view.num_frames)]}
        for frames in GIF_FRAMES:
            shots = view.gif_shots(frames)
            assert list(shots) == frame_indices(view.num_frames, frames)
            sequences[f"GIF of {frames} frames"] = list(shots.values())
        for what, shots in sequences.items():
            widths = [s.width for s in shots]
            runs, step = direction_runs(widths), largest_step(widths)
            if runs > 2 or step > MAX_STEP + 1e-9:
                problems.append(f"{where}, {what}: the scale moves in {runs} runs, by up to {step:.3f}x")
    assert not problems, "\n".join(problems)


def test_a_gif_films_with_the_shots_it_reports():
    traj = run(SampleSpec(model="exact", data="digits", guidance="cfg", gamma=10.0, sampler="heun", steps=30, seed=4242,
                          label=5, batch=1), device="cpu")
    view = make_animation("cfg", traj, "plane")
    filmed, update = [], view.update

    def spy(k):
        update(k)
        filmed.append((k, view.limits))

    view.update = spy
    view.gif(max_frames=9)
    want = view.gif_shots(9)
    assert [k for k, _ in filmed] == list(want)
    assert [lim for _, lim in filmed] == [(s.xlim, s.ylim) for s in want.values()]


# ----------------------------------------------------------------------------- the widths

def test_steady_widths_hold_every_frame_and_move_each_way_once():
    rng = np.random.default_rng(5)
    for _ in range(200):
        d = np.exp(rng.normal(0, 1.5, int(rng.integers(1, 40))))
        w = steady_widths(d, 1.2)
        assert (w >= d).all()
        assert largest_step(w) <= 1.2 + 1e-12 and direction_runs(w) <= 2
    d = np.array([1.0, 0.2, 0.5, 0.2, 0.2, 1.0])  # the lecture's 0.2 -> 0.5 -> 0.2: held, not back and forth
    np.testing.assert_array_equal(hill(d), [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(valley(d), [1.0, 0.5, 0.5, 0.2, 0.2, 1.0])
    assert direction_runs(steady_widths(d, 10.0)) == 2


# ----------------------------------------------------------------------------- the exact plane of each step

def test_an_aligned_plane_is_the_same_plane_turned_to_fit_the_frame_before():
    rng = np.random.default_rng(3)
    o, p, q = rng.normal(size=(3, 64))
    plane = plane_projection(o, p, q)
    points = o + rng.normal(size=(6, 2)) @ plane.basis  # points in the plane
    target = np.array([[1.0, 0.3], [-0.4, 2.0], [0.2, -1.1], [0.0, 0.5], [2.0, 2.0], [-1.0, -1.0]])
    fit = aligned(plane, points, target)
    np.testing.assert_allclose(fit.basis @ fit.basis.T, np.eye(2), atol=1e-12)  # orthonormal
    np.testing.assert_allclose(fit.basis.T @ fit.basis, plane.basis.T @ plane.basis, atol=1e-12)  # the same plane
    np.testing.assert_allclose(np.linalg.norm(fit(points) - fit(o), axis=1), np.linalg.norm(points - o, axis=1))
    best = np.linalg.norm(fit(points) - target)
    for angle in np.linspace(0, 2 * np.pi, 73):  # no turn or reflection of the plane fits better
        c, s = np.cos(angle), np.sin(angle)
        for r in (np.array([[c, -s], [s, c]]), np.array([[c, s], [s, -c]])):
            assert best <= np.linalg.norm(plane(points) @ r.T - target) + 1e-9


@pytest.mark.parametrize("kind", ["step", "classifier", "cfg", "apg", "cfgzero"])
def test_each_exact_plane_lines_up_with_the_one_before(kind):
    guidance = {"step": "cfg"}.get(kind, kind)
    traj = run(SampleSpec(model="exact", data="digits", guidance=guidance, gamma=10.0, sampler="ddpm", steps=12, seed=7,
                          label=3, batch=1), device="cpu")
    view = make_animation(kind, traj, "plane")
    assert isinstance(view, ConstructionView) and view.fixed is None
    for k in range(1, view.num_frames):
        proj, raw = view.projection_at(k), view.plane_at(k)
        np.testing.assert_allclose(proj.basis.T @ proj.basis, raw.basis.T @ raw.basis, atol=1e-9)  # same plane
        before = np.stack(list(view.positions(k - 1).values()))
        named = view.named_points(view.vectors(k))
        now = proj(np.stack(list(named.values())))
        assert np.linalg.norm(now - before) <= np.linalg.norm(raw(np.stack(list(named.values()))) - before) + 1e-9
