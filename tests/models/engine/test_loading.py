"""models.engine.loading: models load by name with the parts a guidance method needs; bad names and devices
are clear errors. (Broken weight files: tests/robustness/test_weights.py.)"""

import pytest
import torch

from models.engine.loading import DEVICE_NAMES, MODEL_NAMES, blurred_exact_denoiser, load_bundle, resolve_device
from models.engine.schedule import TRAINING_STEPS


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_bundles_carry_what_their_guidance_needs(model):
    plain = load_bundle("gmm2d", model)
    assert plain.schedule.T == TRAINING_STEPS and plain.dataset.num_classes == plain.denoiser.num_classes == 3
    assert plain.weak is None and plain.clean_log_prob is None
    weak = load_bundle("gmm2d", model, needs=("weak",))
    assert weak.weak is not None and weak.weak is not weak.denoiser


def test_the_exact_weak_model_is_the_exact_model_of_blurred_data(schedule):
    weak, main = blurred_exact_denoiser("gmm2d", schedule), load_bundle("gmm2d", "exact").denoiser
    x, t, y = torch.randn(8, 2, dtype=torch.float64), torch.full((8,), 100), torch.zeros(8, dtype=torch.long)
    assert (weak(x, t, y) - main(x, t, y)).abs().max() > 1e-3
    far = torch.full((8,), TRAINING_STEPS - 1)  # at the noisiest step both see almost only noise
    torch.testing.assert_close(weak(x, far, y), main(x, far, y), rtol=0, atol=2e-3)


def test_bad_names_and_devices_are_value_errors():
    with pytest.raises(ValueError, match="digits, gmm2d"):
        load_bundle("mnist", "exact")
    with pytest.raises(ValueError, match="exact, neural"):
        load_bundle("gmm2d", "huge")
    with pytest.raises(ValueError, match=", ".join(DEVICE_NAMES)):
        resolve_device("tpu")
    assert resolve_device("cpu") == torch.device("cpu")
