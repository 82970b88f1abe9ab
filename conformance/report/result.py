"""``CheckReport``: the log, the rules' judgement and the control-flow fitness of one check, with
the tables every output is built from (deviations, summary, caveats, cases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from conformance.engine import STATUSES
from conformance.report.caveats import Caveat, caveats_of
from conformance.report.formatting import DEVIATION_COLUMNS, lateness_bands
from conformance.report.jsonout import build_json
from model import contract
from model.scope import case_scopes_of

if TYPE_CHECKING:
    from conformance.engine import Judgement
    from conformance.fitness import FitnessResult
    from conformance.logio import EventLog


@dataclass(frozen=True)
class CheckReport:
    """The log, the rules' judgement and (unless switched off) the control-flow fitness of one
    check, with the tables every output is built from.

    Parameters
    ----------
    log
        The log as read.
    judgement
        Every rule judged on every case (``judge``).
    fitness
        The control-flow fitness, or None when it was not measured.
    fitness_note
        Why there is no fitness, when there is none.
    options
        The settings that shaped the check, for the report's reader.
    not_judged
        Rules left out because the source cannot evidence them (a census), with the reason.

    Examples
    --------
    >>> import conformance
    >>> report = conformance.check(conformance.sample_log_path(), as_of="2024-12-31T12:00",
    ...                            fitness="none")
    >>> first = report.deviations.iloc[0]
    >>> first["case_id"], first["rule_id"], first["basis"]
    ('SIM-00006', 'discuss-before-informing-family', 'text')
    >>> first["title"]
    'Police and social care are consulted before the family is told'
    >>> report.violations, len(report.cases_table)
    (26, 271)
    >>> [c.kind for c in report.caveats][:2]
    ['date_only', 'not_assessable']
    """

    log: EventLog
    judgement: Judgement
    fitness: FitnessResult | None = None
    fitness_note: str = ""  # why there is no fitness, when there is none
    options: Mapping[str, str] = field(default_factory=dict)  # settings that shaped the check
    not_judged: Mapping[str, str] = field(default_factory=dict)  # rule -> why it was not judged

    # ------------------------------------------------------------------ tables

    @cached_property
    def case_order(self) -> pd.Series:
        """Position of each case in the log (cases in first-appearance order)."""
        ids = list(self.log.cases.index)
        known = set(ids)
        ids += [c for c in pd.unique(self.judgement.results["case_id"]) if c not in known]
        return pd.Series(np.arange(len(ids)), index=pd.Index(ids, dtype=object))

    @cached_property
    def rule_order(self) -> dict[str, int]:
        return {rule.id: index for index, rule in enumerate(self.judgement.rules)}

    @cached_property
    def violated(self) -> pd.DataFrame:
        """The violated judgements without messages (cheap: for counts and bands), by case then
        rule order, with the ``lateness`` band."""
        results = self.judgement.results
        return _tidy(results[results["status"] == "violated"], self.case_order, self.rule_order)

    @cached_property
    def deviations(self) -> pd.DataFrame:
        """One row per violated rule per case, by case then rule order (DEVIATION_COLUMNS), with
        the engine's plain-language message."""
        frame = _tidy(self.judgement.deviations(), self.case_order, self.rule_order)
        for column in DEVIATION_COLUMNS:
            if column not in frame:
                frame[column] = pd.NA
        return frame.loc[:, list(DEVIATION_COLUMNS)]

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per rule (in rule order): rule_id, title (plain words), clause, severity, basis
        (``text`` or ``interpretation``), description, the count of cases per status and the
        compliance rate satisfied / (satisfied + violated) (NaN when neither)."""
        table = self.judgement.summary().copy()
        for column in ("rule_id", "title", "clause", "severity", "basis"):
            table[column] = table[column].astype(str)
        texts = {rule.id: rule.text() for rule in self.judgement.rules}
        table["description"] = [texts.get(r, "") for r in table["rule_id"]]
        for status in STATUSES:
            table[status] = table[status].astype("int64")
        table["compliance"] = table["compliance"].astype(float)
        columns = ["rule_id", "title", "clause", "severity", "basis", "description", *STATUSES,
                   "compliance"]
        return table.loc[:, columns].reset_index(drop=True)

    @cached_property
    def caveats(self) -> tuple[Caveat, ...]:
        return tuple(caveats_of(self))

    @cached_property
    def json_object(self) -> dict[str, Any]:
        """The JSON object of CONTRACT §6 (``to_json``); do not modify it."""
        return build_json(self)

    @property
    def violations(self) -> int:
        """Violated rules of severity ``violation`` (the count that makes the exit status 1)."""
        return int((self.violated["severity"] == "violation").sum())

    @property
    def exit_status(self) -> int:
        """0 when no rule of severity violation is violated, 1 when one is (CONTRACT §6)."""
        return 1 if self.violations else 0

    @cached_property
    def cases_table(self) -> pd.DataFrame:
        """Per case: route, events, first and last event, closed, counts of violations,
        warnings, pending and not assessable judgements, fitness and the case attributes."""
        return _cases_table(self)


def _tidy(rows: pd.DataFrame, case_order: pd.Series, rule_order: Mapping[str, int]
          ) -> pd.DataFrame:
    """Judgement rows with plain (not categorical) columns, the lateness band, in order."""
    frame = rows.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
    if "lateness" not in frame:
        frame["lateness"] = pd.Series(
            lateness_bands(frame.get("late_hours", []), frame.get("late_working_days", []),
                           frame.get("date_only", [False] * len(frame))),
            index=frame.index, dtype=object)
    return _ordered(frame, case_order, rule_order).reset_index(drop=True)


def _ordered(frame: pd.DataFrame, case_order: pd.Series, rule_order: Mapping[str, int]
             ) -> pd.DataFrame:
    if frame.empty:
        return frame
    case_rank = frame["case_id"].map(case_order).fillna(len(case_order)).astype("int64")
    rule_rank = frame["rule_id"].map(rule_order).fillna(len(rule_order)).astype("int64")
    keys = pd.DataFrame({"c": case_rank.to_numpy(), "k": frame["case_id"].astype(str).to_numpy(),
                         "r": rule_rank.to_numpy()})
    order = keys.sort_values(["c", "k", "r"], kind="stable").index
    return frame.iloc[order.to_numpy()]


def _route(events: pd.DataFrame, case_ids: pd.Index) -> pd.Series:
    """'workplace', 'referral', 'workplace, referral' or 'other' per case (CONTRACT §5)."""
    return pd.Series(case_scopes_of(events, case_ids).routes(), index=case_ids, dtype=object)


def _cases_table(report: CheckReport) -> pd.DataFrame:
    log = report.log
    events = log.events
    ids = pd.Index(report.case_order.index, dtype=object)
    grouped = events.groupby("case_id", sort=False)
    table = pd.DataFrame(index=ids)
    table["route"] = _route(events, ids) if len(events) else "other"
    table["events"] = grouped.size().reindex(ids).fillna(0).astype("int64")
    table["first_event"] = grouped["time_utc"].min().reindex(ids)
    table["last_event"] = grouped["time_utc"].max().reindex(ids)
    closed = set(events.loc[events["activity"] == contract.CASE_CLOSED, "case_id"])
    table["closed"] = [case in closed for case in ids]
    results = report.judgement.results
    for column, mask in (
        ("violations", (results["status"] == "violated") & (results["severity"] == "violation")),
        ("warnings", (results["status"] == "violated") & (results["severity"] == "warning")),
        ("pending", results["status"] == "pending"),
        ("not_assessable", results["status"] == "not_assessable"),
    ):
        counts = results[mask].groupby("case_id", observed=True).size()
        table[column] = counts.reindex(ids).fillna(0).astype("int64")
    if report.fitness is not None and len(report.fitness.cases):
        fit = report.fitness.cases.set_index("case_id")
        table["fitness"] = fit["fitness"].reindex(ids).round(4)
        table["fits_model"] = fit["is_fit"].reindex(ids)
        table["flow_deviations"] = fit["deviations"].reindex(ids).fillna("")
    personal = set(log.personal_data_columns)
    present = set(log.columns_used) or set(log.cases.columns)  # attributes the log carries
    for attribute in log.cases.columns:
        if attribute in present and attribute not in personal and attribute not in table:
            table[attribute] = log.cases[attribute].reindex(ids)
    table.index.name = "case_id"
    return table.reset_index()
