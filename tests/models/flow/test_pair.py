"""models.flow.pair: one run sampled as VP-DDIM and as flow-Euler from the same noise coincide after the
change of variables, state by state."""

import numpy as np
import pytest

from models.flow.pair import meets_flow_runs


@pytest.mark.parametrize("data, model", [("gmm2d", "exact"), ("digits", "neural")])
def test_ddim_on_vp_is_euler_on_flow_state_by_state(data, model):
    vp, flow = meets_flow_runs(data, model, steps=12, seed=3, batch=4)
    assert (vp.path, flow.path) == ("vp", "flow") and vp.steps == flow.steps == 12
    k = 1.0 / (vp.alpha + vp.sigma)  # the VP state x scaled onto the flow path
    np.testing.assert_allclose(flow.sigma, vp.sigma * k, atol=1e-12)
    scaled = vp.x * k[:, None, None]
    assert np.abs(scaled - flow.x).max() < 1e-5 * max(1.0, np.abs(flow.x).max())
    assert np.abs(vp.x - flow.x).max() > 1e-2  # unscaled, the two paths' states differ
