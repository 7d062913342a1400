"""models.engine.nets: the networks keep the denoiser contract (x0 from the v prediction, both predictions in
one pass) and their time features are the sinusoidal embedding."""

import math

import torch

from models.engine.conversions import v_to_x0
from models.engine.denoiser import scales
from models.engine.nets import CleanClassifier, NeuralDenoiser, NoisyClassifier, timestep_embedding

CONFIG = dict(dim=2, num_classes=3, hidden=16, depth=1, emb_dim=8, schedule="linear")


def _net() -> NeuralDenoiser:
    torch.manual_seed(0)
    return NeuralDenoiser(CONFIG).eval()


def test_timestep_embedding_is_sin_and_cos_of_geometric_frequencies():
    t = torch.tensor([0, 250, 999])
    emb = timestep_embedding(t, 1000, 8)
    freqs = torch.tensor([math.exp(-math.log(1000.0) * i / 4) for i in range(4)])
    angles = (t.float() / 1000 * 1000.0)[:, None] * freqs[None]
    torch.testing.assert_close(emb, torch.cat([angles.sin(), angles.cos()], 1), rtol=1e-6, atol=1e-6)


def test_denoiser_returns_x0_from_its_v_prediction():
    net = _net()
    x, t, y = torch.randn(5, 2), torch.tensor([0, 10, 500, 900, 999]), torch.tensor([0, 1, 2, 0, 1])
    with torch.no_grad():
        a, s = scales(net.schedule, t, x)
        v = net.v(x, t, y)
        assert torch.equal(net(x, t, y), v_to_x0(x, v, a, s))
        torch.testing.assert_close(net(x, t, y), a * x - s * v, rtol=0, atol=0)  # x0 = a x_t - s v


def test_predict_pair_is_the_two_separate_predictions():
    net = _net()
    x, t, y = torch.randn(4, 2), torch.full((4,), 300), torch.tensor([2, 1, 0, 2])
    with torch.no_grad():
        d_u, d_c = net.predict_pair(x, t, y)
        torch.testing.assert_close(d_u, net(x, t, None), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(d_c, net(x, t, y), rtol=1e-6, atol=1e-6)
        assert not torch.allclose(d_u, d_c)  # the null label is a different condition


def test_classifiers_return_log_probabilities():
    torch.manual_seed(1)
    noisy, clean = NoisyClassifier(CONFIG), CleanClassifier(CONFIG)
    x = torch.randn(6, 2)
    for logp in (noisy(x, torch.full((6,), 100)), clean(x)):
        assert logp.shape == (6, 3)
        torch.testing.assert_close(logp.exp().sum(1), torch.ones(6), rtol=1e-6, atol=1e-6)
