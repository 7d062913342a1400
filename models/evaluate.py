"""How good are guided samples? Accuracy, diversity and memorisation, per guidance scale.

``python -m models.evaluate --data digits --model neural --sampler ddpm --steps 100 --guidance cfg
--gammas 0,1,3 --samples 500 --seed 0 [--json]`` samples ``N`` points with labels spread over all
classes (``arange(N) % C``) once per gamma, then measures them (``models.metrics``): ``accuracy``
by an independent judge, within-class ``diversity`` and the distance to the nearest training point
(``nearest_train``). Samples that are not finite (a diverging guidance scale) count as misclassified
and are left out of the distances; ``finite`` reports their share.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Optional, Sequence

import numpy as np
import torch
from tqdm import tqdm

from models.cli import OneLineParser, add_setting, add_zoo_options, fail, int_range, zoo_settings
from models.data import DATA_NAMES
from models.guidance import GUIDANCE_NAMES
from models.metrics import accuracy, diversity, nearest_train, reference_classifier
from models.pipeline import MAX_BATCH, SampleSpec, run
from models.registry import DEVICE_NAMES, MODEL_NAMES, ModelBundle, WeightsError, load_bundle, resolve_device
from models.samplers import SAMPLER_NAMES
from models.schedule import TRAINING_STEPS
from models.settings import ETA

PROG = "python -m models.evaluate"


# ---------------------------------------------------------------------------------------------
# One evaluation: sample once per gamma, measure.

def evaluate(data: str, model: str, sampler: str, steps: int, guidance: str, gammas: Sequence[float],
             samples: int, seed: int, device: str | torch.device = "cpu", bundle: Optional[ModelBundle] = None,
             *, eta: float = 0.0, progress: bool = False, zoo: Optional[dict] = None) -> list[dict]:
    """Sample ``samples`` points per gamma (labels ``arange(samples) % C``) and measure them.

    Returns one dict per gamma with ``gamma``, ``accuracy``, ``diversity``, ``nearest_train``,
    ``finite`` (share of finite samples), ``samples`` and ``seconds``. Every gamma uses the same
    seed, so the runs differ only by the guidance scale. Raises ``ValueError`` for bad settings
    and ``models.registry.WeightsError`` for missing or corrupt weights.
    """
    gammas = [float(g) for g in gammas]
    if not gammas:
        raise ValueError("gammas must list at least one guidance scale")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not 2 <= samples <= MAX_BATCH:
        raise ValueError(f"samples must be an integer in 2..{MAX_BATCH}, got {samples!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be an integer in 1..{TRAINING_STEPS}, got {steps!r}")
    specs = [SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, gamma=g, label=0,
                        steps=int(steps), seed=int(seed), batch=int(samples), eta=float(eta),
                        **(zoo or {})).validate()
             for g in gammas]
    if bundle is None:
        dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
        bundle = load_bundle(data, model, dev, needs=(guidance,))
    elif (bundle.data, bundle.model) != (data, model):
        raise ValueError(f"bundle holds {bundle.model}/{bundle.data}, asked for {model}/{data}")
    dataset = bundle.dataset
    labels = np.arange(samples) % dataset.num_classes
    reference_classifier(data)  # fit the judge before the timed loop

    rows = []
    if progress:
        specs_iter = tqdm(specs, desc=f"{model}/{data} {guidance}", unit="gamma", file=sys.stderr)
    else:
        specs_iter = specs
    for spec in specs_iter:
        start = time.perf_counter()
        x = run(spec, bundle, labels=labels).samples  # (N, D)
        seconds = time.perf_counter() - start
        rows.append(dict(gamma=spec.gamma, accuracy=accuracy(x, labels, data), diversity=diversity(x, labels),
                         nearest_train=nearest_train(x, dataset.x),
                         finite=float(np.isfinite(x).all(axis=1).mean()), samples=int(samples),
                         seconds=round(seconds, 3)))
    return rows


# ---------------------------------------------------------------------------------------------
# Command line.

def parse_gammas(text: str) -> list[float]:
    """``"0,1,3"`` -> ``[0.0, 1.0, 3.0]``; raises ``ValueError`` for anything not finite."""
    parts = [p.strip() for p in text.split(",")]
    try:
        gammas = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"--gammas must be comma-separated numbers, got {text!r}") from None
    if not gammas or not all(math.isfinite(g) for g in gammas):
        raise ValueError(f"--gammas must be finite numbers, got {text!r}")
    return gammas


def _gammas_option(text: str) -> list[float]:
    """argparse type of ``--gammas`` (``parse_gammas``, its message kept)."""
    try:
        return parse_gammas(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--gammas ")) from None


def build_parser() -> OneLineParser:
    """The ``python -m models.evaluate`` argument parser (errors: one line, exit status 2)."""
    p = OneLineParser(prog=PROG,
                      description="Sample with guidance at several scales and measure class accuracy (by an "
                                  "independent SVM), within-class diversity and distance to the nearest training point.")
    p.add_argument("--data", choices=DATA_NAMES, default="digits", help="data set (default: digits)")
    p.add_argument("--model", choices=MODEL_NAMES, default="neural", help="denoiser (default: neural)")
    p.add_argument("--sampler", choices=SAMPLER_NAMES, default="ddpm", help="sampler (default: ddpm)")
    p.add_argument("--steps", type=int_range(1, TRAINING_STEPS), default=100,
                   help=f"sampling steps, 1..{TRAINING_STEPS} (default: 100)")
    p.add_argument("--guidance", choices=GUIDANCE_NAMES, default="cfg", help="guidance (default: cfg)")
    p.add_argument("--gammas", type=_gammas_option, default=[0.0, 1.0, 3.0], help="comma-separated guidance scales (default: 0,1,3)")
    p.add_argument("--samples", type=int_range(2, MAX_BATCH), default=500, help=f"samples per gamma, 2..{MAX_BATCH} (default: 500)")
    p.add_argument("--seed", type=int_range(0, 2**63 - 1), default=0, help="random seed (default: 0)")
    add_setting(p, ETA)
    add_zoo_options(p)
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="device (default: auto)")
    p.add_argument("--json", action="store_true", help="print one JSON list instead of a table")
    return p


def format_table(rows: list[dict]) -> str:
    """A markdown table of the rows ``evaluate`` returns."""
    head = "| gamma | accuracy | diversity | nearest_train | finite | seconds |"
    lines = [head, "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['gamma']:g} | {r['accuracy']:.3f} | {r['diversity']:.3f} | {r['nearest_train']:.3f} "
                     f"| {r['finite']:.3f} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def _json_safe(rows: list[dict]) -> list[dict]:
    """NaN (no finite samples) becomes null, so the output is strict JSON."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m models.evaluate``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        rows = evaluate(args.data, args.model, args.sampler, args.steps, args.guidance, args.gammas,
                        args.samples, args.seed, device=args.device, eta=args.eta, progress=True,
                        zoo=zoo_settings(args))
    except (ValueError, WeightsError) as e:
        fail(PROG, e)
    if args.json:
        print(json.dumps(_json_safe(rows), allow_nan=False))
    else:
        print(f"{args.model} / {args.data}, {args.sampler} {args.steps} steps, {args.guidance} guidance, "
              f"{args.samples} samples, seed {args.seed}\n")
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
