"""The audit report's helpers (notebook ``03_conformance_audit``): the check of a log, as
``lscb check`` runs it, and its results as sentences, tables, charts and case timelines.

Every value that comes from the log or a file name (case ids, activity names, messages) is
escaped before it is shown: in Markdown by ``markup.markdown_text``, in HTML by the templates of
``lscb/reporting/templates`` (Jinja2 with autoescape); the notebook shows the tables through
``markup.table``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from conformance import CheckReport, Limits, LogFormat, check
from lscb.options import check_config_of
from lscb.reporting.figures import percent, png_bytes_image
from lscb.reporting.markup import html, markdown_text
from model.calendar import LONDON
from model.errors import LscbError

__all__ = [
    "audit",
    "audit_chart",
    "audit_log_format",
    "audit_overview",
    "case_timelines",
    "caveats_markdown",
    "compliance_summary",
    "deviations_table",
    "monthly_compliance",
]


def audit(
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
    fitness_method: str = "auto",
) -> CheckReport:
    """Check an event log as ``lscb check`` does and return the conformance report's data.

    Parameters
    ----------
    log_path
        The event log (CSV, Parquet or XES).
    procedure_path, mapping_path, config_path
        A procedure file (None: the built-in one), a mapping file of local column and activity
        names, a check configuration file (TOML).
    as_of
        When the log was extracted (ISO 8601); None: the settings file's, else the log's latest
        timestamp.
    rules_paths, contract_rules
        Local rules files; whether the procedure's own rules are judged too.
    log_columns
        The column options of ``lscb check`` by their ``LogFormat`` names (``case_column``,
        ``timestamp_format``, ``delimiter`` ...), and the limits on the log by their
        ``conformance.Limits`` names (``max_events`` ...).
    check_settings
        The calendar and deadline settings on top of the file's, as ``lscb.options.
        check_settings`` names them (``same_day``, ``extra_closures`` ...).
    fitness_method
        One of ``conformance.check.FITNESS_METHODS``.

    Examples
    --------
    >>> from conformance import sample_log_path
    >>> report = audit(sample_log_path(), as_of="2024-12-31T12:00", fitness_method="none",
    ...                check_settings={"same_day": "working"})
    >>> int(report.judgement.cases)
    271
    >>> report.options["the same day"], report.options["control-flow fitness"]
    ('working', 'none')
    """
    given = {k: v for k, v in (check_settings or {}).items() if v is not None}
    config = (check_config_of(config_path, given)
              if config_path is not None or given else None)
    return check(
        log_path,
        procedure=procedure_path,
        rules_files=list(rules_paths),
        contract_rules=contract_rules,
        log_format=audit_log_format(mapping_path, log_columns, config_path),
        config=config,
        as_of=as_of,
        fitness=fitness_method,
    )


def audit_log_format(mapping_path: Path | str | None,
                     log_columns: Mapping[str, Any] | None,
                     config_path: Path | str | None = None) -> LogFormat:
    """The log's layout for :func:`audit` (and for ``lscb report audit``'s rejects file, read
    the same way): the mapping file, the column options and limits of ``log_columns``, and the
    ``[log]`` table of the check configuration file, as ``lscb check --config`` reads it."""
    columns: dict[str, Any] = dict(log_columns or {})  # column names and the like, as text
    limit_names = ("max_events", "max_columns", "max_field_bytes", "max_input_bytes")
    limits = Limits(**{n: int(columns.pop(n)) for n in limit_names if n in columns})
    return LogFormat(mapping=None if mapping_path is None else Path(mapping_path),
                     settings_file=None if config_path is None else Path(config_path),
                     limits=limits, **columns)


def audit_overview(report: CheckReport) -> str:
    """The coverage block (how much of the log the rules could judge: the first block of every
    output), the audit in three sentences, then its control-flow fitness in one (Markdown).

    >>> from conformance import sample_log_path
    >>> report = audit(sample_log_path(), fitness_method="none")
    >>> print(audit_overview(report))
    **Coverage**
    <BLANKLINE>
    - Read ... rows from sample\\_log\\.csv...
    ...
    The log **sample\\_log\\.csv** holds ... cases and ... events, judged as of ... (Europe/London)
    against ... rules. ... deviations in ... cases: ... against rules of severity *violation*,
    ... against *warnings*. Nothing here ranks cases or people: these are the steps the records
    show as missing, late or out of order.
    <BLANKLINE>
    Control\\-flow fitness\\: not computed \\(switched off with \\-\\-fitness none\\)\\.
    """
    from conformance.report import fitness_line
    from conformance.report.coverage import coverage_lines

    j = report.judgement
    dev = report.deviations
    warnings = len(dev) - report.violations
    cases_with = dev["case_id"].nunique() if len(dev) else 0
    coverage = "\n".join(f"- {markdown_text(line.strip())}"
                         for line in coverage_lines(report)[1:])
    return (
        f"**Coverage**\n\n{coverage}\n\n"
        f"The log **{markdown_text(Path(report.log.source).name)}** holds {int(j.cases):,} cases and "
        f"{int(j.events):,} events, judged as of {_local(j.as_of)} (Europe/London) against "
        f"{len(j.rules)} rules. {len(dev):,} deviations in {cases_with:,} cases: "
        f"{report.violations:,} against rules of severity *violation*, {warnings:,} against "
        "*warnings*. Nothing here ranks cases or people: these are the steps the records show "
        "as missing, late or out of order.\n\n" + markdown_text(fitness_line(report))
    )


def _local(value: Any) -> str:
    """A UTC time as local (Europe/London) day and minute; empty when missing."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(LONDON).strftime("%d %b %Y %H:%M")


def compliance_summary(report: CheckReport) -> pd.DataFrame:
    """Per rule: the count of cases per status and compliance = satisfied / (satisfied +
    violated), as a percentage ('-' when neither)."""
    summary = report.summary.copy()
    summary["compliance"] = [percent(v) for v in summary["compliance"]]
    return summary.rename(
        columns={
            "rule_id": "rule",
            "description": "the rule",
            "not_applicable": "not applicable",
            "not_assessable": "not assessable",
        }
    )


def monthly_compliance(report: CheckReport) -> pd.DataFrame:
    """Compliance per rule (rows) and month of the trigger (columns, Europe/London), as
    percentages; empty where nothing was judged that month (from
    ``conformance.report.monthly_rates``)."""
    from conformance.report import monthly_rates

    rates = monthly_rates(report)
    if rates.empty:
        return pd.DataFrame()
    rates = rates.rename_axis(index="rule", columns="month")
    return rates.map(lambda v: "" if pd.isna(v) else f"{100 * v:.0f}%")


def audit_chart(report: CheckReport, which: str) -> Any:
    """One of the conformance report's charts as a PNG image (as its HTML report embeds it):
    'compliance' (per rule), 'monthly' (per rule and month) or 'lateness' (missed deadlines by
    how late); a Markdown sentence when there is nothing to draw."""
    from IPython.display import Markdown

    from conformance.report import (
        compliance_figure,
        lateness_figure,
        monthly_figure,
        png_bytes,
    )

    if which == "compliance":
        figure = compliance_figure(report.summary)
        empty = "No rule could be judged."
    elif which == "monthly":
        figure, _note = monthly_figure(report)
        empty = "No judgement has a date to place it in a month."
    elif which == "lateness":
        figure = lateness_figure(report.deviations)
        empty = "No deadline was missed."
    else:
        raise LscbError(f"no chart '{which}'; the charts are: compliance, monthly, lateness")
    if figure is None:
        return Markdown(  # type: ignore[no-untyped-call]
            f"*{empty}*"
        )
    return png_bytes_image(png_bytes(figure))


def deviations_table(report: CheckReport, limit: int = 200) -> pd.DataFrame:
    """The deviating cases with their evidence, the latest-missed first (at most ``limit``):
    case, rule, its title, clause, severity, basis, what happened (the trigger, the deadline and the late or
    missing step, in local time), how late, and whether the judgement rests on a date-only
    record."""
    from conformance.report import lateness_text

    dev = report.deviations
    if dev.empty:
        return pd.DataFrame(columns=["case", "rule", "what happened"])
    hours = pd.to_numeric(dev["late_hours"], errors="coerce").fillna(-1.0)
    ordered = dev.assign(_late=hours).sort_values("_late", ascending=False, kind="stable")
    ordered = ordered.iloc[:limit]
    return pd.DataFrame(
        {
            "case": ordered["case_id"].astype(str),
            "rule": ordered["rule_id"].astype(str),
            "in short": ordered["title"].astype(str),
            "clause": ordered["clause"].astype(str),
            "severity": ordered["severity"].astype(str),
            "basis": ordered["basis"].astype(str),
            "what happened": ordered["message"].astype(str),
            "how late": [
                lateness_text(h, w, e is not None and not pd.isna(e))
                for h, w, e in zip(
                    ordered["late_hours"],
                    ordered["late_working_days"],
                    ordered["evidence_time"],
                    strict=True,
                )
            ],
            "date only": ["yes" if bool(d) else "" for d in ordered["date_only"]],
        }
    ).reset_index(drop=True)


def case_timelines(report: CheckReport, cases: int = 4) -> Any:
    """Timelines of the ``cases`` deviating cases (at most TIMELINE_CAP, as in the conformance
    report) that missed a deadline by most (then in log order): each event on its activity's
    row, each missed deadline a dashed line; hollow points are events known only to the day
    (``templates/timelines.html.j2``)."""
    from conformance.report import TIMELINE_CAP
    from conformance.report import case_timelines as timelines_of

    chosen, _more = timelines_of(report, min(cases, TIMELINE_CAP))
    return html("timelines.html.j2", timelines=chosen)


def caveats_markdown(report: CheckReport) -> str:
    """What cannot be judged from the data, and other caveats, as a Markdown list."""
    caveats = report.caveats
    if not caveats:
        return "- Nothing to add: every rule could be judged on every case."
    return "\n".join(f"- {markdown_text(c.message)}" for c in caveats)

