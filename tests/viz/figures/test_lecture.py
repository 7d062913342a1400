"""viz.figures.lecture: the slide deck follows the post, and which construction view a run gets and which
views apply to it."""

import pytest

from models.engine.pipeline import SampleSpec, run
from models.guidance import GUIDANCE_NAMES
from viz.figures.lecture import SLIDES, construction_kind, view_applies
from viz.views.kinds import ANIMATIONS


def test_slides_follow_the_post():
    assert [s.key for s in SLIDES] == ["noising", "prediction", "step", "noise", "trajectory", "classifier", "cfg",
                                       "gammas", "meets_flow"]  # then issue 19's slide: DDIM on VP = Euler on flow
    assert all(s.figure in ANIMATIONS or s.figure in ("overlay", "meets_flow") for s in SLIDES)
    assert all(s.guidance in GUIDANCE_NAMES for s in SLIDES)
    stages = [s.stages for s in SLIDES if s.figure == "step"]
    assert stages == [("prediction",), ("prediction", "step"), ("prediction", "step", "noise")]  # built up
    assert all(len(s.text.split(". ")) <= 3 for s in SLIDES)  # one or two sentences a screen


def small_run(guidance):
    return run(SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance=guidance, gamma=2.0,
                          label=-1 if guidance == "none" else 1, steps=3, batch=2))


@pytest.mark.parametrize("guidance, kind", [("none", "step"), ("cfg", "cfg"), ("classifier", "classifier"),
                                            ("universal", "classifier")])
def test_construction_kind_and_which_views_apply(guidance, kind):
    traj = small_run(guidance)
    assert construction_kind(traj) == kind
    assert view_applies("cfg", traj) == (kind == "cfg")
    assert view_applies("classifier", traj) == (kind == "classifier")
    assert view_applies("classifier_x0", traj) == (kind == "classifier")  # the same runs as "classifier"
    assert all(view_applies(k, traj) for k in ("paths", "noising", "step", "trajectory"))
