"""The rule engine (CONTRACT §4-§5): every contract rule on small hand-built cases."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import date, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conformance.config import CheckConfig, config_with_overrides, load_check_config
from conformance.engine import RESULT_COLUMNS, STATUSES, Judgement, judge
from conformance.logio import EventLog, log_from_frame
from model.calendar import LONDON, CalendarConfig, DayCounting, SameDay, Within
from model.contract import RULE_IDS
from model.errors import InputError
from model.procedure import load_procedure
from model.rules import Rule, Scope, Severity, Template

RULES = load_procedure().rules
RULE = {r.id: r for r in RULES}

Events = Sequence[tuple[str, str]]


def stamp(text: str) -> tuple[pd.Timestamp, bool]:
    """'2024-03-04' is date-only; '2024-03-04 16:59' is London wall time; offsets are kept."""
    date_only = len(text) == 10
    ts = pd.Timestamp(text)
    if ts.tzinfo is None:
        ts = ts.tz_localize(LONDON)
    return ts.tz_convert("UTC"), date_only


def make(
    cases: Mapping[str, Events],
    attrs: Mapping[str, Mapping[str, bool | None]] | None = None,
    as_of: str | None = None,
) -> EventLog:
    rows = []
    for case_id, events in cases.items():
        for activity, text in events:
            ts, date_only = stamp(text)
            rows.append((case_id, activity, ts, date_only))
    events_frame = pd.DataFrame(rows, columns=["case_id", "activity", "time_utc", "date_only"])
    table = None
    if attrs:
        table = pd.DataFrame.from_dict(
            {case: dict(values) for case, values in attrs.items()}, orient="index"
        ).astype("boolean")
    return log_from_frame(
        events_frame, table, as_of=stamp(as_of)[0] if as_of is not None else None
    )


def run(
    cases: Mapping[str, Events],
    attrs: Mapping[str, Mapping[str, bool | None]] | None = None,
    as_of: str | None = None,
    config: CheckConfig | None = None,
    rules: Sequence[Rule] = RULES,
) -> Judgement:
    return judge(make(cases, attrs, as_of), rules, config)


def row(j: Judgement, case: str, rule: str) -> pd.Series:
    r = j.results
    hit = r[(r["case_id"] == case) & (r["rule_id"] == rule)]
    assert len(hit) == 1
    return hit.iloc[0]


def status(j: Judgement, case: str, rule: str) -> str:
    return str(row(j, case, rule)["status"])


def statuses(j: Judgement, rule: str) -> dict[str, str]:
    r = j.results[j.results["rule_id"] == rule]
    return dict(zip(r["case_id"].astype(str), r["status"].astype(str), strict=True))


def message(j: Judgement, case: str, rule: str) -> str:
    d = j.deviations()
    hit = d[(d["case_id"] == case) & (d["rule_id"] == rule)]
    assert len(hit) == 1
    return str(hit.iloc[0]["message"])


CI, LM, SM, WB = (
    "Concern identified",
    "Line manager informed",
    "Senior manager informed",
    "Whistleblowing procedure used",
)
CS, CU, IMG, LADO = "Computer secured", "Computer used", "Images downloaded or distributed", (
    "LADO contacted"
)
PN, SCN, AAP, ADP = (
    "Police notified",
    "Social care notified",
    "Actions agreed with police",
    "Access details provided to police",
)
EAA, CD, FI, IS = (
    "Employee actions agreed",
    "Concerns discussed with police and social care",
    "Family informed",
    "Information shared",
)
SD, S47, S47C, ICPC = (
    "Strategy discussion held",
    "Section 47 enquiry started",
    "Section 47 enquiry completed",
    "Initial child protection conference held",
)
CIC, NSS, APS, ABC, O21, CC = (
    "Child identification investigation continued",
    "National specialist services informed",
    "Allegations procedure started",
    "Abuse by children procedure started",
    "Outcome 21 recorded",
    "Case closed",
)


# ------------------------------------------------------------------ escalated-same-working-day


def test_escalation_close_of_business_boundary() -> None:
    j = run(
        {
            "a": [(CI, "2024-03-04 16:59"), (LM, "2024-03-05 09:00")],  # Monday 16:59
            "b": [(CI, "2024-03-04 17:00"), (LM, "2024-03-05 09:00")],  # at close: next day
            "c": [(CI, "2024-03-04 17:00"), (LM, "2024-03-06 09:00")],
        },
        as_of="2024-03-20 12:00",
    )
    rule = "escalated-same-working-day"
    assert statuses(j, rule) == {"a": "violated", "b": "satisfied", "c": "violated"}
    a = row(j, "a", rule)
    assert a["late_working_days"] == 1
    assert a["late_hours"] == pytest.approx(9, abs=1e-6)
    assert a["deadline"] == pd.Timestamp("2024-03-04 23:59:59.999999", tz="UTC")
    assert a["evidence_activity"] == LM and a["trigger_activity"] == CI
    assert message(j, "a", rule) == (
        "Line manager informed was recorded 1 working day late (09:00 on 5 Mar 2024; the "
        "deadline was the end of 4 Mar 2024, the same working day as Concern identified at "
        "16:59 on 4 Mar 2024)"
    )


def test_escalation_friday_after_close_weekend_and_bank_holiday() -> None:
    j = run(
        {
            "fri-mon": [(CI, "2024-03-08 17:30"), (SM, "2024-03-11 09:00")],
            "fri-tue": [(CI, "2024-03-08 17:30"), (SM, "2024-03-12 09:00")],
            # Thursday before Good Friday (29 Mar 2024) and Easter Monday (1 Apr 2024).
            "easter-tue": [(CI, "2024-03-28 17:30"), (WB, "2024-04-02 16:00")],
            "easter-wed": [(CI, "2024-03-28 17:30"), (WB, "2024-04-03 08:00")],
            "sunday": [(CI, "2024-03-10 11:00"), (LM, "2024-03-11 23:59:59.999999")],
        },
        as_of="2024-04-20 12:00",
    )
    assert statuses(j, "escalated-same-working-day") == {
        "fri-mon": "satisfied",
        "fri-tue": "violated",
        "easter-tue": "satisfied",
        "easter-wed": "violated",
        "sunday": "satisfied",  # the deadline is inclusive, to the microsecond
    }
    assert row(j, "easter-wed", "escalated-same-working-day")["deadline"] == pd.Timestamp(
        "2024-04-02 22:59:59.999999", tz="UTC"
    )  # end of 2 Apr in BST


def test_escalation_bank_holidays_ignored_changes_verdict() -> None:
    cases = {"e": [(CI, "2024-03-28 17:30"), (LM, "2024-04-02 09:00")]}
    assert status(run(cases), "e", "escalated-same-working-day") == "satisfied"
    no_holidays = CheckConfig(calendar=CalendarConfig(bank_holidays=False))
    assert status(run(cases, config=no_holidays), "e", "escalated-same-working-day") == "violated"


def test_escalation_date_only_trigger() -> None:
    j = run(
        {
            "same-date": [(CI, "2024-03-04"), (LM, "2024-03-04 18:30")],
            "next-date": [(CI, "2024-03-04"), (LM, "2024-03-05 08:00")],
            "saturday": [(CI, "2024-03-09"), (LM, "2024-03-11 12:00")],
        },
        as_of="2024-03-20 12:00",
    )
    rule = "escalated-same-working-day"
    assert statuses(j, rule) == {
        "same-date": "satisfied",  # a date-only trigger counts as before close of business
        "next-date": "violated",
        "saturday": "satisfied",
    }
    assert bool(row(j, "same-date", rule)["date_only"])
    assert message(j, "next-date", rule).endswith(
        "the same working day as Concern identified on 4 Mar 2024)"
    )


def test_escalation_required_event_before_trigger_meets_deadline() -> None:
    j = run({"x": [(LM, "2024-03-04 09:00"), (CI, "2024-03-06 10:00")]}, as_of="2024-03-20")
    assert status(j, "x", "escalated-same-working-day") == "satisfied"


def test_escalation_pending_violated_and_not_applicable() -> None:
    cases = {"open": [(CI, "2024-03-04 10:00")], "other": [(PN, "2024-03-04 09:00")]}
    early = run(cases, as_of="2024-03-04 12:00")
    assert statuses(early, "escalated-same-working-day") == {
        "open": "pending",
        "other": "not_applicable",
    }
    assert "deadline after the as-of time" in str(row(early, "open", "escalated-same-working-day")[
        "reason"
    ])
    late = run(cases, as_of="2024-03-07 12:00")
    r = row(late, "open", "escalated-same-working-day")
    assert r["status"] == "violated"
    assert pd.isna(r["evidence_row"]) and r["late_working_days"] == 3
    assert "as-of" in str(r["reason"])
    assert message(late, "open", "escalated-same-working-day") == (
        "none of Line manager informed, Senior manager informed or Whistleblowing procedure used "
        "was recorded by the deadline (the end of 4 Mar 2024, the same working day as Concern "
        "identified at 10:00 on 4 Mar 2024); at the as-of time (12:00 on 7 Mar 2024) it was 3 "
        "working days overdue"
    )


# ------------------------------------------------------------------ line-manager-bypassed


def test_line_manager_bypassed_when_implicated() -> None:
    key = "concern_about_line_manager"
    j = run(
        {
            "told-lm": [(CI, "2024-03-04 10:00"), (LM, "2024-03-04 11:00")],
            "told-sm": [(CI, "2024-03-04 10:00"), (SM, "2024-03-04 11:00")],
            "not-about-lm": [(CI, "2024-03-04 10:00"), (LM, "2024-03-04 11:00")],
            "unknown-told-lm": [(CI, "2024-03-04 10:00"), (LM, "2024-03-04 11:00")],
            "unknown-told-sm": [(CI, "2024-03-04 10:00"), (SM, "2024-03-04 11:00")],
        },
        attrs={
            "told-lm": {key: True},
            "told-sm": {key: True},
            "not-about-lm": {key: False},
            "unknown-told-lm": {key: None},
            "unknown-told-sm": {key: None},
        },
    )
    rule = "line-manager-bypassed-when-implicated"
    assert statuses(j, rule) == {
        "told-lm": "violated",
        "told-sm": "satisfied",
        "not-about-lm": "not_applicable",
        "unknown-told-lm": "not_assessable",
        "unknown-told-sm": "not_applicable",
    }
    assert str(row(j, "unknown-told-lm", rule)["reason"]) == (
        "case attribute unknown: concern_about_line_manager"
    )
    assert message(j, "told-lm", rule) == (
        "Line manager informed was recorded (11:00 on 4 Mar 2024); the rule: when the concern is "
        "about the line manager, Line manager informed does not occur (Senior manager informed or "
        "whistle-blowing instead)"
    )


# ------------------------------------------------------------------ computer-secured-same-working-day


def test_computer_secured_counts_from_the_first_manager_informed() -> None:
    j = run(
        {
            "late": [(SM, "2024-03-04 10:00"), (LM, "2024-03-05 09:00"), (CS, "2024-03-05 09:30")],
            "ok": [(LM, "2024-03-04 10:00"), (CS, "2024-03-04 16:00")],
            "after-close": [(LM, "2024-03-04 17:10"), (CS, "2024-03-05 16:00")],
            "none": [(CS, "2024-03-04 16:00")],
            "open": [(LM, "2024-03-08 10:00")],
        },
        as_of="2024-03-08 12:00",
    )
    assert statuses(j, "computer-secured-same-working-day") == {
        "late": "violated",
        "ok": "satisfied",
        "after-close": "satisfied",
        "none": "not_applicable",
        "open": "pending",
    }
    assert row(j, "late", "computer-secured-same-working-day")["trigger_activity"] == SM


# ------------------------------------------------------------------ secured-computer-not-used


def test_secured_computer_not_used() -> None:
    j = run(
        {
            "used-after": [(CS, "2024-03-04 10:00"), (CU, "2024-03-05 10:00")],
            "used-before": [(CU, "2024-03-04 09:00"), (CS, "2024-03-04 10:00")],
            "same-date-date-only": [(CS, "2024-03-04"), (CU, "2024-03-04 15:00")],
            "next-date-date-only": [(CS, "2024-03-04"), (CU, "2024-03-05")],
            "never-secured": [(CU, "2024-03-04 09:00")],
        }
    )
    rule = "secured-computer-not-used"
    assert statuses(j, rule) == {
        "used-after": "violated",
        "used-before": "satisfied",
        "same-date-date-only": "satisfied",
        "next-date-date-only": "violated",
        "never-secured": "not_applicable",
    }
    assert bool(row(j, "same-date-date-only", rule)["date_only"])
    assert not bool(row(j, "used-before", rule)["date_only"])
    assert message(j, "used-after", rule) == (
        "Computer used was recorded (10:00 on 5 Mar 2024) after Computer secured "
        "(10:00 on 4 Mar 2024)"
    )


# ------------------------------------------------------------------ no-image-handling


def test_no_image_handling() -> None:
    j = run({"bad": [(IMG, "2024-03-04 10:00")], "good": [(CI, "2024-03-04 10:00")]})
    assert statuses(j, "no-image-handling") == {"bad": "violated", "good": "satisfied"}
    assert message(j, "bad", "no-image-handling") == (
        "Images downloaded or distributed was recorded (10:00 on 4 Mar 2024)"
    )


# ------------------------------------------------------------------ lado-same-day


def test_lado_same_day_in_london_time() -> None:
    j = run(
        {
            # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
            "utc-late-evening": [(LM, "2024-07-01T23:30:00+00:00"), (LADO, "2024-07-02 10:00")],
            "london-late-evening": [
                (LM, "2024-07-01T22:30:00+00:00"),
                (LADO, "2024-07-02 10:00"),
            ],
            "before-midnight": [(LM, "2024-07-01 22:00"), (LADO, "2024-07-01T22:59:00Z")],
        },
        as_of="2024-07-20 12:00",
    )
    assert statuses(j, "lado-same-day") == {
        "utc-late-evening": "satisfied",
        "london-late-evening": "violated",
        "before-midnight": "satisfied",
    }


def test_lado_same_day_configurable_as_working_day() -> None:
    cases = {"sat": [(LM, "2024-07-06 10:00"), (LADO, "2024-07-08 09:00")]}  # Saturday
    assert status(run(cases), "sat", "lado-same-day") == "violated"
    working = CheckConfig(calendar=CalendarConfig(same_day=SameDay.WORKING))
    assert status(run(cases, config=working), "sat", "lado-same-day") == "satisfied"


def test_lado_message_when_never_contacted() -> None:
    j = run({"x": [(LM, "2024-03-04 16:10")]}, as_of="2024-03-09 10:00")
    assert message(j, "x", "lado-same-day") == (
        "LADO contacted was not recorded by the deadline (the end of 4 Mar 2024, the same day as "
        "Line manager informed at 16:10 on 4 Mar 2024); at the as-of time (10:00 on 9 Mar 2024) "
        "it was 4 working days overdue"
    )


# ------------------------------------------------------------------ police-immediately


def test_police_immediately() -> None:
    cases = {
        "on-the-hour": [(LM, "2024-03-04 10:00"), (PN, "2024-03-04 11:00")],
        "minute-late": [(LM, "2024-03-04 10:00"), (PN, "2024-03-04 11:01")],
        "date-only-trigger": [(LM, "2024-03-04"), (PN, "2024-03-04 16:00")],
    }
    j = run(cases, as_of="2024-03-10")
    assert statuses(j, "police-immediately") == {
        "on-the-hour": "satisfied",
        "minute-late": "violated",
        "date-only-trigger": "satisfied",
    }
    late = row(j, "minute-late", "police-immediately")
    assert late["late_working_days"] == 0
    assert late["late_hours"] == pytest.approx(1 / 60)
    assert message(j, "minute-late", "police-immediately") == (
        "Police notified was recorded 1 minute late (11:01 on 4 Mar 2024; the deadline was 11:00 "
        "on 4 Mar 2024, immediately (1 hour) after Line manager informed at 10:00 on 4 Mar 2024)"
    )
    two_hours = config_with_overrides(CheckConfig(), immediately="2 hours")
    assert status(run(cases, config=two_hours), "minute-late", "police-immediately") == "satisfied"


# ------------------------------------------------------------------ police-same-working-day


def test_police_same_working_day_needs_both_steps() -> None:
    j = run(
        {
            "both": [(LM, "2024-03-04 10:00"), (PN, "2024-03-04 10:30"), (AAP, "2024-03-04 15:00")],
            "no-actions": [(LM, "2024-03-04 10:00"), (PN, "2024-03-04 10:30")],
            "late-and-missing": [(LM, "2024-03-04 10:00"), (PN, "2024-03-05 10:30")],
        },
        as_of="2024-03-11 10:00",
    )
    rule = "police-same-working-day"
    assert statuses(j, rule) == {
        "both": "satisfied",
        "no-actions": "violated",
        "late-and-missing": "violated",
    }
    assert row(j, "both", rule)["evidence_activity"] == AAP  # the last of the meeting events
    assert "Actions agreed with police" in str(row(j, "no-actions", rule)["reason"])
    text = message(j, "late-and-missing", rule)
    assert text.startswith("Police notified was recorded 1 working day late")
    assert text.endswith("; Actions agreed with police was not recorded")


# ------------------------------------------------------------------ access-details-provided


def test_access_details_provided() -> None:
    j = run(
        {
            "ok": [(CI, "2024-03-04 09:00"), (PN, "2024-03-04 10:00"), (ADP, "2024-03-05 10:00"),
                   (CC, "2024-04-01 10:00")],
            "before-police": [(CI, "2024-03-04 09:00"), (ADP, "2024-03-04 10:00"),
                              (PN, "2024-03-05 10:00")],
            "before-police-closed": [(CI, "2024-03-04 09:00"), (ADP, "2024-03-04 10:00"),
                                     (PN, "2024-03-05 10:00"), (CC, "2024-04-01 10:00")],
            "again-after-police": [(CI, "2024-03-04 09:00"), (ADP, "2024-03-04 10:00"),
                                   (PN, "2024-03-05 10:00"), (ADP, "2024-03-06 10:00"),
                                   (CC, "2024-04-01 10:00")],
            "missing-closed": [(CI, "2024-03-04 09:00"), (PN, "2024-03-04 10:00"),
                               (CC, "2024-04-01 10:00")],
            "missing-open": [(CI, "2024-03-04 09:00"), (PN, "2024-03-04 10:00")],
            "after-closure": [(CI, "2024-03-04 09:00"), (PN, "2024-03-04 10:00"),
                              (CC, "2024-04-01 10:00"), (ADP, "2024-04-02 10:00")],
            "same-date-date-only": [(CI, "2024-03-04 09:00"), (ADP, "2024-03-04"),
                                    (PN, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
            "referral": [(PN, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
        }
    )
    rule = "access-details-provided"
    assert statuses(j, rule) == {
        "ok": "satisfied",
        # "occurs after Police notified, by Case closed": details given too early can still be
        # given again after the police are told, so the case is pending until it is closed
        "before-police": "pending",
        "before-police-closed": "violated",
        "again-after-police": "satisfied",
        "missing-closed": "violated",
        "missing-open": "pending",
        "after-closure": "violated",  # events after Case closed are not looked at
        "same-date-date-only": "satisfied",
        "referral": "not_applicable",
    }
    assert bool(row(j, "same-date-date-only", rule)["date_only"])
    assert row(j, "ok", rule)["evidence_activity"] == ADP
    assert message(j, "missing-closed", rule) == (
        "Access details provided to police was not recorded after Police notified before the "
        "case was closed"
    )
    assert message(j, "before-police-closed", rule) == (
        "Access details provided to police was recorded (10:00 on 4 Mar 2024) before Police "
        "notified (10:00 on 5 Mar 2024)"
    )


# ------------------------------------------------------------------ employee-actions-after-lado


def test_employee_actions_after_lado() -> None:
    j = run(
        {
            "ok": [(CI, "2024-03-04 09:00"), (LADO, "2024-03-04 10:00"), (EAA, "2024-03-06 10:00")],
            "no-lado": [(CI, "2024-03-04 09:00"), (EAA, "2024-03-06 10:00")],
            "same-date": [(CI, "2024-03-04 09:00"), (EAA, "2024-03-04"),
                          (LADO, "2024-03-04 10:00")],
            "waiting": [(CI, "2024-03-04 09:00"), (LADO, "2024-03-04 10:00")],
            # "only after LADO contacted" (§7.7): actions agreed before the LADO was contacted
            # break the rule at once, even if they are agreed again afterwards
            "before-and-after": [(CI, "2024-03-04 09:00"), (EAA, "2024-03-04 11:00"),
                                 (LADO, "2024-03-04 12:00"), (EAA, "2024-03-04 13:00"),
                                 (CC, "2024-04-01 10:00")],
            "before-open": [(CI, "2024-03-04 09:00"), (EAA, "2024-03-04 11:00"),
                            (LADO, "2024-03-04 12:00")],
        }
    )
    rule = "employee-actions-after-lado"
    assert statuses(j, rule) == {
        "ok": "satisfied",
        "no-lado": "violated",
        "same-date": "satisfied",
        "waiting": "pending",
        "before-and-after": "violated",
        "before-open": "violated",
    }
    assert row(j, "before-and-after", rule)["evidence_time"] == pd.Timestamp(
        "2024-03-04 11:00", tz="Europe/London")
    assert bool(row(j, "same-date", rule)["date_only"])
    assert message(j, "no-lado", rule) == (
        "Employee actions agreed was recorded (10:00 on 6 Mar 2024) but LADO contacted was not"
    )


def test_icpc_clock_gives_a_same_date_strategy_discussion_the_benefit_of_the_doubt() -> None:
    # The conference is known only to the day, and a strategy discussion was held that day:
    # it may have come first, so the clock starts there, not at the discussion a month before.
    j = run(
        {"c": [(SD, "2024-01-02 10:00"), (SD, "2024-02-01 10:00"), (ICPC, "2024-02-01")]},
        {"c": {"children_at_continuing_risk": True}},
        as_of="2024-03-01 12:00",
    )
    r = row(j, "c", "icpc-within-15-working-days")
    assert r["status"] == "satisfied" and bool(r["date_only"])
    assert r["trigger_time"] == pd.Timestamp("2024-02-01 10:00", tz="Europe/London")


def test_date_only_evidence_is_not_called_minutes_late() -> None:
    # Friday 10:00 trigger, deadline the end of Friday; the computer secured "on Saturday"
    # (date only) is late, but by how many hours is not known.
    j = run({"w": [(CI, "2024-03-08 09:00"), (LM, "2024-03-08 10:00"), (CS, "2024-03-09")]},
            as_of="2024-03-20 12:00")
    text = message(j, "w", "computer-secured-same-working-day")
    assert text.startswith("Computer secured was recorded less than a working day late")
    assert "minute" not in text


def test_a_known_attribute_that_differs_beats_an_unknown_one() -> None:
    # unidentified-child-investigation applies when children_at_continuing_risk is false AND
    # alleged_is_child is false: with the first known to be true it cannot apply, whatever the
    # unknown second is, so it is not applicable rather than not assessable.
    j = run(
        {
            "risk-known": [(S47C, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
            "both-unknown": [(S47C, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
        },
        attrs={
            "risk-known": {"children_at_continuing_risk": True, "alleged_is_child": None},
            "both-unknown": {"children_at_continuing_risk": None, "alleged_is_child": False},
        },
    )
    assert statuses(j, "unidentified-child-investigation") == {
        "risk-known": "not_applicable",
        "both-unknown": "not_assessable",
    }


# ------------------------------------------------------------------ police-and-social-care-notified


def test_police_and_social_care_notified_in_referral_cases() -> None:
    j = run(
        {
            "social-care-only": [(SCN, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
            "police-only-open": [(PN, "2024-03-04 10:00")],
            "both": [(PN, "2024-03-04 10:00"), (SCN, "2024-03-04 11:00"), (CC, "2024-04-01")],
            "workplace-police": [(CI, "2024-03-04 09:00"), (PN, "2024-03-04 10:00"),
                                 (CC, "2024-04-01")],
            "strategy-only": [(SD, "2024-03-04 10:00"), (CC, "2024-04-01 10:00")],
        }
    )
    rule = "police-and-social-care-notified"
    assert statuses(j, rule) == {
        "social-care-only": "violated",
        "police-only-open": "pending",
        "both": "satisfied",
        "workplace-police": "not_applicable",
        "strategy-only": "violated",
    }
    assert str(row(j, "workplace-police", rule)["reason"]) == "not a referral case"
    assert message(j, "strategy-only", rule) == (
        "Police notified and Social care notified were not recorded before the case was closed"
    )


# ------------------------------------------------------------------ precedence rules


def test_discuss_before_informing_family() -> None:
    j = run(
        {
            "family-first": [(FI, "2024-03-04 10:00"), (CD, "2024-03-05 10:00")],
            "ok": [(CD, "2024-03-04 10:00"), (FI, "2024-03-05 10:00")],
            "same-date-date-only": [(FI, "2024-03-04"), (CD, "2024-03-04 15:00")],
            "same-date-times": [(FI, "2024-03-04 09:00"), (CD, "2024-03-04 15:00")],
            "never-discussed": [(FI, "2024-03-04 09:00")],
            "no-family": [(CD, "2024-03-04 09:00")],
        }
    )
    rule = "discuss-before-informing-family"
    assert statuses(j, rule) == {
        "family-first": "violated",
        "ok": "satisfied",
        "same-date-date-only": "satisfied",
        "same-date-times": "violated",
        "never-discussed": "violated",
        "no-family": "not_applicable",
    }
    assert bool(row(j, "same-date-date-only", rule)["date_only"])
    assert not bool(row(j, "ok", rule)["date_only"])
    assert message(j, "family-first", rule) == (
        "Family informed (10:00 on 4 Mar 2024) was not preceded by Concerns discussed with police "
        "and social care; Concerns discussed with police and social care was recorded only "
        "afterwards (10:00 on 5 Mar 2024)"
    )
    assert message(j, "never-discussed", rule).endswith(
        "; Concerns discussed with police and social care was not recorded"
    )


def test_information_shared_before_the_first_strategy_discussion() -> None:
    j = run(
        {
            "between": [(SD, "2024-03-04 10:00"), (IS, "2024-03-05 10:00"), (SD, "2024-03-06")],
            "ok": [(IS, "2024-03-04 10:00"), (SD, "2024-03-05 10:00")],
        }
    )
    assert statuses(j, "information-shared-before-strategy-discussion") == {
        "between": "violated",
        "ok": "satisfied",
    }


def test_section_47_after_strategy_discussion() -> None:
    j = run(
        {
            "ok": [(SD, "2024-03-04 10:00"), (S47, "2024-03-05 10:00")],
            "no-discussion": [(S47, "2024-03-05 10:00")],
            "ties-in-file-order": [(SD, "2024-03-05 10:00"), (S47, "2024-03-05 10:00")],
            "ties-reversed": [(S47, "2024-03-05 10:00"), (SD, "2024-03-05 10:00")],
        }
    )
    assert statuses(j, "section-47-after-strategy-discussion") == {
        "ok": "satisfied",
        "no-discussion": "violated",
        "ties-in-file-order": "satisfied",
        "ties-reversed": "violated",
    }


# ------------------------------------------------------------------ icpc-within-15-working-days

RISK: dict[str, bool | None] = {"children_at_continuing_risk": True}
TWO_DISCUSSIONS = [
    (SD, "2024-03-01 10:00"),
    (S47, "2024-03-04 10:00"),
    (SD, "2024-03-15 10:00"),
    (ICPC, "2024-04-03 10:00"),
]


def test_icpc_clock_from_the_last_discussion_before_the_conference() -> None:
    rule = "icpc-within-15-working-days"
    j = run({"x": TWO_DISCUSSIONS}, attrs={"x": RISK})
    r = row(j, "x", rule)
    assert r["status"] == "satisfied"
    assert r["trigger_time"] == stamp("2024-03-15 10:00")[0]
    # 15 working days after Fri 15 Mar 2024, skipping Good Friday and Easter Monday: Tue 9 Apr.
    assert r["deadline"] == stamp("2024-04-09 23:59:59.999999")[0]


def test_icpc_clock_section_47_start_option_changes_the_verdict() -> None:
    rule = "icpc-within-15-working-days"
    config = CheckConfig(icpc_clock="section-47-start")
    j = run({"x": TWO_DISCUSSIONS}, attrs={"x": RISK}, config=config)
    r = row(j, "x", rule)
    assert r["status"] == "violated"
    assert r["trigger_time"] == stamp("2024-03-01 10:00")[0]
    assert r["late_working_days"] == 6
    assert message(j, "x", rule) == (
        "Initial child protection conference held was recorded 6 working days late (10:00 on "
        "3 Apr 2024; the deadline was the end of 22 Mar 2024, 15 working days after Strategy "
        "discussion held at 10:00 on 1 Mar 2024)"
    )


def test_icpc_conditions_pending_and_not_done() -> None:
    rule = "icpc-within-15-working-days"
    cases = {
        "risk": [(SD, "2024-03-04 10:00")],
        "no-risk": [(SD, "2024-03-04 10:00")],
        "unknown": [(SD, "2024-03-04 10:00")],
        "no-discussion": [(ICPC, "2024-03-04 10:00")],
        "conference-first": [
            (ICPC, "2024-03-04 10:00"),
            (SD, "2024-03-05 10:00"),
            (SD, "2024-03-06 10:00"),
        ],
    }
    attrs: dict[str, dict[str, bool | None]] = {
        "risk": RISK,
        "no-risk": {"children_at_continuing_risk": False},
        "unknown": {"children_at_continuing_risk": None},
        "no-discussion": RISK,
        "conference-first": RISK,
    }
    early = run(cases, attrs, as_of="2024-03-15 12:00")
    assert statuses(early, rule) == {
        "risk": "pending",
        "no-risk": "not_applicable",
        "unknown": "not_assessable",
        "no-discussion": "not_applicable",
        "conference-first": "satisfied",
    }
    # No discussion before the conference: the clock runs from the first one (and the
    # conference, held before it, meets the deadline).
    first_after = row(early, "conference-first", rule)
    assert first_after["trigger_time"] == stamp("2024-03-05 10:00")[0]
    late = run(cases, attrs, as_of="2024-03-28 12:00")
    r = row(late, "risk", rule)
    assert r["status"] == "violated" and pd.isna(r["evidence_row"])
    assert r["late_working_days"] == 3  # 26, 27, 28 March after the deadline of 25 March


def test_icpc_day1_counting_changes_the_verdict() -> None:
    rule = "icpc-within-15-working-days"
    cases = {"x": [(SD, "2024-03-04 10:00"), (ICPC, "2024-03-25 10:00")]}  # Mon to Mon
    assert status(run(cases, {"x": RISK}), "x", rule) == "satisfied"
    day1 = CheckConfig(calendar=CalendarConfig(day_counting=DayCounting.DAY1))
    j = run(cases, {"x": RISK}, config=day1)
    assert status(j, "x", rule) == "violated"
    assert row(j, "x", rule)["deadline"] == stamp("2024-03-22 23:59:59.999999")[0]


def test_icpc_ignoring_bank_holidays_changes_the_verdict() -> None:
    rule = "icpc-within-15-working-days"
    cases = {"x": [(SD, "2024-03-21 10:00"), (ICPC, "2024-04-12 10:00")]}
    assert status(run(cases, {"x": RISK}), "x", rule) == "satisfied"  # deadline 15 Apr
    no_holidays = CheckConfig(calendar=CalendarConfig(bank_holidays=False))
    assert status(run(cases, {"x": RISK}, config=no_holidays), "x", rule) == "violated"


def test_extra_closures_move_deadlines() -> None:
    cases = {"x": [(CI, "2024-03-04 17:30"), (LM, "2024-03-06 09:00")]}
    assert status(run(cases), "x", "escalated-same-working-day") == "violated"
    closed = CheckConfig(calendar=CalendarConfig(extra_closures=(date(2024, 3, 5),)))
    assert status(run(cases, config=closed), "x", "escalated-same-working-day") == "satisfied"
    early = CheckConfig(calendar=CalendarConfig(close_of_business=time(16, 0)))
    cases = {"y": [(CI, "2024-03-04 16:30"), (LM, "2024-03-05 09:00")]}
    assert status(run(cases, config=early), "y", "escalated-same-working-day") == "satisfied"


# ------------------------------------------------------------------ existence rules with when


def test_unidentified_child_investigation() -> None:
    adult_no_risk = {"children_at_continuing_risk": False, "alleged_is_child": False}
    j = run(
        {
            "ok": [(CIC, "2024-03-04"), (NSS, "2024-03-05"), (CC, "2024-04-01")],
            "one-missing": [(CIC, "2024-03-04"), (CC, "2024-04-01")],
            "open": [(CIC, "2024-03-04")],
            "risk": [(CC, "2024-04-01")],
            "unknown": [(CC, "2024-04-01")],
        },
        attrs={
            "ok": adult_no_risk,
            "one-missing": adult_no_risk,
            "open": adult_no_risk,
            "risk": {"children_at_continuing_risk": True, "alleged_is_child": False},
            "unknown": {"children_at_continuing_risk": None, "alleged_is_child": False},
        },
    )
    rule = "unidentified-child-investigation"
    assert statuses(j, rule) == {
        "ok": "satisfied",
        "one-missing": "violated",
        "open": "pending",
        "risk": "not_applicable",
        "unknown": "not_assessable",
    }
    assert str(row(j, "one-missing", rule)["reason"]) == (
        "not recorded by Case closed: National specialist services informed"
    )
    assert str(row(j, "open", rule)["reason"]) == (
        "case not closed yet; not yet recorded: National specialist services informed"
    )


def test_allegations_procedure_when_working_with_children() -> None:
    key = "adult_in_contact_with_children"
    j = run(
        {
            "ok": [(APS, "2024-03-04"), (CC, "2024-04-01")],
            "missing": [(PN, "2024-03-04"), (CC, "2024-04-01")],
            "open": [(PN, "2024-03-04")],
            "no-contact": [(CC, "2024-04-01")],
            "unknown": [(CC, "2024-04-01")],
        },
        attrs={
            "ok": {key: True},
            "missing": {key: True},
            "open": {key: True},
            "no-contact": {key: False},
            "unknown": {key: None},
        },
    )
    assert statuses(j, "allegations-procedure-when-working-with-children") == {
        "ok": "satisfied",
        "missing": "violated",
        "open": "pending",
        "no-contact": "not_applicable",
        "unknown": "not_assessable",
    }


def test_child_alleged_procedure() -> None:
    child = {"alleged_is_child": True}
    j = run(
        {
            "ok": [(S47C, "2024-03-04"), (ABC, "2024-03-05"), (CC, "2024-04-01")],
            "missing": [(S47C, "2024-03-04"), (CC, "2024-04-01")],
            "after-closure": [(S47C, "2024-03-04"), (CC, "2024-04-01"), (ABC, "2024-04-02")],
            "completed-after-closure": [(CC, "2024-04-01"), (S47C, "2024-04-02")],
            "adult": [(S47C, "2024-03-04"), (CC, "2024-04-01")],
            "not-completed": [(CC, "2024-04-01")],
        },
        attrs={
            "ok": child,
            "missing": child,
            "after-closure": child,
            "completed-after-closure": child,
            "adult": {"alleged_is_child": False},
            "not-completed": child,
        },
    )
    assert statuses(j, "child-alleged-procedure") == {
        "ok": "satisfied",
        "missing": "violated",
        "after-closure": "violated",
        "completed-after-closure": "not_applicable",
        "adult": "not_applicable",
        "not-completed": "not_applicable",
    }


def test_outcome_21_only_for_young_people() -> None:
    key = "alleged_is_child"
    j = run(
        {
            "adult": [(O21, "2024-03-04 10:00")],
            "child": [(O21, "2024-03-04 10:00")],
            "unknown-recorded": [(O21, "2024-03-04 10:00")],
            "unknown-not-recorded": [(PN, "2024-03-04 10:00")],
            "adult-not-recorded": [(PN, "2024-03-04 10:00")],
        },
        attrs={
            "adult": {key: False},
            "child": {key: True},
            "unknown-recorded": {key: None},
            "unknown-not-recorded": {key: None},
            "adult-not-recorded": {key: False},
        },
    )
    rule = "outcome-21-only-for-young-people"
    assert statuses(j, rule) == {
        "adult": "violated",
        "child": "not_applicable",
        "unknown-recorded": "not_assessable",
        "unknown-not-recorded": "not_applicable",
        "adult-not-recorded": "satisfied",
    }
    assert str(row(j, "unknown-recorded", rule)["reason"]) == (
        "case attribute unknown: alleged_is_child"
    )


# ------------------------------------------------------------------ the whole log


def conformant_workplace(day: str = "2024-03-04") -> list[tuple[str, str]]:
    return [
        (CI, f"{day} 09:00"),
        (LM, f"{day} 09:30"),
        (CS, f"{day} 09:45"),
        (LADO, f"{day} 10:00"),
        (PN, f"{day} 10:15"),
        (AAP, f"{day} 11:00"),
        (ADP, "2024-03-06 10:00"),
        ("Computer seized by police", "2024-03-07 10:00"),
        (EAA, "2024-03-07 11:00"),
        (APS, "2024-03-08 10:00"),
        (CC, "2024-04-02 10:00"),
    ]


def conformant_referral() -> list[tuple[str, str]]:
    return [
        (PN, "2024-03-04 09:00"),
        (SCN, "2024-03-04 10:00"),
        (CD, "2024-03-05 10:00"),
        (FI, "2024-03-06 10:00"),
        (IS, "2024-03-06 11:00"),
        (SD, "2024-03-07 10:00"),
        (S47, "2024-03-08 10:00"),
        ("Access to children assessed", "2024-03-11 10:00"),
        (S47C, "2024-03-12 10:00"),
        (ICPC, "2024-03-14 10:00"),
        (ABC, "2024-03-15 10:00"),
        (CC, "2024-04-02 10:00"),
    ]


def test_a_log_exercising_every_rule_gives_exactly_the_expected_deviations() -> None:
    wp = {"concern_about_line_manager": False, "adult_in_contact_with_children": True,
          "alleged_is_child": False}
    ref = {"children_at_continuing_risk": True, "alleged_is_child": True,
           "adult_in_contact_with_children": False}

    def without(events: list[tuple[str, str]], activity: str) -> list[tuple[str, str]]:
        return [e for e in events if e[0] != activity]

    def replace(events: list[tuple[str, str]], activity: str, when: str) -> list[tuple[str, str]]:
        return [(a, when if a == activity else t) for a, t in events]

    cases = {
        "wp-ok": conformant_workplace(),
        "ref-ok": conformant_referral(),
        "late-escalation": replace(conformant_workplace(), LM, "2024-03-05 08:30"),
        "lm-implicated": conformant_workplace(),
        "cs-late": replace(conformant_workplace(), CS, "2024-03-05 09:00"),
        "computer-used": [*conformant_workplace(), (CU, "2024-03-05 10:00")],
        "images": [*conformant_workplace(), (IMG, "2024-03-04 08:00")],
        "lado-late": replace(conformant_workplace(), LADO, "2024-03-05 08:00"),
        "police-slow": replace(conformant_workplace(), PN, "2024-03-04 10:45"),
        "actions-late": replace(conformant_workplace(), AAP, "2024-03-05 09:00"),
        "no-details": without(conformant_workplace(), ADP),
        "no-employee-actions": without(conformant_workplace(), EAA),
        "no-social-care": without(conformant_referral(), SCN),
        "family-first": replace(conformant_referral(), FI, "2024-03-04 12:00"),
        "no-sharing": without(conformant_referral(), IS),
        "no-strategy": without(conformant_referral(), SD),
        "icpc-late": replace(conformant_referral(), ICPC, "2024-04-01 10:00"),
        "no-national": [*conformant_referral()],
        "no-allegations": conformant_workplace(),
        "no-abuse-procedure": without(conformant_referral(), ABC),
        "outcome-21-adult": [*conformant_workplace(), (O21, "2024-03-10 10:00")],
    }
    attrs: dict[str, dict[str, bool | None]] = {
        case: dict(wp if events[0][0] == CI else ref) for case, events in cases.items()
    }
    attrs["lm-implicated"]["concern_about_line_manager"] = True
    attrs["no-national"].update(children_at_continuing_risk=False, alleged_is_child=False)
    cases["no-national"] = [
        *without(without(cases["no-national"], ICPC), ABC),
        (CIC, "2024-03-13 10:00"),
    ]
    attrs["no-allegations"]["adult_in_contact_with_children"] = True
    cases["no-allegations"] = without(cases["no-allegations"], APS)
    j = run(cases, attrs, as_of="2024-04-30 12:00")
    found = set(zip(j.deviations()["case_id"].astype(str), j.deviations()["rule_id"], strict=True))
    assert found == {
        ("late-escalation", "escalated-same-working-day"),
        ("lm-implicated", "line-manager-bypassed-when-implicated"),
        ("cs-late", "computer-secured-same-working-day"),
        ("computer-used", "secured-computer-not-used"),
        ("images", "no-image-handling"),
        ("lado-late", "lado-same-day"),
        ("police-slow", "police-immediately"),
        ("actions-late", "police-same-working-day"),
        ("no-details", "access-details-provided"),
        ("no-employee-actions", "employee-actions-after-lado"),
        ("no-social-care", "police-and-social-care-notified"),
        ("family-first", "discuss-before-informing-family"),
        ("no-sharing", "information-shared-before-strategy-discussion"),
        ("no-strategy", "section-47-after-strategy-discussion"),
        ("icpc-late", "icpc-within-15-working-days"),
        ("no-national", "unidentified-child-investigation"),
        ("no-allegations", "allegations-procedure-when-working-with-children"),
        ("no-abuse-procedure", "child-alleged-procedure"),
        ("outcome-21-adult", "outcome-21-only-for-young-people"),
    }
    assert {rule for _, rule in found} == set(RULE_IDS)
    messages = j.deviations()["message"]
    assert messages.str.len().min() > 20
    summary = j.summary().set_index("rule_id")
    assert list(summary.index) == list(RULE_IDS)
    assert (summary[list(STATUSES)].sum(axis=1) == len(cases)).all()
    assert summary.loc["no-image-handling", "violated"] == 1
    assert summary.loc["no-image-handling", "compliance"] == pytest.approx(
        (len(cases) - 1) / len(cases)
    )


def test_generated_benchmark_log_yields_exactly_the_injected_deviations() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.make_log import make_log as generate

    generated = generate(600, seed=7)
    log = log_from_frame(generated.events, generated.cases, as_of=generated.as_of)
    j = judge(log, RULES)
    d = j.deviations()
    found = set(zip(d["case_id"].astype(str), d["rule_id"].astype(str), strict=True))
    truth = set(zip(generated.truth["case_id"], generated.truth["rule_id"], strict=True))
    assert len(truth) > 20
    assert found == truth
    counts = j.results["status"].value_counts()
    assert counts["pending"] > 0 and counts["not_assessable"] > 0
    assert j.results["date_only"].any()


# ------------------------------------------------------------------ results, as-of, config


def test_results_frame_shape_and_types() -> None:
    j = run({"a": conformant_workplace(), "b": conformant_referral()})
    r = j.results
    assert tuple(r.columns) == RESULT_COLUMNS
    assert len(r) == 2 * len(RULES)
    assert list(r["case_id"].astype(str)[:2]) == ["a", "a"]  # case-major, rules in order
    assert list(r["rule_id"][: len(RULES)]) == [rule.id for rule in RULES]
    assert str(r["trigger_time"].dtype) == "datetime64[ns, UTC]"
    assert str(r["deadline"].dtype) == "datetime64[ns, UTC]"
    assert str(r["trigger_row"].dtype) == "Int64" and str(r["late_working_days"].dtype) == "Int64"
    assert set(r["status"].astype(str)) <= set(STATUSES)
    assert r.loc[r["status"] == "not_applicable", "date_only"].sum() == 0
    assert (j.cases, j.events) == (2, 23)
    assert j.deviations().empty


def test_trigger_and_evidence_rows_are_file_rows() -> None:
    events = pd.DataFrame(
        {
            "case_id": ["x", "x"],
            "activity": [LM, CI],
            "time_utc": [stamp("2024-03-04 10:00")[0], stamp("2024-03-04 09:00")[0]],
            "source_row": [10, 20],
        }
    )
    j = judge(log_from_frame(events), RULES)
    r = row(j, "x", "escalated-same-working-day")
    assert (r["trigger_row"], r["evidence_row"]) == (20, 10)


def test_events_after_the_configured_as_of_are_excluded_and_counted() -> None:
    cases = {
        "a": [(CI, "2024-03-04 09:00"), (LM, "2024-03-05 09:00")],
        "later": [(CI, "2024-03-06 09:00")],
    }
    config = CheckConfig(as_of=pd.Timestamp("2024-03-04 12:00"))  # naive: London time
    j = run(cases, config=config)
    assert j.excluded_after_as_of == 2
    assert (j.cases, j.events) == (1, 1)
    assert j.as_of == pd.Timestamp("2024-03-04 12:00", tz="UTC")
    assert status(j, "a", "escalated-same-working-day") == "pending"


def test_rules_outside_the_contract_use_the_same_templates() -> None:
    rule = Rule(
        id="local-lado-in-2-days",
        clause="local",
        severity=Severity.WARNING,
        template=Template.RESPONSE,
        trigger=(CI,),
        require=((LADO,),),
        within=Within.parse("2 days"),
        scope=Scope.WORKPLACE,
    )
    j = run(
        {"a": [(CI, "2024-03-04 09:00"), (LADO, "2024-03-06 23:00")],
         "b": [(CI, "2024-03-04 09:00"), (LADO, "2024-03-07 00:30")]},
        rules=[rule],
    )
    assert statuses(j, rule.id) == {"a": "satisfied", "b": "violated"}


def test_unknown_activities_and_empty_logs() -> None:
    j = run({"a": [("Something else", "2024-03-04 09:00")]})
    assert set(j.results["status"].astype(str)) <= {"not_applicable", "satisfied",
                                                      "not_assessable"}
    empty = judge(
        log_from_frame(pd.DataFrame({"case_id": [], "activity": [],
                                     "time_utc": pd.to_datetime([], utc=True)})),
        RULES,
    )
    assert empty.results.empty and tuple(empty.results.columns) == RESULT_COLUMNS
    assert empty.deviations().empty
    assert (empty.summary()[list(STATUSES)].to_numpy() == 0).all()


def test_unsorted_input_is_sorted_by_time_then_file_order() -> None:
    events = pd.DataFrame(
        {
            "case_id": ["x", "y", "x"],
            "activity": [FI, FI, CD],
            "time_utc": [stamp("2024-03-05 10:00")[0]] * 2 + [stamp("2024-03-04 10:00")[0]],
        }
    )
    log = log_from_frame(events)
    shuffled = log.events.iloc[::-1].reset_index(drop=True)
    object.__setattr__(log, "events", shuffled)
    j = judge(log, RULES)
    assert statuses(j, "discuss-before-informing-family") == {"x": "satisfied", "y": "violated"}


def test_categorical_columns_give_the_same_results() -> None:
    cases = {"a": conformant_workplace(), "b": conformant_referral()}
    log = make(cases)
    plain = judge(log, RULES)
    events = log.events.astype({"case_id": "category", "activity": "category"})
    object.__setattr__(log, "events", events)
    categorical = judge(log, RULES)
    pd.testing.assert_frame_equal(categorical.results, plain.results)


def test_check_config_validation() -> None:
    with pytest.raises(ValueError, match="icpc_clock must be one of"):
        CheckConfig(icpc_clock="first")
    with pytest.raises(ValueError, match="rule ids must be unique"):
        run({"a": [(CI, "2024-03-04 09:00")]}, rules=[RULES[0], RULES[0]])


# ------------------------------------------------------------------ config file


def test_load_check_config_reads_every_key(tmp_path: Path) -> None:
    path = tmp_path / "check.toml"
    path.write_text(
        'as_of = "2024-06-30T17:00"\n'
        'icpc_clock = "section-47-start"\n'
        "[calendar]\n"
        'close_of_business = "16:30"\n'
        "bank_holidays = false\n"
        'extra_closures = ["2024-12-27", 2024-12-30]\n'
        'day_counting = "day1"\n'
        'same_day = "working"\n'
        'immediately = "90 minutes"\n',
        encoding="utf-8",
    )
    config = load_check_config(path)
    assert config.as_of == pd.Timestamp("2024-06-30 16:00", tz="UTC")  # BST
    assert config.icpc_clock == "section-47-start"
    assert config.calendar == CalendarConfig(
        close_of_business=time(16, 30),
        bank_holidays=False,
        extra_closures=(date(2024, 12, 27), date(2024, 12, 30)),
        day_counting=DayCounting.DAY1,
        same_day=SameDay.WORKING,
        immediately=timedelta(minutes=90),
    )
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_check_config(empty) == CheckConfig()


def test_load_check_config_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'as_of = "yesterday"\n'
        'colour = "blue"\n'
        "[calendar]\n"
        'close_of_business = "25:00"\n'
        'bank_holidays = "perhaps"\n'
        'extra_closures = ["2024-02-30"]\n'
        'day_counting = "day2"\n'
        'immediately = "same day"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_check_config(path)
    wheres = [p.where for p in caught.value.problems]
    assert wheres == [
        "key 'colour'",
        "key 'as_of'",
        "key 'calendar.close_of_business'",
        "key 'calendar.bank_holidays'",
        "key 'calendar.extra_closures'",
        "key 'calendar.day_counting'",
        "key 'calendar.immediately'",
    ]
    assert str(path) in str(caught.value)
    assert 'expected one of "day0", "day1"' in str(caught.value)
    syntax = tmp_path / "syntax.toml"
    syntax.write_text("[calendar\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1, column \d+: expected valid TOML"):
        load_check_config(syntax)


def test_config_with_overrides() -> None:
    base = CheckConfig(calendar=CalendarConfig(bank_holidays=False))
    config = config_with_overrides(
        base,
        as_of="2024-03-04",
        close_of_business="16:00",
        extra_closures="2024-12-27,2024-12-30",
        day_counting=None,
    )
    assert config.calendar.bank_holidays is False  # kept from the file
    assert config.calendar.close_of_business == time(16)
    assert config.calendar.extra_closures == (date(2024, 12, 27), date(2024, 12, 30))
    assert config.as_of == pd.Timestamp("2024-03-04 23:59:59.999999", tz="UTC")
    with pytest.raises(InputError, match="option --same-day: expected one of"):
        config_with_overrides(base, same_day="sometimes")
    with pytest.raises(TypeError, match="unknown check option"):
        config_with_overrides(base, colour="blue")


def test_status_arrays_are_categorical_with_all_statuses() -> None:
    j = run({"a": [(CI, "2024-03-04 09:00")]})
    assert list(j.results["status"].cat.categories) == list(STATUSES)
    assert np.all(j.results["case_id"].astype(str) == "a")
