"""Vein-to-vein planning at network scale, and the simulator's speed (issue 14).

1. A network of 20 centres and 3 manufacturing sites with 500 open cases (ready over 180 days,
   manufacturing slots scaled by 1.5):
   CP-SAT within its time limit, its objective, best bound and gap, beside the greedy
   first-come-first-served plan's objective, median and 90th-percentile vein-to-vein time;
   both plans checked by the independent validator.
2. The simulator: network-years and simulated patients per second at the base referral rate
   and at ten times it, in this process (one core), with the same network.

    .venv/bin/python benchmarks/scheduling.py [--cases 500] [--time-limit 60] [--workers 2]
        [--referrals 300] [--replications 4] [--out scheduling.json] [--plot docs/img]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from cartflow.catalog_file import load_catalog
from cartflow.scheduling.network_plan import plan_network
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.simulate import Assumptions, Scenario, run_replications, summarise
from cartflow.scheduling.synthetic import (
    PLANNABLE_US,
    catalog_timings,
    synthetic_cases,
    synthetic_network,
)
from cartflow.scheduling.validate import violations

ORIGIN = date(2026, 12, 7)


def _quantiles(values: list[int]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {"median": float(np.median(arr)), "p90": float(np.percentile(arr, 90))}


def network_plan(args: argparse.Namespace) -> dict[str, Any]:
    found, _ = catalog_timings(load_catalog(), PLANNABLE_US, ORIGIN)
    products = sorted({t.product for t in found.values()})
    network = synthetic_network(20, 3, products, seed=args.seed, scale=args.scale)
    cases = synthetic_cases(network, sorted(found), args.cases, args.spread, seed=args.seed)
    problem = Problem(network, ORIGIN, args.horizon, found)
    started = time.perf_counter()
    result = plan_network(
        problem, list(cases), time_limit_s=args.time_limit, workers=args.workers, seed=args.seed
    )
    wall = time.perf_counter() - started
    ready = {c.id: c.ready_day for c in cases}
    out = {
        "cases": len(cases),
        "refused": len(result.refused),
        "status": result.status,
        "time_limit_s": args.time_limit,
        "workers": args.workers,
        "wall_s_including_greedy_and_model": round(wall, 1),
        "cpsat_objective": result.objective,
        "cpsat_best_bound": result.best_bound,
        "cpsat_gap": result.gap,
        "greedy_objective": result.greedy_objective,
        "cpsat_vein_to_vein": _quantiles([p.vein_to_vein for p in result.plans.values()]),
        "greedy_vein_to_vein": _quantiles([p.vein_to_vein for p in result.greedy_plans.values()]),
        "cpsat_referral_to_infusion": _quantiles(
            [p.infusion - ready[p.case] for p in result.plans.values()]
        ),
        "greedy_referral_to_infusion": _quantiles(
            [p.infusion - ready[p.case] for p in result.greedy_plans.values()]
        ),
        "cpsat_violations": len(violations(problem, cases, result.plans)),
        "greedy_violations": len(violations(problem, cases, result.greedy_plans)),
    }
    if args.plot:
        _plot_plans(result, args.plot)
    return out


def simulator(args: argparse.Namespace) -> dict[str, Any]:
    found, _ = catalog_timings(load_catalog(), PLANNABLE_US, ORIGIN)
    products = sorted({t.product for t in found.values()})
    rows = []
    for factor in (1, 10):
        # Ten times the referrals on ten times the manufacturing: otherwise the planner only
        # measures how it refuses an impossible year.
        network = synthetic_network(
            20 * factor if factor > 1 else 20, 3, products, seed=args.seed, scale=float(factor)
        )
        assumptions = Assumptions(
            referrals_per_year=args.referrals * factor, mix={i: 1.0 for i in found}
        )
        scenario = Scenario(network, found, ORIGIN, assumptions)
        started = time.perf_counter()
        results = run_replications(scenario, args.replications, seed=args.seed)
        wall = time.perf_counter() - started
        summary = summarise(results)
        patients = sum(r.referrals for r in results)
        rows.append(
            {
                "referrals_per_year": args.referrals * factor,
                "centres": len(network.centres),
                "replications": args.replications,
                "wall_s": round(wall, 2),
                "network_years_per_s": round(args.replications / wall, 3),
                "patients_per_s": round(patients / wall, 1),
                "vein_to_vein": summary.vein_to_vein,
                "waiting_past_60_days_mean": summary.waiting_past["mean"],
                "refused_mean": summary.refused_mean,
            }
        )
        if args.plot and factor == 1:
            from cartflow.scheduling.plots import plot_summary

            plot_summary(results, summary, Path(args.plot) / "scheduling-simulation.png")
    return {"runs": rows, "scaling_wall_ratio": round(rows[1]["wall_s"] / rows[0]["wall_s"], 2)}


def _plot_plans(result: Any, folder: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(folder).mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.arange(0, 80, 2)
    ax.hist(
        [p.vein_to_vein for p in result.greedy_plans.values()],
        bins=bins,
        alpha=0.6,
        label="greedy (first come, first served)",
    )
    ax.hist([p.vein_to_vein for p in result.plans.values()], bins=bins, alpha=0.6, label="CP-SAT")
    ax.set_xlabel("vein-to-vein (days, apheresis to infusion)")
    ax.set_ylabel("cases")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(folder) / "scheduling-network-plan.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=300)
    parser.add_argument("--spread", type=int, default=180, help="days over which cases are ready")
    parser.add_argument("--scale", type=float, default=1.5, help="manufacturing slots factor")
    parser.add_argument("--referrals", type=float, default=300.0)
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("plan", "simulate"))
    parser.add_argument("--out")
    parser.add_argument("--plot")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.only != "simulate":
        report["network_plan"] = network_plan(args)
        print(json.dumps(report["network_plan"], indent=2))
    if args.only != "plan":
        report["simulator"] = simulator(args)
        print(json.dumps(report["simulator"], indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
