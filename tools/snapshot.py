"""``python -m tools.snapshot --out FILE`` / ``--check FILE``: hash what the command lines write.

A behaviour-keeping change (a move, a rename, a split) must leave every GIF and ``.npz`` the command
lines write byte for byte as it was. This tool writes, through the command lines' own entry points
(``viz.lecture_gifs.main`` and ``viz.export.main``, whose flags are the stable interface), every
lecture GIF of every guidance method on both data sets, one ``.npz`` per method and data set, every
projection of the run views, other samplers, the exact model, the corrector and the guidance field,
and records the SHA-256 of each file. ``--check`` compares a fresh set with a recorded one and exits
1 naming every file that differs or is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

SMALL = ["--steps", "8", "--batch", "4", "--frames", "9", "--seed", "3"]


def _exports(out: Path) -> list[list[str]]:
    """The ``viz.export`` calls: each method's run as ``.npz``, every projection, other samplers."""
    from models.guidance import GUIDANCE_NAMES

    calls = []
    for data in ("digits", "gmm2d"):
        for method in GUIDANCE_NAMES:
            if method == "fdg" and data == "gmm2d":
                continue
            sampler = "ddim" if method == "cfgpp" else "ddpm"
            label = "-1" if method == "none" else "1"
            stem = out / f"export-{data}-{method}"
            calls.append(["--data", data, "--guidance", method, "--label", label, "--sampler", sampler,
                          "--figure", "paths", "--out", f"{stem}.gif", "--npz", f"{stem}.npz", *SMALL])
        for projection in ("pca", "pca_data", "random", "plane"):
            for figure in ("paths", "trajectory", "step", "cfg"):
                stem = out / f"proj-{data}-{projection}-{figure}"
                calls.append(["--data", data, "--guidance", "cfg", "--gamma", "5", "--label", "2",
                              "--projection", projection, "--figure", figure, "--out", f"{stem}.gif", *SMALL])
        for sampler in ("ddim", "euler", "heun", "dpmpp2m"):
            stem = out / f"sampler-{data}-{sampler}"
            calls.append(["--data", data, "--model", "exact", "--sampler", sampler, "--guidance", "classifier",
                          "--label", "0", "--figure", "classifier", "--projection", "plane",
                          "--out", f"{stem}.gif", "--npz", f"{stem}.npz", *SMALL])
        for sampler, figure, guidance in (("euler", "flow", "cfg"), ("ddpm", "step", "none"), ("heun", "paths", "cfg")):
            stem = out / f"flow-{data}-{sampler}-{figure}"  # the flow path (issue 19), at SD3's shift 3
            calls.append(["--data", data, "--model", "exact", "--path", "flow", "--shift", "3", "--sampler", sampler,
                          "--guidance", guidance, "--label", "-1" if guidance == "none" else "1", "--figure", figure,
                          "--projection", "plane", "--out", f"{stem}.gif", "--npz", f"{stem}.npz", *SMALL])
        stem = out / f"corrector-{data}"
        calls.append(["--data", data, "--model", "exact", "--guidance", "cfg", "--corrector-steps", "2",
                      "--figure", "step", "--out", f"{stem}.gif", "--npz", f"{stem}.npz", *SMALL])
    stem = out / "tilted-gmm2d"
    calls.append(["--data", "gmm2d", "--model", "exact", "--sampler", "tilted", "--guidance", "cfg", "--label", "1",
                  "--figure", "paths", "--out", f"{stem}.gif", "--npz", f"{stem}.npz", *SMALL])
    for model in ("exact", "neural"):
        calls.append(["--data", "gmm2d", "--model", model, "--guidance", "apg", "--gamma", "4", "--label", "1",
                      "--figure", "field", "--frames", "4", "--out", str(out / f"field-{model}.gif")])
    return calls


def make(out: Path) -> dict[str, str]:
    """Write every file into ``out`` and return name -> SHA-256."""
    from viz import export, lecture_gifs

    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet):
        for data in ("digits", "gmm2d"):
            lecture_gifs.main(["--out", str(out / "lecture"), "--data", data, *SMALL])
        for i, call in enumerate(_exports(out)):
            status = export.main(call)
            if status:
                raise SystemExit(f"export failed: {call}")
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.snapshot", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", type=Path, help="write the hashes here (JSON)")
    g.add_argument("--check", type=Path, help="compare with the hashes recorded here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        hashes = make(Path(tmp))
    if args.out:
        args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
        print(f"{len(hashes)} files hashed into {args.out}")
        return 0
    recorded = json.loads(args.check.read_text())
    bad = sorted(k for k in set(recorded) | set(hashes) if recorded.get(k) != hashes.get(k))
    kinds = {Path(k).suffix for k in recorded}
    print(f"{len(recorded) - len(bad)} of {len(recorded)} files match ({', '.join(sorted(kinds))})")
    for name in bad:
        print(f"  differs: {name}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
