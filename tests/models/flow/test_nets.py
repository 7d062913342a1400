"""models.flow.nets: the velocity network's x0 is ``x_t - sigma u``; a network or classifier of the VP path asked
on the flow path through ``match_level`` answers what it answers at the matched VP level; the exact denoiser is the
same function on both paths; the shipped velocity networks learnt the exact denoiser."""

import numpy as np
import pytest
import torch

from models.engine.data import DATA_NAMES
from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.loading import load_bundle, load_network
from models.engine.schedule import make_schedule
from models.flow.nets import ClassifierOnPath, OnPath, VelocityNet
from models.flow.path import FlowSchedule, match_level

VP = make_schedule("linear")
EXACT = {"digits": exact_digits_denoiser, "gmm2d": exact_gmm2d_denoiser}
VP_T = np.array([999, 900, 640, 300, 120, 40, 5, 1])  # inside the schedule (its ends are clipped)


def _vp_points(data: str, seed: int = 0):
    """VP levels, their flow match (k, t_flow) and points x (B, D) float64 with labels."""
    k, t_flow, _, _ = match_level(VP.a(VP_T), VP.s(VP_T), FlowSchedule())
    dim = 64 if data == "digits" else 2
    x = torch.randn((len(VP_T), dim), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y = torch.arange(len(VP_T)) % (10 if data == "digits" else 3)
    return k, t_flow, x, y


def test_velocity_net_returns_x_minus_sigma_u():
    torch.manual_seed(0)
    net = VelocityNet(dict(dim=2, num_classes=3, hidden=16, depth=1)).eval()
    x, t = torch.randn(4, 2, dtype=torch.float64), torch.tensor([1000.0, 700.0, 250.5, 1.0], dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    sigma = (t / 1000)[:, None]
    with torch.no_grad():
        torch.testing.assert_close(net(x, t, y), x - sigma * net.u(x, t, y), rtol=0, atol=1e-12)
        uncond, cond = net.predict_pair(x, t, y)
        torch.testing.assert_close(cond, net(x, t, y), rtol=0, atol=1e-6)
        torch.testing.assert_close(uncond, net(x, t, None), rtol=0, atol=1e-6)
        assert not torch.allclose(cond, uncond)


@pytest.mark.parametrize("data", DATA_NAMES)
def test_exact_denoiser_is_one_function_on_both_paths(data):
    """The exact flow denoiser at (k x, sigma' T) is the exact VP denoiser at (x, t): float64 rounding."""
    k, t_flow, x, y = _vp_points(data)
    vp, flow = EXACT[data](VP), EXACT[data](FlowSchedule())
    kx = torch.as_tensor(k)[:, None] * x
    tf = torch.as_tensor(t_flow)
    for label in (y, None):
        torch.testing.assert_close(flow(kx, tf, label), vp(x, torch.as_tensor(VP_T), label), rtol=0, atol=1e-10)
    torch.testing.assert_close(flow.log_posterior(kx, tf), vp.log_posterior(x, torch.as_tensor(VP_T)), rtol=0, atol=1e-9)


@pytest.mark.parametrize("data", DATA_NAMES)
def test_vp_network_on_the_flow_path_is_the_network_at_the_matched_level(data):
    """OnPath(VP net) at a flow level that maps onto a VP integer step t answers as the net does at t (its own
    forward pass, on the unscaled point)."""
    net = load_network(data, "denoiser")
    k, t_flow, x, y = _vp_points(data, 1)
    on_flow = OnPath(net, FlowSchedule())
    kx, tf = torch.as_tensor(k)[:, None] * x, torch.as_tensor(t_flow)
    with torch.no_grad():
        for label in (y, None):
            torch.testing.assert_close(on_flow(kx, tf, label), net(x, torch.as_tensor(VP_T), label), rtol=0, atol=2e-5)
        uncond, cond = on_flow.predict_pair(kx, tf, y)
        torch.testing.assert_close(cond, net(x, torch.as_tensor(VP_T), y), rtol=0, atol=2e-5)
        torch.testing.assert_close(uncond, net(x, torch.as_tensor(VP_T), None), rtol=0, atol=2e-5)


@pytest.mark.parametrize("data", DATA_NAMES)
def test_flow_network_on_the_vp_path_round_trips(data):
    """The velocity net moved to VP and asked at VP step t answers what it answers natively at the matched flow level."""
    net = load_network(data, "flow_denoiser")
    k, t_flow, x, y = _vp_points(data, 2)
    on_vp = OnPath(net, VP)
    with torch.no_grad():
        torch.testing.assert_close(on_vp(x, torch.as_tensor(VP_T), y),
                                   net(torch.as_tensor(k)[:, None] * x, torch.as_tensor(t_flow), y), rtol=0, atol=2e-5)


@pytest.mark.parametrize("data", DATA_NAMES)
def test_classifier_on_the_flow_path_is_the_classifier_at_the_matched_level(data):
    clf = load_network(data, "noisy_classifier")
    k, t_flow, x, _ = _vp_points(data, 3)
    on_flow = ClassifierOnPath(clf, FlowSchedule())
    with torch.no_grad():
        torch.testing.assert_close(on_flow(torch.as_tensor(k)[:, None] * x, torch.as_tensor(t_flow)),
                                   clf(x, torch.as_tensor(VP_T)), rtol=0, atol=2e-5)


@pytest.mark.parametrize("data, tolerance", [("gmm2d", 0.05), ("digits", 0.25)])
def test_shipped_velocity_network_learnt_the_exact_denoiser(data, tolerance):
    """On points of the flow path's marginal, the network's x0 is near the exact one (RMS per coordinate) at
    every level, and at the middle levels at most half as far as a guess of the data's mean: it has learnt, and on
    the flow path. (On the digits the exact model memorises the 1,797 images; a network does not, hence the
    wider bound: ``models.analysis.path_gap`` measures the VP network as far from it.)"""
    bundle = load_bundle(data, "neural_flow", path="flow")
    exact = load_bundle(data, "exact", path="flow").denoiser
    assert isinstance(bundle.denoiser, VelocityNet) and bundle.schedule.kind == "flow"
    g = np.random.default_rng(0)
    idx = g.integers(len(bundle.dataset.x), size=500)
    x0 = torch.as_tensor(bundle.dataset.x[idx], dtype=torch.float64)
    y = torch.as_tensor(bundle.dataset.labels[idx], dtype=torch.long)
    eps = torch.as_tensor(g.standard_normal(x0.shape))
    for sigma in (0.1, 0.5, 0.9):
        x_t, t = (1 - sigma) * x0 + sigma * eps, torch.full((500,), sigma * 1000, dtype=torch.float64)
        with torch.no_grad():
            rms = float(((bundle.denoiser(x_t, t, y) - exact(x_t, t, y)) ** 2).mean().sqrt())
        guess = float(((x0.mean(0) - exact(x_t, t, y)) ** 2).mean().sqrt())
        assert rms < tolerance and (sigma > 0.5 or rms < guess / 2), (sigma, rms, guess)
