"""A Children in Need census file for tests, and rule 8675Q computed independently.

The census is written here element by element (the DfE's structure, with UPNs and birth dates
that must never reach an output). Its Section 47 enquiries cover every ICPC outcome: held on
time, held late, pending at the reference date, overdue with no conference, not required, an
enquiry over Christmas (bank holidays on 25 and 26 December and 1 January), the boundary where
the 15th working day is the reference date, and an enquiry whose ICPCnotRequired is not given.

``rule_8675q`` restates the open-source CIN validator's rule 8675Q from its description, with
pandas' CustomBusinessDay over the ``holidays`` package's England calendar (the validator's own
working-day arithmetic: the start date counts as day 1), not with this project's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

REFERENCE_DATE = date(2025, 3, 31)
PERSONAL_MARKERS = ("A123456789012", "X98765432109B", "2013-07-14", "2016-02-29", "2019-11-03")


@dataclass(frozen=True)
class S47:
    child: str
    referral: str
    start: str | None
    conference: str | None
    not_required: str | None  # the element's text, or None when the element is absent
    note: str


# One referral per child except C009, which has two (the second without a Section 47).
ENQUIRIES: tuple[S47, ...] = (
    S47("C001", "2024-05-01", "2024-05-02", "2024-05-20", "false", "on time (day 12; 6 May a bank holiday)"),
    S47("C002", "2024-06-03", "2024-06-04", "2024-06-21", "false", "on time: day 14"),
    S47("C003", "2024-06-10", "2024-06-11", "2024-07-02", "false", "late: day 16"),
    S47("C004", "2024-09-02", "2024-09-02", "2024-10-21", "0", "late by weeks"),
    S47("C005", "2024-12-11", "2024-12-13", "2025-01-08", "false", "over Christmas: day 16, late"),
    S47("C006", "2024-12-12", "2024-12-16", "2025-01-07", "false", "over Christmas: day 14"),
    S47("C007", "2024-11-01", "2024-11-04", None, "false", "no conference: overdue at the reference date"),
    S47("C008", "2025-03-17", "2025-03-18", None, "false", "no conference: pending"),
    S47("C009", "2024-04-15", "2024-04-16", None, "true", "conference not required"),
    S47("C010", "2025-03-07", "2025-03-11", None, "false", "15th working day is the reference date"),
    S47("C011", "2025-03-07", "2025-03-10", None, "false", "15th working day the Friday before"),
    S47("C012", "2024-07-01", "2024-07-01", None, None, "ICPCnotRequired not given"),
    S47("C013", "2024-12-20", "2024-12-23", None, "false", "over Christmas, no conference yet "
        "overdue"),
    S47("C014", "2025-01-06", "2025-01-06", "2025-01-24", "1", "conference held although not "
        "required"),
)


def _child(enquiry: S47, index: int) -> str:
    upn = PERSONAL_MARKERS[0] if index % 2 else PERSONAL_MARKERS[1]
    birth = PERSONAL_MARKERS[2 + index % 3]
    s47 = ""
    if enquiry.start or enquiry.conference:
        parts = []
        if enquiry.start:
            parts.append(f"<S47ActualStartDate>{enquiry.start}</S47ActualStartDate>")
        if enquiry.conference:
            parts.append(f"<DateOfInitialCPC>{enquiry.conference}</DateOfInitialCPC>")
        if enquiry.not_required is not None:
            parts.append(f"<ICPCnotRequired>{enquiry.not_required}</ICPCnotRequired>")
        s47 = "<Section47>" + "".join(parts) + "</Section47>"
    closure = ""
    if enquiry.child == "C009":
        closure = "<CINclosureDate>2024-06-28</CINclosureDate><ReasonForClosure>RC8</ReasonForClosure>"
    conference = (f"<DateOfInitialCPC>{enquiry.conference}</DateOfInitialCPC>"
                  if enquiry.conference else "")
    second = ""
    if enquiry.child == "C009":
        second = """
      <CINdetails>
        <CINreferralDate>2025-02-03</CINreferralDate>
        <ReferralSource>5A</ReferralSource>
        <PrimaryNeedCode>N2</PrimaryNeedCode>
        <Assessments><AssessmentActualStartDate>2025-02-04</AssessmentActualStartDate></Assessments>
        <ReferralNFA>false</ReferralNFA>
      </CINdetails>"""
    return f"""
    <Child>
      <ChildIdentifiers>
        <LAchildID>{enquiry.child}</LAchildID>
        <UPN>{upn}</UPN>
        <FormerUPN>{PERSONAL_MARKERS[1]}</FormerUPN>
        <PersonBirthDate>{birth}</PersonBirthDate>
        <Sex>{1 + index % 2}</Sex>
      </ChildIdentifiers>
      <ChildCharacteristics>
        <Ethnicity>WBRI</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities>
      </ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>{enquiry.referral}</CINreferralDate>
        <ReferralSource>1A</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode>
        {closure}
        {conference}
        <Assessments>
          <AssessmentActualStartDate>{enquiry.referral}</AssessmentActualStartDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>2B</AssessmentFactors></FactorsIdentifiedAtAssessment>
        </Assessments>
        {s47}
        <ReferralNFA>0</ReferralNFA>
      </CINdetails>{second}
    </Child>"""


def write_census(path: Path, enquiries: tuple[S47, ...] = ENQUIRIES) -> Path:
    children = "".join(_child(e, i) for i, e in enumerate(enquiries))
    path.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<Message>
  <Header>
    <CollectionDetails>
      <Collection>CIN</Collection>
      <Year>2025</Year>
      <ReferenceDate>{REFERENCE_DATE.isoformat()}</ReferenceDate>
    </CollectionDetails>
    <Source>
      <SourceLevel>L</SourceLevel><LEA>929</LEA><SoftwareCode>Local Authority</SoftwareCode>
      <Release>ver 3.1.21</Release><SerialNo>001</SerialNo><DateTime>2025-04-20T10:00:00</DateTime>
    </Source>
  </Header>
  <Children>{children}
  </Children>
</Message>
""", encoding="utf-8")
    return path


def _england() -> list[date]:
    return sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2023, 2027)))


def rule_8675q(enquiries: tuple[S47, ...] = ENQUIRIES,
               reference: date = REFERENCE_DATE) -> set[str]:
    """Children whose Section 47 rule 8675Q queries: no ICPC date, ICPCnotRequired false (or
    0), and a start before the reference date minus 15 working days (CustomBusinessDay(n=14))."""
    offset = pd.offsets.CustomBusinessDay(n=14, holidays=_england())
    cutoff = pd.Timestamp(reference) - offset
    return {
        e.child for e in enquiries
        if e.start and not e.conference and (e.not_required or "") in ("false", "0")
        and pd.Timestamp(e.start) < cutoff
    }


def dfe_on_time(enquiries: tuple[S47, ...] = ENQUIRIES) -> dict[str, bool]:
    """For each child whose conference was held: whether it was within 15 working days of the
    Section 47 start, the start date being day 1 (numpy's busday arithmetic, England's bank
    holidays)."""
    days = np.array(_england(), dtype="datetime64[D]")
    out = {}
    for e in enquiries:
        if e.start and e.conference:
            due = np.busday_offset(np.datetime64(e.start), 14, roll="forward", holidays=days)
            out[e.child] = np.datetime64(e.conference) <= due
    return out
