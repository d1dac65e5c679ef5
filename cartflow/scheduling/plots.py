"""Figures of a simulation: the vein-to-vein distribution and the busiest resources."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cartflow.scheduling.simulate import Replication, Summary


def plot_summary(
    results: Sequence[Replication], summary: Summary, path: Path, top: int = 12
) -> Path:
    """Two panels in one PNG; matplotlib is imported here so planning never needs it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    v2v = [v for r in results for v in r.vein_to_vein]
    r2i = [v for r in results for v in r.referral_to_infusion]
    bins = range(0, max([*r2i, 1]) + 3, 2)
    left.hist(r2i, bins=bins, alpha=0.6, label="referral to infusion")
    left.hist(v2v, bins=bins, alpha=0.6, label="vein to vein")
    left.set_xlabel("days")
    left.set_ylabel(f"patients ({len(results)} replications)")
    left.legend()
    busiest = sorted(summary.utilisation.items(), key=lambda kv: -kv[1])[:top]
    right.barh([k for k, _ in busiest][::-1], [v for _, v in busiest][::-1])
    right.set_xlabel("share of capacity used (mean over replications)")
    right.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
