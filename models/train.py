"""Retrain every shipped network from scratch: ``python -m models.train``.

For each data set (``digits``, ``gmm2d``) five networks (``models.engine.loading.ROLES``) are trained and
written to ``assets/<data>_<role>.pt`` (the state_dict) beside ``assets/<data>_<role>.json`` (the config the
network is built from, plus the facts of its training: seed, steps, final loss, held-out accuracy);
``--roles`` trains some of them only, leaving the others' files as they are:

* ``denoiser``: v-prediction loss ``|v_hat - (a eps - s x0)|^2`` (arXiv 2202.00512) at uniformly
  random t; the label is replaced by the null label ``num_classes`` 15 % of the time, so one network
  gives both the conditional and the unconditional prediction (arXiv 2207.12598). An exponential
  moving average of the weights is what ships.
* ``weak_denoiser``: the same loss, a smaller network and far fewer steps (autoguidance's weak model).
* ``flow_denoiser``: the flow-matching velocity network (``models.flow.nets.VelocityNet``, arXiv 2210.02747,
  2209.03003): loss ``|u_hat - (eps - x0)|^2`` at ``x_t = (1 - sigma) x0 + sigma eps``, ``sigma`` uniform
  in (0, 1]; label dropout and moving average as the denoiser's, and the same sizes. Uniform, not SD3's
  logit-normal (arXiv 2403.03206): that one spends its steps near ``sigma = 1/2``, which pays for a
  perceptual sweet spot of large images, while this lab draws every level (from the noise to the
  data) and compares the network with the VP one at each; on these small sets uniform levels
  cost nothing and leave no end undertrained.
* ``noisy_classifier``: cross-entropy of ``p(y | x_t, t)`` on ``x_t = a x0 + s eps`` at uniformly random t
  (arXiv 2105.05233).
* ``clean_classifier``: cross-entropy of ``p(y | x0)`` on clean data with a little Gaussian jitter.

The digits come from scikit-learn (a fixed 20 % is held out to measure the classifiers); the 2-D
mixture is sampled afresh for every batch. Everything is seeded, so the same command on the same
machine writes the same weights (checked: byte for byte), and a network's weights do not depend on
which others are trained beside it. The full run takes two to three minutes on two CPU cores for the
first four roles; the two flow networks add 132 s of CPU time (measured: about a minute more on two
idle cores; ``--roles flow_denoiser`` trains them alone).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing as mp
import os
import queue as queue_mod
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np


from models.cli import add_seed_option, OneLineParser, fail, float_in, int_range, writable_folder
from models.engine.conversions import x0_eps_to_v, x0_eps_to_xt
from models.engine.data import DATA_NAMES, load_digits_dataset, make_gmm2d
from models.engine.names import ASSETS_ENV, DEVICE_NAMES
from models.engine.schedule import make_schedule

if TYPE_CHECKING:
    import torch
    from torch import nn

# torch is imported by the functions that train: ``--help`` and a mistyped option answer before it loads.

ROLES = ("denoiser", "noisy_classifier", "clean_classifier", "weak_denoiser", "flow_denoiser")
PROG = "python -m models.train"
MAX_STEPS_SCALE = 100.0  # a hundred times the shipped recipes: hours, not years
MAX_WORKERS = 256
DENOISERS = ("denoiser", "weak_denoiser", "flow_denoiser")  # no held-out accuracy
FLOW_ROLES = ("flow_denoiser",)  # trained on the flow path (models.flow.path)


@dataclass(frozen=True)
class Recipe:
    """Architecture and optimisation settings of one network."""

    hidden: int
    depth: int
    steps: int
    batch: int
    lr: float
    emb_dim: int = 64
    weight_decay: float = 0.0
    ema_decay: float = 0.0  # 0: no moving average
    label_dropout: float = 0.0  # denoiser only
    jitter: float = 0.0  # clean classifier only: std of the Gaussian added to x0


RECIPES: dict[tuple[str, str], Recipe] = {
    ("digits", "denoiser"): Recipe(hidden=256, depth=3, steps=2500, batch=256, lr=1e-3, weight_decay=1e-4,
                                   ema_decay=0.999, label_dropout=0.15),
    ("digits", "noisy_classifier"): Recipe(hidden=192, depth=2, steps=2000, batch=256, lr=1e-3, weight_decay=1e-4),
    ("digits", "clean_classifier"): Recipe(hidden=128, depth=2, steps=1200, batch=128, lr=1e-3, weight_decay=1e-3,
                                           jitter=0.4),
    # Autoguidance's weak models (arXiv 2406.02507): the same kind of network, smaller and trained
    # for far fewer steps, so its errors are a blurrier version of the main model's.
    ("digits", "weak_denoiser"): Recipe(hidden=64, depth=1, steps=300, batch=256, lr=1e-3, weight_decay=1e-4,
                                        label_dropout=0.15),
    ("gmm2d", "weak_denoiser"): Recipe(hidden=32, depth=1, steps=300, batch=512, lr=2e-3, label_dropout=0.15),
    ("gmm2d", "denoiser"): Recipe(hidden=128, depth=3, steps=2000, batch=512, lr=2e-3, ema_decay=0.999,
                                  label_dropout=0.15),
    ("gmm2d", "noisy_classifier"): Recipe(hidden=128, depth=2, steps=1500, batch=512, lr=2e-3),
    # The flow path's velocity networks: the sizes and optimisation of the VP denoiser of the same data.
    ("digits", "flow_denoiser"): Recipe(hidden=256, depth=3, steps=2500, batch=256, lr=1e-3, weight_decay=1e-4,
                                        ema_decay=0.999, label_dropout=0.15),
    ("gmm2d", "flow_denoiser"): Recipe(hidden=128, depth=3, steps=2000, batch=512, lr=2e-3, ema_decay=0.999,
                                       label_dropout=0.15),
    ("gmm2d", "clean_classifier"): Recipe(hidden=64, depth=2, steps=600, batch=512, lr=2e-3, weight_decay=1e-2,
                                          jitter=0.08),
}
HELDOUT_FRACTION = 0.2
HELDOUT_GMM = 4000  # fresh 2-D points to measure the classifiers


# ---------------------------------------------------------------------------------------------
# Data: a batch of clean points and labels, drawn from a seeded generator.

class DataSource:
    """Training batches ``(x0, y)`` and a fixed held-out set for one data set."""

    def __init__(self, data: str, seed: int, device: torch.device) -> None:
        import torch

        self.data, self.device = data, device
        if data == "digits":
            d = load_digits_dataset()
            self.dim, self.num_classes = d.dim, d.num_classes
            x = torch.as_tensor(d.x, dtype=torch.float32)
            y = torch.as_tensor(d.labels, dtype=torch.long)
            perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
            n_held = int(round(HELDOUT_FRACTION * len(x)))
            self.all_x, self.all_y = x.to(device), y.to(device)  # the denoiser learns from all of it
            self.train_x, self.train_y = x[perm[n_held:]].to(device), y[perm[n_held:]].to(device)
            self.held_x, self.held_y = x[perm[:n_held]].to(device), y[perm[:n_held]].to(device)
        elif data == "gmm2d":
            self.gmm = make_gmm2d()
            self.dim, self.num_classes = 2, self.gmm.num_classes
            hx, hy = self.gmm.sample(HELDOUT_GMM, np.random.default_rng(seed + 1))
            self.held_x = torch.as_tensor(hx, dtype=torch.float32, device=device)
            self.held_y = torch.as_tensor(hy, dtype=torch.long, device=device)
        else:
            raise ValueError(f"unknown data set {data!r}; valid: {', '.join(DATA_NAMES)}")

    def batch(self, n: int, generator: torch.Generator, rng: np.random.Generator,
              split: str = "all") -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` clean points (n, D) and labels (n,); digits from ``split`` ("all" or "train")."""
        import torch

        if self.data == "gmm2d":
            x, y = self.gmm.sample(n, rng)  # fresh points every batch
            return (torch.as_tensor(x, dtype=torch.float32, device=self.device),
                    torch.as_tensor(y, dtype=torch.long, device=self.device))
        xs, ys = (self.all_x, self.all_y) if split == "all" else (self.train_x, self.train_y)
        idx = torch.randint(len(xs), (n,), generator=generator).to(self.device)
        return xs[idx], ys[idx]


def noised(x0: torch.Tensor, abar: torch.Tensor, generator: torch.Generator,
           t: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, ...]:
    """Timesteps t (B,) (uniformly random unless given), ``x_t = a x0 + s eps``, ``a`` and ``s`` (B, 1)
    and ``eps`` (B, D)."""
    import torch

    if t is None:
        t = torch.randint(len(abar), (x0.shape[0],), generator=generator).to(x0.device)
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)
    a, s = abar[t].sqrt()[:, None], (1 - abar[t]).sqrt()[:, None]
    return t, x0_eps_to_xt(x0, eps, a, s), a, s, eps


def flow_noised(x0: torch.Tensor, generator: torch.Generator, T: int) -> tuple[torch.Tensor, ...]:
    """Levels ``t = sigma T`` (B,) float with ``sigma`` uniform in (0, 1], ``x_t = (1 - sigma) x0 + sigma eps``
    and ``eps`` (B, D): the flow path's training points."""
    import torch

    sigma = 1.0 - torch.rand((x0.shape[0],), generator=generator).to(x0.device)  # (0, 1]
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)
    return sigma * T, (1 - sigma)[:, None] * x0 + sigma[:, None] * eps, eps


# ---------------------------------------------------------------------------------------------
# The training loop shared by the three roles.

def lr_at(step: int, steps: int, base: float, warmup: int = 100) -> float:
    """Linear warm-up, then cosine decay to 5 % of ``base``."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def fit(net: nn.Module, loss_fn: Callable[[int], torch.Tensor], recipe: Recipe, steps: int,
        tick: Callable[[float], None]) -> tuple[nn.Module, float]:
    """AdamW over ``steps`` steps of ``loss_fn(step)``; returns the network to ship (its moving
    average when ``recipe.ema_decay`` > 0) and the mean loss over the last 5 % of steps."""
    import torch

    opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay, foreach=True)
    ema = copy.deepcopy(net).requires_grad_(False) if recipe.ema_decay > 0 else None
    params = list(net.parameters())
    ema_params = list(ema.parameters()) if ema is not None else []
    tail, losses = max(1, steps // 20), []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, recipe.lr)
        loss = loss_fn(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            decay = min(recipe.ema_decay, (1 + step) / (10 + step))  # short memory while weights move fast
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, params, 1 - decay)
        if step >= steps - tail:
            losses.append(loss.item())
        tick(loss.item() if step % 50 == 0 or step == steps - 1 else float("nan"))
    return (ema if ema is not None else net).eval(), float(np.mean(losses))


def base_config(source: DataSource, role: str, recipe: Recipe) -> dict:
    """The config dict ``models.engine.nets`` builds ``role`` from."""
    config = dict(dim=source.dim, num_classes=source.num_classes, hidden=recipe.hidden, depth=recipe.depth)
    if role in FLOW_ROLES:
        config.update(path="flow", emb_dim=recipe.emb_dim)
    elif role != "clean_classifier":
        config.update(schedule="linear", emb_dim=recipe.emb_dim)
    return config


def train_one(data: str, role: str, source: DataSource, seed: int, steps_scale: float,
              tick: Callable[[float], None]) -> tuple[nn.Module, dict]:
    """Train network ``role`` for ``data``; returns it (eval mode, on its device) and its config."""
    import torch
    from torch import nn

    from models.engine.loading import ROLES as NETWORKS

    recipe = RECIPES[(data, role)]
    steps = job_steps((data, role), steps_scale)
    torch.manual_seed(seed)  # weight initialisation
    generator = torch.Generator().manual_seed(seed)  # batches, timesteps, noise, label dropout
    rng = np.random.default_rng(seed)  # fresh 2-D mixture points
    config = base_config(source, role, recipe)
    net = NETWORKS[role](config).to(source.device).train()
    abar = torch.tensor(np.array(make_schedule(config.get("schedule", "linear")).alphas_cumprod),
                        dtype=torch.float32, device=source.device)  # (T,)
    C = source.num_classes

    if role in FLOW_ROLES:
        def loss_fn(step: int) -> torch.Tensor:
            x0, y = source.batch(recipe.batch, generator, rng)
            t, x_t, eps = flow_noised(x0, generator, net.schedule.T)
            drop = (torch.rand(len(y), generator=generator) < recipe.label_dropout).to(y.device)
            y = torch.where(drop, torch.full_like(y, C), y)  # the null label
            return ((net.u(x_t, t, y) - (eps - x0)) ** 2).mean()
    elif role in DENOISERS:
        def loss_fn(step: int) -> torch.Tensor:
            x0, y = source.batch(recipe.batch, generator, rng)
            t, x_t, a, s, eps = noised(x0, abar, generator)
            drop = (torch.rand(len(y), generator=generator) < recipe.label_dropout).to(y.device)
            y = torch.where(drop, torch.full_like(y, C), y)  # the null label
            return ((net.v(x_t, t, y) - x0_eps_to_v(x0, eps, a, s)) ** 2).mean()
    elif role == "noisy_classifier":
        def loss_fn(step: int) -> torch.Tensor:
            x0, y = source.batch(recipe.batch, generator, rng, split="train")
            t, x_t, *_ = noised(x0, abar, generator)
            return nn.functional.nll_loss(net(x_t, t), y)
    else:
        def loss_fn(step: int) -> torch.Tensor:
            x0, y = source.batch(recipe.batch, generator, rng, split="train")
            x0 = x0 + recipe.jitter * torch.randn(x0.shape, generator=generator).to(x0.device)
            return nn.functional.nll_loss(net(x0), y)

    shipped, final_loss = fit(net, loss_fn, recipe, steps, tick)
    config.update(seed=seed, steps=steps, batch=recipe.batch, lr=recipe.lr, weight_decay=recipe.weight_decay,
                  final_loss=round(final_loss, 6))
    if role in FLOW_ROLES:
        config.update(loss="flow-matching velocity mse, sigma uniform in (0, 1]", ema_decay=recipe.ema_decay,
                      label_dropout=recipe.label_dropout)
    elif role in DENOISERS:
        config.update(loss="v-prediction mse", ema_decay=recipe.ema_decay, label_dropout=recipe.label_dropout)
    else:
        config.update(heldout_accuracy=round(heldout_accuracy(shipped, role, source, abar, seed), 4))
        if role == "noisy_classifier":
            config.update(heldout_accuracy_t0=round(heldout_accuracy(shipped, role, source, abar, seed, t=0), 4))
        else:
            config.update(jitter=recipe.jitter)
    return shipped, config


def heldout_accuracy(net: nn.Module, role: str, source: DataSource, abar: torch.Tensor, seed: int,
                     t: Optional[int] = None) -> float:
    """Accuracy on the held-out points: clean for the clean classifier; for the noisy one at
    uniformly random t (one fixed draw), or at timestep ``t`` when given."""
    import torch

    x0, y = source.held_x, source.held_y
    with torch.no_grad():
        if role == "clean_classifier":
            logp = net(x0)
        else:
            fixed = None if t is None else torch.full((len(x0),), t, dtype=torch.long, device=x0.device)
            ts, x_t, *_ = noised(x0, abar, torch.Generator().manual_seed(seed + 2), fixed)
            logp = net(x_t, ts)
        return float((logp.argmax(1) == y).float().mean())


def save(net: nn.Module, config: dict, data: str, role: str, out: Path) -> tuple[Path, Path]:
    """Write ``<data>_<role>.pt`` (float32 CPU state_dict) and ``.json``, each via a temporary file."""
    import torch

    from models.engine.loading import asset_paths

    pt, cfg = asset_paths(data, role, out)
    state = {k: v.detach().to("cpu", torch.float32).contiguous().clone() for k, v in net.state_dict().items()}
    torch.save(state, pt.with_suffix(".pt.tmp"))
    pt.with_suffix(".pt.tmp").replace(pt)
    cfg.with_suffix(".json.tmp").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    cfg.with_suffix(".json.tmp").replace(cfg)
    return pt, cfg


# ---------------------------------------------------------------------------------------------
# Command line.

def build_parser() -> OneLineParser:
    """The ``python -m models.train`` argument parser (errors: one line, exit status 2)."""
    p = OneLineParser(prog=PROG,
                      description="Retrain every network (denoiser, noisy and clean classifier, weak denoiser, flow "
                                  "denoiser, for each data set) from scratch and write state_dict + config files.")
    p.add_argument("--out", type=writable_folder, default=None,
                   help=f"output folder, made if missing (default: ${ASSETS_ENV} if set, else assets/)")
    p.add_argument("--only", choices=DATA_NAMES, help="train the networks of this data set only")
    p.add_argument("--roles", nargs="+", choices=ROLES, default=list(ROLES), metavar="ROLE",
                   help=f"train these networks only, leaving the other files as they are: one or more of "
                        f"{', '.join(ROLES)} (default: all)")
    p.add_argument("--device", choices=DEVICE_NAMES, default="auto", help="device (default: auto)")
    p.add_argument("--steps-scale", type=float_in(0.0, MAX_STEPS_SCALE, low_open=True), default=1.0,
                   help=f"multiply every step count, in (0, {MAX_STEPS_SCALE:g}] (e.g. 0.01 for a quick smoke test; default: 1)")
    add_seed_option(p)
    p.add_argument("--workers", type=int_range(0, MAX_WORKERS), default=0,
                   help=f"parallel training processes on the CPU, 0..{MAX_WORKERS} (default: 0 = one per core)")
    return p


def cpu_threads() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def job_steps(job: tuple[str, str], steps_scale: float) -> int:
    """Optimiser steps of one network at ``steps_scale``."""
    return max(2, int(round(RECIPES[job].steps * steps_scale)))


def job_cost(job: tuple[str, str]) -> float:
    """Rough multiply-adds of a whole training run, to start the longest jobs first."""
    r = RECIPES[job]
    return r.steps * r.batch * (4 * r.depth * r.hidden**2 + 2 * r.emb_dim * r.hidden)


def train_and_save(data: str, role: str, out: str, seed: int, steps_scale: float, device: str,
                   tick: Callable[[float], None]) -> tuple[str, dict, float]:
    """Train one network and write its files; returns ``(weights path, config, seconds)``."""
    import torch

    start = time.perf_counter()
    source = DataSource(data, seed, torch.device(device))
    net, config = train_one(data, role, source, seed, steps_scale, tick)
    pt, _ = save(net, config, data, role, Path(out))
    return str(pt), config, time.perf_counter() - start


_QUEUE = None  # worker processes report progress here


def _init_worker(queue, threads: int) -> None:
    global _QUEUE
    import torch

    _QUEUE = queue
    torch.set_num_threads(threads)


def _worker_job(data: str, role: str, out: str, seed: int, steps_scale: float) -> tuple[str, dict, float]:
    """``train_and_save`` in a worker process, reporting every 20 steps to the parent's bar."""
    pending = [0]

    def tick(loss: float) -> None:
        pending[0] += 1
        if pending[0] >= 20 or math.isfinite(loss):
            _QUEUE.put((f"{data} {role}", pending[0], loss))
            pending[0] = 0

    result = train_and_save(data, role, out, seed, steps_scale, "cpu", tick)
    if pending[0]:
        _QUEUE.put((f"{data} {role}", pending[0], float("nan")))
    return result


def train_all(out: Path, datasets: Sequence[str], device: torch.device, steps_scale: float = 1.0,
              seed: int = 0, progress: bool = True, workers: int = 0,
              roles: Sequence[str] = ROLES) -> list[tuple[Path, dict, float]]:
    """Train and save the networks ``roles`` (default: every one) of ``datasets``; returns
    ``(weights path, config, seconds)`` each, in ``ROLES`` order within each data set.

    On the CPU the networks train in parallel worker processes (``workers``; 0 = one per core, at
    most one per network), each with its share of the cores' threads: on a small machine, one
    thread per process is much faster than several threads that fight over the cores. Every network
    is seeded on its own, so the schedule of the workers does not change the weights.
    """
    import torch
    from tqdm import tqdm

    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown}; valid: {', '.join(ROLES)}" if unknown else "no roles to train")
    roles = [r for r in ROLES if r in roles]
    out.mkdir(parents=True, exist_ok=True)
    jobs = sorted(((d, r) for d in datasets for r in roles), key=job_cost, reverse=True)
    cores = cpu_threads()
    workers = min(workers or cores, len(jobs))
    results: dict[tuple[str, str], tuple[str, dict, float]] = {}
    with tqdm(total=sum(job_steps(j, steps_scale) for j in jobs), unit="step", file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        def report(name: str, steps: int, loss: float) -> None:
            bar.set_description(name, refresh=False)
            if math.isfinite(loss):
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(steps)

        if device.type != "cpu" or workers <= 1:
            if device.type == "cpu":
                torch.set_num_threads(cores)
            for data, role in jobs:
                tick = lambda loss, name=f"{data} {role}": report(name, 1, loss)  # noqa: E731
                results[(data, role)] = train_and_save(data, role, str(out), seed, steps_scale, str(device), tick)
        else:
            results = _train_in_workers(jobs, out, seed, steps_scale, workers, max(1, cores // workers), report)
    order = [(d, r) for d in datasets for r in roles]
    return [(Path(results[j][0]), results[j][1], results[j][2]) for j in order]


def _train_in_workers(jobs, out: Path, seed: int, steps_scale: float, workers: int, threads: int,
                      report: Callable[[str, int, float], None]) -> dict:
    """Run ``_worker_job`` for every job in a pool of spawned processes, relaying their progress."""
    ctx = mp.get_context("spawn")  # a clean interpreter: no inherited torch thread pools
    progress_queue = ctx.Queue()
    results = {}
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(progress_queue, threads)) as pool:
        futures = {pool.submit(_worker_job, d, r, str(out), seed, steps_scale): (d, r) for d, r in jobs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    results[futures[f]] = f.result()  # re-raises a worker's exception here
                _drain(progress_queue, report)
        except BaseException:
            for f in pending:
                f.cancel()
            raise
    _drain(progress_queue, report)  # the workers have exited: their last reports are in
    return results


def _drain(progress_queue, report: Callable[[str, int, float], None]) -> None:
    """Pass every progress report waiting in the queue to ``report``."""
    while True:
        try:
            report(*progress_queue.get_nowait())
        except queue_mod.Empty:
            return


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m models.train``; returns the exit status."""
    args = build_parser().parse_args(argv)
    from models.engine.loading import assets_dir, resolve_device  # torch: once the arguments are read

    try:
        device = resolve_device(args.device)
        out = args.out if args.out is not None else writable_folder(str(assets_dir()))
    except (ValueError, argparse.ArgumentTypeError) as e:
        fail(PROG, e)
    start = time.perf_counter()
    try:
        written = train_all(out, [args.only] if args.only else list(DATA_NAMES), device,
                            args.steps_scale, args.seed, workers=args.workers, roles=args.roles)
    except OSError as e:
        fail(PROG, f"cannot write to {out}: {e}")
    for pt, config, seconds in written:
        facts = f"final loss {config['final_loss']:.4f}"
        if "heldout_accuracy" in config:
            facts += f", held-out accuracy {config['heldout_accuracy']:.3f}"
        print(f"{pt}  ({pt.stat().st_size / 1e6:.2f} MB, {config['steps']} steps in {seconds:.0f} s, {facts})")
    print(f"trained {len(written)} networks on {device} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
