"""The case page's cellular-kinetics panel: the population band, the measurements, the fit.

For a product and disease with a population model (Stein 2019: tisagenlecleucel in B-ALL) the
panel draws, as an inline SVG built here (no plotting library, no file), the 5th-95th
percentile band of the population forecast, the measured transgene levels (censored ones as
open triangles at their limit) and, from two measurements on two days, the MAP fit with its
Cmax and AUC0-28 percentiles and the poor-expansion flag. For any other product it says
"no population model for this product", never a borrowed model.

The band is computed once per process and horizon (:func:`population_band`), the fit once
per set of measurements (:func:`patient_report`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.safestring import SafeString, mark_safe
from numpy.typing import NDArray

from cartflow.clinic.queries import payload_of
from cartflow.clinic.services.kinetics import KINETICS_MEASURED
from cartflow.domain.journey import CaseState
from cartflow.domain.journey.payloads import KineticsMeasured
from cartflow.kinetics import stein2019 as stein
from cartflow.kinetics.errors import KineticsError, NoPopulationModel
from cartflow.kinetics.fit import PatientReport, assess_patient
from cartflow.kinetics.observations import Observations
from cartflow.kinetics.population import Forecast, forecast, population_model_for

HORIZONS = (35.0, 90.0, 365.0, 1095.0, 3660.0)
"""The x axis runs to the first of these past the last measurement (one cached band each)."""
GRID_POINTS = 241
BAND_PATIENTS = 2000
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 46


@dataclass(frozen=True)
class Point:
    day: float
    copies_per_ug: float | None
    lloq: float | None
    censored: bool

    @property
    def value(self) -> float:
        """Where the point is drawn: the value, or the limit it lies below."""
        if self.censored:
            assert self.lloq is not None
            return self.lloq
        assert self.copies_per_ug is not None
        return self.copies_per_ug


def points_of(timeline: Iterable[Mapping[str, Any]]) -> list[Point]:
    """The case's measurements, in the order of their day."""
    found = []
    for entry in timeline:
        if entry["type"] != KINETICS_MEASURED:
            continue
        level = payload_of(entry)
        assert isinstance(level, KineticsMeasured)
        found.append(Point(level.day, level.copies_per_ug, level.lloq, level.censored))
    return sorted(found, key=lambda p: p.day)


def horizon_for(points: Sequence[Point]) -> float:
    last = max((p.day for p in points), default=0.0)
    return next((h for h in HORIZONS if h >= last * 1.1 + 1.0), HORIZONS[-1])


@functools.cache
def population_band(horizon: float) -> Forecast:
    """The Stein 2019 forecast band on a grid from day 0 to ``horizon`` (cached per process)."""
    return forecast(np.linspace(0.0, horizon, GRID_POINTS), n=BAND_PATIENTS, seed=0)


@functools.lru_cache(maxsize=128)
def patient_report(measurements: tuple[tuple[float, float, bool], ...]) -> PatientReport:
    """The MAP fit of ``(day, value or limit, censored)`` rows; cached per set of them."""
    return assess_patient(
        Observations(
            np.array([m[0] for m in measurements], dtype=float),
            np.array([m[1] for m in measurements], dtype=float),
            np.array([m[2] for m in measurements], dtype=bool),
        )
    )


def _rows(points: Sequence[Point]) -> tuple[tuple[float, float, bool], ...]:
    return tuple((p.day, p.value, p.censored) for p in points)


def _report_dict(report: PatientReport) -> dict[str, Any]:
    return {
        "cmax": report.cmax,
        "cmax_low": report.cmax_interval[0],
        "cmax_high": report.cmax_interval[1],
        "tmax": report.tmax,
        "auc": report.auc_0_28,
        "auc_low": report.auc_interval[0],
        "auc_high": report.auc_interval[1],
        "cmax_percentile": report.cmax_percentile,
        "auc_percentile": report.auc_percentile,
        "poor_expansion": report.poor_expansion,
        "level": round(100 * report.level),
        "converged": report.fit.converged,
    }


def kinetics_panel(
    state: CaseState, product: str, timeline: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """What the case page shows about the case's cellular kinetics."""
    points = points_of(timeline)
    product_id = state.product_id or product
    indication = state.indication_id
    disease = indication.split("/", 1)[1] if "/" in indication else indication
    panel: dict[str, Any] = {
        "points": points,
        "model": None,
        "message": "",
        "report": None,
        "fit_message": "",
        "svg": "",
    }
    try:
        model = population_model_for(product_id, disease)
    except NoPopulationModel as exc:
        panel["message"] = exc.MESSAGE
        return panel
    panel["model"] = model
    horizon = horizon_for(points)
    band = population_band(horizon)
    fitted: NDArray[np.float64] | None = None
    if len(points) >= 2:
        if len({p.day for p in points}) < 2:
            panel["fit_message"] = "a fit needs measurements on two different days"
        else:
            try:
                report = patient_report(_rows(points))
            except (KineticsError, np.linalg.LinAlgError, ValueError) as exc:
                panel["fit_message"] = f"no fit: {exc}"
            else:
                panel["report"] = _report_dict(report)
                fitted = stein.concentration(np.exp(report.fit.log_params), band.days)
    else:
        panel["fit_message"] = "the fit appears from two measurements on two different days"
    panel["svg"] = chart_svg(band, points, fitted)
    return panel


# --- the SVG ---------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def chart_svg(
    band: Forecast, points: Sequence[Point], fitted: NDArray[np.float64] | None
) -> SafeString:
    """The band, the points and the fitted curve on a log scale (numbers only: safe)."""
    horizon = float(band.days[-1])
    values = [p.value for p in points]
    top = max(
        [float(np.max(band.p95)), *values, *([float(np.max(fitted))] if fitted is not None else [])]
    )
    bottom = min([float(np.min(band.p05[band.days <= 35.0])), *values])
    y_hi = math.ceil(math.log10(max(top, 10.0)))
    y_lo = min(math.floor(math.log10(max(bottom, 1e-3))), y_hi - 2)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return LEFT + plot_w * day / horizon

    def y(value: float) -> float:
        v = math.log10(min(max(value, 10.0**y_lo), 10.0**y_hi))
        return TOP + plot_h * (y_hi - v) / (y_hi - y_lo)

    def path(days: NDArray[np.float64], ys: NDArray[np.float64]) -> str:
        return " ".join(
            f"{x(float(d)):.1f},{y(float(v)):.1f}" for d, v in zip(days, ys, strict=True)
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="kinetics-chart" '
        'aria-labelledby="kin-title kin-desc">',
        '<title id="kin-title">Transgene level against days after infusion, log scale</title>',
        f'<desc id="kin-desc">The Stein 2019 population 5th to 95th percentile band, '
        f"{len(points)} measurement(s)"
        f"{', and the fitted curve' if fitted is not None else ''}.</desc>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#444"/>',
    ]
    for k in range(y_lo, y_hi + 1):
        yy = y(10.0**k)
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_fmt(10.0**k)}</text>"
        )
    step = {35.0: 7.0, 90.0: 14.0, 365.0: 60.0, 1095.0: 180.0}.get(horizon, 365.0)
    day = 0.0
    while day <= horizon + 1e-9:
        out.append(
            f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{TOP + plot_h}" '
            f'y2="{TOP + plot_h + 5}" stroke="#444"/>'
        )
        out.append(
            f'<text x="{x(day):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
            f'font-size="11">{day:g}</text>'
        )
        day += step
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
        'font-size="12">days after the first infusion</text>'
    )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">copies/µg (log)</text>'
    )
    upper = path(band.days, band.p95)
    lower = path(band.days[::-1], band.p05[::-1])
    out.append(
        f'<polygon class="kin-band" points="{upper} {lower}" fill="#9ecae1" '
        'fill-opacity="0.55" stroke="none"><title>population 5th-95th percentile'
        "</title></polygon>"
    )
    out.append(
        f'<polyline class="kin-median" points="{path(band.days, band.median)}" '
        'fill="none" stroke="#3182bd" stroke-dasharray="4 3"/>'
    )
    if fitted is not None:
        out.append(
            f'<polyline class="kin-fit" points="{path(band.days, fitted)}" fill="none" '
            'stroke="#b30000" stroke-width="2"><title>MAP fit</title></polyline>'
        )
    for p in points:
        px, py = x(p.day), y(p.value)
        if p.censored:
            out.append(
                f'<polygon class="kin-censored" points="{px - 5:.1f},{py - 4:.1f} '
                f'{px + 5:.1f},{py - 4:.1f} {px:.1f},{py + 5:.1f}" fill="none" stroke="#000" '
                f'stroke-width="1.5"><title>day {p.day:g}: below the LLOQ of '
                f"{_fmt(p.value)}</title></polygon>"
            )
        else:
            out.append(
                f'<circle class="kin-point" cx="{px:.1f}" cy="{py:.1f}" r="4" fill="#000">'
                f"<title>day {p.day:g}: {_fmt(p.value)} copies/µg</title></circle>"
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # built from numbers and fixed text only
