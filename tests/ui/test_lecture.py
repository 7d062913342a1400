"""ui.lecture: each slide's run, and its picture drawn through the app's caches (the very PNG or
GIF its page would show; whole paths in the run's PCA where the exact plane was chosen)."""

import pytest

import ui.cache
from models.pipeline import run
from ui.lecture import slide_picture, slide_spec
from ui.runs import Settings, with_gammas
from viz.lecture import LECTURE_GAMMA, OVERLAY_GAMMAS, SLIDES

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
    half = run(spec).steps // 2
    assert slide_picture(step, spec, "plane") == ui.cache.view_frame("step", spec, "plane", 0, half, step.stages)
    assert slide_picture(step, spec, "plane", play=True) == ui.cache.view_gif("step", spec, "plane")
    noising = BY_KEY["noising"]
    assert slide_picture(noising, slide_spec(S, noising, "exact"), "plane") == ui.cache.noising_png(None, 3)


def test_whole_paths_leave_the_exact_plane_for_the_pca():
    trajectory = BY_KEY["trajectory"]
    spec = slide_spec(S, trajectory, "exact")
    last = run(spec).steps  # the whole path: its last frame
    assert slide_picture(trajectory, spec, "plane") == ui.cache.view_frame("trajectory", spec, "pca", 0, last)
    assert slide_picture(trajectory, spec, "random") == ui.cache.view_frame("trajectory", spec, "random", 0, last)
    gammas = BY_KEY["gammas"]
    spec = slide_spec(S, gammas, "exact")
    overlay = ui.cache.overlay_png(with_gammas(spec, OVERLAY_GAMMAS), "pca")
    assert slide_picture(gammas, spec, "plane") == overlay
    assert slide_picture(gammas, spec, "plane", play=True) == overlay  # a still, also when playing
