"""A synthetic event log in the contract's vocabulary, with a known set of injected deviations.

Cases follow the model's routes (workplace concern, referral from outside the workplace, youth-
produced imagery), with timestamps over two years placed so that, left alone, every rule is
satisfied, pending or not applicable. A share of the finished cases then gets exactly one
deviation injected (a late escalation, a missing step, family contact before the discussion,
the computer used after securing, ...), each breaking exactly one rule; the ground truth is the
set of (case_id, rule_id) pairs. Some cases are date-only (census-style exports), some leave a
case attribute empty, and the most recent cases are still open at the as-of time.

    python bench/make_log.py --cases 100000 --out bench/data

writes ``event_log.csv`` (the schema of CONTRACT §3), ``truth.csv`` and ``as_of.txt``. Tests use
``make_log(n, seed)`` with small sizes.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from model.calendar import LONDON, WorkingCalendar
from model.contract import ATTRIBUTES
from model.procedure import load_procedure

FIRST_DAY: Final = date(2023, 1, 2)
LAST_START: Final = date(2024, 12, 20)
AS_OF_LOCAL: Final = datetime(2025, 1, 10, 12, 0)
_MIN_PER_DAY: Final = 1440
INJECTION_RATE: Final = 0.12  # share of finished cases that get one deviation

Attrs = dict[str, bool | str | None]  # a case's attributes: true/false, the offence, None

# Injection kind -> the rule it breaks.
INJECTIONS: Final = {
    "late-escalation": "escalated-same-working-day",
    "line-manager-told": "line-manager-bypassed-when-implicated",
    "computer-secured-late": "computer-secured-same-working-day",
    "computer-used": "secured-computer-not-used",
    "images-downloaded": "no-image-handling",
    "lado-late": "lado-same-day",
    "police-not-immediate": "police-immediately",
    "actions-agreed-late": "police-same-working-day",
    "no-access-details": "access-details-provided",
    "no-employee-actions": "employee-actions-agreed",
    "employee-actions-before-lado": "employee-actions-after-lado",
    "no-social-care": "police-and-social-care-notified",
    "family-first": "discuss-before-informing-family",
    "no-information-shared": "information-shared-before-strategy-discussion",
    "no-strategy-discussion": "section-47-after-strategy-discussion",
    "icpc-late": "icpc-within-15-working-days",
    "no-identification": "unidentified-child-investigation",
    "no-allegations-procedure": "allegations-procedure-when-working-with-children",
    "no-abuse-by-children-procedure": "child-alleged-procedure",
    "outcome-21-for-adult": "outcome-21-only-for-young-people",
}
# Injections that rest on times of day, or on an order within one day: not in date-only cases.
_NEEDS_TIMES: Final = frozenset({"police-not-immediate", "employee-actions-before-lado"})


@dataclass(frozen=True)
class GeneratedLog:
    """A generated log: ``events`` in the reader's schema (plus the CSV ``timestamp`` text and
    the attribute columns), ``cases`` (boolean attributes and the offence, NA = unknown), ``truth``
    (case_id, rule_id) and the as-of time."""

    events: pd.DataFrame
    cases: pd.DataFrame
    truth: pd.DataFrame
    as_of: pd.Timestamp


class _Days:
    """Working-day arithmetic on day numbers (days since 1970-01-01), for the generator."""

    def __init__(self, cal: WorkingCalendar, first: date, last: date) -> None:
        epoch = date(1970, 1, 1)
        self.working = [
            (first + timedelta(days=i) - epoch).days
            for i in range((last - first).days + 1)
            if cal.is_working_day(first + timedelta(days=i))
        ]

    def add(self, day: int, n: int) -> int:
        """The n-th working day after ``day`` (day 0 whatever it is)."""
        if n == 0:
            return day
        return self.working[bisect.bisect_right(self.working, day) + n - 1]


class _Case:
    """One case's events as (activity, local minute) pairs before writing."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def add(self, activity: str, minute: int) -> int:
        self.events.append((activity, minute))
        return minute

    def end(self) -> int:
        return max(m for _, m in self.events)


def _at(day: int, rng: np.random.Generator, lo: float = 9.0, hi: float = 16.0) -> int:
    """A minute on ``day`` between ``lo`` and ``hi`` o'clock."""
    return day * _MIN_PER_DAY + int(rng.integers(int(lo * 60), int(hi * 60)))


def _referral(
    case: _Case, start: int, days: _Days, rng: np.random.Generator, attrs: Attrs,
    inject: str | None, strategy: bool,
) -> None:
    """From the referral to the outcomes of the enquiry (CONTRACT §5, §6)."""
    day = start // _MIN_PER_DAY
    discussed = case.add(
        "Concerns discussed with police and social care",
        _at(days.add(day, int(rng.integers(1, 3))), rng),
    )
    d_day = discussed // _MIN_PER_DAY
    if inject == "family-first":
        case.add("Family informed", _at(d_day - 1, rng))
    else:
        case.add("Family informed", _at(days.add(d_day, int(rng.integers(1, 4))), rng))
    shared = _at(days.add(d_day, int(rng.integers(1, 3))), rng)
    if inject != "no-information-shared":
        case.add("Information shared", shared)
    if not strategy:
        return
    sd_day = days.add(shared // _MIN_PER_DAY, int(rng.integers(1, 4)))
    last_sd = _at(sd_day, rng, 9, 12)
    n_sd = 1 + int(rng.random() < 0.5) + int(rng.random() < 0.2)
    for i in range(n_sd):
        if i:
            sd_day = days.add(sd_day, int(rng.integers(2, 6)))
            last_sd = _at(sd_day, rng, 9, 12)
        if inject != "no-strategy-discussion":
            case.add("Strategy discussion held", last_sd)
    started = case.add("Section 47 enquiry started", _at(days.add(sd_day, 1), rng, 9, 12))
    assessed = case.add(
        "Access to children assessed",
        _at(days.add(started // _MIN_PER_DAY, int(rng.integers(1, 3))), rng),
    )
    completed = case.add(
        "Section 47 enquiry completed",
        _at(days.add(assessed // _MIN_PER_DAY, int(rng.integers(1, 4))), rng),
    )
    c_day = completed // _MIN_PER_DAY
    at_risk = bool(rng.random() < 0.35)
    if inject in ("icpc-late", "no-identification"):
        at_risk = inject == "icpc-late"
    attrs["children_at_continuing_risk"] = at_risk
    if at_risk:
        if inject == "icpc-late":
            late_day = days.add(sd_day, int(rng.integers(17, 23)))
            case.add("Initial child protection conference held", _at(late_day, rng))
        else:
            case.add(
                "Initial child protection conference held",
                _at(days.add(c_day, int(rng.integers(1, 5))), rng),
            )
    # contract v2: the police search for the child in the images whenever an adult's case is
    # about images (beside a conference or not); the national services "as appropriate"
    if not attrs["alleged_is_child"] and attrs["offence"] == "indecent-images":
        if inject != "no-identification":
            case.add(
                "Child identification investigation continued",
                _at(days.add(c_day, int(rng.integers(1, 8))), rng),
            )
        if rng.random() < 0.5:
            case.add(
                "National specialist services informed",
                _at(days.add(c_day, int(rng.integers(1, 8))), rng),
            )
    if attrs["alleged_is_child"] and inject != "no-abuse-by-children-procedure":
        considered = case.add(
            "Abuse by children procedure considered",
            _at(days.add(c_day, int(rng.integers(1, 4))), rng),
        )
        if rng.random() < 0.5:
            case.add(
                "Abuse by children procedure started",
                _at(days.add(considered // _MIN_PER_DAY, int(rng.integers(1, 4))), rng),
            )


def _workplace(
    case: _Case, day: int, days: _Days, rng: np.random.Generator, attrs: Attrs,
    inject: str | None,
) -> int:
    """The workplace route (§7, §4); returns the minute it ends."""
    if inject == "late-escalation":
        concern = case.add("Concern identified", _at(day, rng, 16.25, 16.95))
        manager_day = days.add(day, 1)
        manager_at = _at(manager_day, rng, 9, 10)
    else:
        concern = case.add("Concern identified", _at(day, rng, 8.5, 14.5))
        manager_day = day
        manager_at = concern + int(rng.integers(5, 60))
    whistle = bool(rng.random() < 0.08)
    about_manager = bool(rng.random() < 0.15) or inject == "line-manager-told"
    attrs["concern_about_line_manager"] = about_manager
    if inject == "line-manager-told" or not (whistle or about_manager):
        manager = "Line manager informed"
    elif whistle:
        manager = "Whistleblowing procedure used"
    else:
        manager = "Senior manager informed"
    case.add(manager, manager_at)
    first: dict[str, int] = {
        name: manager_at + int(rng.integers(5, 56))
        for name in ("Computer secured", "LADO contacted", "Police notified")
    }
    if inject == "computer-secured-late":
        first["Computer secured"] = _at(days.add(manager_day, 1), rng, 9, 11)
    if inject == "lado-late":
        first["LADO contacted"] = _at(manager_day + 1, rng, 9, 11)
    if inject == "police-not-immediate":
        first["Police notified"] = manager_at + int(rng.integers(75, 150))
    for name, minute in first.items():
        case.add(name, minute)
    delayed = {"computer-secured-late": "Computer secured", "lado-late": "LADO contacted"}
    same_day = max(m for n, m in first.items() if n != delayed.get(inject or ""))
    agreed = same_day + int(rng.integers(10, 90))
    if inject == "actions-agreed-late":
        agreed = _at(days.add(manager_day, 1), rng, 9, 12)
    case.add("Actions agreed with police", agreed)
    if inject == "computer-used":
        secured_day = first["Computer secured"] // _MIN_PER_DAY
        case.add("Computer used", _at(secured_day + int(rng.integers(1, 4)), rng))
    base = max(agreed, first["LADO contacted"]) // _MIN_PER_DAY
    details = _at(days.add(base, int(rng.integers(1, 5))), rng)
    if inject != "no-access-details":
        case.add("Access details provided to police", details)
    case.add(
        "Computer seized by police",
        _at(days.add(details // _MIN_PER_DAY, int(rng.integers(1, 4))), rng),
    )
    if inject == "employee-actions-before-lado":
        case.add("Employee actions agreed", concern + 1)
    elif inject != "no-employee-actions":
        case.add("Employee actions agreed", _at(days.add(base, int(rng.integers(1, 6))), rng))
    return case.end()


def _one_case(
    kind: str, day: int, days: _Days, rng: np.random.Generator, inject: str | None
) -> tuple[_Case, Attrs]:
    case = _Case()
    attrs: Attrs = dict.fromkeys(ATTRIBUTES)
    child = kind == "youth" or (kind == "referral" and rng.random() < 0.12)
    if inject == "no-abuse-by-children-procedure":
        child = True
    elif inject in ("no-identification", "outcome-21-for-adult", "no-allegations-procedure"):
        child = False
    attrs["youth_produced_imagery"] = kind == "youth"
    offences = ("indecent-images", "grooming", "sexual-communication")
    attrs["offence"] = (
        "indecent-images" if kind != "referral" or inject == "no-identification"
        else offences[int(rng.choice(3, p=[0.5, 0.15, 0.35]))]
    )
    attrs["alleged_is_child"] = child
    attrs["adult_in_contact_with_children"] = not child and (
        bool(rng.random() < 0.5) or inject == "no-allegations-procedure"
    )
    # The model's flow: how the case begins, then the referral in parallel with the allegations
    # procedure, then Case closed.
    if kind == "workplace":
        begun = _workplace(case, day, days, rng, attrs, inject) // _MIN_PER_DAY
        # contract v2: every case reaches social care (a workplace case through the LADO)
        start = case.add("Social care notified", _at(days.add(begun, int(rng.integers(1, 4))),
                                                     rng))
        social_care = True
    elif kind == "youth":
        case.add("Police notified", _at(day, rng))
        begun = case.add(
            "Outcome 21 recorded", _at(days.add(day, int(rng.integers(1, 8))), rng)
        ) // _MIN_PER_DAY
        start = case.add("Social care notified", _at(days.add(begun, int(rng.integers(1, 3))), rng))
        social_care = True
    else:
        police = case.add("Police notified", _at(day, rng))
        start = police
        if inject != "no-social-care":
            start = case.add("Social care notified", police + int(rng.integers(-60, 60)))
        begun = day
        social_care = True
    strategy = rng.random() < 0.8 or inject in _STRATEGY_ONLY
    if social_care:
        _referral(case, start, days, rng, attrs, inject, strategy)
    if attrs["adult_in_contact_with_children"] and inject != "no-allegations-procedure":
        case.add(
            "Allegations procedure started",
            _at(days.add(begun, int(rng.integers(1, 10))), rng),
        )
    if inject == "images-downloaded":
        case.add("Images downloaded or distributed", _at(day + int(rng.integers(0, 3)), rng))
    if inject == "outcome-21-for-adult":
        case.add("Outcome 21 recorded", _at(days.add(day, int(rng.integers(1, 8))), rng))
    closed_day = days.add(case.end() // _MIN_PER_DAY, int(rng.integers(1, 25)))
    case.add("Case closed", _at(closed_day, rng))
    return case, attrs


_REFERRAL_ONLY: Final = frozenset(
    {
        "family-first",
        "no-information-shared",
        "no-strategy-discussion",
        "icpc-late",
        "no-identification",
        "no-abuse-by-children-procedure",
    }
)
_STRATEGY_ONLY: Final = _REFERRAL_ONLY - {"family-first"}


def _eligible(kind: str, inject: str) -> bool:
    if inject in {
        "late-escalation",
        "line-manager-told",
        "computer-secured-late",
        "computer-used",
        "lado-late",
        "police-not-immediate",
        "actions-agreed-late",
        "no-access-details",
        "no-employee-actions",
        "employee-actions-before-lado",
    }:
        return kind == "workplace"
    if inject == "no-social-care":
        return kind == "referral"
    if inject == "no-abuse-by-children-procedure":
        return kind != "workplace"  # the alleged person must be a child
    if inject in ("no-identification", "outcome-21-for-adult", "no-allegations-procedure"):
        return kind != "youth"
    return True


def make_log(n_cases: int, seed: int = 0, injection_rate: float = INJECTION_RATE) -> GeneratedLog:
    """Generate ``n_cases`` cases (about 15 events each) with injected deviations."""
    rng = np.random.default_rng(seed)
    cal = WorkingCalendar()
    days = _Days(cal, FIRST_DAY - timedelta(days=10), AS_OF_LOCAL.date() + timedelta(days=400))
    epoch = date(1970, 1, 1)
    first_day = (FIRST_DAY - epoch).days
    span = (LAST_START - FIRST_DAY).days
    as_of_minute = (AS_OF_LOCAL.date() - epoch).days * _MIN_PER_DAY + AS_OF_LOCAL.hour * 60
    finished_before = as_of_minute - 200 * _MIN_PER_DAY  # cases starting earlier are closed
    kinds = rng.choice(["workplace", "referral", "youth"], size=n_cases, p=[0.5, 0.37, 0.13])
    names = list(INJECTIONS)
    case_col: list[int] = []
    act_col: list[str] = []
    minute_col: list[int] = []
    date_only_col: list[bool] = []
    attr_rows: list[Attrs] = []
    truth: list[tuple[str, str]] = []
    for i in range(n_cases):
        kind = str(kinds[i])
        day = days.add(first_day + int(rng.integers(0, span)) - 1, 1)
        date_only = bool(rng.random() < 0.08)
        inject: str | None = None
        if day * _MIN_PER_DAY < finished_before and rng.random() < injection_rate:
            candidates = [
                n for n in names
                if _eligible(kind, n) and not (date_only and n in _NEEDS_TIMES)
            ]
            inject = candidates[int(rng.integers(0, len(candidates)))]
        case, attrs = _one_case(kind, day, days, rng, inject)
        if inject is not None:
            truth.append((f"C{i:07d}", INJECTIONS[inject]))
        elif rng.random() < 0.03:  # an attribute left empty: rules on it are not assessable
            attrs[ATTRIBUTES[int(rng.integers(0, len(ATTRIBUTES)))]] = None
        events = sorted(case.events, key=lambda e: e[1])
        for activity, minute in events:
            if minute > as_of_minute:
                break
            case_col.append(i)
            act_col.append(activity)
            minute_col.append((minute // _MIN_PER_DAY) * _MIN_PER_DAY if date_only else minute)
            date_only_col.append(date_only)
        attr_rows.append(attrs)
    return _frames(case_col, act_col, minute_col, date_only_col, attr_rows, truth, rng)


def _frames(
    case_col: list[int],
    act_col: list[str],
    minute_col: list[int],
    date_only_col: list[bool],
    attr_rows: list[Attrs],
    truth: list[tuple[str, str]],
    rng: np.random.Generator,
) -> GeneratedLog:
    procedure = load_procedure()
    case_index = np.asarray(case_col, dtype=np.int64)
    ids = np.char.add("C", np.char.zfill(np.arange(len(attr_rows)).astype(str), 7))
    local = pd.DatetimeIndex(np.asarray(minute_col, dtype="datetime64[m]").astype("datetime64[ns]"))
    aware = local.tz_localize(LONDON, ambiguous=True, nonexistent="shift_forward")
    utc = aware.tz_convert("UTC")
    date_only = np.asarray(date_only_col, dtype=bool)
    offset_min = ((local.asi8 - utc.tz_localize(None).asi8) // 60_000_000_000).astype(np.int64)
    offset = np.where(offset_min == 60, ":00+01:00", ":00+00:00")
    wall = np.datetime_as_string(local.to_numpy().astype("datetime64[m]"), unit="m")
    timestamp = np.where(
        date_only, np.char.ljust(wall.astype("U10"), 10), np.char.add(wall, offset)
    )
    roles = {name: a.role for name, a in procedure.activities.items()}
    activity = pd.Series(act_col, dtype="str")
    staff = rng.integers(1, 400, size=len(act_col))
    events = pd.DataFrame(
        {
            "case_id": pd.array(ids[case_index], dtype="str"),
            "activity": activity,
            "timestamp": pd.array(timestamp, dtype="str"),
            "resource": pd.array(np.char.add("staff-", staff.astype(str)), dtype="str"),
            "role": activity.map(roles).astype("str"),
            "time_utc": utc,
            "date_only": date_only,
            "source_row": np.arange(2, len(act_col) + 2, dtype=np.int64),
        }
    )
    cases = pd.DataFrame(attr_rows, index=pd.Index(ids, dtype="str", name="case_id"))
    for name in cases.columns:
        cases[name] = cases[name].astype("string" if name == "offence" else "boolean")
    present = pd.Index(pd.unique(events["case_id"]))
    cases = cases.loc[cases.index.isin(present)]
    for name in ATTRIBUTES:
        events[name] = cases[name].reindex(events["case_id"]).to_numpy()
    truth_frame = pd.DataFrame(truth, columns=["case_id", "rule_id"], dtype="str")
    as_of = pd.Timestamp(AS_OF_LOCAL).tz_localize(LONDON).tz_convert("UTC")
    return GeneratedLog(events=events, cases=cases, truth=truth_frame, as_of=as_of)


def write_log(log: GeneratedLog, directory: Path) -> Path:
    """Write ``event_log.csv`` (contract schema), ``truth.csv`` and ``as_of.txt``."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = ["case_id", "activity", "timestamp", "resource", "role", *ATTRIBUTES]
    out = log.events[columns].copy()
    for name in ATTRIBUTES:
        if name == "offence":
            out[name] = out[name].astype("object").fillna("")
        else:
            out[name] = out[name].map({True: "true", False: "false"}).fillna("")
    path = directory / "event_log.csv"
    out.to_csv(path, index=False)
    log.truth.to_csv(directory / "truth.csv", index=False)
    (directory / "as_of.txt").write_text(log.as_of.isoformat() + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--injection-rate", type=float, default=INJECTION_RATE,
                        help="share of finished cases that get one deviation")
    args = parser.parse_args(argv)
    log = make_log(args.cases, args.seed, args.injection_rate)
    path = write_log(log, args.out)
    print(
        f"{path}: {len(log.events):,} events in {len(log.cases):,} cases; "
        f"{len(log.truth):,} injected deviations"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
