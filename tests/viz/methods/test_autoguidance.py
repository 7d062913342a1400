"""viz.methods.autoguidance: the two predictions are labelled weak and main."""

from viz.views.kinds import make_animation

from tests.viz.artists import key_labels, point_texts
from tests.viz.methods.test_on_cfg import sample


# ----------------------------------------------------------------------------- autoguidance

def test_autoguidance_is_labelled_weak_and_main():
    view = make_animation("autoguidance", sample("autoguidance", "digits", "neural"), "plane")
    labels = key_labels(view)
    # In the key's order: the difference of the two models' predictions and the band.
    assert labels[:2] == ["main − weak", "γ × (main − weak)"]
    said = point_texts(view)  # the points: the weak model's prediction (recorded as x0_uncond), the main model's
    assert any(t.startswith("$\\hat{x}_0$ weak") for t in said) and any(t.startswith("$\\hat{x}_0$ main") for t in said)
    assert not any("uncond" in t or "{u}" in t for t in labels + said)
    assert view.headline.startswith("Autoguidance: weak model → main model")
    assert "x̂₀(weak)" in view.note
