"""Coverage: how much of the file became events the rules could judge. The first block of every
output (terminal, JSON, HTML), because a figure means nothing without it.

It says how many rows were read, left out (``--on-bad-rows skip``) or ignored (the mapping's
ignore list); how many events carry an activity name of the procedure or the rules; on how many
cases each rule was judged (satisfied, violated or pending; a rule judged on none is "not
judged", never a compliance rate); which mapping entries matched nothing; the as-of time and
why; how the order of day and month was decided; and, for a Children in Need census, the rules
the census cannot evidence and the ICPC figure the DfE's way when the check counts as the DfE
does (``--icpc-clock section-47-start --day-counting day1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from conformance.report.formatting import plural, shown

if TYPE_CHECKING:
    from conformance.report.result import CheckReport

__all__ = ["DfeFigure", "coverage_json", "coverage_lines", "dfe_icpc", "judged_counts"]

ICPC_RULE: Final = "icpc-within-15-working-days"
MISSING_PREFIX: Final = "the census does not record"
NOT_JUDGED: Final = "not judged"


def judged_counts(report: CheckReport) -> pd.Series:
    """Per rule (index rule_id): cases judged, i.e. satisfied, violated or pending."""
    summary = report.summary
    counts = summary["satisfied"] + summary["violated"] + summary["pending"]
    return pd.Series(counts.to_numpy(), index=summary["rule_id"].to_numpy())


@dataclass(frozen=True)
class DfeFigure:
    """The ICPC timeliness figure as the DfE computes it (table C4): of the initial conferences
    held in the census year, those within 15 working days of the Section 47 start."""

    held: int
    on_time: int
    year_start: str
    year_end: str

    @property
    def share(self) -> float | None:
        return self.on_time / self.held if self.held else None


def dfe_icpc(report: CheckReport) -> DfeFigure | None:
    """The DfE's ICPC figure for a census checked the DfE's way; None otherwise."""
    census = report.log.census
    config = report.judgement.config
    if census is None or config.icpc_clock != "section-47-start" or str(
            config.calendar.day_counting) not in ("day1", "DayCounting.DAY1"):
        return None
    results = report.judgement.results
    rows = results[(results["rule_id"] == ICPC_RULE)
                   & results["status"].isin(("satisfied", "violated"))
                   & results["evidence_activity"].notna()]
    start, end = census.year
    local = pd.to_datetime(rows["evidence_time"], utc=True).dt.tz_convert("Europe/London")
    held_in_year = ((local.dt.date >= start) & (local.dt.date <= end)).to_numpy()
    held = rows[held_in_year]
    on_time = int((held["status"] == "satisfied").sum())
    return DfeFigure(len(held), on_time, f"{start:%d/%m/%Y}", f"{end:%d/%m/%Y}")


def _dfe_sentence(figure: DfeFigure) -> str:
    share = figure.share
    rate = "no conference was held in the year" if share is None else f"{100 * share:.1f}%"
    return (f"ICPC timeliness the DfE's way (table C4: conferences held {figure.year_start} to "
            f"{figure.year_end} within 15 working days of the Section 47 start, the start "
            f"date as day 1, bank holidays skipped): {figure.on_time:,} of "
            f"{plural(figure.held, 'conference')}, {rate}.")


def coverage_lines(report: CheckReport) -> list[str]:
    """The coverage block for the terminal (its first line is 'Coverage')."""
    log = report.log
    j = report.judgement
    lines = ["Coverage"]
    name = Path(log.source).name
    cov = log.coverage
    if log.census is not None:
        c = log.census
        lines.append(
            f"  Children in Need census {name} (authority {c.authority or 'not given'}, year "
            f"to {c.reference_date:%d/%m/%Y}): {plural(c.children, 'child', 'children')}, "
            f"{plural(c.referrals, 'referral')} (one case each), "
            f"{plural(c.section_47s, 'Section 47 enquiry', 'Section 47 enquiries')}.")
    if cov is not None:
        parts = [f"{plural(cov.events, 'event')} judged"]
        if cov.ignored:
            listed = ", ".join(f"{n:,} {a!r}" for a, n in cov.ignored.items())
            parts.append(f"{listed} left out (the mapping's ignore list)")
        parts.append(f"{plural(cov.skipped, 'row')} that could not be read left out"
                     + (" (listed in rejects.csv)" if cov.skipped else ""))
        other = int(log.excluded_after_as_of) + int(log.excluded_other_lifecycle)
        if other:
            parts.append(f"{other:,} after the as-of time or not 'complete'")
        sheet = f", sheet {log.sheet!r}" if log.sheet else ""
        lines.append(f"  Read {plural(cov.rows, 'row')} from {name}{sheet}: " + "; ".join(parts)
                     + ".")
        share = f"{100 * cov.mapped / cov.events:.0f}%" if cov.events else "-"
        lines.append(f"  Events named as the procedure's (or the rules') activities: "
                     f"{cov.mapped:,} of {cov.events:,} ({share}).")
    counts = judged_counts(report)
    judged = [f"{rule} {int(n):,}" for rule, n in counts.items() if n]
    unjudged = [str(rule) for rule, n in counts.items() if not n]
    lines.append(f"  Cases judged per rule (of {int(j.cases):,}; satisfied, violated or "
                 "pending): " + ("; ".join(judged) if judged else "none") + ".")
    if unjudged:
        lines.append(f"  Not judged on any case ({len(unjudged)} rules, no compliance rate): "
                     + ", ".join(unjudged) + ".")
    by_reason: dict[str, list[str]] = {}
    for rule, why in report.not_judged.items():
        key = "missing" if why.startswith(MISSING_PREFIX) else why
        by_reason.setdefault(key, []).append(rule)
    for why, rules in by_reason.items():
        if why == "missing":
            lines.append(f"  Not judged from this source ({plural(len(rules), 'rule')}: it does "
                         "not record the steps they need; see the JSON or the rules' "
                         "reasons): " + ", ".join(rules) + ".")
        else:
            lines.append(f"  Not judged from this source: {', '.join(rules)} ({why}).")
    for problem in log.unmatched_mapping:
        lines.append(f"  Mapping entry that matched nothing: {problem}.")
    reason = log.as_of_reason or "given"
    lines.append(f"  As of {shown(j.as_of)} (Europe/London): {reason}.")
    if log.date_order:
        lines.append(f"  Dates: {log.date_order}.")
    figure = dfe_icpc(report)
    if figure is not None:
        lines.append("  " + _dfe_sentence(figure))
    elif log.census is not None:
        lines.append("  For the DfE's ICPC figure, check with --icpc-clock section-47-start "
                     "--day-counting day1.")
    return lines


def coverage_json(report: CheckReport) -> dict[str, Any]:
    """The coverage block as a JSON object."""
    log = report.log
    cov = log.coverage
    counts = judged_counts(report)
    out: dict[str, Any] = {
        "rows_read": cov.rows if cov else None,
        "rows_skipped": cov.skipped if cov else 0,
        "events_ignored": dict(cov.ignored) if cov else {},
        "events_read": (cov.rows - cov.skipped) if cov else int(report.judgement.events),
        "events_judged": cov.events if cov else int(report.judgement.events),
        "events_mapped": cov.mapped if cov else None,
        "cases": int(report.judgement.cases),
        "cases_judged": {str(rule): int(n) for rule, n in counts.items()},
        "rules_not_judged": [str(rule) for rule, n in counts.items() if not n],
        "rules_not_evidenced": dict(report.not_judged),
        "unmatched_mapping_entries": [str(p) for p in log.unmatched_mapping],
        "as_of_reason": log.as_of_reason or "given",
        "date_order": log.date_order,
    }
    if log.census is not None:
        c = log.census
        out["census"] = {"reference_date": c.reference_date.isoformat(),
                         "authority": c.authority, "children": c.children,
                         "referrals": c.referrals, "section_47s": c.section_47s}
        figure = dfe_icpc(report)
        if figure is not None:
            out["census"]["dfe_icpc"] = {"held": figure.held, "on_time": figure.on_time,
                                         "share": figure.share}
    return out
