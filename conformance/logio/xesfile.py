"""XES logs (``.xes`` and ``.xes.gz``), streamed through expat with defusedxml's guards: only the
attributes the reader needs are kept, event by event; messages name the XML line."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ErrorString

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from conformance.logio.schema import DEFAULT_COLUMNS, LIFECYCLE_KEY, ReadOptions
from conformance.logio.table import SAMPLE_ROWS, RawTable, lines_phrase
from conformance.logio.values import FLAG_WORDS, as_text, parse_flags
from model.errors import InputError, Problem


class _NotXes(Exception):
    """Raised from inside the XML parser when the root element is not <log>."""


_EVENT_FIELDS: Final = ("activity", "timestamp", "resource", "role", "lifecycle")


class _XesCollector:
    """Expat element handlers that keep, event by event, only what the reader needs.

    Only attributes that are direct children of ``<trace>`` and ``<event>`` count; nested
    (list or container) attributes and log-level metadata are skipped.
    """

    def __init__(
        self,
        event_keys: Mapping[str, int],
        case_key: str,
        attribute_keys: Mapping[str, str],
    ) -> None:
        self.expat: Any = None  # the underlying expat parser, for line numbers
        self._event_keys = event_keys
        self.field_keys = {_EVENT_FIELDS[i]: k for k, i in event_keys.items()} | {
            "case_id": case_key
        }
        self._case_keys = frozenset({case_key, "case:" + case_key})
        self._attribute_keys = attribute_keys
        self._local: dict[str, str] = {}
        self.depth = 0
        self.trace_depth = 0  # 0 = not inside a trace
        self.event_depth = 0
        self._event_attribute_depth = -1
        self._sampling = True
        self.trace_ids: list[str | None] = []
        self.trace_lines: list[int] = []
        self.trace_events: list[int] = []
        self.trace_attributes: dict[str, list[str | None]] = {
            a: [] for a in dict.fromkeys(attribute_keys.values())
        }
        self._trace: dict[str, str] = {}
        self._trace_id: str | None = None
        self.event_trace: list[int] = []
        self.event_lines: list[int] = []
        self.event_values: tuple[list[str | None], ...] = tuple([] for _ in _EVENT_FIELDS)
        self._event: list[str | None] = [None] * len(_EVENT_FIELDS)
        self.events_outside_traces = 0
        self.event_keys_seen: dict[str, None] = {}
        self.trace_keys_seen: dict[str, None] = {}
        self.samples: dict[str, list[str]] = {}

    def line(self) -> int:
        """The parser's current line (for messages)."""
        return int(self.expat.CurrentLineNumber) if self.expat is not None else 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        if depth == self._event_attribute_depth:  # the hot path: an attribute of an event
            key = attrib.get("key")
            if key is None:
                return
            index = self._event_keys.get(key)
            if index is not None:
                self._event[index] = attrib.get("value")
            if key not in self.event_keys_seen:
                self.event_keys_seen[key] = None
            if self._sampling:
                self._sample(key, tag, attrib)
            return
        if self.event_depth:
            return  # nested inside an event attribute
        local = self._local_name(tag)
        if self.trace_depth:
            if depth != self.trace_depth + 1:
                return
            if local == "event":
                self.event_depth = depth
                self._event_attribute_depth = depth + 1
                self.event_lines.append(self.expat.CurrentLineNumber)
                return
            key = attrib.get("key")
            value = attrib.get("value")
            if key is None or value is None:
                return
            if key in self._case_keys:
                self._trace_id = value
            attribute = self._attribute_keys.get(key)
            if attribute is not None:
                self._trace[attribute] = value
            column = "case:" + key
            if column not in self.trace_keys_seen:
                self.trace_keys_seen[column] = None
            if self._sampling:
                self._sample(column, tag, attrib)
        elif depth == 1:
            if local != "log":
                raise _NotXes
        elif local == "trace" and depth == 2:
            self.trace_depth = depth
            self.trace_lines.append(self.expat.CurrentLineNumber)
            self.trace_events.append(0)
            self._trace = {}
            self._trace_id = None
        elif local == "event" and depth == 2:
            self.events_outside_traces += 1

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == self.event_depth:
            self.event_depth = 0
            self._event_attribute_depth = -1
            trace = len(self.trace_ids)
            self.event_trace.append(trace)
            self.trace_events[trace] += 1
            for values, value in zip(self.event_values, self._event, strict=True):
                values.append(value)
            self._event = [None] * len(_EVENT_FIELDS)
            if self._sampling and len(self.event_trace) >= SAMPLE_ROWS:
                self._sampling = False
        elif depth == self.trace_depth:
            self.trace_depth = 0
            self.trace_ids.append(self._trace_id)
            for attribute, values in self.trace_attributes.items():
                values.append(self._trace.get(attribute))

    def _local_name(self, tag: str) -> str:
        local = self._local.get(tag)
        if local is None:
            local = self._local[tag] = tag.rpartition("}")[2]
        return local

    def _sample(self, column: str, tag: str, attrib: dict[str, str]) -> None:
        """Keep text values of the first events and traces for personal-data checks."""
        value = attrib.get("value")
        if value is not None and self._local_name(tag) in ("string", "int", "id"):
            self.samples.setdefault(column, []).append(value)


@contextmanager
def _open_binary(path: Path) -> Iterator[io.BufferedIOBase]:
    """The file's bytes, gunzipped when it is gzip-compressed (by content, not name)."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def read_xes(path: Path, source: str, options: ReadOptions) -> RawTable:
    name = path.name
    columns = options.columns

    def key_for(fieldname: str, xes_key: str) -> str:
        given: str = getattr(columns, fieldname)
        return xes_key if given == getattr(DEFAULT_COLUMNS, fieldname) else given

    event_keys = {
        key_for("activity", "concept:name"): 0,
        key_for("timestamp", "time:timestamp"): 1,
        key_for("resource", "org:resource"): 2,
        key_for("role", "org:role"): 3,
        LIFECYCLE_KEY: 4,
    }
    case_key = key_for("case_id", "concept:name").removeprefix("case:")
    attribute_keys: dict[str, str] = {}
    for attribute in options.attributes:
        key = columns.attributes.get(attribute, attribute).removeprefix("case:")
        attribute_keys[key] = attribute
        attribute_keys["case:" + key] = attribute
    collector = _XesCollector(event_keys, case_key, attribute_keys)
    parser = DefusedXMLParser(
        target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    # Element callbacks go straight from expat to the collector (the ElementTree layer in
    # between doubles the time); defusedxml's DOCTYPE and entity guards stay installed.
    expat = collector.expat = parser.parser
    expat.ordered_attributes = False
    expat.StartElementHandler = collector.start
    expat.EndElementHandler = collector.end
    expat.DefaultHandlerExpand = None
    try:
        with _open_binary(path) as stream:
            while chunk := stream.read(1 << 20):
                parser.feed(chunk)
            parser.close()
    except DefusedXmlException:
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {collector.line()}",
                    "an XES file without a DOCTYPE, entity declarations or external references",
                    "a DOCTYPE or entity declaration; it was refused without being read "
                    "(it could read other files or exhaust memory)",
                )
            ],
        ) from None
    except ParseError as err:
        line, column = err.position
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {line}, column {column}",
                    "well-formed XML (XES)",
                    f"XML that is not well-formed ({ErrorString(err.code)})",
                )
            ],
        ) from None
    except _NotXes:
        raise InputError(
            source,
            [
                Problem(
                    f"{name}, line {collector.line()}",
                    "an XES <log> root element",
                    "another element",
                )
            ],
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise InputError(
            source,
            [
                Problem(
                    name, "a complete gzip-compressed file", "a damaged or truncated gzip stream"
                )
            ],
        ) from None
    return _xes_table(collector, source, name, options, case_key)


def _xes_table(
    collector: _XesCollector, source: str, name: str, options: ReadOptions, case_key: str
) -> RawTable:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    n = len(collector.event_trace)
    if n == 0:
        raise InputError(
            source, [Problem(name, "at least one <event> inside a <trace>", "no events")]
        )
    trace_lines = np.asarray(collector.trace_lines, dtype=np.int64)
    trace_events = np.asarray(collector.trace_events, dtype=np.int64)
    trace_of_event = np.asarray(collector.event_trace, dtype=np.int64)
    ids = collector.trace_ids
    missing = np.asarray([i is None for i in ids], dtype=bool) & (trace_events > 0)
    if missing.any():
        problems.append(
            Problem(
                f"{name}, {lines_phrase('line', trace_lines[missing])} (<trace>)",
                f"a trace attribute {case_key!r} (the case id)",
                "a trace without one",
            )
        )
    case_ids = np.asarray(["" if i is None else i for i in ids], dtype=object)
    empty_traces = int((trace_events == 0).sum())
    if empty_traces:
        warnings.append(
            Problem(
                name,
                "traces with at least one event",
                f"{empty_traces:,} traces without events (no case made)",
            )
        )
    if collector.events_outside_traces:
        warnings.append(
            Problem(
                name,
                "events inside traces",
                f"{collector.events_outside_traces:,} <event> elements outside any trace (ignored)",
            )
        )
    attributes: dict[str, pd.Series] = {}
    for attribute, per_trace in collector.trace_attributes.items():
        if all(v is None for v in per_trace):
            continue
        values, bad = parse_flags(as_text(per_trace))
        if bad.any():
            problems.append(
                Problem(
                    f"{name}, {lines_phrase('line', trace_lines[bad])} (<trace>), key {attribute!r}",
                    FLAG_WORDS,
                    "other text",
                )
            )
        attributes[attribute] = pd.Series(values[trace_of_event]).astype("boolean")
    data = {
        "case_id": as_text(case_ids[trace_of_event]),
    }
    for fieldname, values_list in zip(_EVENT_FIELDS, collector.event_values, strict=True):
        if fieldname in ("resource", "role", "lifecycle") and all(v is None for v in values_list):
            continue
        data[fieldname] = as_text(values_list)
    available = (*collector.trace_keys_seen, *collector.event_keys_seen)
    return RawTable(
        source=source,
        name=name,
        data=data,
        attributes=attributes,
        columns={f: collector.field_keys[f] for f in data} | {a: a for a in attributes},
        position=np.asarray(collector.event_lines, dtype=np.int64),
        source_row=np.arange(1, n + 1, dtype=np.int64),
        available=available,
        sample={k: as_text(v) for k, v in collector.samples.items()},
        problems=problems,
        warnings=warnings,
        column_word="key",
        case_ids_checked=True,
    )
