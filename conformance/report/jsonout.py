"""The JSON object of CONTRACT §6 (``lscb check --format json`` and ``summary.json``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from conformance.report.formatting import DEVIATION_COLUMNS, iso, iso_texts, plain, plain_column

if TYPE_CHECKING:
    from conformance.report.result import CheckReport


def _fitness_summary(report: CheckReport) -> dict[str, Any] | None:
    fit = report.fitness
    if fit is None:
        return None
    mean = fit.mean_fitness
    return {
        "method": fit.method.value,
        "reason": fit.reason,
        "cases": len(fit.cases),
        "fit_cases": fit.fit_cases,
        "open_cases": fit.open_cases,
        "mean_fitness": None if mean is None or math.isnan(mean) else round(mean, 4),
        "variants": fit.variants,
        "excluded_activities": dict(fit.excluded),
        "activities_outside_model": dict(fit.outside_model),
    }


def to_json(report: CheckReport) -> dict[str, Any]:
    """The object ``lscb check --format json`` prints (computed once per report); see
    ``build_json``."""
    return report.json_object


def build_json(report: CheckReport) -> dict[str, Any]:
    """The object ``lscb check --format json`` prints (CONTRACT §6), keys in a fixed order:
    ``as_of``, ``cases``, ``deviations`` (one per violated rule per case, by case then rule
    order), then ``events``, ``source``, ``summary`` (per rule), ``fitness`` (null when not
    computed), ``fitness_note``, ``warnings`` (the caveats)."""
    frame = report.deviations
    columns: list[list[Any]] = []
    for column in DEVIATION_COLUMNS:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
                values.dtype):
            columns.append(iso_texts(values))
        else:
            columns.append(plain_column(values))
    deviations = [dict(zip(DEVIATION_COLUMNS, row, strict=True))
                  for row in zip(*columns, strict=True)]
    summary = [
        {key: plain(value) for key, value in row.items()}
        for row in report.summary.to_dict(orient="records")
    ]
    return {
        "as_of": iso(report.judgement.as_of),
        "cases": int(report.judgement.cases),
        "deviations": deviations,
        "events": int(report.judgement.events),
        "source": Path(report.log.source).name,
        "summary": summary,
        "fitness": _fitness_summary(report),
        "fitness_note": report.fitness_note,
        "warnings": [
            {"kind": c.kind, "count": c.count, "message": c.message} for c in report.caveats
        ],
    }


def to_json_text(report: CheckReport) -> str:
    """``to_json`` as text: indented, with one deviation per line (Python's JSON encoder is
    ten times slower with indentation, and a check may report 100,000s of deviations)."""
    parts = []
    for key, value in to_json(report).items():
        if key == "deviations" and value:
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            text = "[\n" + rows + "\n  ]"
        else:
            text = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
