"""Read a Children in Need (CIN) census XML file into the contract's vocabulary.

Every English council sends the DfE a CIN census each year (``shared/notes/cin-census.md``):
one ``<Child>`` per child, one ``<CINdetails>`` per referral. This module turns it into events:

==========================================  ==============================================
census element                              event (date-only)
==========================================  ==============================================
``CINdetails/CINreferralDate``              ``Social care notified``
``Assessments/AssessmentActualStartDate``   ``Statutory assessment started``
``Section47/S47ActualStartDate``            ``Strategy discussion held`` and ``Section 47
                                            enquiry started`` (the census defines the start
                                            as the date of the strategy discussion that
                                            began the enquiry)
``Section47/DateOfInitialCPC`` (and the     ``Initial child protection conference held``
referral's own ``DateOfInitialCPC`` when
no Section 47 carries that date)
``CINdetails/CINclosureDate``               ``Case closed``
==========================================  ==============================================

One case per referral: ``<LAchildID>/<CINreferralDate>`` (``#2``, ``#3``... when a child has
two referrals on one date). Events of a case on one date keep the order of the table above.

``children_at_continuing_risk`` of a case: true when a conference date is recorded, or when a
Section 47 says ``ICPCnotRequired`` false without a conference date (the conference is due: the
reading of the DfE's rule 8675Q, so the ICPC rule is pending or violated at the reference date);
false when every Section 47 says ``ICPCnotRequired`` true; unknown otherwise.

The header's ``ReferenceDate`` (31 March) is the default as-of date.

Personal fields are never read: of ``ChildIdentifiers`` only ``LAchildID`` (the council's own
case reference) is kept; the text of ``UPN``, ``FormerUPN``, ``PersonBirthDate``,
``ExpectedPersonBirthDate``, ``PersonDeathDate``, ``Sex``, ethnicity and disabilities is skipped
by the parser, so it cannot reach any output. The XML is parsed with defusedxml (no DOCTYPE,
entities or external references).

The census records social care's steps only: a rule is judged on a census only when the census
records every step it names, and a rule about the order of the strategy discussion is not judged
(the census takes that date from the Section 47 start). ``census_rules`` says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ErrorString

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from conformance.logio.dates import parse_timestamps
from conformance.logio.limits import (
    DEFAULT_LIMITS,
    LimitExceeded,
    Limits,
    StreamGuard,
    limit_problem,
)
from conformance.logio.schema import ReadOptions
from conformance.logio.table import RawTable
from conformance.logio.text import TEXT, as_text
from model.contract import (
    CASE_CLOSED,
    SECTION_47_STARTED,
    SOCIAL_CARE_NOTIFIED,
    STRATEGY_DISCUSSION,
)
from model.errors import InputError, Problem

if TYPE_CHECKING:
    from model.rules import Rule

__all__ = [
    "ASSESSMENT_STARTED",
    "CENSUS_RECORDS",
    "ICPC_HELD",
    "Census",
    "CensusInfo",
    "census_rules",
    "census_table",
    "census_year",
    "is_census",
    "read_census",
]

ICPC_HELD: Final = "Initial child protection conference held"
ASSESSMENT_STARTED: Final = "Statutory assessment started"
CENSUS_RECORDS: Final = frozenset(
    {SOCIAL_CARE_NOTIFIED, ASSESSMENT_STARTED, STRATEGY_DISCUSSION, SECTION_47_STARTED,
     ICPC_HELD, CASE_CLOSED}
)
INFERRED: Final = frozenset({STRATEGY_DISCUSSION})  # taken from the Section 47 start

# Elements whose text is kept; every other element's text is skipped as it is parsed.
_KEPT: Final = frozenset(
    {
        "Collection", "Year", "ReferenceDate", "LEA", "LAchildID",
        "CINreferralDate", "CINclosureDate", "DateOfInitialCPC", "ReferralNFA",
        "AssessmentActualStartDate", "S47ActualStartDate", "ICPCnotRequired",
    }
)
# Elements of the tree the reader walks; any other element is skipped with all it holds.
_TREE: Final = _KEPT | frozenset(
    {"Message", "Header", "CollectionDetails", "Source", "Children", "Child",
     "ChildIdentifiers", "CINdetails", "Assessments", "Section47"}
)
# Dated elements and the events each gives at least (a conference date may be shared).
_EVENTS_AT_LEAST: Final = {"CINreferralDate": 1, "AssessmentActualStartDate": 1,
                           "S47ActualStartDate": 2, "CINclosureDate": 1}
_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0"})


@dataclass
class _Node:
    tag: str
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def first(self, tag: str) -> _Node | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str) -> tuple[str, int]:
        """The stripped text of the first child ``tag`` and its line ('' and this line when
        absent or empty: an empty element means unknown)."""
        child = self.first(tag)
        if child is None:
            return "", self.line
        return child.text.strip(), child.line


class _Builder:
    """An expat target that builds a light tree of the ``_TREE`` elements (any other element is
    skipped with everything in it), keeping text only of ``_KEPT`` elements, and stops once the
    dated elements read give more events than ``limits.max_events``."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.expat: Any = None
        self.stack: list[_Node] = []
        self.root: _Node | None = None
        self._keep = False
        self._skipping = 0  # depth inside a skipped element
        self._name, self._limits = name, limits
        self.events = 0  # at least this many events so far

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        if self._skipping or (self.stack and local not in _TREE):
            self._skipping += 1
            return
        node = _Node(local, int(self.expat.CurrentLineNumber))
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self._keep = local in _KEPT

    def end(self, tag: str) -> None:
        if self._skipping:
            self._skipping -= 1
            return
        node = self.stack.pop()
        self._keep = False
        if node.tag in _EVENTS_AT_LEAST and node.text.strip():
            self.events += _EVENTS_AT_LEAST[node.tag]
            if self.events > self._limits.max_events:
                raise LimitExceeded(limit_problem(
                    self._name, self._limits, "max_events",
                    f"more events (the {self._limits.max_events + 1:,}th by line "
                    f"{node.line:,})"))

    def data(self, text: str) -> None:
        if self._keep and self.stack and not self._skipping:
            self.stack[-1].text += text

    def close(self) -> _Node | None:
        return self.root


def is_census(path: Path) -> bool:
    """Whether the file is XML whose root element is ``<Message>`` (a CIN census), judged from
    its first 64 KiB."""
    try:
        with path.open("rb") as stream:
            head = stream.read(65536)
    except OSError:
        return False
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    while text.startswith(("<?", "<!--")):
        end = text.find("?>" if text.startswith("<?") else "-->")
        if end < 0:
            return False
        text = text[end + (2 if text.startswith("<?") else 3):].lstrip()
    return text.startswith("<Message") and text[8:9] in (">", " ", "\t", "\r", "\n", "/")


@dataclass(frozen=True)
class Census:
    """A census read into events (one row per event, in the order they are listed) and cases.

    ``events``: case_id, activity, timestamp (ISO date text), line (the XML line of the
    element). ``cases``: index case_id (file order), ``children_at_continuing_risk`` (nullable
    boolean). ``reference_date``: the header's ReferenceDate.
    """

    source: str
    events: pd.DataFrame
    cases: pd.DataFrame
    reference_date: date
    collection_year: str
    authority: str
    children: int
    referrals: int
    section_47s: int
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class CensusInfo:
    """What a census's header and structure say, for the summary."""

    reference_date: date
    collection_year: str
    authority: str
    children: int
    referrals: int
    section_47s: int

    @property
    def year(self) -> tuple[date, date]:
        return census_year(self.reference_date)


def census_table(path: Path, source: str, options: ReadOptions) -> RawTable:
    """A census as the table every format reader hands over: one row per event (text
    timestamps, ISO dates), ``children_at_continuing_risk`` repeated on the rows of each case,
    XML lines as positions, and the header's facts (``RawTable.census``)."""
    census = read_census(path, options.limits)
    events = census.events
    risk = census.cases["children_at_continuing_risk"].reindex(events["case_id"]).array
    lines = events["line"].to_numpy(dtype=np.int64)
    attributes = (
        {"children_at_continuing_risk": pd.Series(risk, dtype="boolean")}
        if "children_at_continuing_risk" in options.attributes else {}
    )
    info = CensusInfo(census.reference_date, census.collection_year, census.authority,
                      census.children, census.referrals, census.section_47s)
    return RawTable(
        source=source,
        name=path.name,
        data={
            "case_id": events["case_id"].reset_index(drop=True),
            "activity": events["activity"].reset_index(drop=True),
            "timestamp": events["timestamp"].reset_index(drop=True),
        },
        attributes=attributes,
        columns={"case_id": "LAchildID/CINreferralDate", "activity": "census element",
                 "timestamp": "census date", "children_at_continuing_risk":
                 "DateOfInitialCPC/ICPCnotRequired"},
        position=lines,
        source_row=np.arange(1, len(events) + 1, dtype=np.int64),
        available=(),
        sample={},
        problems=[],
        warnings=list(census.warnings),
        column_word="element",
        case_ids_checked=True,
        census=info,
    )


def census_year(reference: date) -> tuple[date, date]:
    """The census year that ends on ``reference``: from the day after the same date a year
    earlier (1 April) to ``reference`` (31 March), as the DfE's validator counts it."""
    start = (pd.Timestamp(reference) - pd.DateOffset(years=1) + timedelta(days=1)).date()
    return start, reference


def read_census(path: Path, limits: Limits = DEFAULT_LIMITS) -> Census:
    """Read a CIN census XML file within ``limits``; ``InputError`` lists every problem (file,
    line, element, what was expected, what was found; never a personal value).

    The limits on a log hold as for XES, checked while the file is streamed: its bytes
    (``--max-input-bytes``), a stretch without an element, i.e. one value
    (``--max-field-bytes``), and the events (``--max-events``: the dated elements read so far,
    then the events made); ``--max-columns`` does not apply (the census's elements are fixed)."""
    source = str(path)
    name = path.name
    builder = _Builder(name, limits)
    guard = StreamGuard(name, limits)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    builder.expat = parser.parser
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                guard.check(chunk)
                parser.feed(chunk)
            parser.close()
    except LimitExceeded as exceeded:
        raise InputError(source, [exceeded.problem]) from None
    except OSError:
        raise InputError(source, [Problem(name, "a readable file", "a file that cannot be read")]
                         ) from None
    except DefusedXmlException:
        raise InputError(source, [Problem(
            f"{name}, line {builder.expat.CurrentLineNumber}",
            "a census file without a DOCTYPE, entity declarations or external references",
            "a DOCTYPE or entity declaration; it was refused without being read")]) from None
    except ParseError as err:
        line, column = err.position
        raise InputError(source, [Problem(f"{name}, line {line}, column {column}",
                                          "well-formed XML (a CIN census)",
                                          f"XML that is not well-formed ({ErrorString(err.code)})"
                                          )]) from None
    root = builder.root
    if root is None or root.tag != "Message":
        raise InputError(source, [Problem(name, "a CIN census: an XML file whose root element "
                                                "is <Message>", "another root element")])
    census = _census(source, name, root)
    if len(census.events) > limits.max_events:
        raise InputError(source, [limit_problem(name, limits, "max_events",
                                                f"{len(census.events):,} events")])
    return census


def _census(source: str, name: str, root: _Node) -> Census:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    header = root.first("Header")
    details = header.first("CollectionDetails") if header is not None else None
    if details is None:
        raise InputError(source, [Problem(f"{name}, line {root.line}",
                                          "a <Header> with <CollectionDetails>", "none")])
    collection, collection_line = details.value("Collection")
    if collection.upper() != "CIN":
        problems.append(Problem(f"{name}, line {collection_line}, <Collection>",
                                "CIN (a Children in Need census)",
                                f"{collection!r}" if collection else "an empty value"))
    reference_text, reference_line = details.value("ReferenceDate")
    year, _ = details.value("Year")
    source_node = header.first("Source") if header is not None else None
    authority = source_node.value("LEA")[0] if source_node is not None else ""

    rows: list[tuple[str, str, str, int]] = []  # case, activity, date text, line
    case_ids: list[str] = []
    risk: list[bool | None] = []
    children = referrals = section_47s = 0
    children_node = root.first("Children")
    for child in children_node.all("Child") if children_node is not None else []:
        children += 1
        identifiers = child.first("ChildIdentifiers")
        child_id, id_line = identifiers.value("LAchildID") if identifiers else ("", child.line)
        if not child_id:
            problems.append(Problem(f"{name}, line {id_line}, <LAchildID>",
                                    "the child's LAchildID", "an empty or missing element"))
            continue
        seen: dict[str, int] = {}
        for detail in child.all("CINdetails"):
            referrals += 1
            referral, referral_line = detail.value("CINreferralDate")
            if not referral:
                problems.append(Problem(f"{name}, line {referral_line}, <CINreferralDate>",
                                        "the date of the referral", "an empty or missing "
                                        "element"))
                continue
            seen[referral] = seen.get(referral, 0) + 1
            case = f"{child_id}/{referral}" + (f"#{seen[referral]}" if seen[referral] > 1 else "")
            case_ids.append(case)
            rows.append((case, SOCIAL_CARE_NOTIFIED, referral, referral_line))
            for assessment in detail.all("Assessments"):
                started, line = assessment.value("AssessmentActualStartDate")
                if started:
                    rows.append((case, ASSESSMENT_STARTED, started, line))
            conference_dates: set[str] = set()
            due = not_required = 0
            s47s = detail.all("Section47")
            for s47 in s47s:
                section_47s += 1
                started, line = s47.value("S47ActualStartDate")
                conference, conference_line = s47.value("DateOfInitialCPC")
                flag, flag_line = s47.value("ICPCnotRequired")
                if started:
                    rows.append((case, STRATEGY_DISCUSSION, started, line))
                    rows.append((case, SECTION_47_STARTED, started, line))
                if conference:
                    rows.append((case, ICPC_HELD, conference, conference_line))
                    conference_dates.add(conference)
                folded = flag.lower()
                if folded and folded not in _TRUE | _FALSE:
                    problems.append(Problem(f"{name}, line {flag_line}, <ICPCnotRequired>",
                                            "true, false, 1 or 0", f"{flag!r}"))
                elif folded in _TRUE:
                    not_required += 1
                elif folded in _FALSE and not conference:
                    due += 1
            referral_conference, line = detail.value("DateOfInitialCPC")
            if referral_conference and referral_conference not in conference_dates:
                rows.append((case, ICPC_HELD, referral_conference, line))
                conference_dates.add(referral_conference)
            closed, line = detail.value("CINclosureDate")
            if closed:
                rows.append((case, CASE_CLOSED, closed, line))
            if conference_dates or due:
                risk.append(True)
            elif s47s and not_required == len(s47s):
                risk.append(False)
            else:
                risk.append(None)
    if not reference_text:
        problems.append(Problem(f"{name}, line {reference_line}, <ReferenceDate>",
                                "the census reference date (YYYY-MM-DD)",
                                "an empty or missing element"))
    texts = as_text([reference_text] + [r[2] for r in rows])
    times = parse_timestamps(texts)
    lines = np.asarray([reference_line] + [r[3] for r in rows], dtype=np.int64)
    unread = times.unparseable | times.out_of_range | times.contradicting
    elements = ["ReferenceDate"] + [_ELEMENT[r[1]] for r in rows]
    for index in np.flatnonzero(unread):
        problems.append(Problem(
            f"{name}, line {int(lines[index])}, <{elements[index]}>",
            "a date (YYYY-MM-DD)", f"{texts.iloc[index]!r}"))
    if problems:
        raise InputError(source, problems)
    if not rows:
        raise InputError(source, [Problem(name, "at least one <Child> with a <CINdetails> "
                                                "referral", "none")])
    iso = pd.Series(pd.to_datetime(times.ns, utc=True)).dt.tz_convert("Europe/London")
    dates = iso.dt.strftime("%Y-%m-%d")
    day_only = times.date_only
    stamps = [d if only else ts.isoformat() for d, only, ts in zip(dates, day_only, iso,
                                                                       strict=True)]
    reference = datetime.fromisoformat(stamps[0]).date()
    events = pd.DataFrame({
        "case_id": as_text([r[0] for r in rows]),
        "activity": as_text([r[1] for r in rows]),
        "timestamp": as_text(stamps[1:]),
        "line": lines[1:],
    })
    cases = pd.DataFrame(
        {"children_at_continuing_risk": pd.array(risk, dtype="boolean")},
        index=pd.Index(case_ids, dtype=TEXT, name="case_id"),
    )
    several = _several_section_47s(rows)
    if several:
        warnings.append(Problem(
            name, "one Section 47 enquiry per referral",
            f"{several:,} referrals with more than one; the ICPC rule is judged once per "
            "referral, from the Section 47 start its clock names", topic="census"))
    return Census(source=source, events=events, cases=cases, reference_date=reference,
                  collection_year=year, authority=authority, children=children,
                  referrals=referrals, section_47s=section_47s, warnings=tuple(warnings))


_ELEMENT: Final = {
    SOCIAL_CARE_NOTIFIED: "CINreferralDate",
    ASSESSMENT_STARTED: "AssessmentActualStartDate",
    STRATEGY_DISCUSSION: "S47ActualStartDate",
    SECTION_47_STARTED: "S47ActualStartDate",
    ICPC_HELD: "DateOfInitialCPC",
    CASE_CLOSED: "CINclosureDate",
}


def _several_section_47s(rows: Iterable[tuple[str, str, str, int]]) -> int:
    counts: dict[str, int] = {}
    for case, activity, _, _ in rows:
        if activity == SECTION_47_STARTED:
            counts[case] = counts.get(case, 0) + 1
    return sum(1 for c in counts.values() if c > 1)


def census_rules(rules: Sequence[Rule]) -> tuple[tuple[Rule, ...], dict[str, str]]:
    """The rules a census can judge, and for each other rule why not (plain English).

    A census records only the steps in ``CENSUS_RECORDS``; the strategy discussion is the
    Section 47 start's date, so it may start a deadline, but a rule about its order (a
    precedence rule naming it) would test that inference, not the data."""
    from model.rules import Template

    kept: list[Rule] = []
    skipped: dict[str, str] = {}
    for rule in rules:
        missing = sorted(rule.activities() - CENSUS_RECORDS)
        if missing:
            skipped[rule.id] = ("the census does not record " + ", ".join(repr(m) for m in missing))
        elif rule.template is Template.PRECEDENCE and rule.activities() & INFERRED:
            skipped[rule.id] = ("the census takes the strategy discussion's date from the "
                                "Section 47 start, so their order cannot be judged from it")
        else:
            kept.append(rule)
    return tuple(kept), skipped
