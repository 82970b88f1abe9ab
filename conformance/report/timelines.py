"""Timelines of deviating cases as inline SVG, rendered by a Jinja2 template with autoescape
(every value from the log escaped)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

from conformance.report.formatting import NS_PER_HOUR, TIMELINE_CAP, iso, shown
from conformance.report.templating import render
from model.calendar import LONDON

if TYPE_CHECKING:
    from conformance.report.result import CheckReport


def timeline_cases(report: CheckReport, limit: int = TIMELINE_CAP) -> tuple[list[Any], int]:
    """The deviating cases to draw as timelines, at most ``limit``: the latest missed deadline
    first, then in log order; and how many more deviating cases there are."""
    dev = report.deviations
    if dev.empty:
        return [], 0
    hours = pd.to_numeric(dev["late_hours"], errors="coerce").fillna(-1.0)
    order = report.case_order.to_dict()
    per_case = pd.DataFrame({"case_id": dev["case_id"], "late": hours}).groupby(
        "case_id", sort=False)["late"].max()
    ranked = pd.DataFrame({
        "case_id": per_case.index,
        "late": per_case.to_numpy(),
        "order": [order.get(case, len(order)) for case in per_case.index],
    }).sort_values(["late", "order"], ascending=[False, True], kind="stable")
    chosen = list(ranked["case_id"][:limit])
    return chosen, max(0, len(ranked) - limit)


def _ticks(start_ns: int, end_ns: int) -> list[tuple[int, str]]:
    span = end_ns - start_ns
    stamps = [pd.Timestamp(start_ns + span * k // 4, tz="UTC") for k in range(5)]
    fmt = "%d %b %H:%M" if span < 3 * 24 * NS_PER_HOUR else "%d %b %Y"
    return [(int(s.value), s.tz_convert(LONDON).strftime(fmt)) for s in stamps]


def timeline_svg(case_id: Any, events: pd.DataFrame, deviations: pd.DataFrame) -> Markup:
    """A timeline of one case as inline SVG (``templates/timeline.svg.j2``, its values
    escaped): each of its ``events`` (rows of the log's events) a point on its activity's row
    along a time axis, green for a trigger and orange for evidence of its ``deviations`` (rows
    of ``CheckReport.deviations``), hollow when known only to the day; each missed deadline a
    dashed red line labelled with its rule."""
    activities = list(dict.fromkeys(str(a) for a in events["activity"]))
    times = pd.to_datetime(events["time_utc"], utc=True).astype("int64").to_numpy()
    deadlines = [
        (str(rule_id), int(pd.Timestamp(deadline).value))
        for rule_id, deadline in zip(deviations["rule_id"], deviations["deadline"], strict=True)
        if iso(deadline) is not None
    ]
    all_ns = [*times.tolist(), *(d for _, d in deadlines)]
    start, end = min(all_ns), max(all_ns)
    if end - start < NS_PER_HOUR:
        start -= NS_PER_HOUR // 2
        end += NS_PER_HOUR // 2
    pad = (end - start) // 30
    start, end = start - pad, end + pad
    left, right, top, row_h = 270, 860, 34, 18
    height = top + row_h * len(activities) + 34

    def x_of(ns: int) -> float:
        return left + (right - left) * (ns - start) / (end - start)

    def y_of(activity: str) -> float:
        return top + row_h * activities.index(activity) + row_h / 2

    evidence = {(str(r.evidence_activity), iso(r.evidence_time))
                for r in deviations.itertuples(index=False)}
    triggers = {(str(r.trigger_activity), iso(r.trigger_time))
                for r in deviations.itertuples(index=False)}
    points = []
    for activity, event_ns, only_date in zip(events["activity"], times.tolist(),
                                             events["date_only"], strict=True):
        at = pd.Timestamp(int(event_ns), tz="UTC")
        key = (str(activity), iso(at))
        colour = ("#d95f02" if key in evidence else "#1b9e77" if key in triggers
                  else "#4575b4")
        points.append({
            "x": f"{x_of(int(event_ns)):.1f}",
            "y": f"{y_of(str(activity)):.1f}",
            "fill": "white" if bool(only_date) else colour,
            "colour": colour,
            "activity": str(activity),
            "when": shown(at, date_only=bool(only_date)),
            "date_only": bool(only_date),
        })
    return render(
        "timeline.svg.j2",
        case_id=_text(case_id),
        height=height,
        axis_y=height - 28,
        left=left,
        right=right,
        top=top,
        ticks=[{"x": f"{x_of(ns):.1f}", "label": label} for ns, label in _ticks(start, end)],
        rows=[{"activity": a, "y": f"{y_of(a):.1f}", "text_y": f"{y_of(a) + 4:.1f}"}
              for a in activities],
        deadlines=[
            {"rule_id": rule_id, "x": f"{x_of(ns):.1f}", "label_x": f"{x_of(ns) + 3:.1f}",
             "when": shown(pd.Timestamp(ns, tz="UTC"))}
            for rule_id, ns in deadlines
        ],
        points=points,
    )


@dataclass(frozen=True)
class CaseTimeline:
    """A deviating case as the reports draw it: its id, its deviations (rule, clause, severity,
    message: text, escaped where a template shows it) and its timeline (SVG markup, None when
    the case has no event to draw)."""

    case_id: str
    deviations: tuple[Mapping[str, str], ...]
    svg: Markup | None


def case_timelines(report: CheckReport, limit: int = TIMELINE_CAP) -> tuple[
        list[CaseTimeline], int]:
    """The deviating cases that ``timeline_cases`` chooses, each with its deviations and its
    timeline; and how many more deviating cases there are."""
    chosen, more = timeline_cases(report, limit)
    if not chosen:
        return [], more
    events = report.log.events
    drawn = events[events["case_id"].isin(chosen)]
    by_case = dict(list(drawn.groupby("case_id", sort=False)))
    dev = report.deviations
    out = []
    for case in chosen:
        case_dev = dev[dev["case_id"] == case]
        items = tuple(
            {"rule_id": _text(row.rule_id), "clause": _text(row.clause),
             "severity": _text(row.severity), "message": _text(row.message)}
            for row in case_dev.itertuples(index=False)
        )
        case_events = by_case.get(case)
        svg = None if case_events is None else timeline_svg(case, case_events, case_dev)
        out.append(CaseTimeline(_text(case), items, svg))
    return out, more


def _text(value: Any) -> str:
    """A value of the log as text for a template (blank when missing)."""
    return "" if value is None or value is pd.NA else str(value)
