"""Read an event log (CSV, Excel, Parquet, XES or a Children in Need census) into the schema of
CONTRACT.md §3.

``read_log`` is where event data enters the checker, so it validates everything and
reports every problem of a file at once (``InputError``), never a raw value from the
log: messages name the file, the line (or row, or XES line) and the column, what was
expected and what kind of thing was found.

What it guarantees about the result (``EventLog``):

* ``events`` is sorted by case id, then UTC time, then file order (pm4py results depend
  on row order); case ids are text exactly as in the file (never turned into NA), with
  surrounding spaces removed, as are activities, resources and roles.
* Timestamps are ISO 8601. Without an offset they are Europe/London wall-clock times: in
  the repeated hour when clocks go back the first (BST) reading is taken, a time in the
  hour skipped when clocks go forward is moved forward by the gap; both are counted in a
  warning. A date without a time is ``date_only`` and stands for local midnight.
* When a log carries lifecycle transitions only ``complete`` events are kept (an empty
  transition counts as complete); how many others were left out is a warning and
  ``excluded_other_lifecycle``.
* Events after the as-of time are left out and counted; cases with no event left are not
  in ``cases``. Activities outside the vocabulary are kept and counted. Duplicate rows are
  kept and warned about. Case attributes on which the rows of a case disagree are unknown
  (NA) for that case and listed in ``attribute_conflicts``.
* Columns that look like personal data are named in a warning, by column name only.

CSV line numbers count the header as line 1 and include blank lines and lines inside
quoted fields; XES positions are the XML line of the ``<event>`` (or ``<trace>``) element.

The package's modules, one per seam: ``schema`` (what a reader is given and gives back),
``mapping`` (the mapping file), ``csvfile``, ``parquetfile`` and ``xesfile`` (one reader per
format, each handing over a ``table.RawTable``), ``values`` (timestamps and yes/no values),
``personal`` (columns that look like personal data) and ``frame`` (from a table, or from
frames, to an ``EventLog``). Import the names below from ``conformance.logio`` itself.
"""

from __future__ import annotations

from pathlib import Path

from conformance.logio.censusfile import census_table, is_census
from conformance.logio.csvfile import read_csv
from conformance.logio.excelfile import EXCEL_SUFFIXES, read_excel
from conformance.logio.frame import build_log, log_from_frame
from conformance.logio.limits import DEFAULT_LIMITS, Limits
from conformance.logio.mapping import load_mapping
from conformance.logio.parquetfile import read_parquet
from conformance.logio.schema import (
    DEFAULT_ATTRIBUTES,
    SUPPORTED_SUFFIXES,
    ColumnMap,
    EventLog,
    ReadOptions,
)
from conformance.logio.xesfile import read_xes
from model.calendar import LONDON
from model.errors import InputError, Problem

__all__ = [
    "DEFAULT_ATTRIBUTES",
    "DEFAULT_LIMITS",
    "LONDON",
    "SUPPORTED_SUFFIXES",
    "ColumnMap",
    "EventLog",
    "Limits",
    "ReadOptions",
    "load_mapping",
    "log_from_frame",
    "read_log",
]


def read_log(path: Path | str, options: ReadOptions | None = None) -> EventLog:
    """Read, validate and normalise an event log (see the package docstring for what it
    guarantees).

    Parameters
    ----------
    path
        The log. The format follows the file name: ``.csv``/``.tsv``/``.txt``,
        ``.xlsx``/``.xlsm``/``.xls`` (``options.sheet``), ``.parquet``, ``.xes`` or ``.xes.gz``,
        or ``.xml``: a Children in Need census (root element ``<Message>``) or XES.
    options
        How to read it (``ReadOptions``: columns, local activity names, known activities, case
        attributes, timestamp format, delimiter, encoding, as-of time); None: the contract's
        schema.

    Returns
    -------
    EventLog
        The events in the contract's schema, one row per case with its attributes, the
        as-of time, and what the reader warned about.

    Raises
    ------
    model.errors.InputError
        Naming every problem of the file at once (its line or row, column, what was expected
        and what was found), never quoting a value from the log.

    Examples
    --------
    >>> import conformance
    >>> log = conformance.read_log(conformance.sample_log_path())
    >>> len(log.events), len(log.cases), str(log.as_of)
    (3540, 372, '2025-05-12 15:51:49+00:00')
    >>> print(log.events.loc[:1, ["case_id", "activity", "time_utc"]].to_string(index=False))
      case_id             activity                  time_utc
    SIM-00001 Social care notified 2024-04-02 08:15:00+00:00
    SIM-00001      Police notified 2024-04-03 15:26:26+00:00
    """
    options = options if options is not None else ReadOptions()
    path = Path(path)
    source = str(path)
    name = path.name
    lower = name.lower()
    if not path.is_file():
        raise InputError(source, [Problem(name, "an existing, readable file", "no such file")])
    if lower.endswith(".xml"):
        if is_census(path):
            table = census_table(path, source, options)
        else:
            table = read_xes(path, source, options)
    elif lower.endswith((".xes", ".xes.gz")):
        table = read_xes(path, source, options)
    elif lower.endswith(EXCEL_SUFFIXES):
        table = read_excel(path, source, options)
    elif lower.endswith(".parquet"):
        table = read_parquet(path, source, options)
    elif lower.endswith((".csv", ".tsv", ".txt")):
        table = read_csv(path, source, options)
    else:
        raise InputError(
            source,
            [
                Problem(
                    name,
                    "a file name ending in " + ", ".join(SUPPORTED_SUFFIXES),
                    "another suffix",
                )
            ],
        )
    return build_log(table, options)
