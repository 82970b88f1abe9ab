"""Properties of the rule engine (Hypothesis).

1. Removing a mandatory step from a conformant trace yields exactly the expected deviations.
2. On random small logs, the vectorised engine agrees, row by row, with a slow and plainly
   written per-case reference implementation of the same semantics (conformance/engine.py's
   docstring), which uses the calendar's scalar (not vectorised) forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.config import CheckConfig
from conformance.engine import judge
from conformance.logio import log_from_frame
from model.calendar import LONDON, CalendarConfig, DayCounting, SameDay, WorkingCalendar
from model.contract import ATTRIBUTES
from model.procedure import load_procedure
from model.rules import Occurrence, Rule, Scope, Template, TriggerOccurrence

RULES = load_procedure().rules

CI, LM, CS, LADO, PN, SCN, AAP, ADP, SEIZED, EAA = (
    "Concern identified",
    "Line manager informed",
    "Computer secured",
    "LADO contacted",
    "Police notified",
    "Social care notified",
    "Actions agreed with police",
    "Access details provided to police",
    "Computer seized by police",
    "Employee actions agreed",
)
CD, FI, IS, SD, S47, ACA, S47C, ICPC = (
    "Concerns discussed with police and social care",
    "Family informed",
    "Information shared",
    "Strategy discussion held",
    "Section 47 enquiry started",
    "Access to children assessed",
    "Section 47 enquiry completed",
    "Initial child protection conference held",
)
CIC, NSS, APS, ABC, CC = (
    "Child identification investigation continued",
    "National specialist services informed",
    "Allegations procedure started",
    "Abuse by children procedure started",
    "Case closed",
)


# ------------------------------------------------------------------ 1. removing a mandatory step

# (activity, days after the start, minutes after the start's time of day)
WORKPLACE = [
    (CI, 0, 0), (LM, 0, 30), (CS, 0, 45), (LADO, 0, 60), (PN, 0, 75), (AAP, 0, 120),
    (SCN, 0, 180), (ADP, 1, 0), (CD, 1, 60), (SEIZED, 2, 0), (EAA, 2, 30), (FI, 2, 60),
    (IS, 2, 90), (APS, 3, 0), (SD, 3, 60), (S47, 4, 0), (ACA, 5, 0), (S47C, 6, 0),
    (ICPC, 8, 0), (CC, 30, 0),
]
WORKPLACE_ATTRS: dict[str, bool | None] = {
    "concern_about_line_manager": False,
    "children_at_continuing_risk": True,
    "adult_in_contact_with_children": True,
    "alleged_is_child": False,
}
WORKPLACE_LOSSES: dict[str, set[str]] = {
    CI: set(),  # no longer a workplace case; a referral case with both notifications
    LM: {"escalated-same-working-day"},
    CS: {"computer-secured-same-working-day"},
    LADO: {"lado-same-day", "employee-actions-after-lado"},
    PN: {
        "police-immediately",
        "police-same-working-day",
        "access-details-provided",
        "police-and-social-care-notified",
    },
    AAP: {"police-same-working-day"},
    SCN: {"police-and-social-care-notified"},  # still a referral case: a strategy discussion
    ADP: {"access-details-provided"},
    SEIZED: set(),
    EAA: {"employee-actions-after-lado"},
    CD: {"discuss-before-informing-family"},
    FI: set(),
    IS: {"information-shared-before-strategy-discussion"},
    SD: {"section-47-after-strategy-discussion"},
    S47: set(),
    ACA: set(),
    S47C: set(),
    ICPC: {"icpc-within-15-working-days"},
    APS: {"allegations-procedure-when-working-with-children"},
    CC: set(),  # "by Case closed" rules become pending
}
REFERRAL = [
    (PN, 0, 0), (SCN, 0, 30), (CD, 1, 0), (FI, 2, 0), (IS, 2, 30), (SD, 3, 0), (S47, 3, 60),
    (ACA, 4, 0), (S47C, 5, 0), (CIC, 6, 0), (NSS, 6, 30), (CC, 20, 0),
]
REFERRAL_ATTRS: dict[str, bool | None] = {
    "concern_about_line_manager": None,
    "children_at_continuing_risk": False,
    "adult_in_contact_with_children": False,
    "alleged_is_child": False,
}
REFERRAL_LOSSES: dict[str, set[str]] = {
    PN: {"police-and-social-care-notified"},
    SCN: {"police-and-social-care-notified"},
    CD: {"discuss-before-informing-family"},
    FI: set(),
    IS: {"information-shared-before-strategy-discussion"},
    SD: {"section-47-after-strategy-discussion"},
    S47: set(),
    ACA: set(),
    S47C: set(),
    CIC: {"unidentified-child-investigation"},
    NSS: {"unidentified-child-investigation"},
    CC: set(),
}
CHILD_REFERRAL = [*REFERRAL[:9], (ABC, 6, 0), (CC, 20, 0)]
CHILD_ATTRS: dict[str, bool | None] = {**REFERRAL_ATTRS, "alleged_is_child": True}
CHILD_LOSSES = {
    **{k: v for k, v in REFERRAL_LOSSES.items() if k not in (CIC, NSS)},
    ABC: {"child-alleged-procedure"},
}
Route = tuple[list[tuple[str, int, int]], dict[str, bool | None], dict[str, set[str]]]
ROUTES: dict[str, Route] = {
    "workplace": (WORKPLACE, WORKPLACE_ATTRS, WORKPLACE_LOSSES),
    "referral": (REFERRAL, REFERRAL_ATTRS, REFERRAL_LOSSES),
    "child": (CHILD_REFERRAL, CHILD_ATTRS, CHILD_LOSSES),
}
CAL = WorkingCalendar()
WORKING_DAYS = [
    date(2023, 1, 2) + timedelta(days=i)
    for i in range(900)
    if CAL.is_working_day(date(2023, 1, 2) + timedelta(days=i))
]


def trace_frame(
    steps: list[tuple[str, int, int]], start: date, minute: int, date_only: bool
) -> pd.DataFrame:
    rows = []
    for activity, days, minutes in steps:
        local = datetime.combine(start + timedelta(days=days), time(8)) + timedelta(
            minutes=minute + minutes
        )
        if date_only:
            local = datetime.combine(local.date(), time(0))
        rows.append(("case", activity, pd.Timestamp(local).tz_localize(LONDON), date_only))
    return pd.DataFrame(rows, columns=["case_id", "activity", "time_utc", "date_only"])


def deviations_of(frame: pd.DataFrame, attrs: Mapping[str, bool | None]) -> set[str]:
    cases = pd.DataFrame([dict(attrs)], index=["case"]).astype("boolean")
    log = log_from_frame(frame, cases, as_of=pd.Timestamp("2026-01-01", tz="UTC"))
    return set(judge(log, RULES).deviations()["rule_id"].astype(str))


@settings(max_examples=120, deadline=None)
@given(
    route=st.sampled_from(sorted(ROUTES)),
    start=st.sampled_from(WORKING_DAYS),
    minute=st.integers(0, 240),
    date_only=st.booleans(),
    data=st.data(),
)
def test_removing_a_mandatory_step_yields_exactly_the_expected_deviations(
    route: str, start: date, minute: int, date_only: bool, data: st.DataObject
) -> None:
    steps, attrs, losses = ROUTES[route]
    assert deviations_of(trace_frame(steps, start, minute, date_only), attrs) == set()
    removed = data.draw(st.sampled_from(sorted(losses)), label="removed step")
    kept = [s for s in steps if s[0] != removed]
    assert deviations_of(trace_frame(kept, start, minute, date_only), attrs) == losses[removed]


# ------------------------------------------------------------------ 2. the reference implementation


@dataclass(frozen=True)
class Ev:
    pos: int
    activity: str
    t: int  # UTC ns
    date_only: bool
    day: date  # Europe/London date
    row: int


@dataclass(frozen=True)
class Verdict:
    status: str
    date_only: bool = False
    trigger: Ev | None = None
    evidence: Ev | None = None
    deadline: int | None = None
    late_days: int | None = None
    late_hours: float | None = None


def same_footing(a: Ev, b: Ev) -> bool:
    return a.day == b.day and (a.date_only or b.date_only)


def first(evs: list[Ev], names: tuple[str, ...] | str) -> Ev | None:
    wanted = (names,) if isinstance(names, str) else names
    return next((e for e in evs if e.activity in wanted), None)


def reference_case(
    evs: list[Ev],
    attrs: Mapping[str, bool | None],
    rule: Rule,
    occurrence: TriggerOccurrence,
    cal: WorkingCalendar,
    as_of: int,
) -> Verdict:
    names = {e.activity for e in evs}
    workplace = CI in names
    referral = SCN in names or SD in names or (PN in names and not workplace)
    if rule.scope is Scope.WORKPLACE and not workplace:
        return Verdict("not_applicable")
    if rule.scope is Scope.REFERRAL and not referral:
        return Verdict("not_applicable")
    unknown = any(attrs.get(a) is None for a in rule.when)
    differs = any(attrs.get(a) is not None and attrs.get(a) != v for a, v in rule.when.items())

    if rule.template is Template.ABSENCE:
        x = first(evs, rule.after) if rule.after else None
        if rule.after and x is None:
            return Verdict("not_applicable")
        forbidden = [e for e in evs if e.activity == rule.activity]
        counted = [
            f for f in forbidden if x is None or (f.pos > x.pos and not same_footing(f, x))
        ]
        if differs:
            return Verdict("not_applicable")
        if unknown:
            return Verdict("not_assessable" if counted else "not_applicable")
        if counted:
            return Verdict("violated", trigger=x, evidence=counted[0])
        footing = x is not None and any(same_footing(f, x) for f in forbidden)
        return Verdict("satisfied", date_only=footing, trigger=x)

    if rule.template is Template.EXISTENCE:
        closure = first(evs, CC)
        window = evs if closure is None else [e for e in evs if e.pos <= closure.pos]
        trig = first(window, rule.trigger) if rule.trigger else None
        if rule.trigger and trig is None:
            return Verdict("not_applicable")
        if differs:
            return Verdict("not_applicable")
        if unknown:
            return Verdict("not_assessable")
        x = first(window, rule.after) if rule.after else None
        oks, early_firsts, counted_firsts, footing_only = [], [], [], False
        only_before: list[Ev] = []
        for entry in rule.require:
            occ = [e for e in window if e.activity in entry]
            if rule.after:
                counted = [e for e in occ if x is not None and (e.pos > x.pos or same_footing(e, x))]
                strict = [
                    e for e in occ if x is not None and e.pos > x.pos and not same_footing(e, x)
                ]
                footing_only |= bool(counted) and not strict
                early = [
                    e for e in occ
                    if x is None or (e.pos < x.pos and not same_footing(e, x))
                ] if rule.only_after else []
            else:
                counted, early = occ, []
            oks.append(bool(counted))
            counted_firsts.append(counted[0] if counted else None)
            early_firsts.append(early[0] if early else None)
            if occ and (early or not counted):
                only_before.append(occ[0])
        shown = trig if rule.trigger else x
        broken = [b for b in early_firsts if b is not None]
        if broken:
            return Verdict("violated", footing_only, shown, broken[0])
        if all(oks):
            evidence = max((c for c in counted_firsts if c), key=lambda e: e.pos)
            return Verdict("satisfied", footing_only, shown, evidence)
        if closure is None:
            return Verdict("pending", footing_only, shown)
        return Verdict("violated", footing_only, shown, only_before[0] if only_before else None)

    if rule.template is Template.PRECEDENCE:
        target = first(evs, rule.activity or "")
        if target is None:
            return Verdict("not_applicable")
        if differs:
            return Verdict("not_applicable")
        if unknown:
            return Verdict("not_assessable")
        preceding = [e for e in evs if e.activity == rule.preceded_by]
        known = any(a.pos < target.pos and not same_footing(a, target) for a in preceding)
        footing = any(same_footing(a, target) for a in preceding)
        if known or footing:
            return Verdict("satisfied", not known, target, preceding[0])
        later = next((a for a in preceding if a.pos > target.pos), None)
        return Verdict("violated", False, target, later)

    # response
    triggers = [e for e in evs if e.activity in rule.trigger]
    if not triggers:
        return Verdict("not_applicable")
    if differs:
        return Verdict("not_applicable")
    if unknown:
        return Verdict("not_assessable")
    if occurrence.kind is Occurrence.FIRST:
        trig = triggers[0]
    else:
        anchor_names = (
            rule.require[0]
            if occurrence.kind is Occurrence.LAST_BEFORE_RESPONSE
            else (occurrence.activity or "",)
        )
        anchor = first(evs, anchor_names)
        if anchor is None:
            trig = triggers[-1]
        else:
            # at or before the anchor, or on its date when either is date-only (the order
            # within that date is unknown: benefit of the doubt, the later clock start)
            before = [t for t in triggers if t.pos <= anchor.pos or same_footing(t, anchor)]
            trig = before[-1] if before else triggers[0]
    assert rule.within is not None
    trigger_time = pd.Timestamp(trig.t, tz="UTC").to_pydatetime()
    deadline_dt = cal.deadline(rule.within, trigger_time, date_only=trig.date_only)
    deadline = pd.Timestamp(deadline_dt).value
    firsts = [first(evs, entry) for entry in rule.require]
    met = [f is not None and f.t <= deadline for f in firsts]
    if all(met):
        evidence = max((f for f in firsts if f), key=lambda e: e.pos)
        return Verdict("satisfied", trig.date_only or evidence.date_only, trig, evidence, deadline)
    if deadline > as_of:
        return Verdict("pending", trig.date_only, trig, None, deadline)
    late_one = firsts[met.index(False)]
    at = late_one.t if late_one is not None else as_of
    deadline_day = cal.to_local(deadline_dt).date()
    at_day = cal.to_local(pd.Timestamp(at, tz="UTC").to_pydatetime()).date()
    late_days = cal.working_days_between(deadline_day, at_day) if at_day > deadline_day else 0
    return Verdict(
        "violated",
        trig.date_only or (late_one is not None and late_one.date_only),
        trig,
        late_one,
        deadline,
        late_days,
        (at - deadline) / 3.6e12,
    )


def reference(
    events: pd.DataFrame,
    cases: pd.DataFrame,
    rules: tuple[Rule, ...],
    config: CheckConfig,
    as_of: int,
) -> dict[tuple[str, str], Verdict]:
    cal = WorkingCalendar(config.calendar)
    by_case: dict[str, list[tuple[int, int, str, bool]]] = {}
    for case_id, activity, t, date_only, row in zip(
        events["case_id"], events["activity"], events["time_utc"], events["date_only"],
        events["source_row"], strict=True,
    ):
        ns = pd.Timestamp(t).value
        if ns <= as_of:
            by_case.setdefault(str(case_id), []).append((ns, int(row), str(activity), bool(date_only)))
    out: dict[tuple[str, str], Verdict] = {}
    for case_id, raw in by_case.items():
        raw.sort()
        evs = [
            Ev(i, activity, ns, date_only,
               cal.to_local(pd.Timestamp(ns, tz="UTC").to_pydatetime()).date(), row)
            for i, (ns, row, activity, date_only) in enumerate(raw)
        ]
        attrs: dict[str, bool | None] = {}
        for name in ATTRIBUTES:
            value: Any = cases.at[case_id, name] if name in cases.columns else pd.NA
            attrs[name] = None if pd.isna(value) else bool(value)
        for rule in rules:
            occurrence = rule.trigger_occurrence
            if rule.id == "icpc-within-15-working-days" and config.icpc_clock == "section-47-start":
                occurrence = TriggerOccurrence(Occurrence.LAST_BEFORE, S47)
            out[(case_id, rule.id)] = reference_case(evs, attrs, rule, occurrence, cal, as_of)
    return out


EXTRAS = [CI, PN, SCN, SD, "Something else"]
DAYS = [
    date(2024, 3, 27), date(2024, 3, 28), date(2024, 3, 29),  # Good Friday
    date(2024, 3, 30), date(2024, 3, 31),  # clocks go forward
    date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 5), date(2024, 4, 19), date(2024, 4, 23),
    date(2024, 10, 25), date(2024, 10, 27),  # clocks go back
    date(2024, 10, 28),
]
MINUTES = st.one_of(
    st.sampled_from([0, 30, 60, 90, 540, 1019, 1020, 1021, 1410, 1439]),
    st.integers(0, 1439),
)


@st.composite
def random_logs(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame, CheckConfig]:
    # The activities of one or two rules (so that their parts meet often), sometimes with
    # the scope-deciding activities and an activity no rule names.
    chosen = draw(st.lists(st.sampled_from(RULES), min_size=1, max_size=2))
    vocabulary = sorted({a for rule in chosen for a in rule.activities()})
    for rule in chosen:
        if rule.scope is Scope.WORKPLACE:
            vocabulary.append(CI)
    vocabulary += draw(st.lists(st.sampled_from(EXTRAS), max_size=3, unique=True))
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True))
    wanted = {name: value for rule in chosen for name, value in rule.when.items()}
    n_cases = draw(st.integers(1, 5))
    rows = []
    attrs = {}
    for c in range(n_cases):
        case_id = f"c{c}"
        for _ in range(draw(st.integers(1, 12))):
            day = draw(st.sampled_from(days))
            date_only = draw(st.booleans()) and draw(st.booleans())
            minute = 0 if date_only else draw(MINUTES)
            local = datetime.combine(day, time(0)) + timedelta(minutes=minute)
            rows.append([case_id, draw(st.sampled_from(vocabulary)), local, date_only])
        if draw(st.integers(0, 2)):  # closed, mostly on the last day
            local = datetime.combine(max(days), time(0)) + timedelta(minutes=draw(MINUTES))
            rows.append([case_id, CC, local, False])
        attrs[case_id] = {
            name: draw(
                st.sampled_from([wanted[name]] * 3 + [not wanted[name], None])
                if name in wanted
                else st.sampled_from([True, False, None])
            )
            for name in ATTRIBUTES
        }
    order = draw(st.permutations(range(len(rows))))
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "local", "date_only"])
    frame["time_utc"] = pd.DatetimeIndex(frame["local"]).tz_localize(
        LONDON, ambiguous=True, nonexistent="shift_forward"
    )
    frame["source_row"] = np.asarray(order, dtype=np.int64) + 2
    frame = frame.drop(columns="local")
    cases = pd.DataFrame.from_dict(attrs, orient="index").astype("boolean")
    as_of = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda d, m: pd.Timestamp(datetime.combine(d, time(0)) + timedelta(minutes=m)),
                st.sampled_from(DAYS),
                st.integers(0, 1439),
            ),
        )
    )
    config = CheckConfig(
        calendar=CalendarConfig(
            close_of_business=draw(st.sampled_from([time(17), time(16, 30)])),
            bank_holidays=draw(st.booleans()),
            day_counting=draw(st.sampled_from(list(DayCounting))),
            same_day=draw(st.sampled_from(list(SameDay))),
            immediately=draw(st.sampled_from([timedelta(hours=1), timedelta(minutes=30)])),
        ),
        as_of=as_of,
        icpc_clock=draw(st.sampled_from(["last-strategy-discussion", "section-47-start"])),
    )
    return frame, cases, config


def _row_or_none(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs())
def test_engine_agrees_with_the_reference_implementation(
    drawn: tuple[pd.DataFrame, pd.DataFrame, CheckConfig],
) -> None:
    frame, cases, config = drawn
    log = log_from_frame(frame, cases)
    judgement = judge(log, RULES, config)
    as_of = judgement.as_of.value
    expected = reference(log.events, log.cases, RULES, config, as_of)
    results = judgement.results
    assert len(results) == len(expected)
    r: Any
    for r in results.astype(object).itertuples(index=False):
        key = (str(r.case_id), str(r.rule_id))
        want = expected[key]
        got = (
            str(r.status),
            bool(r.date_only),
            _row_or_none(r.trigger_row),
            _row_or_none(r.evidence_row),
            None if pd.isna(r.deadline) else pd.Timestamp(r.deadline).value,
            _row_or_none(r.late_working_days),
        )
        assert got == (
            want.status,
            want.date_only,
            want.trigger.row if want.trigger else None,
            want.evidence.row if want.evidence else None,
            want.deadline,
            want.late_days,
        ), key
        if want.late_hours is not None:
            assert abs(float(r.late_hours) - want.late_hours) < 1e-6, key
        else:
            assert pd.isna(r.late_hours), key
    # The messages can be built for every violated row.
    deviations = judgement.deviations()
    assert deviations["message"].str.len().min() > 10 if len(deviations) else True
    assert judgement.excluded_after_as_of == int(
        (frame["time_utc"].map(lambda t: t.value) > as_of).sum()
    )
