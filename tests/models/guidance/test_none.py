"""models.guidance.none: no guidance is the denoiser as it is, conditional on the labels or unconditional
without them; it has no scale, no settings of its own and records no parts."""

import numpy as np
import torch

from models.engine.pipeline import SampleSpec, run
from models.guidance import card, make_guidance, meta_names, settings_for


def test_the_prediction_is_the_denoisers_with_or_without_labels(exact):
    den = exact["gmm2d"]
    x, t, y = torch.randn(6, 2, dtype=torch.float64), torch.full((6,), 250), torch.tensor([0, 1, 2, 0, 1, 2])
    guided = make_guidance("none", den)
    cond, uncond = guided.predict(x, t, y), guided.predict(x, t, None)
    torch.testing.assert_close(cond.x0, den(x, t, y), rtol=0, atol=0)
    torch.testing.assert_close(uncond.x0, den(x, t, None), rtol=0, atol=0)
    assert (cond.x0 - uncond.x0).abs().max() > 1e-3  # the labels matter
    assert cond.x0_uncond is None and cond.x0_cond is None and cond.classifier_shift is None  # no parts


def test_gamma_and_settings_are_ignored(exact):
    den = exact["digits"]
    x, t, y = torch.randn(3, 64, dtype=torch.float64), torch.full((3,), 600), torch.tensor([1, 5, 9])
    base = make_guidance("none", den).predict(x, t, y).x0
    for gamma in (0.0, 7.0, -3.0):
        guided = make_guidance("none", den, gamma, settings={"apg_eta": 0.5, "rescale_phi": 0.2})
        assert guided.gamma == 1.0
        torch.testing.assert_close(guided.predict(x, t, y).x0, base, rtol=0, atol=0)


def test_its_card_and_a_run_record_nothing_of_their_own():
    assert card("none").label == "No guidance" and not card("none").zoo and settings_for("none") == ()
    traj = run(SampleSpec(data="gmm2d", model="exact", guidance="none", label=-1, steps=4, batch=3))
    assert traj.parts() == {} and traj.labels.tolist() == [-1, -1, -1]  # unconditional: no labels
    assert set(traj.meta) >= set(meta_names("none")) and np.isfinite(traj.x).all()
