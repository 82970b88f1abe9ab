"""From rows to an ``EventLog``: validate the values of a reader's table (``build_log``), and
build one from frames already in the schema (``log_from_frame``, for the simulator and tests).

``build_log`` checks every value, keeps complete lifecycle events at or before the as-of time,
maps activity names, settles case attributes (rows that disagree make one unknown), names
columns that look like personal data and sorts the events by case, time and file order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.personal import personal_data
from conformance.logio.schema import EventLog, ReadOptions
from conformance.logio.table import RawTable, lines_phrase
from conformance.logio.values import (
    FLAG_WORDS,
    ISO_EXPECTED,
    NEWEST_YEAR,
    OLDEST_YEAR,
    TEXT,
    Times,
    as_text,
    as_utc,
    parse_flags,
    parse_times,
    stripped_text,
)
from model.calendar import LONDON
from model.errors import InputError, Problem

__all__ = ["build_log", "log_from_frame"]


def build_log(table: RawTable, options: ReadOptions) -> EventLog:
    problems = list(table.problems)
    warnings = list(table.warnings)
    name = table.name
    n = len(table.position)

    def where(field_or_attribute: str, mask: npt.NDArray[np.bool_]) -> str:
        column = table.columns[field_or_attribute]
        rows = lines_phrase(table.row_word, table.position[mask])
        return f"{name}, {rows}, {table.column_word} {column!r}"

    texts: dict[str, pd.Series] = {}
    for fieldname in ("case_id", "activity"):
        if fieldname in table.data:
            texts[fieldname] = stripped_text(table.data[fieldname])
            empty = (texts[fieldname] == "").to_numpy()
            if fieldname == "case_id" and table.case_ids_checked:
                continue
            if empty.any():
                problems.append(
                    Problem(
                        where(fieldname, empty),
                        "a case id" if fieldname == "case_id" else "an activity",
                        "an empty value",
                    )
                )
    times: Times | None = None
    if "timestamp" in table.data:
        fmt = options.timestamp_format
        times = parse_times(table.data["timestamp"], fmt, table.source)
        expected = f"a timestamp in the format {fmt}" if fmt else ISO_EXPECTED
        if times.empty.any():
            problems.append(
                Problem(where("timestamp", times.empty), "a timestamp", "an empty value")
            )
        if times.unparseable.any():
            problems.append(
                Problem(
                    where("timestamp", times.unparseable),
                    expected,
                    "text that is not such a timestamp"
                    + ("" if fmt else "; if the export writes dates another way, say how with "
                       "--timestamp-format, e.g. '%d/%m/%Y %H:%M'"),
                )
            )
        if times.out_of_range.any():
            problems.append(
                Problem(
                    where("timestamp", times.out_of_range),
                    f"a date between {OLDEST_YEAR} and {NEWEST_YEAR}",
                    "a date outside that range",
                )
            )
    flags: dict[str, npt.NDArray[np.float64]] = {}
    for attribute, values in table.attributes.items():
        flags[attribute], bad = parse_flags(values)
        if bad.any():
            problems.append(Problem(where(attribute, bad), FLAG_WORDS, "other text"))
    if problems:
        raise InputError(table.source, problems)
    assert times is not None  # a missing timestamp column is a problem above
    case_text, activity_text = texts["case_id"], texts["activity"]

    # Which events are kept: lifecycle 'complete' (or none), then not after as-of.
    keep = np.ones(n, dtype=bool)
    excluded_lifecycle = 0
    if "lifecycle" in table.data:
        transition = stripped_text(table.data["lifecycle"]).str.lower()
        other = ((transition != "") & (transition != "complete")).to_numpy()
        excluded_lifecycle = int(other.sum())
        if excluded_lifecycle:
            keep &= ~other
            lost = _cases_lost(case_text, ~other)
            warnings.append(
                Problem(
                    f"{name}, {table.column_word} {table.columns['lifecycle']!r}",
                    "only events whose lifecycle transition is 'complete' (the steps judged)",
                    f"{excluded_lifecycle:,} events with another transition (such as start or "
                    f"schedule), left out"
                    + (f"; {lost:,} cases had no complete event" if lost else ""),
                    topic="lifecycle",
                )
            )
            if not keep.any():
                raise InputError(
                    table.source,
                    [
                        Problem(
                            name, "at least one event with lifecycle transition 'complete'", "none"
                        )
                    ],
                )
    as_of = (
        as_utc(options.as_of)
        if options.as_of is not None
        else pd.Timestamp(int(times.ns[keep].max()), tz="UTC")
    )
    after = keep & (times.ns > as_of.value)
    excluded_after = int(after.sum())
    if excluded_after:
        before = keep & ~after
        lost = _cases_lost(case_text, before) - _cases_lost(case_text, keep)
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                f"events at or before the as-of time {as_of.isoformat()}",
                f"{excluded_after:,} events after it, left out"
                + (f"; {lost:,} cases had no event before it" if lost else ""),
                topic="after-as-of",
            )
        )
        keep = before
    if times.ambiguous:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                "unambiguous local times",
                f"{times.ambiguous:,} times without an offset in the hour repeated when clocks go "
                "back; read as British Summer Time (the first occurrence)",
            )
        )
    if times.nonexistent:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                "local times that exist",
                f"{times.nonexistent:,} times without an offset in the hour skipped when clocks "
                "go forward; moved forward by an hour",
            )
        )

    kept = np.flatnonzero(keep)
    everything = len(kept) == n

    def kept_of(values: pd.Series) -> pd.Series:
        return values if everything else values.iloc[kept].reset_index(drop=True)

    case = kept_of(case_text)
    codes, case_ids = pd.factorize(case)  # first-appearance order

    # Activities: map local names, count those outside the vocabulary (kept).
    activity_map = {k.strip(): v for k, v in options.activity_map.items()}
    act_codes, act_names = pd.factorize(kept_of(activity_text))
    mapped = np.asarray([activity_map.get(a, a) for a in act_names], dtype=object)
    unknown: dict[str, int] = {}
    if options.vocabulary:
        counts = np.bincount(act_codes, minlength=len(mapped))
        for activity, count in zip(mapped, counts, strict=True):
            if activity not in options.vocabulary:
                unknown[activity] = unknown.get(activity, 0) + int(count)
        unknown = dict(sorted(unknown.items(), key=lambda item: (-item[1], item[0])))
        if unknown:
            listed = ", ".join(f"{a!r} ({c:,})" for a, c in list(unknown.items())[:50])
            more = f", ... ({len(unknown)} names)" if len(unknown) > 50 else ""
            warnings.append(
                Problem(
                    f"{name}, {table.column_word} {table.columns['activity']!r}",
                    "activity names of the model, the rules or the mapping",
                    f"{sum(unknown.values()):,} events with other names, kept: {listed}{more}",
                    topic="unknown-activities",
                )
            )
    activity_names = pd.array(mapped, dtype=TEXT)

    def optional_text(fieldname: str) -> pd.Series:
        if fieldname not in table.data:
            return as_text(np.full(len(kept), np.nan, dtype=object))
        values = kept_of(stripped_text(table.data[fieldname]))
        return values.where(values != "")

    resource = optional_text("resource")
    role = optional_text("role")
    ns = times.ns[kept]
    source_row = table.source_row[kept]

    cases, attribute_conflicts, attribute_warnings = _case_attributes(
        table, options.attributes, {a: f[kept] for a, f in flags.items()}, codes, case_ids
    )
    warnings.extend(attribute_warnings)

    personal = personal_data(table.available, table.sample)
    for column, reason in personal:
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {column!r}",
                "no personal data in a log for auditing (pseudonymise it first)",
                f"a {table.column_word} that looks like personal data: {reason}",
                topic="personal-data",
            )
        )

    # Sort: case id, then time, then file order.
    names = np.asarray(case_ids, dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    # Two stable sorts (time, then case) keep file order for ties: rows are in file order.
    order = np.argsort(ns, kind="stable")
    order = order[np.argsort(rank[codes][order], kind="stable")]
    duplicates = _duplicates(order, codes, act_codes, ns, resource)
    if len(duplicates):
        warnings.append(
            Problem(
                f"{name}, {lines_phrase(table.row_word, np.sort(table.position[kept][duplicates]))}",
                "each event once",
                f"{len(duplicates):,} rows repeating an earlier row's case, activity, time "
                "and resource (kept)",
            )
        )
    events = pd.DataFrame(
        {
            "case_id": as_text(case_ids.take(codes[order])),
            "activity": pd.Series(activity_names.take(act_codes[order])),
            "time_utc": pd.Series(ns[order].view("datetime64[ns]")).dt.tz_localize("UTC"),
            "date_only": times.date_only[kept][order],
            "source_row": source_row[order].astype(np.int64),
            "resource": _reordered(resource, order),
            "role": _reordered(role, order),
        }
    )
    return EventLog(
        source=table.source,
        events=events,
        cases=cases,
        as_of=as_of,
        warnings=tuple(warnings),
        unknown_activities=unknown,
        attribute_conflicts=attribute_conflicts,
        personal_data_columns=tuple(c for c, _ in personal),
        excluded_after_as_of=excluded_after,
        excluded_other_lifecycle=excluded_lifecycle,
        columns_used=dict(table.columns),
    )


def _case_attributes(
    table: RawTable,
    attributes: Sequence[str],
    flags: Mapping[str, npt.NDArray[np.float64]],
    codes: npt.NDArray[np.intp],
    case_ids: pd.Index,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """One value per case and attribute; rows that disagree make it unknown (NA).

    Returns the cases frame, the (case_id, attribute) conflicts and one warning per
    attribute with conflicts (a count, no values).
    """
    cases = pd.DataFrame(index=pd.Index(case_ids, dtype=TEXT, name="case_id"))
    conflict_rows: list[tuple[int, int]] = []
    warnings: list[Problem] = []
    everyone = range(len(case_ids))
    for attribute_index, attribute in enumerate(attributes):
        if attribute not in flags:
            cases[attribute] = pd.array([pd.NA] * len(case_ids), dtype="boolean")
            continue
        grouped = pd.Series(flags[attribute]).groupby(codes)
        low = grouped.min().reindex(everyone).to_numpy()
        high = grouped.max().reindex(everyone).to_numpy()
        conflict = ~np.isnan(low) & ~np.isnan(high) & (low != high)
        values = pd.array(np.where(conflict, np.nan, low), dtype="Float64")
        cases[attribute] = values.astype("boolean")
        if conflict.any():
            conflict_rows.extend((int(c), attribute_index) for c in np.flatnonzero(conflict))
            warnings.append(
                Problem(
                    f"{table.name}, {table.column_word} {table.columns[attribute]!r}",
                    "the same value on every row of a case",
                    f"{int(conflict.sum()):,} cases whose rows disagree; the attribute is "
                    "treated as unknown for them",
                    topic="attribute-conflicts",
                )
            )
    conflict_rows.sort()
    conflicts = pd.DataFrame(
        {
            "case_id": as_text([case_ids[c] for c, _ in conflict_rows]),
            "attribute": as_text([attributes[a] for _, a in conflict_rows]),
        }
    )
    return cases, conflicts, warnings


def _duplicates(
    order: npt.NDArray[np.intp],
    codes: npt.NDArray[np.intp],
    act_codes: npt.NDArray[np.intp],
    ns: npt.NDArray[np.int64],
    resource: pd.Series,
) -> npt.NDArray[np.intp]:
    """Positions of events repeating an earlier one's case, activity, time and resource.

    ``order`` sorts by case, time and file order, so only rows that share case and time
    with a neighbour in it can be duplicates; just those are compared.
    """
    sorted_case, sorted_ns = codes[order], ns[order]
    tie = (sorted_case[1:] == sorted_case[:-1]) & (sorted_ns[1:] == sorted_ns[:-1])
    in_tie = np.zeros(len(order), dtype=bool)
    in_tie[1:] |= tie
    in_tie[:-1] |= tie
    candidates = order[in_tie]  # grouped by case and time, file order within a group
    resource_codes, _ = pd.factorize(resource.iloc[candidates], use_na_sentinel=True)
    frame = pd.DataFrame(
        {
            "c": codes[candidates],
            "a": act_codes[candidates],
            "t": ns[candidates],
            "r": resource_codes,
        }
    )
    found: npt.NDArray[np.intp] = candidates[frame.duplicated().to_numpy()]
    return found


def _reordered(values: pd.Series, order: npt.NDArray[np.intp]) -> pd.Series:
    """``values`` in ``order``, taken through its distinct values (much faster for text)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0:  # every value missing (pandas 2 cannot take from an empty index)
        return as_text(np.full(len(order), np.nan, dtype=object))
    # fill_value=None would mean "no filling": code -1 would take the last distinct value
    return as_text(uniques.take(codes[order], allow_fill=True, fill_value=np.nan))


def _cases_lost(case: pd.Series, keep: npt.NDArray[np.bool_]) -> int:
    """How many cases have no event left under ``keep``."""
    codes, uniques = pd.factorize(case)
    present = np.zeros(len(uniques), dtype=bool)
    present[codes[keep]] = True
    return int((~present).sum())


def log_from_frame(
    events: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    as_of: pd.Timestamp | datetime | str | None = None,
    source: str = "<frame>",
) -> EventLog:
    """An ``EventLog`` built from frames already in the reader's schema (for simulators, tests).

    ``events`` needs ``case_id``, ``activity`` and ``time_utc`` (aware, or naive = Europe/London
    wall time); ``date_only`` (default False), ``source_row`` (default: the row order),
    ``resource`` and ``role`` are optional. ``cases`` is indexed by case id with boolean columns
    (NA = unknown); by default every attribute of every case is unknown. ``as_of`` defaults to
    the latest event time. The events are sorted by case (in order of first appearance), time
    and file order.
    """
    times = pd.Series(pd.to_datetime(events["time_utc"])).reset_index(drop=True)
    if times.dt.tz is None:
        times = times.dt.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    n = len(events)
    frame = pd.DataFrame(
        {
            "case_id": as_text(events["case_id"]).array,
            "activity": as_text(events["activity"]).array,
            "time_utc": times.dt.tz_convert(UTC).dt.as_unit("ns").array,
            "date_only": (
                events["date_only"].to_numpy(dtype=bool)
                if "date_only" in events
                else np.zeros(n, dtype=bool)
            ),
            "source_row": (
                events["source_row"].to_numpy(dtype=np.int64)
                if "source_row" in events
                else np.arange(n, dtype=np.int64)
            ),
        }
    )
    for column in ("resource", "role"):
        values = events[column].to_numpy() if column in events else [pd.NA] * n
        frame[column] = as_text(values).array
    case_order, ids = pd.factorize(frame["case_id"])
    order = np.lexsort((frame["source_row"].to_numpy(), _utc_ns(frame["time_utc"]), case_order))
    frame = frame.iloc[order].reset_index(drop=True)
    index = pd.Index(ids, dtype=TEXT, name="case_id")
    if cases is None:
        table = pd.DataFrame(index=index)
    else:
        table = cases.copy()
        table.index = pd.Index(table.index.astype(TEXT), name="case_id")
        table = table.reindex(index).astype("boolean")
    if as_of is not None:
        stamp = as_utc(as_of)
    elif n:
        stamp = pd.Timestamp(frame["time_utc"].max())
    else:
        stamp = pd.Timestamp("1970-01-01", tz=UTC)
    return EventLog(
        source=source,
        events=frame,
        cases=table,
        as_of=stamp,
        warnings=(),
        unknown_activities={},
        attribute_conflicts=pd.DataFrame({"case_id": [], "attribute": []}, dtype=TEXT),
        personal_data_columns=(),
        excluded_after_as_of=0,
    )


def _utc_ns(values: pd.Series) -> npt.NDArray[np.int64]:
    """``int64`` UTC nanoseconds of an aware datetime column."""
    return np.asarray(pd.DatetimeIndex(values).tz_convert(UTC).as_unit("ns").asi8, dtype=np.int64)
