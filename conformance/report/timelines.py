"""Timelines of deviating cases as inline SVG (every value from the log escaped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from conformance.report.formatting import NS_PER_HOUR, TIMELINE_CAP, esc, iso, plural, shown
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


def timeline_svg(case_id: Any, events: pd.DataFrame, deviations: pd.DataFrame) -> str:
    """A timeline of one case as inline SVG (its values escaped): each of its ``events`` (rows
    of the log's events) a point on its activity's row along a time axis, green for a trigger
    and orange for evidence of its ``deviations`` (rows of ``CheckReport.deviations``), hollow
    when known only to the day; each missed deadline a dashed red line labelled with its rule."""
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

    evidence = {(str(r.evidence_activity), iso(r.evidence_time))
                for r in deviations.itertuples(index=False)}
    triggers = {(str(r.trigger_activity), iso(r.trigger_time))
                for r in deviations.itertuples(index=False)}
    parts = [
        f'<svg class="timeline" width="900" '
        f'height="{height}" viewBox="0 0 900 {height}" role="img" '
        f'aria-label="timeline of case {esc(case_id)}">',
        f'<line x1="{left}" y1="{height - 28}" x2="{right}" y2="{height - 28}" '
        'stroke="#888"/>',
    ]
    for ns, label in _ticks(start, end):
        xx = x_of(ns)
        parts.append(f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 28}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{xx:.1f}" y="{height - 12}" font-size="10" '
                     f'text-anchor="middle" fill="#555">{esc(label)}</text>')
    for index, activity in enumerate(activities):
        yy = top + row_h * index + row_h / 2
        parts.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{esc(activity)}</text>")
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{right}" y2="{yy:.1f}" '
                     'stroke="#f3f3f3"/>')
    for rule_id, ns in deadlines:
        xx = x_of(ns)
        parts.append(f'<line x1="{xx:.1f}" y1="{top - 8}" x2="{xx:.1f}" y2="{height - 28}" '
                     'stroke="#b2182b" stroke-dasharray="4 3"><title>deadline of '
                     f"{esc(rule_id)}: {esc(shown(pd.Timestamp(ns, tz='UTC')))}</title></line>")
        parts.append(f'<text x="{xx + 3:.1f}" y="{top - 12}" font-size="10" fill="#b2182b">'
                     f"{esc(rule_id)}</text>")
    for activity, event_ns, only_date in zip(events["activity"], times.tolist(),
                                             events["date_only"], strict=True):
        at = pd.Timestamp(int(event_ns), tz="UTC")
        key = (str(activity), iso(at))
        colour = ("#d95f02" if key in evidence else "#1b9e77" if key in triggers
                  else "#4575b4")
        yy = top + row_h * activities.index(str(activity)) + row_h / 2
        fill = "white" if bool(only_date) else colour
        parts.append(
            f'<circle cx="{x_of(int(event_ns)):.1f}" cy="{yy:.1f}" r="4.5" fill="{fill}" '
            f'stroke="{colour}" stroke-width="2"><title>{esc(activity)}: '
            f"{esc(shown(at, date_only=bool(only_date)))}"
            f"{' (date only)' if bool(only_date) else ''}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def timelines_html(report: CheckReport) -> str:
    chosen, more = timeline_cases(report)
    if not chosen:
        return "<p>No case has a violated rule.</p>"
    events = report.log.events
    drawn = events[events["case_id"].isin(chosen)]
    by_case = dict(list(drawn.groupby("case_id", sort=False)))
    dev = report.deviations
    blocks = []
    for case in chosen:
        case_dev = dev[dev["case_id"] == case]
        items = []
        for row in case_dev.itertuples(index=False):
            items.append(f"<li><b>{esc(row.rule_id)}</b> ({esc(row.clause)}, "
                         f"{esc(row.severity)}): {esc(row.message)}</li>")
        case_events = by_case.get(case)
        svg = "" if case_events is None else timeline_svg(case, case_events, case_dev)
        blocks.append(f'<div class="case"><h3>Case {esc(case)}</h3><ul>{"".join(items)}</ul>'
                      f"{svg}</div>")
    if more:
        blocks.append(f"<p>{plural(more, 'more deviating case')} not drawn: see "
                      "deviations.csv.</p>")
    return "\n".join(blocks)
