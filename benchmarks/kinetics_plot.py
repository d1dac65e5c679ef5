"""Draw the kinetics benchmark figures for docs/kinetics.md from the benchmarks' JSON output.

    .venv/bin/python benchmarks/kinetics_population.py --out cpu.json
    PYTHONPATH=. python3 benchmarks/kinetics_gpu.py           # on a GPU machine: kinetics_gpu.json
    .venv/bin/python benchmarks/kinetics_plot.py --cpu cpu.json --gpu kinetics_gpu.json \\
        --out-dir docs/figures
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _bars(ax, labels, seconds, title):  # type: ignore[no-untyped-def]
    bars = ax.barh(labels, seconds, color=["C0", "C1", "C2", "C3"][: len(labels)])
    ax.set_xscale("log")
    ax.set_xlabel("seconds (log scale)")
    ax.set_title(title)
    for bar, s in zip(bars, seconds, strict=True):
        ax.text(bar.get_width() * 1.1, bar.get_y() + bar.get_height() / 2, f"{s:.3g} s",
                va="center")
    ax.set_xlim(right=max(seconds) * 8)


def _short(name: str) -> str:
    """'ours: vectorised Rosenbrock (numpy)' -> 'vectorised Rosenbrock'."""
    return name.split(": ", 1)[-1].split(" (", 1)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", required=True)
    ap.add_argument("--gpu")
    ap.add_argument("--out-dir", default="docs/figures")
    ap.add_argument("--gpu-name", default="one GPU", help="e.g. \"one NVIDIA H200\"")
    args = ap.parse_args()
    out = Path(args.out_dir)
    cpu = json.loads(Path(args.cpu).read_text())
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=120)
    n = cpu["n"]
    timed = [s for s in cpu["solvers"] if "time_s" in s]
    _bars(ax, [f"{_short(s['name'])}\nrtol {s['chosen']['rtol']:g}"
               for s in timed], [s["time_s"] for s in timed],
          f"CARTmath HDLM-2, {n:,} patients, CPU: ours "
          f"{cpu.get('speedup_vs_strongest_baseline', float('nan')):.1f}x the fastest baseline")
    fig.tight_layout()
    fig.savefig(out / "kinetics-benchmark-cpu.png")
    if args.gpu:
        gpu = json.loads(Path(args.gpu).read_text())
        fig, ax = plt.subplots(figsize=(7, 2.8), dpi=120)
        timed = [s for s in gpu["solvers"] if "time_s" in s]
        _bars(ax, [f"{_short(s['name'])}\nrtol {s['chosen']['rtol']:g}"
                   for s in timed], [s["time_s"] for s in timed],
              f"{gpu['n']:,} patients on {args.gpu_name}: ours "
              f"{gpu.get('speedup_vs_strongest_baseline', float('nan')):.1f}x diffrax")
        fig.tight_layout()
        fig.savefig(out / "kinetics-benchmark-gpu.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
