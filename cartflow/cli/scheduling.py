"""``cartflow plan`` and ``cartflow simulate capacity``: the planner and its what-if."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cartflow.catalog_file import load_catalog
from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit, parse_on
from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.network import Network
from cartflow.scheduling.network_plan import OBJECTIVES, plan_network
from cartflow.scheduling.plan import Case, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.replan import SLIP_KINDS, Slip, replan
from cartflow.scheduling.simulate import Assumptions, Scenario, run_replications, summarise
from cartflow.scheduling.synthetic import (
    PLANNABLE_US,
    catalog_timings,
    synthetic_cases,
    synthetic_network,
)
from cartflow.scheduling.timings import NoPlan
from cartflow.scheduling.validate import violations


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"the {what} file {path} is not JSON: {exc}") from None


def _network(args: argparse.Namespace, products: Iterable[str]) -> Network:
    if args.network:
        from cartflow.scheduling.loading import network_from_dict

        return network_from_dict(_read_json(args.network, "network"))
    if args.centres < 1 or args.sites < 1:
        raise CliError("--centres and --sites must be at least 1")
    return synthetic_network(args.centres, args.sites, sorted(set(products)), seed=args.seed)


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise CliError(f"{name} must be positive; got {value:g}")


@domain_errors_as_cli
def run_plan(args: argparse.Namespace) -> int:
    origin = parse_on(args.on)
    _positive("--time-limit", args.time_limit)
    _positive("--horizon", args.horizon)
    catalog = load_catalog()
    if args.cases:
        from cartflow.scheduling.loading import cases_from_list

        raw = _read_json(args.cases, "cases")
        if not isinstance(raw, list):
            raise CliError("the cases file must hold a JSON list of cases")
        cases = cases_from_list(raw, origin)
        indications = sorted({c.indication for c in cases})
    else:
        indications = list(PLANNABLE_US)
        cases = ()
    for ind in indications:
        catalog.indication(ind)  # an unknown indication is refused with the known ones
    found, missing = catalog_timings(catalog, indications, origin, args.region)
    network = _network(args, (t.product for t in found.values()))
    if not args.cases:
        _positive("--synthetic", args.synthetic)
        cases = synthetic_cases(network, sorted(found), args.synthetic, 30, seed=args.seed)
    problem = Problem(network, origin, args.horizon, found)
    plannable = [c for c in cases if c.indication in found]
    no_facts = [
        NoPlan(c.id, missing[c.indication].reason, missing[c.indication].missing)
        for c in cases
        if c.indication in missing
    ]
    result = plan_network(
        problem,
        plannable,
        objective=args.objective,
        time_limit_s=args.time_limit,
        workers=args.workers,
        seed=args.seed,
    )
    payload: dict[str, Any] = {
        "on": origin.isoformat(),
        "region": args.region,
        "objective": args.objective,
        "status": result.status,
        "cpsat": {
            "objective": result.objective,
            "best_bound": result.best_bound,
            "gap": result.gap,
        },
        "greedy": {"objective": result.greedy_objective},
        "violations": violations(problem, plannable, result.plans),
        "plans": [p.to_dict(origin) for p in result.plans.values()],
        "no_plan": [n.to_dict() for n in (*no_facts, *result.refused.values())],
    }
    if args.slip:
        payload["replan"] = _replan(args.slip, problem, plannable, result.plans, origin)
    emit(args, payload, _plan_text)
    return 0


def _replan(
    text: str, problem: Problem, cases: list[Case], plans: dict[str, Any], origin: Any
) -> dict[str, Any]:
    parts = text.split(",")
    if len(parts) not in (3, 4) or parts[1] not in SLIP_KINDS:
        raise CliError(
            f"--slip is CASE,KIND,DAY[,DELAY_DAYS] with KIND one of {', '.join(SLIP_KINDS)}; "
            f"got {text!r}"
        )
    case = next((c for c in cases if c.id == parts[0]), None)
    if case is None or case.id not in plans:
        raise CliError(f"--slip names case {parts[0]!r}, which has no plan")
    try:
        day, delay = int(parts[2]), int(parts[3]) if len(parts) == 4 else 0
    except ValueError:
        raise CliError(f"--slip DAY and DELAY_DAYS are whole numbers; got {text!r}") from None
    slip = Slip(parts[1], day, delay)  # type: ignore[arg-type]
    new, moves = replan(problem, case, plans[case.id], slip, Usage(plans.values()))
    if isinstance(new, NoPlan):
        return {"case": case.id, "no_plan": new.to_dict()}
    return {"case": case.id, "plan": new.to_dict(origin), "moved": [m.to_dict() for m in moves]}


def _plan_text(p: dict[str, Any]) -> str:
    lines = [
        f"plan on {p['on']} ({p['region']}), objective {p['objective']} days to infusion: "
        f"CP-SAT {p['cpsat']['objective']} (bound {p['cpsat']['best_bound']:g}, "
        f"{p['status']}), greedy first-come-first-served {p['greedy']['objective']}",
    ]
    for plan in p["plans"][:40]:
        legs = plan["legs"]
        lines.append(
            f"  {plan['case']} at {plan['centre']} via {plan['site']}: apheresis "
            f"{legs['apheresis']}, run {legs['manufacturing_start']}..{legs['release']}, "
            f"ships {legs['shipment']}, chemotherapy {legs['ld_start']}..{legs['ld_end']}, "
            f"infusion {legs['infusion']} ({plan['vein_to_vein_days']} days vein to vein)"
        )
    if len(p["plans"]) > 40:
        lines.append(f"  ... {len(p['plans']) - 40} more (--json for all)")
    for refusal in p["no_plan"]:
        lines.append(f"  no plan for {refusal['case']}: {refusal['reason']}")
    lines.extend(f"  VIOLATION {v}" for v in p["violations"])
    if "replan" in p:
        r = p["replan"]
        for move in r.get("moved", []):
            lines.append(
                f"  moved {r['case']} {move['leg']}: {move['old']} -> {move['new']} ({move['why']})"
            )
    return "\n".join(lines)


@domain_errors_as_cli
def run_capacity(args: argparse.Namespace) -> int:
    origin = parse_on(args.on)
    if args.replications < 1:
        raise CliError(f"--replications must be at least 1; got {args.replications}")
    catalog = load_catalog()
    indications = args.mix.split(",") if args.mix else list(PLANNABLE_US)
    for ind in indications:
        catalog.indication(ind)
    found, missing = catalog_timings(catalog, indications, origin, args.region)
    if missing:
        reasons = "; ".join(m.reason for m in missing.values())
        raise CliError(f"no plan can be made for part of the mix: {reasons}")
    network = _network(args, (t.product for t in found.values()))
    try:
        assumptions = Assumptions(
            referrals_per_year=args.referrals,
            mix={i: 1.0 for i in found},
            failure_rate=args.failure_rate,
            courier_late_rate=args.late_rate,
            courier_delay_mean_days=args.delay_mean,
            rapid_share=args.rapid_share,
            days=args.days,
            wait_threshold_days=args.wait_days,
        )
    except InvalidInput as exc:
        raise CliError(str(exc)) from None
    scenario = Scenario(network, found, origin, assumptions)

    def progress(items: Iterable[Any], total: int) -> Iterable[Any]:
        if args.json:
            return items
        from tqdm import tqdm

        return tqdm(items, total=total, unit="year", file=sys.stderr, desc="replications")

    results = run_replications(
        scenario,
        args.replications,
        args.seed,
        workers=args.workers or (os.cpu_count() or 1),
        scheduler=args.scheduler,
        progress=progress,
    )
    summary = summarise(results)
    payload = {
        "on": origin.isoformat(),
        "seed": args.seed,
        "wait_threshold_days": args.wait_days,
        **summary.to_dict(),
    }
    if args.plot:
        from cartflow.scheduling.plots import plot_summary

        payload["plot"] = str(plot_summary(results, summary, Path(args.plot)))
    emit(args, payload, _capacity_text)
    return 0


def _capacity_text(p: dict[str, Any]) -> str:
    v, w = p["vein_to_vein_days"], p["waiting_past"]
    busiest = sorted(p["utilisation"].items(), key=lambda kv: -kv[1])[:8]
    lines = [
        f"{p['replications']} replications of a year, seed {p['seed']}: "
        f"{p['referrals_mean']:.0f} referrals a year",
        f"vein to vein: median {v['median']:g} days, 90th percentile {v['p90']:g}",
        f"waiting past {p['wait_threshold_days']} days from referral to infusion: "
        f"{w['mean']:.1f} patients a year (5th-95th percentile {w['p5']:g}-{w['p95']:g})",
        f"no plan: {p['refused_mean']:.1f} a year",
        "busiest resources: " + ", ".join(f"{k} {u:.0%}" for k, u in busiest),
    ]
    if "plot" in p:
        lines.append(f"plot: {p['plot']}")
    return "\n".join(lines)


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--network", metavar="FILE", help="a network JSON file (default: a synthetic network)"
    )
    parser.add_argument("--centres", type=int, default=20, help="synthetic network: centres")
    parser.add_argument("--sites", type=int, default=3, help="synthetic network: sites")
    parser.add_argument("--on", metavar="YYYY-MM-DD", help="day 0 of the plan (default: today)")
    parser.add_argument("--region", default="US", choices=("US", "EU", "CN"))
    parser.add_argument("--seed", type=int, default=0)
    add_json_flag(parser)


def register(subparsers: Any) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="plan every open case: CP-SAT beside greedy first-come-first-served",
        description="The earliest safe plan for every open case (apheresis, manufacturing, "
        "release, shipment, lymphodepletion, infusion, monitoring bed), by CP-SAT within a "
        "time limit, beside the greedy plan; --slip re-plans one case after a slip.",
    )
    _network_options(plan)
    plan.add_argument("--cases", metavar="FILE", help="a JSON list of open cases")
    plan.add_argument(
        "--synthetic", type=int, default=40, help="without --cases: this many synthetic cases"
    )
    plan.add_argument("--objective", choices=OBJECTIVES, default="total")
    plan.add_argument("--time-limit", type=float, default=10.0, help="seconds for CP-SAT")
    plan.add_argument("--workers", type=int, default=1, help="CP-SAT search workers")
    plan.add_argument("--horizon", type=int, default=300, help="days planned ahead")
    plan.add_argument(
        "--slip",
        metavar="CASE,KIND,DAY[,DELAY]",
        help=f"re-plan a case after a slip: KIND is {' or '.join(SLIP_KINDS)}",
    )
    plan.set_defaults(handler=run_plan)
    from cartflow.cli.plans import add_commands

    add_commands(plan)

    simulate = subparsers.add_parser(
        "simulate", help="what-if simulations", description="What-if simulations."
    )
    commands = simulate.add_subparsers(dest="simulate_command", metavar="COMMAND")
    commands.required = True
    capacity = commands.add_parser(
        "capacity",
        help="a year of referrals through the planner, many seeded replications",
        description="A year of referrals through the planner as a discrete-event simulation: "
        "the vein-to-vein distribution, each resource's utilisation and the patients waiting "
        "past --wait-days. Replications run on the local cores, or on a Dask cluster.",
    )
    _network_options(capacity)
    capacity.add_argument("--referrals", type=float, default=300.0, help="referrals a year")
    capacity.add_argument("--mix", metavar="IND,IND", help="indications, equal shares")
    capacity.add_argument("--failure-rate", type=float, default=0.05)
    capacity.add_argument("--late-rate", type=float, default=0.05)
    capacity.add_argument("--delay-mean", type=float, default=1.5)
    capacity.add_argument("--rapid-share", type=float, default=0.2)
    capacity.add_argument("--days", type=int, default=365)
    capacity.add_argument("--wait-days", type=int, default=60)
    capacity.add_argument("--replications", type=int, default=20)
    capacity.add_argument(
        "--workers", type=int, default=0, help="local processes (default: every core)"
    )
    capacity.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a Dask scheduler's address, e.g. tcp://10.0.0.5:8786",
    )
    capacity.add_argument("--plot", metavar="PNG")
    capacity.set_defaults(handler=run_capacity)
