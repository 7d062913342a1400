"""A tiny training run writes files that the registry loads; same seed, same weights; ``--roles`` trains some
networks only (the flow path's velocity network among them)."""
import json
from pathlib import Path

import pytest
import torch

from models.engine.loading import load_bundle, load_network
from models.flow.nets import VelocityNet
from models.train import DENOISERS, RECIPES, ROLES, flow_noised, main, train_all, train_and_save


def test_tiny_digits_training_in_process_loads_through_the_registry(tmp_path):
    written = train_all(tmp_path, ["digits"], torch.device("cpu"), steps_scale=0.001, progress=False, workers=1)
    assert [pt.name for pt, _, _ in written] == [f"digits_{r}.pt" for r in ROLES]
    for role in ROLES:
        config = json.loads((tmp_path / f"digits_{role}.json").read_text())
        assert config["seed"] == 0 and config["steps"] >= 2 and "final_loss" in config
        assert ("heldout_accuracy" in config) == (role not in DENOISERS)
        net = load_network("digits", role, "cpu", assets=tmp_path)
        assert not net.training and all(p.dtype == torch.float32 for p in net.parameters())
    bundle = load_bundle("digits", "neural", "cpu", needs=("classifier", "clean_classifier"), assets=tmp_path)
    x, t = torch.randn(3, 64), torch.tensor([0, 500, 999])
    assert bundle.denoiser(x, t, torch.tensor([0, 1, 2])).shape == (3, 64)
    assert bundle.log_prob(x, t).shape == bundle.clean_log_prob(x).shape == (3, 10)


def test_cli_trains_gmm2d_in_worker_processes(tmp_path, capsys):
    assert main(["--only", "gmm2d", "--steps-scale", "0.001", "--workers", "2", "--out", str(tmp_path)]) == 0
    assert f"trained {len(ROLES)} networks" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"gmm2d_{r}.{e}" for r in ROLES for e in ("json", "pt"))
    for role in ROLES:
        load_network("gmm2d", role, "cpu", assets=tmp_path)


def test_same_seed_same_weights(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        train_and_save("gmm2d", "denoiser", str(tmp_path / folder), 3, 0.002, "cpu", lambda loss: None)
    a = torch.load(tmp_path / "a" / "gmm2d_denoiser.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "gmm2d_denoiser.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("args", [["--only", "mnist"], ["--steps-scale", "0"], ["--steps-scale", "nan"],
                                  ["--workers", "-1"], ["--seed", "x"], ["--bogus"]])
def test_bad_options_give_one_error_line_and_status_2(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("python -m models.train: error: ") and len(err.strip().splitlines()) == 1


def test_roles_trains_only_those_and_leaves_the_other_files_alone(tmp_path, capsys):
    (tmp_path / "gmm2d_denoiser.pt").write_bytes(b"untouched")
    assert main(["--only", "gmm2d", "--roles", "flow_denoiser", "--steps-scale", "0.001", "--workers", "1",
                 "--out", str(tmp_path)]) == 0
    assert "trained 1 networks" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gmm2d_denoiser.pt", "gmm2d_flow_denoiser.json",
                                                          "gmm2d_flow_denoiser.pt"]
    assert (tmp_path / "gmm2d_denoiser.pt").read_bytes() == b"untouched"
    net = load_network("gmm2d", "flow_denoiser", "cpu", assets=tmp_path)
    assert isinstance(net, VelocityNet)
    config = json.loads((tmp_path / "gmm2d_flow_denoiser.json").read_text())
    assert config["path"] == "flow" and config["label_dropout"] == 0.15 and config["ema_decay"] == 0.999
    vp = RECIPES[("gmm2d", "denoiser")]
    assert (config["hidden"], config["depth"]) == (vp.hidden, vp.depth)  # the VP denoiser's sizes


@pytest.mark.parametrize("roles", [["flow"], []])
def test_bad_roles_give_one_error_line(roles, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--roles", *roles])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("python -m models.train: error: ") and "--roles" in err
    with pytest.raises(ValueError, match="unknown roles|no roles"):
        train_all(Path("unused"), ["gmm2d"], torch.device("cpu"), roles=roles)


def test_flow_training_points_lie_on_the_flow_path():
    x0 = torch.randn(4096, 2)
    t, x_t, eps = flow_noised(x0, torch.Generator().manual_seed(0), 1000)
    sigma = t / 1000
    assert float(sigma.min()) > 0 and float(sigma.max()) <= 1
    assert abs(float(sigma.mean()) - 0.5) < 0.02  # uniform
    torch.testing.assert_close(x_t, (1 - sigma)[:, None] * x0 + sigma[:, None] * eps)


def test_same_seed_same_flow_weights_and_other_roles_do_not_change_them(tmp_path):
    """A network's weights depend on its own seed only: alone or beside the others, the same bytes."""
    (tmp_path / "a").mkdir()
    train_and_save("gmm2d", "flow_denoiser", str(tmp_path / "a"), 3, 0.002, "cpu", lambda loss: None)
    train_all(tmp_path / "b", ["gmm2d"], torch.device("cpu"), steps_scale=0.002, seed=3, progress=False, workers=1,
              roles=["denoiser", "flow_denoiser"])
    assert (tmp_path / "a" / "gmm2d_flow_denoiser.pt").read_bytes() == (tmp_path / "b" / "gmm2d_flow_denoiser.pt").read_bytes()
