"""models.engine.loading: models load by name with the parts a guidance method needs; bad names and devices
are clear errors; a network runs natively on the path it was trained on and through ``OnPath`` on the other.
(Broken weight files: tests/robustness/test_weights.py.)"""

import pytest
import torch

from models.engine.loading import (DEVICE_NAMES, MODEL_NAMES, ROLES, blurred_exact_denoiser, load_bundle, load_network,
                                   resolve_device)
from models.engine.nets import NeuralDenoiser
from models.engine.schedule import TRAINING_STEPS
from models.flow.nets import ClassifierOnPath, OnPath, VelocityNet
from models.flow.path import FlowSchedule


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


@pytest.mark.parametrize("data", ["gmm2d", "digits"])
def test_each_network_runs_natively_on_its_own_path_and_through_the_change_of_variables_on_the_other(data):
    on_vp = load_bundle(data, "neural", needs=("classifier", "weak"))
    assert isinstance(on_vp.denoiser, NeuralDenoiser) and not isinstance(on_vp.denoiser, VelocityNet) and on_vp.log_prob is not None
    flow_net = load_bundle(data, "neural_flow", path="flow", shift=3.0, needs=("classifier", "weak"))
    assert isinstance(flow_net.denoiser, VelocityNet) and flow_net.schedule == FlowSchedule(3.0)
    assert isinstance(flow_net.log_prob, ClassifierOnPath) and isinstance(flow_net.weak, OnPath)  # trained on VP
    vp_on_flow = load_bundle(data, "neural", path="flow")
    assert isinstance(vp_on_flow.denoiser, OnPath) and isinstance(vp_on_flow.denoiser.inner, NeuralDenoiser)
    flow_on_vp = load_bundle(data, "neural_flow", path="vp")
    assert isinstance(flow_on_vp.denoiser, OnPath) and isinstance(flow_on_vp.denoiser.inner, VelocityNet)
    assert flow_on_vp.schedule.kind == "linear"
    exact = load_bundle(data, "exact", path="flow", shift=2.0)
    assert exact.denoiser.schedule == FlowSchedule(2.0) == exact.schedule


def test_the_flow_networks_config_says_its_path():
    net = load_network("gmm2d", "flow_denoiser")
    assert isinstance(net, VelocityNet) and net.config["path"] == "flow" and not net.training
    assert "flow_denoiser" in ROLES and ROLES["flow_denoiser"] is VelocityNet


def test_a_bad_path_is_a_value_error():
    with pytest.raises(ValueError, match="unknown path 've'; valid: vp, flow"):
        load_bundle("gmm2d", "exact", path="ve")
