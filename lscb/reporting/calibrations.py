"""The calibration report's helpers (notebook ``04_calibration``): a scenario estimated from a
partnership's own event log (``lscb calibrate``), then set beside the log it was estimated from,
or beside the later part of the log it never saw (``lscb validate``, ``--holdout-from``), for a
board analyst to read.

:func:`calibration_study` does the work once: it reads and judges the log as ``lscb check``
does (its coverage block is the page's first word on the log), calibrates
(``simulation.calibration.calibrate``), and validates the calibrated scenario and, as the
baseline, the base scenario as written (``simulation.calibration.validate``). The other helpers
turn the study into sentences, tables and figures.

Every value from the log, a scenario or a file name (activity names, sources, notes) is escaped
before it is shown: in Markdown by ``markup.markdown_text``; the notebook shows the tables
through ``markup.table``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from lscb.options import check_config_of
from lscb.reporting.audits import audit_log_format
from lscb.reporting.calibration_fit import (
    CALIBRATED,
    bands_figure,
    bands_table,
    comparison_table,
    compliance_figure,
    compliance_table,
    day,
    distances_table,
    flow_table,
    sig,
    timeliness_table,
    validation_findings,
)
from lscb.reporting.figures import given, number, png_image
from lscb.reporting.markup import markdown_text
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from conformance import CheckReport
    from model.procedure import Procedure
    from simulation.calibration.calibrate import Calibration
    from simulation.calibration.validate import Validation
    from simulation.scenario import Scenario

__all__ = [
    "CALIBRATED",
    "SCENARIO_FILE",
    "CalibrationStudy",
    "arrivals_figure",
    "arrivals_table",
    "assumed_table",
    "bands_figure",
    "bands_table",
    "branches_table",
    "calibration_study",
    "cannot_tell",
    "comparison_table",
    "compliance_figure",
    "compliance_table",
    "delays_table",
    "distances_table",
    "estimates_overview",
    "flow_table",
    "ledger_counts",
    "ledger_table",
    "log_overview",
    "staff_overview",
    "staff_table",
    "timeliness_table",
    "validation_findings",
    "write_files",
]

SCENARIO_FILE: Final = "calibrated_scenario.toml"
"""The name of the calibrated scenario that ``lscb report calibration`` writes beside the page
(its ledger beside it as ``calibrated_scenario.ledger.csv``)."""

_KINDS: Final = ("estimated", "published", "assumed")


@dataclass(frozen=True)
class CalibrationStudy:
    """A log, the scenario calibrated from it, and how well that scenario reproduces the log.

    ``report``: the log as ``lscb check`` reads and judges it (its coverage). ``calibration``:
    what was estimated (``simulation.calibration.calibrate.Calibration``). ``validation``: the
    calibrated scenario against the log, or against its cases from ``holdout_from`` when
    given; ``baseline``: the base scenario as written, validated the same way (None when it
    was not run). ``log_name``: the log's file name (never its path)."""

    report: CheckReport
    procedure: Procedure
    base: Scenario
    base_name: str
    log_name: str
    calibration: Calibration
    validation: Validation
    baseline: Validation | None
    holdout_from: date | None
    replications: int
    skip_bad_rows: bool = False  # read with --on-bad-rows skip: rejects.csv goes beside


def calibration_study(
    log_path: Path | str,
    *,
    procedure_path: Path | str | None = None,
    mapping_path: Path | str | None = None,
    config_path: Path | str | None = None,
    as_of: str | None = None,
    rules_paths: Sequence[Path | str] = (),
    contract_rules: bool = True,
    log_columns: Mapping[str, Any] | None = None,
    check_settings: Mapping[str, Any] | None = None,
    base_path: Path | str | None = None,
    holdout_from: str | date | None = None,
    replications: int = 10,
    seed: int | None = None,
    refine: int = 2,
    baseline: bool = True,
) -> CalibrationStudy:
    """Read and judge a log as ``lscb check`` does, calibrate a scenario from it as ``lscb
    calibrate`` does and validate it as ``lscb validate`` does.

    Parameters
    ----------
    log_path, procedure_path, mapping_path, config_path, as_of, rules_paths, contract_rules,
    log_columns, check_settings
        As for :func:`lscb.reporting.audits.audit` (the input options of ``lscb check``); the
        settings judge the log and the simulated logs alike, on top of the base scenario's
        ``[checking]`` section when there is no settings file.
    base_path
        The scenario whose routes, roles and assumptions are kept (None: the built-in one).
    holdout_from
        A date (YYYY-MM-DD): calibrate on the log as it stood before it and validate on the
        cases that began from it. None: calibrate on the whole log and validate on the same
        log (a check of fit, not of prediction; the page says so).
    replications, seed
        Simulated replications of the log's period for each validation, and their first seed
        (None: the scenario's).
    refine
        Times the estimate is simulated to separate waiting for people from the steps' lags
        (``lscb calibrate --refine``).
    baseline
        Whether the base scenario, uncalibrated, is validated the same way, for comparison.

    Raises
    ------
    InputError
        When an input cannot be used, or ``holdout_from`` leaves no case on one side.
    """
    from conformance import check, rules_to_judge
    from model import load_procedure
    from simulation import load_scenario
    from simulation.calibration.calibrate import calibrate
    from simulation.calibration.validate import holdout, period_of, restrict, validate

    procedure = load_procedure(procedure_path)
    base = load_scenario(None if base_path is None else Path(base_path), procedure)
    base_name = "the built-in default scenario" if base_path is None else Path(base_path).name
    settings = {k: v for k, v in (check_settings or {}).items() if v is not None}
    config = check_config_of(config_path, settings, base.checking)
    layout = audit_log_format(mapping_path, log_columns, config_path)  # as report audit reads
    report = check(log_path, procedure=procedure_path, rules_files=list(rules_paths),
                   contract_rules=contract_rules, log_format=layout, config=config,
                   as_of=as_of, fitness="none")
    rules, _vocabulary = rules_to_judge(procedure, list(rules_paths),
                                        contract_rules=contract_rules)
    log = report.log
    log_name = Path(log_path).name
    judge = replace(config, as_of=None)  # the log's as-of time is in the log read
    common: dict[str, Any] = {"replications": replications, "seed": seed, "config": judge,
                              "rules": rules}
    cut = date.fromisoformat(holdout_from) if isinstance(holdout_from, str) else holdout_from
    if cut is not None:
        start, horizon, _ = period_of(log)
        last = start + timedelta(days=horizon - 1)
        if not start < cut <= last:
            raise InputError("the report's settings", [Problem(
                "option --holdout-from", f"a date after the day the log's first case began "
                f"({start}) and no later than the day its last began ({last}), so that there "
                "are cases to calibrate on and cases to validate on", cut.isoformat())])
        calibration, validation = holdout(log, procedure, cut, base=base, source=log_name,
                                          refine=refine, **common)
        judged = restrict(log, since=cut)
    else:
        calibration = calibrate(log, procedure, base=base, source=log_name,
                                calendar=config.calendar, refine=refine)
        validation = validate(calibration.scenario(procedure), log, procedure,
                              scenario_name=f"the scenario calibrated from {log_name}",
                              log_name=log_name, **common)
        judged = log
    against = (validate(base, judged, procedure, scenario_name=f"{base_name} (not calibrated)",
                        log_name=validation.log, **common) if baseline else None)
    return CalibrationStudy(
        report=report, procedure=procedure, base=base, base_name=base_name,
        log_name=log_name, calibration=calibration, validation=validation, baseline=against,
        holdout_from=cut, replications=replications,
        skip_bad_rows=(log_columns or {}).get("on_bad_rows") == "skip")


def write_files(study: CalibrationStudy, path: Path | str | None) -> list[Path]:
    """Write the calibrated scenario to ``path`` and its ledger beside it as CSV
    (``simulation.calibration.calibrate.write_calibration``) and, when the log was read with
    ``--on-bad-rows skip``, the rows left out beside them as ``lscb check`` lists them
    (``rejects.csv``: a header alone when none was); nothing when ``path`` is None."""
    from conformance.logio.rejects import REJECTS_FILE, write_rejects_frame
    from simulation.calibration.calibrate import write_calibration

    if path is None:
        return []
    written = write_calibration(study.calibration, path)
    if study.skip_bad_rows:
        log = study.report.log
        written.append(write_rejects_frame(Path(path).with_name(REJECTS_FILE), log.rejects,
                                           log.row_word))
    return written


# ------------------------------------------------------------------------- the log


def log_overview(study: CalibrationStudy) -> str:
    """What the log was, in Markdown: cases, events and period; how the calibration and the
    validation divide it; then the coverage block as ``lscb check`` gives it."""
    from conformance.report.coverage import coverage_lines

    report = study.report
    cal = study.calibration
    judgement = report.judgement
    events = report.log.events
    first = events.groupby("case_id", sort=False)["time_utc"].min()
    local = pd.DatetimeIndex(first).tz_convert("Europe/London")
    start, end = min(local.date), max(local.date)
    lines = [
        f"The log **{markdown_text(study.log_name)}** holds {int(judgement.cases):,} cases and "
        f"{int(judgement.events):,} events; its cases began between {day(start)} and "
        f"{day(end)} (a case begins at its first recorded step), and it was read as of "
        f"{pd.Timestamp(judgement.as_of).tz_convert('Europe/London'):%-d %B %Y %H:%M} "
        "(Europe/London)."
    ]
    calibrated_end = date.fromordinal(cal.start.toordinal() + cal.horizon_days - 1)
    if study.holdout_from is None:
        lines.append(
            f"The scenario was calibrated on the whole log ({cal.cases:,} cases) and is checked "
            "below against the same log: that shows how well it fits what it learnt from, not "
            "how well it predicts. To check it on cases it never saw, run the report with "
            "`--holdout-from DATE`.")
    else:
        v = study.validation
        v_end = v.start + timedelta(days=v.horizon_days - 1)
        lines.append(
            f"The scenario was calibrated on the log as it stood before "
            f"{day(study.holdout_from)}: {cal.cases:,} cases that began between "
            f"{day(cal.start)} and {day(calibrated_end)}. It is checked below against the "
            f"cases that began from {day(v.start)} to {day(v_end)}, which the calibration "
            "never saw.")
    coverage = "\n".join(f"- {markdown_text(line.strip())}"
                         for line in coverage_lines(report)[1:])
    return "\n\n".join(lines) + f"\n\n**Coverage, as `lscb check` reports it**\n\n{coverage}"


def _route(route: str) -> str:
    return route.replace("_", " ")


def arrivals_table(study: CalibrationStudy) -> pd.DataFrame:
    """Per route: the cases the calibration counted and the year's volume estimated from
    them, with its 95% interval (a Poisson interval on the count)."""
    a = study.calibration.arrivals
    return pd.DataFrame({
        "how cases arrive": [_route(str(r)) for r in a["route"]],
        "cases in the log": [int(n) for n in a["cases"]],
        "cases a year": [f"{v:,.0f}" for v in a["annual_volume"]],
        "95% interval": [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in
                         zip(a["low"], a["high"], strict=True)],
    })


def arrivals_figure(study: CalibrationStudy) -> Any:
    """The calibrated scenario's arrival profiles per route: the share of a route's cases by
    weekday, by month and by hour of the day."""
    from matplotlib.figure import Figure

    scenario = study.calibration.scenario(study.procedure)
    figure = Figure(figsize=(10, 3.2), layout="constrained")
    axes = figure.subplots(1, 3)
    panels = (
        ("weekday", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "by weekday"),
        ("months", ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"], "by month"),
        ("hours", [str(h) if h % 3 == 0 else "" for h in range(24)], "by hour (local)"),
    )
    for ax, (name, labels, title) in zip(axes, panels, strict=True):
        for route in scenario.routes.values():
            weights = [float(w) for w in getattr(route, name)]
            total = sum(weights) or 1.0
            ax.plot(range(len(weights)), [100 * w / total for w in weights], marker=".",
                    label=_route(route.id))
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("share of the route's cases (%)", fontsize=8)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center",
                  ncols=4, fontsize=8, frameon=False)
    return png_image(figure)


# ------------------------------------------------------------------------- the estimates


def _ledger(study: CalibrationStudy) -> pd.DataFrame:
    return study.calibration.ledger


def ledger_counts(study: CalibrationStudy) -> str:
    """One sentence: how many of the calibrated scenario's numbers the log gave, how many are
    published figures and how many are assumptions kept from the base scenario."""
    table = _ledger(study)
    counts = table["kind"].value_counts()
    parts = [f"**{int(counts.get(k, 0))} {k}**" for k in _KINDS]
    return (f"The calibrated scenario has {len(table)} numbers in its ledger: {', '.join(parts)}. "
            f"*Estimated* numbers come from {markdown_text(study.log_name)} (with their sample "
            "size and, where one applies, a 95% interval); *published* ones from a cited "
            f"source; *assumed* ones are kept from {markdown_text(study.base_name)} because the "
            "log cannot tell them.")


def ledger_table(study: CalibrationStudy) -> pd.DataFrame:
    """The whole ledger for a reader: field, kind, value, sample size, 95% interval (or an
    assumption's plausible range) and where it comes from."""
    table = _ledger(study)
    spans = []
    for row in table.to_dict("records"):
        if given(row["interval_low"]):
            spans.append(f"{row['interval_low']:g} to {row['interval_high']:g}")
        elif given(row["range_low"]):
            spans.append(f"plausible {row['range_low']:g} to {row['range_high']:g}")
        else:
            spans.append("")
    return pd.DataFrame({
        "field": table["field"].astype(str),
        "kind": table["kind"].astype(str),
        "value": table["value"].astype(str),
        "cases (n)": ["" if not given(n) else f"{int(n):,}" for n in table["n"]],
        "95% interval or range": spans,
        "source": table["source"].astype(str),
    })


def estimates_overview(study: CalibrationStudy) -> str:
    """What was estimated, in a few sentences (Markdown)."""
    cal = study.calibration
    delays = cal.delays
    fitted = int((delays["family"] != "empirical").sum()) if not delays.empty else 0
    empirical = len(delays) - fitted
    sentences = [
        f"From {cal.cases:,} cases: the volume of each of {len(cal.arrivals)} routes by which "
        "cases arrive, with their weekday, month and hour profiles",
        f"{len(cal.branches)} chances (which way a case goes at each decision, how often a "
        "discussion is repeated, how often a step is skipped or done out of order)",
        f"the lag before each of {len(delays)} steps in working time, {fitted} fitted to a "
        f"distribution and {empirical} kept as the log's own spread because no family fitted",
    ]
    if not cal.resources.empty:
        sentences.append(f"the people of {len(cal.resources)} roles named in the log")
    else:
        sentences.append("no staff figures: the log names no one who did the steps")
    return "; ".join(sentences) + "."


def _plain_field(field: str) -> str:
    """A branch's ledger field in words.

    >>> _plain_field("routes.youth_imagery.attributes.section_47_needed")
    'youth imagery: section 47 needed'
    >>> _plain_field("loops.strategy-discussions")
    'repeat: strategy discussions'
    >>> _plain_field("slips.skip.Information shared")
    'slip: skip Information shared'
    """
    parts = field.split(".")
    if parts[0] == "routes" and len(parts) >= 4 and parts[2] == "attributes":
        return f"{_route(parts[1])}: {'.'.join(parts[3:]).replace('_', ' ')}"
    if parts[0] == "loops" and len(parts) >= 2:
        return "repeat: " + ".".join(parts[1:]).replace("-", " ")
    if parts[0] == "slips" and len(parts) >= 2:
        return "slip: " + " ".join(parts[1:])
    return field


def branches_table(study: CalibrationStudy) -> pd.DataFrame:
    """The chances estimated from the log: what, the share, its 95% interval (Wilson), the
    cases it rests on and how it was read."""
    b = study.calibration.branches
    return pd.DataFrame({
        "what": [_plain_field(str(w)) for w in b["what"]],
        "chance": [f"{100 * p:.1f}%" for p in b["probability"]],
        "95% interval": [f"{100 * lo:.1f}% to {100 * hi:.1f}%" for lo, hi in
                         zip(b["low"], b["high"], strict=True)],
        "cases (n)": [f"{int(n):,}" for n in b["n"]],
        "read from": b["method"].astype(str),
    })


def delays_table(study: CalibrationStudy) -> pd.DataFrame:
    """The lag before each step: its unit, sample size, mean with its 95% interval, the
    distribution family kept, and its goodness of fit (the Kolmogorov-Smirnov distance and
    p-value; a family is kept when p is at least 0.05, otherwise the log's own quantiles)."""
    d = study.calibration.delays
    if d.empty:
        return pd.DataFrame(columns=["step", "delays (n)"])
    fit = []
    for family, ks, p in zip(d["family"], d["ks"], d["p_value"], strict=True):
        if family == "empirical":
            fit.append("no family fits: the log's own quantiles kept")
        elif given(ks):
            fit.append(f"KS distance {number(ks):.3f}, p = {number(p):.2f}")
        else:
            fit.append("")
    return pd.DataFrame({
        "step": d["activity"].astype(str),
        "delays (n)": [f"{int(n):,}" for n in d["n"]],
        "unit": d["unit"].astype(str),
        "mean": [sig(m) for m in d["mean"]],
        "95% interval of the mean": [f"{sig(lo)} to {sig(hi)}" for lo, hi in
                                     zip(d["mean_low"], d["mean_high"], strict=True)],
        "distribution": d["written"].astype(str),
        "goodness of fit": fit,
    })


def staff_overview(study: CalibrationStudy) -> str:
    """One sentence on what the log tells of the staff (Markdown)."""
    r = study.calibration.resources
    if r.empty:
        return ("The log names no one who did the steps (no resource column), so the staff "
                f"figures stay as in {markdown_text(study.base_name)}: assumptions.")
    return ("The log names who did the steps, so the people of each role are counted: those "
            "named, and an estimate of the headcount with those never seen in the log (Chao1, "
            "with its 95% interval). How busy the steps kept them can be told only where the "
            "log records when each step started as well as when it ended.")


def staff_table(study: CalibrationStudy) -> pd.DataFrame:
    """People per role where the log names who did the steps: named, the headcount estimated
    (with those never seen, Chao1, and its interval), events a person a working day, and how
    busy the steps kept them when start events allow; empty when the log names no one."""
    r = study.calibration.resources
    if r.empty:
        return pd.DataFrame(columns=["role", "people named in the log"])
    roles = study.procedure.roles
    return pd.DataFrame({
        "role": [roles[str(x)].name if str(x) in roles else str(x) for x in r["role"]],
        "people named in the log": [int(n) for n in r["people_seen"]],
        "headcount estimated": [int(n) for n in r["headcount"]],
        "95% interval": [f"{int(lo)} to {int(hi)}" for lo, hi in
                         zip(r["low"], r["high"], strict=True)],
        "events a person a working day": [f"{number(v):.2f}" for v in
                                          r["events_per_person_per_working_day"]],
        "time the steps took": ["not known (no start events)" if not given(v)
                                or math.isnan(number(v)) else f"{100 * number(v):.0f}%"
                                for v in r["busy_share"]],
    })


# ------------------------------------------------------------------------- what it could not tell


def cannot_tell(study: CalibrationStudy) -> str:
    """What the log could not tell, as a Markdown list: the calibration's own notes, then how
    many numbers stay assumptions (listed in :func:`assumed_table`)."""
    notes = [f"- {markdown_text(n)}" for n in study.calibration.notes]
    assumed = int((_ledger(study)["kind"] == "assumed").sum())
    notes.append(f"- {assumed} numbers of the scenario stay as in "
                 f"{markdown_text(study.base_name)}: the log cannot give them, and the ledger "
                 "marks each as an assumption (the table below). Every figure of the validation "
                 "rests on them as much as on the estimates.")
    return "\n".join(notes)


def assumed_table(study: CalibrationStudy) -> pd.DataFrame:
    """The numbers kept as assumptions: field, value, why (and a plausible range if any)."""
    table = _ledger(study)
    kept = table[table["kind"] == "assumed"]
    return pd.DataFrame({
        "field": kept["field"].astype(str),
        "value": kept["value"].astype(str),
        "plausible range": [f"{lo:g} to {hi:g}" if given(lo) else "" for lo, hi in
                            zip(kept["range_low"], kept["range_high"], strict=True)],
        "why": kept["source"].astype(str),
    }).reset_index(drop=True)
