"""How good are guided samples? Accuracy, diversity and memorisation, per guidance scale.

``python -m models.evaluate --data digits --model neural --sampler ddpm --steps 100 --guidance cfg
--gammas 0,1,3 --samples 500 --seed 0 [--json]`` samples ``N`` points with labels spread over all
classes (``arange(N) % C``) once per gamma, then measures them (``models.analysis.metrics``): ``accuracy``
by an independent judge, within-class ``diversity`` and the distance to the nearest training point
(``nearest_train``). Samples that are not finite (a diverging guidance scale) count as misclassified
and are left out of the distances; ``finite`` reports their share.

On gmm2d each row also has ``tilted_tv``: the total variation distance between the samples' shares
of the mixture's nine components (each sample given to its most responsible component; non-finite
samples to none) and the shares of the exact target ``p0(x) p0(y | x)^gamma`` for the same labels
(``models.analysis.tilted_target``). ``tilted_tv_se`` is its Monte Carlo error and ``tilted_tv_floor`` what exact
draws of the same size score on average (computed from the batch's per-class counts; for a batch spread over
the three classes about 0.98 / sqrt(N): 0.044 at N = 500, 0.016 at
N = 4000); a gap well above floor plus a few errors is real. For gamma < 0 there is no such target
and the three are null. ``--sampler tilted`` samples that target exactly (gmm2d, exact model).

``--path flow`` (with ``--shift``) runs the same sweep on the flow path x_t = (1 - sigma) x0 + sigma eps
(``models.flow``), with its samplers euler, heun and ddpm; every row records ``path`` (and ``shift`` on
flow). The exact target does not depend on the path, so ``tilted_tv`` compares the two paths' samplers
directly. A sampler the path does not offer is refused with one line.

CFG++ (``--guidance cfgpp``) reads its interpolation weight λ instead of gamma, so for it the sweep is
over λ: the ``--gammas`` values are read as λ (in [0, 1]; default 0,0.5,1) and each row holds
``cfgpp_lambda`` in place of ``gamma`` (``models.analysis.tradeoff.swept``). Its rows' ``tilted_tv`` is null:
CFG++ at a λ aims at no tilted density ``p0(x) p0(y | x)^gamma``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from models.cli import (add_seed_option, OneLineParser, add_corrector_options, add_eta_option, add_memory_option, add_path_options,
                        add_zoo_options, check_memory, corrector_settings, fail, int_range, path_settings,
                        progress as progress_bar, run_memory, zoo_settings)
from models.engine.data import DATA_NAMES, DIMS
from models.engine.names import DEVICE_NAMES, MAX_BATCH, MODEL_NAMES, RUN_SAMPLERS, TILTED, TILTED_HELP
from models.engine.schedule import TRAINING_STEPS
from models.engine.settings import GAMMA, STEPS
from models.guidance import guidance_help, names, resources
from models.analysis.metrics import accuracy, diversity, nearest_train, reference_classifier
from models.analysis.tilted_target import TILTED_DATA, tilted_tv_report
from models.analysis.tradeoff import SYMBOLS, row_scale, swept

if TYPE_CHECKING:
    import torch

    from models.engine.loading import ModelBundle

# torch (the pipeline, the weights) is imported when ``evaluate`` runs: ``--help`` and a mistyped
# option answer at once.
PROG = "python -m models.evaluate"
CLI_GAMMAS = (0.0, 1.0, 3.0)  # --gammas when not given ...
CLI_LAMBDAS = (0.0, 0.5, 1.0)  # ... and for a method that reads its own setting instead of gamma (CFG++'s λ)
NO_TILTED = dict(tilted_tv=math.nan, tilted_tv_se=math.nan, tilted_tv_floor=math.nan)


# ---------------------------------------------------------------------------------------------
# One evaluation: sample once per gamma, measure.

def evaluate(data: str, model: str, sampler: str, steps: int, guidance: str, gammas: Sequence[float],
             samples: int, seed: int, device: str | torch.device = "cpu", bundle: Optional[ModelBundle] = None,
             *, eta: float = 0.0, progress: bool = False, zoo: Optional[dict] = None,
             corrector: Optional[dict] = None, path: str = "vp", shift: float = 1.0) -> list[dict]:
    """Sample ``samples`` points per gamma (labels ``arange(samples) % C``) and measure them.

    For a method that reads its own setting instead of gamma (CFG++'s ``cfgpp_lambda``:
    ``models.analysis.tradeoff.swept``), ``gammas`` are that setting's values, and each row holds its value
    under the setting's name in place of ``gamma`` (its ``tilted_tv`` columns are NaN).

    Returns one dict per gamma with ``gamma``, ``accuracy``, ``diversity``, ``nearest_train``,
    ``finite`` (share of finite samples), ``samples``, ``seconds`` and ``path`` (and ``shift`` on the
    flow path: ``path`` and ``shift`` as in ``SampleSpec``), and on gmm2d ``tilted_tv``,
    ``tilted_tv_se`` and ``tilted_tv_floor`` (module docstring). ``zoo`` and ``corrector`` hold
    ``SampleSpec`` settings by name (``corrector_steps``, ``corrector_snr``). Every gamma uses the same
    seed, so the runs differ only by the guidance scale. Raises ``ValueError`` for bad settings (a
    sampler the path does not offer, a ``bundle`` loaded on another path) and ``models.engine.loading.WeightsError`` for missing or corrupt weights.
    """
    import torch

    from models.engine.loading import load_bundle, resolve_device
    from models.engine.pipeline import SampleSpec, check_bundle, run

    gammas = [float(g) for g in gammas]
    if not gammas:
        raise ValueError("gammas must list at least one guidance scale")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not 2 <= samples <= MAX_BATCH:
        raise ValueError(f"samples must be an integer in 2..{MAX_BATCH}, got {samples!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"steps must be an integer in 1..{TRAINING_STEPS}, got {steps!r}")
    scale = swept(guidance)
    by_gamma = scale.name == "gamma"
    specs = [SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, label=0, steps=int(steps),
                        seed=int(seed), batch=int(samples), eta=float(eta), path=path, shift=float(shift),
                        **{**(zoo or {}), scale.name: g}, **(corrector or {})).validate()
             for g in gammas]
    if bundle is None:
        dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
        bundle = load_bundle(data, model, dev, needs=resources(guidance), path=path, shift=float(shift))
    else:
        check_bundle(specs[0], bundle)  # before the judge is fitted; run() checks each spec again
    dataset = bundle.dataset
    labels = np.arange(samples) % dataset.num_classes
    reference_classifier(data)  # fit the judge before the timed loop

    rows = []
    steps_each = 1 if sampler == TILTED else int(steps)  # exact draws are one step, which no sampler records
    with progress_bar(len(specs) * steps_each, f"{model}/{data} {guidance}") if progress else nullcontext() as bar:
        for spec in specs:
            start = time.perf_counter()
            x = run(spec, bundle, labels=labels).samples  # (N, D)
            seconds = time.perf_counter() - start
            if bar is not None and sampler == TILTED:
                bar.update(1)
            row = {scale.name: getattr(spec, scale.name)}
            row.update(accuracy=accuracy(x, labels, data), diversity=diversity(x, labels),
                       nearest_train=nearest_train(x, dataset.x), finite=float(np.isfinite(x).all(axis=1).mean()),
                       samples=int(samples), seconds=round(seconds, 3), path=path)
            if path == "flow":
                row["shift"] = float(shift)
            if data in TILTED_DATA:
                row.update(tilted_columns(x, labels, spec.gamma) if by_gamma else NO_TILTED)
            rows.append(row)
    return rows


def tilted_columns(samples: np.ndarray, labels: np.ndarray, gamma: float) -> dict:
    """``tilted_tv``, ``tilted_tv_se`` and ``tilted_tv_floor`` of gmm2d samples (N, 2) with their
    labels (N,) at ``gamma`` (``models.analysis.tilted_target.tilted_tv_report``); NaN for gamma < 0 (no target)."""
    if gamma < 0:
        return dict(NO_TILTED)
    r = tilted_tv_report(samples, labels, gamma)
    return dict(tilted_tv=r.tv, tilted_tv_se=r.se, tilted_tv_floor=r.floor)


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
    p.add_argument("--sampler", choices=RUN_SAMPLERS, default="ddpm", help=f"sampler; {TILTED_HELP} (default: ddpm)")
    p.add_argument("--steps", type=int_range(STEPS.lo, TRAINING_STEPS), default=STEPS.default,
                   help=f"sampling steps, {STEPS.lo}..{TRAINING_STEPS} (default: {STEPS.default})")
    p.add_argument("--guidance", choices=names(), default="cfg", help=guidance_help())
    p.add_argument("--gammas", type=_gammas_option, default=None,
                   help=f"comma-separated guidance scales gamma, each in {GAMMA.range_text()} (default: 0,1,3); for --guidance cfgpp, which reads its "
                        "interpolation weight lambda instead of gamma, the values are read as lambda, each in [0, 1] "
                        "(default: 0,0.5,1), and --cfgpp-lambda does not apply")
    p.add_argument("--samples", type=int_range(2, MAX_BATCH), default=500,
                   help=f"samples per gamma, 2..{MAX_BATCH}; on gmm2d tilted_tv's floor (what exact draws of the same size score) falls as 1/sqrt(N), "
                        "so take 4000 to see gaps of 0.02; with --steps it sets the memory a run needs (see "
                        "--max-memory) (default: 500)")
    add_seed_option(p)
    add_eta_option(p)
    add_zoo_options(p)
    add_corrector_options(p)
    add_path_options(p)
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="device (default: auto)")
    p.add_argument("--json", action="store_true", help="print one JSON list instead of a table")
    add_memory_option(p)
    return p


def format_table(rows: list[dict]) -> str:
    """A markdown table of the rows ``evaluate`` returns (with ``tilted_tv ± se (floor)`` on gmm2d),
    headed by the swept setting's name (``gamma``, or ``cfgpp_lambda`` for CFG++)."""
    scale = row_scale(rows).name if rows else "gamma"
    tilted = any("tilted_tv" in r for r in rows)
    head = f"| {scale} | accuracy | diversity | nearest_train | finite |" + (" tilted_tv ± se (floor) |" if tilted else "") + " seconds |"
    lines = [head, "|---:|---:|---:|---:|---:|" + ("---:|" if tilted else "") + "---:|"]
    for r in rows:
        tv = ""
        if tilted:
            tv = (" n/a |" if not math.isfinite(r["tilted_tv"]) else
                  f" {r['tilted_tv']:.3f} ± {r['tilted_tv_se']:.3f} ({r['tilted_tv_floor']:.3f}) |")
        lines.append(f"| {r[scale]:g} | {r['accuracy']:.3f} | {r['diversity']:.3f} | {r['nearest_train']:.3f} "
                     f"| {r['finite']:.3f} |{tv} {r['seconds']:.1f} |")
    return "\n".join(lines)


def _json_safe(rows: list[dict]) -> list[dict]:
    """NaN (no finite samples) becomes null, so the output is strict JSON."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m models.evaluate``; returns the exit status."""
    args = build_parser().parse_args(argv)
    scale = swept(args.guidance)
    if scale.name != "gamma" and getattr(args, scale.name) != scale.default:
        fail(PROG, f"with --guidance {args.guidance}, --gammas lists the {SYMBOLS.get(scale.name, scale.name)} values to "
                   f"sweep; {scale.flag} does not apply")
    if args.gammas is None:
        args.gammas = list(CLI_GAMMAS if scale.name == "gamma" else CLI_LAMBDAS)
    # one gamma is sampled at a time (models.cli.run_memory); refused before anything is loaded
    tilted = args.sampler == TILTED  # exact draws: one step, in float64
    check_memory(PROG, run_memory(1 if tilted else args.steps, args.samples, DIMS[args.data], projection=False,
                                  itemsize=8 if tilted else 4),
                 args.max_memory, f"--samples ({args.samples}) or --steps ({args.steps})")
    from models.engine.loading import WeightsError  # torch: once the arguments and the memory bound are checked

    try:
        rows = evaluate(args.data, args.model, args.sampler, args.steps, args.guidance, args.gammas,
                        args.samples, args.seed, device=args.device, eta=args.eta, progress=True,
                        zoo=zoo_settings(args), corrector=corrector_settings(args), **path_settings(args))
    except (ValueError, WeightsError) as e:
        fail(PROG, e)
    if args.json:
        print(json.dumps(_json_safe(rows), allow_nan=False))
    else:
        steps = "exact draws" if args.sampler == "tilted" else f"{args.steps} steps"
        pc = f", {args.corrector_steps} corrector steps (snr {args.corrector_snr:g})" if args.corrector_steps else ""
        on = f"{args.path} path" + (f" (shift {args.shift:g})" if args.path == "flow" else "")
        print(f"{args.model} / {args.data}, {on}, {args.sampler} {steps}{pc}, {args.guidance} guidance, "
              f"{args.samples} samples, seed {args.seed}\n")
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
