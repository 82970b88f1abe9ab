"""From rows to an ``EventLog``: validate the values of a reader's table (``build_log``); one
built from frames already in the schema (``log_from_frame``, for the simulator and tests) comes
from ``conformance.logio.fromframe`` and is named here too.

``build_log`` checks every value, keeps complete lifecycle events at or before the as-of time
(``conformance.logio.lifecycle``; with ``keep_starts``, each one's start event beside it),
maps activity names, settles case attributes (rows that disagree make one unknown), names
columns that look like personal data and sorts the events by case, time and file order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from conformance.logio.dates import FormatError, timestamp_spec
from conformance.logio.fromframe import log_from_frame
from conformance.logio.lifecycle import cases_lost, pair_starts, split_lifecycle
from conformance.logio.mapping import unmatched_entries
from conformance.logio.personal import personal_data
from conformance.logio.plausibility import (
    EARLY_TOLERANCE_DAYS,
    LATE_TOLERANCE_DAYS,
    Early,
    far_after,
    latest_is_outlier,
    steps_before_start,
)
from conformance.logio.rejects import RowProblem, collect_rejects
from conformance.logio.schema import Coverage, EventLog, ReadOptions
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
    parse_category,
    parse_flags,
    parse_timestamps,
    quote_values,
    stripped_text,
)
from model.errors import InputError, Problem

__all__ = ["build_log", "log_from_frame"]


def build_log(table: RawTable, options: ReadOptions) -> EventLog:
    problems = list(table.problems)
    warnings = list(table.warnings)
    name = table.name
    n = len(table.position)
    skip = options.on_bad_rows == "skip"
    personal = personal_data(table.available, table.sample)
    personal_columns = {c for c, _ in personal}
    row_problems: list[RowProblem] = []

    def where(field_or_attribute: str, mask: npt.NDArray[np.bool_]) -> str:
        column = table.columns[field_or_attribute]
        rows = lines_phrase(table.row_word, table.position[mask])
        return f"{name}, {rows}, {table.column_word} {column!r}"

    def bad_rows(field_or_attribute: str, mask: npt.NDArray[np.bool_], expected: str,
                 found: str, values: pd.Series | None = None) -> None:
        """Rows with a problem: an error (or, with --on-bad-rows skip, rows to leave out),
        naming the values unless the column looks like personal data."""
        column = table.columns[field_or_attribute]
        is_personal = column in personal_columns
        if values is not None:
            found = f"{found}: {quote_values(values, mask, is_personal)}"
        problems.append(Problem(where(field_or_attribute, mask), expected, found))
        row_problems.append(RowProblem(mask, column, f"expected {expected}; found {found}",
                                       values, is_personal))

    texts: dict[str, pd.Series] = {}
    for fieldname in ("case_id", "activity"):
        if fieldname in table.data:
            texts[fieldname] = stripped_text(table.data[fieldname])
            empty = (texts[fieldname] == "").to_numpy()
            if fieldname == "case_id" and table.case_ids_checked:
                continue
            if empty.any():
                bad_rows(fieldname, empty,
                         "a case id" if fieldname == "case_id" else "an activity",
                         "an empty value")
    times: Times | None = None
    order_note = ""
    if "timestamp" in table.data:
        try:
            spec = timestamp_spec(options.timestamp_format, options.date_order)
        except FormatError as err:
            raise InputError(table.source, [Problem("option timestamp_format", err.expected,
                                                    err.found)]) from None
        times = parse_timestamps(table.data["timestamp"], spec)
        stamps = table.data["timestamp"]
        shown = stripped_text(stamps) if not _is_datetime(stamps) else None
        expected = (f"a timestamp in the format {spec.describe()}" if spec.formats
                    else ISO_EXPECTED)
        if times.empty.any():
            bad_rows("timestamp", times.empty, "a timestamp", "an empty value")
        if times.unparseable.any():
            hint = ("" if spec.formats else "; if the export writes dates another way, say how "
                    "with --timestamp-format, e.g. '%d/%m/%Y %H:%M'")
            bad_rows("timestamp", times.unparseable, expected + hint,
                     "text that is not such a timestamp", shown)
        if times.out_of_range.any():
            bad_rows("timestamp", times.out_of_range,
                     f"a date between {OLDEST_YEAR} and {NEWEST_YEAR}",
                     "a date outside that range", shown)
        if times.contradicting.any():
            proof = ""
            if times.proof_row >= 0:
                proof = (f" ({table.row_word} {int(table.position[times.proof_row])} "
                         "proves that order)")
            swapped = "month first" if times.order == "day-first" else "day first"
            bad_rows("timestamp", times.contradicting,
                     f"dates written {times.contradiction}{proof}",
                     f"dates that can only be {swapped}", shown)
        if times.order_note:
            order_note = f"{table.column_word} {table.columns['timestamp']!r}: {times.order_note}"
            if times.proof_row >= 0 and not times.contradicting.any():
                order_note += (f" (as {table.row_word} "
                               f"{int(table.position[times.proof_row])} shows)")
    flags: dict[str, npt.NDArray[np.float64]] = {}
    seen_values: dict[str, set[str]] = {}
    for attribute, values in table.attributes.items():
        if attribute in options.categories:
            allowed = options.categories[attribute]
            flags[attribute], bad = parse_category(values, allowed)
            expected = "one of " + ", ".join(allowed) + " (any case) or an empty value"
        else:
            value_map = options.value_maps.get(attribute)
            flags[attribute], bad = parse_flags(values, value_map)
            expected = (FLAG_WORDS + " (add the column's own words under 'values:' in the "
                        "mapping file)")
            if not (isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool):
                seen_values[attribute] = set(pd.unique(stripped_text(values)))
        if bad.any():
            bad_rows(attribute, bad, expected, "other text", stripped_text(values))
    if table.problems or (problems and not skip):
        raise InputError(table.source, problems)
    assert times is not None  # a missing timestamp column is a problem above
    case_text, activity_text = texts["case_id"], texts["activity"]

    keep = np.ones(n, dtype=bool)
    rejects = collect_rejects(row_problems, table.position, table.rejected)
    if rejects.count or table.rejected:
        keep &= ~rejects.skipped
        skipped = rejects.count + len(table.rejected)
        warnings.append(Problem(
            name, "rows that can be read",
            f"{skipped:,} rows that could not be read, left out (--on-bad-rows skip); each is "
            "listed with its line and reason in the rejects file", topic="rows-skipped"))
        if not keep.any():
            raise InputError(table.source, [*problems, Problem(
                name, "at least one row that can be read", "none (every row was left out)")])

    # The mapping's ignore list: local steps that are not part of the procedure.
    ignored: dict[str, int] = {}
    if options.ignore:
        ignore_set = {i.strip() for i in options.ignore}
        is_ignored = activity_text.isin(ignore_set).to_numpy() & keep
        if is_ignored.any():
            per_name = activity_text[is_ignored].value_counts()
            ignored = {str(k): int(v) for k, v in sorted(per_name.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))}
            keep &= ~is_ignored
            if not keep.any():
                raise InputError(table.source, [Problem(
                    name, "at least one event that the mapping's ignore list keeps",
                    "only ignored steps")])
    read_activities = activity_text[keep | _ignored_mask(activity_text, options.ignore)]
    local_counts = {str(k): int(v) for k, v in read_activities.value_counts().items()}

    # Which events are kept: lifecycle 'complete' (or none), then not after as-of.
    keep, starts, excluded_lifecycle = split_lifecycle(table, keep, case_text,
                                                       options.keep_starts, warnings)
    as_of, as_of_reason = _as_of(table, options, times, keep, case_text, warnings)
    after = keep & (times.ns > as_of.value)
    starts &= times.ns <= as_of.value
    excluded_after = int(after.sum())
    if excluded_after:
        before = keep & ~after
        lost = cases_lost(case_text, before) - cases_lost(case_text, keep)
        warnings.append(
            Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                f"events at or before the as-of time {as_of.isoformat()}",
                f"{excluded_after:,} events after it, left out"
                + (f"; {lost:,} cases had no event before it" if lost else ""),
                topic="after-as-of",
            )
        )
        far = after & far_after(times.ns, int(as_of.value))
        if far.any():
            warnings.append(Problem(
                f"{name}, {table.column_word} {table.columns['timestamp']!r}",
                f"steps dated before the as-of time, or at most {LATE_TOLERANCE_DAYS} days "
                "after it",
                f"{int(far.sum()):,} steps dated long after it ("
                + _cases_phrase(case_text, far, table) + "): a day and month swapped, or a "
                "mistyped year, looks like this; check these dates",
                topic="implausible-dates"))
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
    unmatched: list[Problem] = []
    if options.mapping is not None:
        unmatched = unmatched_entries(options.mapping, local_counts, seen_values)
        warnings.extend(unmatched)

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
        table, options.attributes, {a: f[kept] for a, f in flags.items()}, codes, case_ids,
        options.categories,
    )
    warnings.extend(attribute_warnings)

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
    sorted_names = np.asarray(mapped, dtype=object)[act_codes[order]]
    for early in steps_before_start(codes[order], sorted_names, ns[order]):
        warnings.append(_early_warning(early, table, name, case_ids, codes[order], sorted_names,
                                       table.position[kept][order]))
    in_vocabulary = (np.isin(mapped, np.asarray(sorted(options.vocabulary), dtype=object))
                     if options.vocabulary else np.ones(len(mapped), dtype=bool))
    n_mapped = int(np.bincount(act_codes, minlength=len(mapped))[in_vocabulary].sum())
    coverage = Coverage(rows=n + len(table.rejected), skipped=rejects.count + len(table.rejected),
                        ignored=ignored, events=len(kept), mapped=n_mapped)
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
    if options.keep_starts:  # each complete event's start (NaT when it has none)
        paired = pair_starts(events["case_id"].to_numpy(), events["activity"].to_numpy(),
                             ns[order], case_text[starts].to_numpy(),
                             [activity_map.get(a, a) for a in activity_text[starts]],
                             times.ns[starts])
        events["start_utc"] = pd.Series(paired.view("datetime64[ns]")).dt.tz_localize("UTC")
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
        coverage=coverage,
        as_of_reason=as_of_reason,
        date_order=order_note,
        unmatched_mapping=tuple(unmatched),
        rejects=rejects.rows if len(rejects.rows) else None,
        row_word=table.row_word,
        census=table.census,
        sheet=table.sheet,
        columns_available=tuple(table.available),
        personal_data_reasons=dict(personal),
    )


def _is_datetime(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype)


def _ignored_mask(activity_text: pd.Series, ignore: Sequence[str]) -> npt.NDArray[np.bool_]:
    if not ignore:
        return np.zeros(len(activity_text), dtype=bool)
    mask: npt.NDArray[np.bool_] = activity_text.isin({i.strip() for i in ignore}).to_numpy()
    return mask


def _cases_phrase(case_text: pd.Series, mask: npt.NDArray[np.bool_], table: RawTable,
                  limit: int = 10) -> str:
    """'case W2 (line 5), case W7 (line 31), ...' for the first rows of ``mask``."""
    rows = np.flatnonzero(mask)
    parts = [f"case {case_text.iloc[r]} ({table.row_word} {int(table.position[r])})"
             for r in rows[:limit]]
    more = f", ... ({len(rows):,} in total)" if len(rows) > limit else ""
    return ", ".join(parts) + more


def _as_of(table: RawTable, options: ReadOptions, times: Times, keep: npt.NDArray[np.bool_],
           case_text: pd.Series, warnings: list[Problem]) -> tuple[pd.Timestamp, str]:
    """The as-of time and why: given, the census's reference date, or the latest timestamp
    (with a warning when that timestamp lies far beyond every other case)."""
    if options.as_of is not None:
        return as_utc(options.as_of), options.as_of_reason or "given"
    if table.census is not None:
        reference = table.census.reference_date
        end = datetime.combine(reference, datetime.max.time())
        return as_utc(end), (f"the census's ReferenceDate, {reference:%d/%m/%Y}, read as the "
                             "end of that day (the DfE's validator judges at its start: give "
                             f"--as-of {reference.isoformat()}T00:00:00 for that reading)")
    rows = np.flatnonzero(keep)
    latest = rows[int(np.argmax(times.ns[rows]))]
    stamp = pd.Timestamp(int(times.ns[latest]), tz="UTC")
    where = f"case {case_text.iloc[latest]}, {table.row_word} {int(table.position[latest])}"
    reason = f"the latest timestamp in the log ({where}); give --as-of for the extraction time"
    codes, _ = pd.factorize(case_text[keep])
    outlier = latest_is_outlier(codes, times.ns[rows])
    if outlier is not None:
        _, gap = outlier
        reason += (f"; it is {gap:,} days after any other case's last step: a mistyped date "
                   "would make every deadline before it look passed")
        warnings.append(Problem(
            f"{table.name}, {where}",
            "an as-of time near the other cases' steps (give --as-of)",
            f"the latest timestamp, {gap:,} days after any other case's last step, used as "
            "the as-of time", topic="implausible-dates"))
    return stamp, reason


def _early_warning(early: Early, table: RawTable, name: str, case_ids: pd.Index,
                   codes: npt.NDArray[np.intp], activities: npt.NDArray[np.object_],
                   positions: npt.NDArray[np.int64]) -> Problem:
    case = case_ids[codes[early.event]]
    return Problem(
        f"{name}, case {case}, {table.row_word} {int(positions[early.event])}",
        f"steps dated on or after the step that starts their case (at most "
        f"{EARLY_TOLERANCE_DAYS} days before it)",
        f"'{activities[early.event]}' dated {early.days:,} days before the case's "
        f"'{activities[early.start]}' ({table.row_word} {int(positions[early.start])}): a day "
        "and month swapped, or a mistyped year, looks like this; check the date",
        topic="implausible-dates")


def _case_attributes(
    table: RawTable,
    attributes: Sequence[str],
    flags: Mapping[str, npt.NDArray[np.float64]],
    codes: npt.NDArray[np.intp],
    case_ids: pd.Index,
    categories: Mapping[str, Sequence[str]],
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """One value per case and attribute; rows that disagree make it unknown (NA). A
    categorical attribute's ``flags`` are the indexes of its values in ``categories``.

    Returns the cases frame, the (case_id, attribute) conflicts and one warning per
    attribute with conflicts (a count, no values).
    """
    cases = pd.DataFrame(index=pd.Index(case_ids, dtype=TEXT, name="case_id"))
    conflict_rows: list[tuple[int, int]] = []
    warnings: list[Problem] = []
    everyone = range(len(case_ids))
    for attribute_index, attribute in enumerate(attributes):
        if attribute not in flags:
            cases[attribute] = (
                as_text([None] * len(case_ids)).to_numpy() if attribute in categories
                else pd.array([pd.NA] * len(case_ids), dtype="boolean"))
            continue
        grouped = pd.Series(flags[attribute]).groupby(codes)
        low = grouped.min().reindex(everyone).to_numpy()
        high = grouped.max().reindex(everyone).to_numpy()
        conflict = ~np.isnan(low) & ~np.isnan(high) & (low != high)
        settled = np.where(conflict, np.nan, low)
        if attribute in categories:
            named = list(categories[attribute])
            cases[attribute] = as_text(
                [None if np.isnan(v) else named[int(v)] for v in settled]).to_numpy()
        else:
            cases[attribute] = pd.array(settled, dtype="Float64").astype("boolean")
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
