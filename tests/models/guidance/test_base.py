"""The guidance registry (models.guidance.base): methods are found by name, and a new method is one
class and one registration."""

import pytest
import torch

from models.engine.denoiser import Prediction
from models.engine.exact import exact_gmm2d_denoiser
from models.guidance import GUIDANCE_NAMES, ZOO_GUIDANCE, make_guidance
from models.guidance.base import REGISTRY, Card, Guided, need_labels, register, unconditional_and_conditional


def test_every_method_is_registered_once_in_the_order_the_command_lines_list():
    assert GUIDANCE_NAMES == ("none", "cfg", "classifier", "universal", "rescale", "apg", "interval", "autoguidance",
                              "cfgpp", "cfgzero", "tcfg", "mambo", "apgmix", "fdg")
    assert set(REGISTRY) == set(GUIDANCE_NAMES) and ZOO_GUIDANCE == GUIDANCE_NAMES[4:]
    for name, cls in REGISTRY.items():
        assert cls.name == name and issubclass(cls, Guided) and cls.zoo == (name in ZOO_GUIDANCE)


def test_a_new_method_is_one_class_and_one_registration(schedule):
    den = exact_gmm2d_denoiser(schedule)

    card = Card(name="halfway_for_test", label="Half-way", about="CFG at half the scale.", order=999)

    @register(card)
    class Halfway(Guided):
        def predict(self, x_t, t, y):
            d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, self.name))
            return Prediction(x0=d_u + 0.5 * self.gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)

    try:
        x, t, y = torch.randn(4, 2, dtype=torch.float64), torch.full((4,), 300), torch.tensor([0, 1, 2, 0])
        ours = make_guidance("halfway_for_test", den, 4.0).predict(x, t, y)
        cfg = make_guidance("cfg", den, 2.0).predict(x, t, y)
        torch.testing.assert_close(ours.x0, cfg.x0, rtol=0, atol=1e-12)
        with pytest.raises(ValueError, match="registered twice"):
            register(card)(Halfway)
        with pytest.raises(TypeError, match="Card"):
            register("halfway_for_test")
        with pytest.raises(ValueError, match="needs class labels"):
            make_guidance("halfway_for_test", den, 4.0)(x, t, None)
    finally:
        del REGISTRY["halfway_for_test"]
    with pytest.raises(ValueError, match="unknown guidance 'halfway_for_test'"):
        make_guidance("halfway_for_test", den, 4.0)


def test_methods_that_need_more_say_so(schedule):
    den = exact_gmm2d_denoiser(schedule)
    for name, need in (("classifier", "noise-aware classifier"), ("universal", "clean classifier"),
                       ("autoguidance", "weak model")):
        with pytest.raises(ValueError, match=need):
            make_guidance(name, den, 2.0)
