"""Same settings, two separate processes: identical ``.npz`` arrays and identical GIF bytes.

The two processes differ in what should not matter: their hash seed (set and dict order), their
working folder, and which starts first. (Same-process determinism is in tests/models and tests/viz.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from tests.robustness.conftest import ROOT

RUNS = {
    "cfg-plane": ["--guidance", "cfg", "--gamma", "4", "--label", "3", "--figure", "cfg", "--projection", "plane"],
    "gmm2d-universal": ["--data", "gmm2d", "--guidance", "universal", "--gamma", "3", "--label", "1", "--figure", "paths",
                        "--sampler", "heun"],
}
COMMON = ["--model", "neural", "--steps", "12", "--seed", "11", "--batch", "4", "--frames", "13"]


def test_two_processes_write_the_same_arrays_and_gif_bytes(tmp_path):
    procs = []
    for name, options in RUNS.items():
        for copy, hash_seed in (("a", "1"), ("b", "2")):
            out = tmp_path / copy
            out.mkdir(exist_ok=True)
            env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "viz.export", *COMMON, *options, "--out", str(out / f"{name}.gif"),
                 "--npz", str(out / f"{name}.npz")], cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    for name in RUNS:
        a, b = tmp_path / "a" / f"{name}.npz", tmp_path / "b" / f"{name}.npz"
        with np.load(a, allow_pickle=False) as za, np.load(b, allow_pickle=False) as zb:
            assert za.files == zb.files
            for key in za.files:
                assert za[key].dtype == zb[key].dtype and np.array_equal(za[key], zb[key]), f"{name}: {key} differs"
        gif_a = (tmp_path / "a" / f"{name}.gif").read_bytes()
        gif_b = (tmp_path / "b" / f"{name}.gif").read_bytes()
        assert gif_a == gif_b, f"{name}: the GIFs differ ({len(gif_a)} vs {len(gif_b)} bytes)"
