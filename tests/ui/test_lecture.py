"""ui.lecture: each slide's run, and its picture drawn through the app's caches (the very PNG its
page would show, at the step a page opens on; whole paths in the run's PCA where the exact plane was
chosen), and Play: each slide's own build-up, no two slides the same GIF."""

import io

import numpy as np
import pytest
from PIL import Image, ImageSequence

import ui.run_cache
import ui.view_cache
from models.engine.pipeline import run
from ui.runs import readable_step
from viz.gif import gif_frame_count
from ui.lecture import slide_picture, slide_spec
from ui.runs import Settings, with_gammas
from viz.figures.lecture import LECTURE_GAMMA, OVERLAY_GAMMAS, SLIDES

S = Settings("gmm2d", "exact", "ddpm", 4, 3, 2, "plane")
BY_KEY = {slide.key: slide for slide in SLIDES}


@pytest.mark.parametrize("slide", SLIDES, ids=lambda s: s.key)
def test_each_slide_runs_its_guidance(slide):
    spec = slide_spec(S, slide, "exact")
    assert (spec.guidance, spec.seed, spec.steps) == (slide.guidance, 3, 4)
    if slide.guidance == "none":
        assert (spec.label, spec.gamma) == (-1, 1.0)
    else:
        assert (spec.label, spec.gamma) == (2, LECTURE_GAMMA)


def test_slide_pictures_are_the_pages_pictures():
    step = BY_KEY["step"]
    spec = slide_spec(S, step, "exact")
    opening = ui.run_cache.opening_step(spec)
    assert opening == readable_step(run(spec))  # the still shows the step a page opens on
    assert slide_picture(step, spec, "plane") == ui.view_cache.view_frame("step", spec, "plane", 0, opening, step.stages)
    noising = BY_KEY["noising"]
    assert slide_picture(noising, slide_spec(S, noising, "exact"), "plane") == ui.view_cache.noising_png(None, 3)
    cfg = BY_KEY["cfg"]
    spec = slide_spec(S, cfg, "exact")
    assert slide_picture(cfg, spec, "plane", play=True) == ui.view_cache.view_gif("cfg", spec, "plane")


def frames(gif: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(gif)) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def test_every_slide_plays_its_own_build_up():
    gifs = {slide.key: slide_picture(slide, slide_spec(S, slide, "exact"), "plane", play=True) for slide in SLIDES}
    assert all(g[:6] in (b"GIF87a", b"GIF89a") for g in gifs.values())
    assert len(set(gifs.values())) == len(SLIDES)  # no two slides play the same animation
    steps = S.steps
    # the step slides: one frame per part shown, at every step (prediction; + step; + noise)
    assert [gif_frame_count(gifs[k]) for k in ("prediction", "step", "noise")] == [steps, 2 * steps, 3 * steps]
    noise = frames(gifs["noise"])
    for k in range(steps):  # within a step, each part adds to the picture
        assert not np.array_equal(noise[3 * k], noise[3 * k + 1]), k
    # the several-γ slide: the paths grow step by step, to the whole picture
    assert gif_frame_count(gifs["gammas"]) == steps
    assert gif_frame_count(gifs["noising"]) > 1 and gif_frame_count(gifs["trajectory"]) == steps + 1


def test_a_build_up_of_a_long_run_keeps_to_the_frame_budget():
    spec = slide_spec(Settings("gmm2d", "exact", "ddim", 200, 3, 2, "pca"), BY_KEY["noise"], "exact")
    gif = slide_picture(BY_KEY["noise"], spec, "pca", play=True)
    assert gif_frame_count(gif) <= ui.view_cache.GIF_FRAMES and gif_frame_count(gif) % 3 == 0


def test_whole_paths_leave_the_exact_plane_for_the_pca():
    trajectory = BY_KEY["trajectory"]
    spec = slide_spec(S, trajectory, "exact")
    last = run(spec).steps  # the whole path: its last frame
    assert slide_picture(trajectory, spec, "plane") == ui.view_cache.view_frame("trajectory", spec, "pca", 0, last)
    assert slide_picture(trajectory, spec, "random") == ui.view_cache.view_frame("trajectory", spec, "random", 0, last)
    gammas = BY_KEY["gammas"]
    spec = slide_spec(S, gammas, "exact")
    overlay = ui.view_cache.overlay_png(with_gammas(spec, OVERLAY_GAMMAS), "pca")
    assert slide_picture(gammas, spec, "plane") == overlay
    assert slide_picture(gammas, spec, "plane", play=True) == ui.view_cache.overlay_gif(with_gammas(spec, OVERLAY_GAMMAS), "pca")
