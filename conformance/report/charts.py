"""The charts of a check (matplotlib, imported only when a chart is drawn): compliance per rule,
compliance per rule and month, missed deadlines by how late."""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from conformance.report.formatting import HEATMAP_MONTHS, LATENESS_BANDS
from model.calendar import LONDON

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from conformance.report.result import CheckReport


def png_bytes(figure: Figure) -> bytes:
    """A chart as the HTML report embeds it: PNG at 100 dpi, cropped to what is drawn, without
    the software version stamp (the same chart gives the same bytes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None},
                   bbox_inches="tight")
    return buffer.getvalue()


def data_uri(figure: Figure) -> str:
    """A chart as a data: URI (``png_bytes``)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(figure)).decode("ascii")


def compliance_figure(summary: pd.DataFrame) -> Figure | None:
    """Compliance per rule (``CheckReport.summary``) as horizontal bars, dark for rules of
    severity violation, light for warnings, each labelled with its rate and counts; the rules
    no case was judged on are left out. None when no rule was judged."""
    from matplotlib.figure import Figure

    judged = summary[(summary["satisfied"] + summary["violated"]) > 0]
    if judged.empty:
        return None
    figure = Figure(figsize=(8, 0.32 * len(judged) + 1.2))
    axes = figure.add_subplot()
    y = np.arange(len(judged))[::-1]
    rates = 100 * judged["compliance"].to_numpy(dtype=float)
    colours = ["#b2182b" if s == "violation" else "#ef8a62" for s in judged["severity"]]
    axes.barh(y, rates, color=colours)
    satisfied = judged["satisfied"].to_numpy(dtype=np.int64).tolist()
    judged_n = (judged["satisfied"] + judged["violated"]).to_numpy(dtype=np.int64).tolist()
    for yy, rate, n_ok, n in zip(y.tolist(), rates.tolist(), satisfied, judged_n, strict=True):
        label = f"{rate:.0f}%  ({n_ok:,} of {n:,})"
        axes.text(min(rate, 100.0) + 1, yy, label, va="center", fontsize=8)
    axes.set_yticks(y, [str(r) for r in judged["rule_id"]], fontsize=8)
    axes.set_xlim(0, 130)
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.set_xlabel("compliance: satisfied / (satisfied + violated), %")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def judgement_months(results: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Local month ('2024-03', Europe/London) of each judgement (rows of
    ``Judgement.results``): its trigger's time or, for a rule without a trigger (never / by
    Case closed), the case's first event (``events``: the log's events). Never the evidence's
    time: only violated judgements have one, which would make those months look worse."""
    starts = events.groupby("case_id", sort=False)["time_utc"].min()
    when = pd.to_datetime(results["case_id"].astype(object).map(starts), utc=True)
    if "trigger_time" in results:
        trigger = pd.to_datetime(results["trigger_time"], utc=True)
        when = trigger.where(trigger.notna(), when)
    local = when.dt.tz_convert(LONDON)
    keys = (local.dt.year * 100 + local.dt.month).astype("Int64")
    labels = {k: f"{k // 100}-{k % 100:02d}" for k in keys.dropna().unique().tolist()}
    months: pd.Series = keys.map(labels).astype(object)
    return months


def monthly_rates(report: CheckReport) -> pd.DataFrame:
    """Compliance (0 to 1: satisfied / (satisfied + violated)) per rule and month: one row per
    rule judged in some month (index ``rule_id``, in rule order), one column per month
    (``judgement_months``, ascending); NaN where nothing was judged. Empty when no judgement
    has a month."""
    results = report.judgement.results
    judged = results[results["status"].isin(("satisfied", "violated"))]
    if judged.empty:
        return pd.DataFrame()
    months = judgement_months(judged, report.log.events)
    frame = pd.DataFrame({"rule_id": judged["rule_id"].to_numpy(), "month": months.to_numpy(),
                          "ok": (judged["status"] == "satisfied").to_numpy()}).dropna()
    if frame.empty:
        return pd.DataFrame()
    all_months = sorted(frame["month"].unique())
    present = set(frame["rule_id"])
    rules = [r.id for r in report.judgement.rules if r.id in present]
    rates: pd.DataFrame = frame.groupby(["rule_id", "month"])["ok"].mean().unstack().reindex(
        index=rules, columns=all_months)
    return rates


def monthly_figure(report: CheckReport, *, months: int = HEATMAP_MONTHS
                   ) -> tuple[Figure | None, str]:
    """A heatmap of ``monthly_rates`` (rules by month, red to green, with the percentages when
    the grid is small) of the latest ``months`` months, and a note saying so when there are more
    (else ''). The figure is None when no judgement has a month."""
    from matplotlib.figure import Figure

    rate = monthly_rates(report)
    if rate.empty:
        return None, ""
    note = ""
    if rate.shape[1] > months:
        note = (f"The latest {months} of {rate.shape[1]} months are shown.")
        rate = rate.iloc[:, -months:].dropna(how="all")
    all_months = [str(m) for m in rate.columns]
    rules = [str(r) for r in rate.index]
    figure = Figure(figsize=(min(2.5 + 0.45 * len(all_months), 18), 0.32 * len(rules) + 1.6))
    axes = figure.add_subplot()
    data = np.ma.masked_invalid(100 * rate.to_numpy(dtype=float))
    image = axes.imshow(data, aspect="auto", cmap="RdYlGn", vmin=0, vmax=100,
                        interpolation="nearest")
    if len(all_months) * len(rules) <= 400:
        for (i, k), value in np.ndenumerate(data.filled(np.nan)):
            if not math.isnan(value):
                axes.text(k, i, f"{value:.0f}", ha="center", va="center", fontsize=7)
    axes.set_yticks(range(len(rules)), rules, fontsize=8)
    step = max(1, len(all_months) // 24)
    axes.set_xticks(range(0, len(all_months), step), all_months[::step], rotation=90, fontsize=8)
    figure.colorbar(image, ax=axes, label="compliance, %", fraction=0.03, pad=0.01)
    axes.set_xlabel("month (Europe/London) of the trigger, or of the case's start; empty: "
                    "nothing judged")
    return figure, note


def lateness_figure(deviations: pd.DataFrame) -> Figure | None:
    """Missed deadlines (``CheckReport.deviations`` with a lateness band) per band of
    LATENESS_BANDS, stacked by severity. None when no deadline was missed."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    late = deviations[deviations["lateness"] != ""]
    if late.empty:
        return None
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    x = np.arange(len(LATENESS_BANDS))
    bottom = np.zeros(len(LATENESS_BANDS))
    for severity, colour in (("violation", "#b2182b"), ("warning", "#ef8a62")):
        part = late[late["severity"] == severity]["lateness"].value_counts()
        heights = np.array([int(part.get(b, 0)) for b in LATENESS_BANDS], dtype=float)
        axes.bar(x, heights, bottom=bottom, color=colour, label=severity)
        bottom += heights
    for xx, total in zip(x.tolist(), bottom.tolist(), strict=True):
        if total:
            axes.text(xx, total, f"{int(total):,}", ha="center", va="bottom", fontsize=8)
    axes.set_xticks(x, [b.replace(" working", "\nworking") for b in LATENESS_BANDS], fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("missed deadlines")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure
