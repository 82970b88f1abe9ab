"""The validating reader of scenario files: every section checked against the procedure.

``read_fields(data, source, procedure)`` takes the mapping TOML gives and returns the keyword
arguments of a ``Scenario`` (``simulation.scenario.model`` builds it), or raises one
``InputError`` with every problem of the file: unknown fields, values of the wrong kind or out
of range, roles, activities, loops and offences the procedure does not have, and fields that do
not fit together (a booked step needs a diary; a role with a diary is only booked into it).
Single values are read by ``FieldReader`` (``simulation.scenario.values``); the ``[checking]``
section by the checker's own configuration reader (``conformance.check_config_from_mapping``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any, Final

from conformance import CheckConfig, check_config_from_mapping
from model.errors import InputError
from model.procedure import Kind, Procedure, Task, walk
from simulation.calibration.ledger import ledger_problems
from simulation.scenario.fields import SHORT_PATHS, describe
from simulation.scenario.parts import (
    Background,
    Booking,
    Diary,
    Dispatch,
    ForbiddenSlip,
    Hours,
    OrderSlip,
    RoleSpec,
    Route,
    Slips,
    Surge,
    TaskSpec,
)
from simulation.scenario.values import MISSING, FieldReader

__all__ = ["UNLIMITED", "read_fields"]

UNLIMITED: Final = "unlimited"
_SECTIONS: Final = ("scenario", "calendar", "checking", "routes", "roles", "tasks", "loops",
                    "slips", "ledger")


def read_fields(data: Mapping[str, Any], source: str, procedure: Procedure) -> dict[str, Any]:
    """The keyword arguments of a ``Scenario`` read from ``data`` (all but source and data).

    Raises
    ------
    InputError
        With every problem of the file, each naming its field.
    """
    return _Reader(source, procedure).scenario(data)


class _Reader(FieldReader):
    def __init__(self, source: str, procedure: Procedure) -> None:
        super().__init__()
        self.source = source
        self.procedure = procedure

    def scenario(self, data: Mapping[str, Any]) -> dict[str, Any]:
        self.only(data, _SECTIONS, "")
        self.problems.extend(ledger_problems(data))  # where each number comes from
        head = self.table(data, "scenario", "scenario")
        self.only(head, sorted(SHORT_PATHS), "scenario")
        name = self.text(head, "name", "scenario.name", "scenario")
        description = self.text(head, "description", "scenario.description", "")
        start = self.date_value(head, "start", "scenario.start") or date(2024, 4, 1)
        horizon = self.integer(head, "horizon_days", "scenario.horizon_days", 365, low=1,
                               high=3660)
        warm_up = self.integer(head, "warm_up_days", "scenario.warm_up_days", 0, low=0,
                               high=3660)
        drain = self.integer(head, "drain_days", "scenario.drain_days", 180, low=0, high=3660)
        replications = self.integer(head, "replications", "scenario.replications", 20, low=1,
                                    high=100_000)
        seed = self.integer(head, "seed", "scenario.seed", 1, low=0)
        dispatch_raw = head.get("dispatch", Dispatch.FCFS.value)
        try:
            dispatch = Dispatch(dispatch_raw)
        except ValueError:
            self.bad("scenario.dispatch", "'fcfs' (first come, first served) or 'edf' "
                     "(earliest deadline first)", describe(dispatch_raw))
            dispatch = Dispatch.FCFS
        demand = self.number(head, "demand", "scenario.demand", 1.0, low=0.0, low_open=True)
        background_demand = self.number(head, "background_demand", "scenario.background_demand",
                                        1.0, low=0.0)
        timeline = self.integer(head, "timeline_days", "scenario.timeline_days", 7, low=1)

        cal = self.table(data, "calendar", "calendar")
        self.only(cal, ["open", "close"], "calendar")
        office_open = self.clock_time(cal, "open", "calendar.open", time(9, 0))
        office_close = self.clock_time(cal, "close", "calendar.close", time(17, 0))
        if self.ok("calendar.open", "calendar.close") and office_open >= office_close:
            self.bad("calendar.close", f"a time after calendar.open ({office_open:%H:%M})",
                     f"{office_close:%H:%M}")

        checking = self.checking(data.get("checking", MISSING))
        routes = {
            rid: self.route(rid, body)
            for rid, body in sorted(self.table(data, "routes", "routes").items())
        }
        roles = {
            rid: self.role_spec(rid, body, office_open, office_close)
            for rid, body in self.table(data, "roles", "roles").items()
        }
        tasks = {
            name: spec
            for name, body in self.table(data, "tasks", "tasks").items()
            if (spec := self.task(name, body, roles)) is not None
        }
        self.diaries_only_booked(roles, tasks)
        self.some_work(data, routes, roles, background_demand)
        loops = self.loops(self.table(data, "loops", "loops"))
        slips = self.slips(self.table(data, "slips", "slips"))
        if self.problems:
            raise InputError(
                self.source, self.problems,
                summary=f"{self.source}: {len(self.problems)} problem(s) in the scenario",
            )
        return {
            "name": name, "description": description, "start": start, "horizon_days": horizon,
            "warm_up_days": warm_up, "drain_days": drain, "replications": replications,
            "seed": seed, "dispatch": dispatch, "demand": demand,
            "background_demand": background_demand, "timeline_days": timeline,
            "office_open": office_open, "office_close": office_close, "routes": routes,
            "roles": roles, "tasks": tasks, "loops": loops, "slips": slips,
            "checking": checking,
        }

    def checking(self, raw: Any) -> CheckConfig:
        """The ``[checking]`` section: the keys of the checker's configuration file, read by the
        checker's own reader (so they mean what they mean to ``lscb check``), except an as-of
        time (each simulated log is judged as of its last event)."""
        if raw is MISSING:
            return CheckConfig()
        if not isinstance(raw, dict):
            self.bad("checking", "a table [checking] with the keys of a check configuration "
                     "file", describe(raw))
            return CheckConfig()
        table = dict(raw)
        if "as_of" in table:
            self.bad("checking.as_of", "no as-of time (each simulated log is judged as of its "
                     "last event)", describe(table.pop("as_of")))
        try:
            return check_config_from_mapping(table, self.source, prefix="checking.")
        except InputError as exc:
            self.problems.extend(exc.problems)
            self.invalid.add("checking")
            return CheckConfig()

    def some_work(self, data: Mapping[str, Any], routes: Mapping[str, Route],
                  roles: Mapping[str, RoleSpec], background_demand: float) -> None:
        """Cases arrive, or at least the roles' other work does (a scenario of background work
        alone studies the queues without the procedure); otherwise nothing would happen."""
        if any(r.annual_volume > 0 for r in routes.values()) or not self.ok("routes"):
            return
        other_work = background_demand > 0 and any(
            (spec.background is not None and spec.background.share > 0)
            or (spec.diary is not None and spec.diary.background_per_working_day > 0)
            for spec in roles.values()
        )
        raw_roles = data.get("roles")
        maybe_other = not self.ok("roles") and isinstance(raw_roles, dict) and any(
            isinstance(body, dict) and ("background" in body or "diary" in body)
            for body in raw_roles.values()
        )
        if not other_work and not maybe_other:
            self.bad("routes", "at least one [routes.<id>] table with an annual_volume above 0 "
                     "(without one no case arrives, and no role has other work to simulate)",
                     "no route" if not routes else "only volumes of 0")

    def route(self, rid: str, body: Any) -> Route:
        path = f"routes.{rid}"
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            body = {}
        self.only(body, ["annual_volume", "weekday", "hours", "months", "surges", "attributes",
                         "offence"], path)
        volume = self.number(body, "annual_volume", f"{path}.annual_volume", low=0.0)
        weekday = self.weights(body, "weekday", f"{path}.weekday", 7)
        hours = self.weights(body, "hours", f"{path}.hours", 24)
        months = self.weights(body, "months", f"{path}.months", 12)
        surges: list[Surge] = []
        raw_surges = body.get("surges", [])
        if not isinstance(raw_surges, list):
            self.bad(f"{path}.surges", "a list of tables [[...surges]]", describe(raw_surges))
            raw_surges = []
        for i, raw in enumerate(raw_surges):
            where = f"{path}.surges[{i}]"
            if not isinstance(raw, dict):
                self.bad(where, "a table with start, end and multiplier", describe(raw))
                continue
            self.only(raw, ["start", "end", "multiplier"], where)
            s = self.date_value(raw, "start", f"{where}.start")
            e = self.date_value(raw, "end", f"{where}.end")
            m = self.number(raw, "multiplier", f"{where}.multiplier", low=0.0)
            if s is not None and e is not None:
                if e < s:
                    self.bad(f"{where}.end", f"a date on or after start ({s})", describe(e))
                surges.append(Surge(s, e, m))
        attributes = self.route_attributes(body.get("attributes", {}), f"{path}.attributes")
        offence = self.offence(body.get("offence", MISSING), f"{path}.offence")
        return Route(rid, volume, weekday, hours, months, tuple(surges), attributes, offence)

    def route_attributes(self, raw: Any, path: str) -> dict[str, float]:
        booleans = set(self.procedure.boolean_attributes)
        out = {name: 0.0 for name in self.procedure.boolean_attributes}
        if not isinstance(raw, dict):
            self.bad(path, "a table of attribute = true/false/probability", describe(raw))
            return out
        for name, value in raw.items():
            if name not in booleans:
                self.bad(f"{path}.{name}", "a true/false attribute of the procedure ("
                         + ", ".join(sorted(booleans)) + ")", "an unknown attribute")
                continue
            out[name] = self.probability(value, f"{path}.{name}", allow_bool=True)
        if (self.ok(f"{path}.youth_produced_imagery", f"{path}.alleged_is_child")
                and out.get("youth_produced_imagery", 0.0) > 0
                and out.get("alleged_is_child", 0.0) < 1):
            self.bad(f"{path}.alleged_is_child",
                     "true whenever youth_produced_imagery can be true (young people shared "
                     "the images, so the person alleged is a child)", "not always true")
        return out

    def offence(self, raw: Any, path: str) -> dict[str, float]:
        offences = list(self.procedure.offences)
        if raw is MISSING:
            return dict.fromkeys(offences, 1.0)
        if not isinstance(raw, dict) or not raw:
            self.bad(path, "a table of offence = weight", describe(raw))
            return dict.fromkeys(offences, 1.0)
        out: dict[str, float] = {}
        for name, value in raw.items():
            if name not in offences:
                self.bad(f"{path}.{name}", "an offence of the procedure (" + ", ".join(offences)
                         + ")", "an unknown offence")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.bad(f"{path}.{name}", "a weight of at least 0", describe(value))
            else:
                out[name] = float(value)
        if out and sum(out.values()) <= 0:
            self.bad(path, "weights with a positive total", "all zero")
        return out or dict.fromkeys(offences, 1.0)

    def role_spec(self, rid: str, body: Any, office_open: time, office_close: time) -> RoleSpec:
        path = f"roles.{rid}"
        if rid not in self.procedure.roles:
            self.bad(path, "a role of the procedure (" + ", ".join(self.procedure.roles) + ")",
                     "an unknown role")
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            body = {}
        self.only(body, ["headcount", "hours", "open", "close", "out_of_hours",
                         "leave_days_per_year", "leave_block_days", "absence_rate",
                         "background", "diary"], path)
        raw_head = body.get("headcount", UNLIMITED)
        headcount: int | None
        if raw_head == UNLIMITED:
            headcount = None
        elif isinstance(raw_head, int) and not isinstance(raw_head, bool) and raw_head >= 1:
            headcount = raw_head
        else:
            self.bad(f"{path}.headcount", "a whole number of at least 1, or \"unlimited\"",
                     describe(raw_head))
            headcount = 1
        known_head = self.ok(f"{path}.headcount")
        raw_hours = body.get("hours", Hours.OFFICE.value)
        try:
            hours = Hours(raw_hours)
        except ValueError:
            self.bad(f"{path}.hours", "'office' (working days, open to close) or 'always'",
                     describe(raw_hours))
            hours = Hours.OFFICE
        opening = self.clock_time(body, "open", f"{path}.open", office_open)
        closing = self.clock_time(body, "close", f"{path}.close", office_close)
        sources = [f"{path}.{key}" if key in body else f"calendar.{key}"
                   for key in ("open", "close")]
        if self.ok(*sources) and opening >= closing:
            self.bad(f"{path}.close", f"a time after {sources[0]} ({opening:%H:%M})",
                     f"{closing:%H:%M}")
        ooh = self.integer(body, "out_of_hours", f"{path}.out_of_hours", 0, low=0)
        if known_head and self.ok(f"{path}.out_of_hours"):
            if headcount is not None and ooh > headcount:
                self.bad(f"{path}.out_of_hours", f"at most the headcount ({headcount})",
                         f"{ooh}")
            if headcount is None and ooh:
                self.bad(f"{path}.out_of_hours", "0 for an unlimited role", f"{ooh}")
        leave = self.number(body, "leave_days_per_year", f"{path}.leave_days_per_year", 0.0,
                            low=0.0, high=200.0)
        block = self.integer(body, "leave_block_days", f"{path}.leave_block_days", 5, low=1,
                             high=100)
        absence = self.number(body, "absence_rate", f"{path}.absence_rate", 0.0, low=0.0,
                              high=1.0, high_open=True)
        background = None
        if "background" in body:
            raw_bg = self.table(body, "background", f"{path}.background")
            self.only(raw_bg, ["share", "job"], f"{path}.background")
            share = self.number(raw_bg, "share", f"{path}.background.share", low=0.0, high=1.0,
                                high_open=True)
            job = self.distribution(raw_bg.get("job", MISSING), f"{path}.background.job")
            if job is not None and job.distribution.mean() <= 0:
                self.bad(f"{path}.background.job", "jobs with a positive mean length", "0")
            if known_head and headcount is None:
                self.bad(f"{path}.background", "no background work for an unlimited role "
                         "(nobody queues for it)", "a background table")
            if job is not None:
                background = Background(share, job.distribution)
        diary = None
        if "diary" in body:
            diary = self.diary(self.table(body, "diary", f"{path}.diary"), f"{path}.diary")
            if known_head and headcount is None:
                self.bad(f"{path}.diary", "a diary only for a role with a headcount",
                         "an unlimited role")
            if background is not None:
                self.bad(f"{path}.background", "no background jobs for a role with a diary (its "
                         "other meetings are the diary's background bookings)", "both")
        return RoleSpec(rid, headcount, hours, opening, closing, ooh, leave, block, absence,
                        background, diary)

    def diary(self, raw: dict[str, Any], path: str) -> Diary | None:
        self.only(raw, ["slots", "slot_minutes", "background_per_working_day",
                        "background_lead"], path)
        slots_raw = raw.get("slots", MISSING)
        slots: list[time] = []
        if not isinstance(slots_raw, list) or not slots_raw:
            self.bad(f"{path}.slots", "a list of slot start times such as [\"09:30\", \"13:30\"]",
                     "none" if slots_raw is MISSING else describe(slots_raw))
        else:
            for i, item in enumerate(slots_raw):
                t = self.time_value(item, f"{path}.slots[{i}]")
                if t is not None:
                    slots.append(t)
            if slots != sorted(set(slots)):
                self.bad(f"{path}.slots", "distinct times in increasing order", "another order")
        minutes = self.number(raw, "slot_minutes", f"{path}.slot_minutes", low=0.0,
                              low_open=True)
        per_day = self.number(raw, "background_per_working_day",
                              f"{path}.background_per_working_day", 0.0, low=0.0)
        lead_raw = raw.get("background_lead", 0)
        lead = self.distribution(lead_raw, f"{path}.background_lead")
        if not slots or lead is None:
            return None
        return Diary(tuple(slots), minutes, per_day, lead.distribution)

    def task(self, name: str, body: Any, roles: Mapping[str, RoleSpec]) -> TaskSpec | None:
        path = f'tasks."{name}"'
        flow_tasks = [b for b in walk(self.procedure.flow) if isinstance(b, Task)]
        lanes = {t.role for t in flow_tasks if t.activity == name}
        if not lanes:
            self.bad(path, "an activity in the procedure's flow", "an unknown activity"
                     if name not in self.procedure.activities else "an activity not in the flow")
        if not isinstance(body, dict):
            self.bad(path, "a table", describe(body))
            return None
        self.only(body, ["work", "lag", "extra_roles", "booking"], path)
        work = self.distribution(body.get("work", 15.0), f"{path}.work")
        lag = None
        if "lag" in body:
            lag = self.distribution(body["lag"], f"{path}.lag", unit=True)
        extra_raw = body.get("extra_roles", [])
        extra: list[str] = []
        if not isinstance(extra_raw, list):
            self.bad(f"{path}.extra_roles", "a list of roles", describe(extra_raw))
        else:
            for item in extra_raw:
                if not isinstance(item, str) or item not in self.procedure.roles:
                    self.bad(f"{path}.extra_roles", "roles of the procedure ("
                             + ", ".join(self.procedure.roles) + ")", describe(item))
                elif item not in extra:
                    extra.append(str(item))
        booking = None
        if "booking" in body:
            raw_booking = self.table(body, "booking", f"{path}.booking")
            self.only(raw_booking, ["lead_working_days"], f"{path}.booking")
            lead = self.integer(raw_booking, "lead_working_days",
                                f"{path}.booking.lead_working_days", 0, low=0, high=250)
            booking = Booking(lead)
            for lane in sorted(lanes):
                spec = roles.get(lane)
                if not self.ok(f"roles.{lane}"):
                    continue  # its problems are reported; the diary may be one of them
                if spec is None or spec.diary is None:
                    self.bad(f"{path}.booking", f"a diary for the role '{lane}' "
                             f"([roles.{lane}.diary]) to book the step into", "none")
        if work is None:
            return None
        return TaskSpec(name, work.distribution, lag, tuple(extra), booking)

    def diaries_only_booked(self, roles: Mapping[str, RoleSpec],
                            tasks: Mapping[str, TaskSpec]) -> None:
        """A role with a diary is only booked into slots: every step that needs it must be a
        booked step in its lane."""
        diary_roles = {r for r, spec in roles.items() if spec.diary is not None}
        for task in self.procedure.tasks():
            spec = tasks.get(task.activity)
            if not self.ok(f'tasks."{task.activity}"'):
                continue  # what was written for the step has problems of its own
            act = self.procedure.activities[task.activity]
            needed = {task.role, *act.participants, *(spec.extra_roles if spec else ())}
            for role in sorted(r for r in needed & diary_roles if self.ok(f"roles.{r}")):
                if role != task.role or spec is None or spec.booking is None:
                    self.bad(f'tasks."{task.activity}"', f"a booking in the diary of '{role}' "
                             f"(a role with a diary is only booked into its slots)",
                             "a step that needs the role without one")

    def loops(self, raw: dict[str, Any]) -> dict[str, float]:
        ids = [loop.id for loop in self.procedure.loops()]
        out: dict[str, float] = {}
        for key, value in raw.items():
            if key not in ids:
                self.bad(f"loops.{key}", "a loop of the procedure (" + ", ".join(ids) + ")",
                         "an unknown loop")
                continue
            p = self.probability(value, f"loops.{key}")
            if p >= 1.0:
                self.bad(f"loops.{key}", "a probability below 1 (the loop must end)", "1")
                p = 0.0
            out[key] = p
        return out

    def slips(self, raw: dict[str, Any]) -> Slips:
        self.only(raw, ["skip", "order", "forbidden"], "slips")
        in_flow = {b.activity for b in walk(self.procedure.flow) if isinstance(b, Task)}
        skip: dict[str, float] = {}
        skip_raw = self.table(raw, "skip", "slips.skip")
        for name, value in skip_raw.items():
            where = f'slips.skip."{name}"'
            act = self.procedure.activities.get(name)
            if name not in in_flow or act is None or act.kind is not Kind.TASK:
                self.bad(where, "a step of the procedure's flow (not 'Case closed')",
                         "an unknown activity" if act is None else "another activity")
                continue
            skip[name] = self.probability(value, where)
        order: list[OrderSlip] = []
        for i, item in enumerate(self.list_of_tables(raw, "order", "slips.order")):
            where = f"slips.order[{i}]"
            self.only(item, ["activity", "before", "probability"], where)
            names = []
            for key in ("activity", "before"):
                value = item.get(key)
                act = self.procedure.activities.get(value) if isinstance(value, str) else None
                if act is None or value not in in_flow or act.kind is not Kind.TASK:
                    self.bad(f"{where}.{key}", "a step of the procedure's flow ("
                             + ", ".join(self._steps(in_flow)) + ")",
                             "none" if value is None else describe(value))
                names.append(value if isinstance(value, str) else "")
            if self.ok(f"{where}.activity", f"{where}.before") and names[0] == names[1]:
                self.bad(f"{where}.before", "an activity other than 'activity'", "the same")
            p = self.probability(item.get("probability", 0.0), f"{where}.probability")
            order.append(OrderSlip(names[0], names[1], p))
        forbidden: list[ForbiddenSlip] = []
        for i, item in enumerate(self.list_of_tables(raw, "forbidden", "slips.forbidden")):
            where = f"slips.forbidden[{i}]"
            self.only(item, ["activity", "after", "probability"], where)
            event = item.get("activity")
            act = self.procedure.activities.get(event) if isinstance(event, str) else None
            if act is None or act.kind is not Kind.FORBIDDEN:
                forbidden_names = [a.name for a in self.procedure.activities.values()
                                   if a.kind is Kind.FORBIDDEN]
                self.bad(f"{where}.activity", "a forbidden event of the procedure ("
                         + ", ".join(forbidden_names) + ")",
                         "none" if event is None else describe(event))
            after_raw = item.get("after")
            after = after_raw if isinstance(after_raw, str) else None
            if after_raw is not None and after not in in_flow:
                self.bad(f"{where}.after", "a step of the procedure's flow ("
                         + ", ".join(self._steps(in_flow, tasks_only=False)) + ")",
                         describe(after_raw))
                after = None
            p = self.probability(item.get("probability", 0.0), f"{where}.probability")
            forbidden.append(ForbiddenSlip(event if isinstance(event, str) else "", after, p))
        return Slips(skip, tuple(order), tuple(forbidden))

    def _steps(self, in_flow: set[str], *, tasks_only: bool = True) -> list[str]:
        """The flow's steps, in the order of the flow, quoted for a message."""
        names = dict.fromkeys(b.activity for b in walk(self.procedure.flow)
                              if isinstance(b, Task) and b.activity in in_flow)
        return [repr(n) for n in names
                if not tasks_only or self.procedure.activities[n].kind is Kind.TASK]

    def list_of_tables(self, raw: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.bad(path, f"a list of tables ([[{path}]])", describe(value))
            return []
        return value
