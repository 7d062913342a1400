"""viz.methods.fdg: the low band's part, then the high band's, added head to tail to the unconditional
prediction; points that are not 8x8 images refused."""

import dataclasses

import numpy as np
import pytest

from models.engine.pyramid import high_band, low_band
from viz.draw.drawing import arrow_ends
from viz.views.kinds import make_animation

from tests.viz.artists import arrows
from tests.viz.methods.test_in_space import GUIDER_VIEWS, STEPS, sample, title


# ----------------------------------------------------------------------------- frequency-decoupled guidance

@pytest.mark.parametrize("model", ["exact", "neural"])
def test_fdg_adds_the_low_part_then_the_high_part_head_to_tail(model):
    """From x̂0ᵘ the green arrow is γ_low times the low band of x̂0ᶜ − x̂0ᵘ (models.engine.pyramid, the same
    split as models.guidance.zoo's torch pyramid), the blue one γ times its high band, ending at the guided
    x̂0; plain CFG's hollow point is x̂0ᵘ + γ (x̂0ᶜ − x̂0ᵘ); the title gives both scales."""
    traj = sample("fdg", "digits", model, gamma=5.0)
    view = make_animation("fdg", traj, "plane")
    assert view.key.labels()[1:3] == ["γ_low × its low band (4×4 level)", "γ × its high band (the rest)"]
    for k in range(STEPS):
        view.update(k)
        named = view.named_points(view.vectors(k))
        d_u, d_c = (np.asarray(a[k, 0], np.float64) for a in (traj.x0_uncond, traj.x0_cond))
        np.testing.assert_allclose(named["low_end"], d_u + 2.0 * low_band(d_c - d_u), atol=1e-12)
        np.testing.assert_allclose(named["guided"] - named["low_end"], 5.0 * high_band(d_c - d_u), atol=1e-4)
        np.testing.assert_allclose(named["x_cfg"], d_u + 5.0 * (d_c - d_u), atol=1e-12)
        proj = view.projection_at(k)
        shown = arrows(view)
        if "low_part" in shown and shown["low_part"].get_visible():
            np.testing.assert_allclose(arrow_ends(shown["low_part"])[0], proj(d_u), atol=1e-9)
        assert "γ = 5 (high), γ_low = 2" in title(view)


def test_fdg_view_refuses_points_that_are_not_images():
    traj = dataclasses.replace(sample("cfg", "gmm2d"))
    traj.meta = {**traj.meta, "guidance": "fdg", "fdg_low": 2.0}
    with pytest.raises(ValueError, match="draws 8x8 images"):
        GUIDER_VIEWS["fdg"](traj)
