"""A council's extract as it is handed over, and the judgements worked out independently.

``write_extract`` writes what a case-management system exports: Windows-1252 text with CRLF
line ends, local step names (one with an en dash, a cp1252 byte), ``dd/mm/yyyy hh:mm`` on some
rows and ``dd/mm/yyyy`` alone on others, Y/N flags with blanks and "Not recorded", a local step
that is not part of the procedure ("Case note"), and a column of workers' names.
``write_workbook`` writes its ``.xlsx`` twin: the same rows, with dates typed as Excel dates
(date-only cells formatted without a time) except a few left as text, as real workbooks have.

``expected`` computes three rules by hand from the rows above with numpy's business-day
arithmetic and the ``holidays`` package's England calendar, not with this project's code:
``escalated-same-working-day`` (a manager informed by the end of the same working day, 17:00
close of business), ``lado-same-day`` (the LADO by the end of the manager-informed date) and
``icpc-within-15-working-days`` (the conference within 15 working days of the last strategy
discussion before it, the discussion's date being day 0; only when children_at_continuing_risk
is known true).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

import holidays
import numpy as np

AS_OF: Final = "2025-02-28T17:00:00"
MAPPING: Final = """\
columns:
  case_id: CASE_REF
  activity: STEP_DESC
  timestamp: EVENT_DTTM
  resource: WORKER_NAME
  children_at_continuing_risk: CONT_RISK
  concern_about_line_manager: LM_CONCERN
activities:
  "Concern raised": Concern identified
  "LM informed": Line manager informed
  "Snr mgr informed": Senior manager informed
  "LADO referral": LADO contacted
  "Police referral": Police notified
  "CSC referral": Social care notified
  "Strategy mtg \u2013 police": Strategy discussion held
  "S47 started": Section 47 enquiry started
  "ICPC": Initial child protection conference held
  "Closed": Case closed
ignore:
  - Case note
values:
  CONT_RISK:
    "Not recorded": unknown
encoding: cp1252
"""

STRAT: Final = "Strategy mtg \u2013 police"

# (case, step, when: datetime for a date-time row, date for a date-only row, worker, risk, lm)
ROWS: Final[list[tuple[str, str, datetime | date, str, str, str]]] = [
    ("W1", "Concern raised", datetime(2024, 12, 9, 10, 15), "A Patel", "", "N"),
    ("W1", "LM informed", datetime(2024, 12, 9, 11, 0), "A Patel", "", "N"),
    ("W1", "Case note", datetime(2024, 12, 9, 11, 5), "A Patel", "", "N"),
    ("W1", "LADO referral", date(2024, 12, 9), "B Jones", "", "N"),
    ("W1", "Police referral", datetime(2024, 12, 9, 11, 40), "B Jones", "", "N"),
    ("W2", "Concern raised", datetime(2024, 12, 13, 16, 30), "C O'Neill", "", "N"),
    ("W2", "LM informed", datetime(2024, 12, 16, 9, 0), "C O'Neill", "", "N"),
    ("W2", "LADO referral", date(2024, 12, 16), "D Smith", "", "N"),
    ("W3", "Concern raised", date(2024, 12, 14), "E Brown", "", ""),
    ("W3", "Snr mgr informed", datetime(2024, 12, 16, 12, 0), "E Brown", "", "Y"),
    ("W3", "LADO referral", datetime(2024, 12, 17, 9, 30), "E Brown", "", "Y"),
    ("W3", "Case note", date(2024, 12, 18), "E Brown", "", "Y"),
    ("W4", "Concern raised", datetime(2024, 12, 24, 17, 30), "F Green", "", "N"),
    ("W4", "LM informed", datetime(2024, 12, 27, 10, 0), "F Green", "", "N"),
    ("W4", "LADO referral", datetime(2024, 12, 27, 16, 0), "F Green", "", "N"),
    ("W5", "Concern raised", datetime(2025, 1, 2, 9, 0), "G White", "", "N"),
    ("W5", "LM informed", datetime(2025, 1, 3, 9, 0), "G White", "", "N"),
    ("W5", "LADO referral", datetime(2025, 1, 3, 23, 59), "G White", "", "N"),
    ("R1", "CSC referral", datetime(2024, 12, 2, 9, 0), "H Khan", "Y", ""),
    ("R1", STRAT, datetime(2024, 12, 2, 10, 0), "H Khan", "Y", ""),
    ("R1", "S47 started", date(2024, 12, 2), "H Khan", "Y", ""),
    ("R1", "ICPC", date(2024, 12, 20), "I Lee", "Y", ""),
    ("R2", "CSC referral", datetime(2024, 12, 9, 8, 30), "J Hall", "Y", ""),
    ("R2", STRAT, date(2024, 12, 9), "J Hall", "Y", ""),
    ("R2", "ICPC", datetime(2025, 1, 6, 14, 0), "J Hall", "Y", ""),
    ("R3", "CSC referral", datetime(2024, 12, 3, 9, 0), "K Ward", "", ""),
    ("R3", STRAT, datetime(2024, 12, 3, 15, 0), "K Ward", "", ""),
    ("R3", "ICPC", date(2025, 1, 20), "K Ward", "", ""),
    ("R4", "CSC referral", datetime(2024, 12, 4, 9, 0), "L Young", "Not recorded", ""),
    ("R4", STRAT, datetime(2024, 12, 4, 11, 0), "L Young", "Not recorded", ""),
    ("R4", "ICPC", date(2025, 1, 21), "L Young", "Not recorded", ""),
    ("R5", "CSC referral", datetime(2024, 12, 5, 9, 0), "M King", "N", ""),
    ("R5", STRAT, datetime(2024, 12, 5, 11, 0), "M King", "N", ""),
    ("R5", "Closed", date(2024, 12, 20), "M King", "N", ""),
    ("R6", "CSC referral", datetime(2024, 12, 2, 9, 0), "N Scott", "Y", ""),
    ("R6", STRAT, datetime(2024, 12, 2, 15, 0), "N Scott", "Y", ""),
    ("R6", "Case note", datetime(2024, 12, 10, 10, 0), "N Scott", "Y", ""),
    ("R6", STRAT, datetime(2024, 12, 16, 10, 0), "N Scott", "Y", ""),
    ("R6", "ICPC", datetime(2025, 1, 6, 10, 0), "N Scott", "Y", ""),
    ("R7", "CSC referral", datetime(2025, 2, 17, 9, 0), "O Reid", "Y", ""),
    ("R7", STRAT, datetime(2025, 2, 17, 16, 0), "O Reid", "Y", ""),
    ("R8", "CSC referral", datetime(2025, 1, 13, 9, 0), "P Ali", "Y", ""),
    ("R8", STRAT, date(2025, 1, 13), "P Ali", "Y", ""),
    ("R8", "ICPC", date(2025, 2, 3), "P Ali", "Y", ""),
]
HEADER: Final = ("CASE_REF", "STEP_DESC", "EVENT_DTTM", "WORKER_NAME", "CONT_RISK", "LM_CONCERN")


def uk(when: datetime | date) -> str:
    if isinstance(when, datetime):
        return when.strftime("%d/%m/%Y %H:%M")
    return when.strftime("%d/%m/%Y")


def write_extract(path: Path) -> Path:
    lines = [",".join(HEADER)]
    for case, step, when, worker, risk, lm in ROWS:
        lines.append(",".join((case, step, uk(when), worker, risk, lm)))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def write_workbook(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Extract"
    sheet.append(list(HEADER))
    for index, (case, step, when, worker, risk, lm) in enumerate(ROWS, start=2):
        # Every fifth timestamp is text, as exports pasted into Excel often are.
        cell: object = uk(when) if index % 5 == 0 else when
        sheet.append([case, step, cell, worker, risk or None, lm or None])
        if not isinstance(cell, str):
            shows_time = isinstance(when, datetime)
            sheet.cell(row=index, column=3).number_format = (
                "dd/mm/yyyy hh:mm" if shows_time else "dd/mm/yyyy")
    book.save(path)
    return path


_HOLIDAYS: Final = np.array(
    sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2023, 2027))),
    dtype="datetime64[D]")
_CLOSE: Final = time(17, 0)


def _working(d: date) -> bool:
    return bool(np.is_busday(np.datetime64(d), holidays=_HOLIDAYS))


def _next_working(d: date) -> date:
    day = np.busday_offset(np.datetime64(d + timedelta(days=1)), 0, roll="forward",
                           holidays=_HOLIDAYS)
    return date.fromisoformat(str(day))


def _nth_working_after(d: date, n: int) -> date:
    day = np.busday_offset(np.datetime64(d + timedelta(days=1)), n - 1, roll="forward",
                           holidays=_HOLIDAYS)
    return date.fromisoformat(str(day))


def _day(when: datetime | date) -> date:
    return when.date() if isinstance(when, datetime) else when


def _end(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59, 999999))


def _events(case: str, *steps: str) -> list[datetime | date]:
    return [w for c, s, w, *_ in ROWS if c == case and s in steps]


def _at_or_before(when: datetime | date, deadline: datetime) -> bool:
    return (datetime.combine(when, time(0)) if not isinstance(when, datetime) else when) <= deadline


def expected() -> dict[tuple[str, str], str]:
    """(case, rule) -> status for the three rules, for every case where the rule applies."""
    out: dict[tuple[str, str], str] = {}
    cases = list(dict.fromkeys(c for c, *_ in ROWS))
    for case in cases:
        concern = _events(case, "Concern raised")
        managers = _events(case, "LM informed", "Snr mgr informed")
        if concern:
            start = concern[0]
            before_close = (isinstance(start, date) and not isinstance(start, datetime)) or (
                isinstance(start, datetime) and start.time() < _CLOSE)
            d = _day(start)
            due = d if _working(d) and before_close else _next_working(d)
            met = managers and _at_or_before(managers[0], _end(due))
            out[(case, "escalated-same-working-day")] = "satisfied" if met else "violated"
            if managers:
                lado = _events(case, "LADO referral")
                met = lado and _at_or_before(lado[0], _end(_day(managers[0])))
                out[(case, "lado-same-day")] = "satisfied" if met else "violated"
        conferences = _events(case, "ICPC")
        discussions = _events(case, STRAT)
        if discussions:
            risk = {r for c, _, _, _, r, _ in ROWS if c == case}
            if risk == {"Y"}:
                if conferences:
                    first = _day(conferences[0])
                    trigger = max(d for d in discussions if _day(d) <= first)
                else:
                    trigger = discussions[-1]
                due = _end(_nth_working_after(_day(trigger), 15))
                if conferences and _at_or_before(conferences[0], due):
                    status = "satisfied"
                elif due > datetime.fromisoformat(AS_OF):
                    status = "pending"
                else:
                    status = "violated"
                out[(case, "icpc-within-15-working-days")] = status
            elif risk == {"N"}:
                out[(case, "icpc-within-15-working-days")] = "not_applicable"
            else:
                out[(case, "icpc-within-15-working-days")] = "not_assessable"
    return out
