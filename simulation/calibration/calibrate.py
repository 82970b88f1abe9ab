"""A scenario estimated from a partnership's own event log.

``calibrate(log, procedure)`` takes an event log in the contract's vocabulary, read by the
checker's reader (``conformance.logio.read_log`` with ``conformance.check.read_options``, so
every input option of ``lscb check`` applies; ``calibrate_file`` does the reading), and
estimates what the data can tell:

- **arrivals** per route: the annual volume (a Poisson interval on the count), and the
  weekday, month and hour profiles (a case "arrives" at its first event: the log records no
  arrival time). A case belongs to the route whose fixed attributes it matches (the base
  scenario's routes: ``workplace_concern``, ``youth_produced_imagery``...); an attribute the
  log leaves empty is read from the steps (a case with ``Concern identified`` is a workplace
  case).
- **branch probabilities** per route, for every true/false attribute that a gateway of the
  model decides on and the route does not fix: from the attribute's column where the log fills
  it, otherwise from the steps that occurred (of the cases that reached the gateway, the share
  that took the branch only that value leads to); a Wilson 95% interval. The repeat chance of
  each loop of the model, and the base scenario's slips (steps skipped, done early, forbidden
  events), the same way.
- **delays**: each step's time after the step that enabled it (the latest earlier event of a
  step the flow puts just before it), in working time of the scenario's office day on working
  days (``model.calendar``: weekends and bank holidays do not count), less the step's own work
  (the base scenario's, unless start events give it), fitted by maximum likelihood
  (``scipy.stats``) to the families a scenario file can hold (exponential, lognormal,
  triangular, uniform) and, for comparison, gamma and Weibull; the family with the smallest
  Kolmogorov-Smirnov distance is kept when its p-value is at least 0.05 (the p-value is
  optimistic, since the parameters come from the same data), otherwise the delays are kept as
  an empirical distribution of 40 quantiles.
- **people**: for each role with a limited headcount in the base scenario, the people the log
  names in that role (a Chao1 estimate of those never seen, with its interval), their events of
  this procedure per person per working day, and, with start events, how much of their time
  the steps took (working separated from waiting).

Everything else stays as in the base scenario (the built-in one unless given) and is marked as
an assumption. ``Calibration.scenario_text`` is a normal scenario file (``lscb simulate
--scenario`` takes it) whose every estimated number has its sample size and uncertainty in a
comment beside it, with the ledger (``simulation.calibration.ledger``) at its end; the same
log gives the same text, byte for byte.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from model.calendar import LONDON, CalendarConfig, WorkingCalendar
from model.contract import CASE_CLOSED
from model.procedure import Block, Choice, Loop, Parallel, Procedure, SubProcess, Task, walk
from model.procedure import Sequence as Seq
from simulation.calibration.ledger import (
    Entry,
    field_key,
    ledger_table,
    ledger_toml,
    load_ledger,
    toml_key,
    toml_value,
)
from simulation.scenario import Scenario, default_scenario_path

if TYPE_CHECKING:
    from conformance import EventLog, LogFormat

__all__ = [
    "EMPIRICAL_POINTS",
    "MIN_SAMPLE",
    "Calibration",
    "DelayFit",
    "calibrate",
    "calibrate_file",
    "fit_delay",
    "read_event_log",
    "working_minutes",
    "write_calibration",
]

MIN_SAMPLE: Final = 10  # fewer observations than this: the number stays an assumption
EMPIRICAL_POINTS: Final = 40  # quantiles kept when no family fits
_P_FIT: Final = 0.05  # a family fits when its KS p-value is at least this
_NO_LAG: Final = 0.02  # working days (about ten minutes): below it a step has no lag (what is
# left once the work is taken off is then a wait for a person, which the simulation adds itself)
_Z: Final = 1.959963984540054
_OUT_OF_HOURS: Final = 0.1  # a step with more of its events outside office hours: elapsed time


# ------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DelayFit:
    """The delays of one step fitted to a distribution (working days)."""

    activity: str
    n: int
    family: str  # exponential, lognormal, triangular, uniform, fixed or empirical
    table: Mapping[str, Any]  # the scenario's distribution table (with unit)
    mean: float  # of the samples
    mean_low: float  # 95% interval of the mean
    mean_high: float
    ks: float  # KS distance of the family kept (nan for empirical)
    p_value: float
    candidates: pd.DataFrame  # family, usable, ks, p_value, parameters


@dataclass(frozen=True)
class Calibration:
    """What a log told about a scenario.

    ``scenario_text``: the scenario file. ``entries``: its ledger (one entry per field).
    ``arrivals``: per route (cases, annual_volume, low, high). ``branches``: per route and
    attribute, and per loop and slip (what, probability, n, low, high, method). ``delays``:
    per step (unit: working days or hours, n, family, mean and its 95% interval, KS distance,
    p-value, the wait for people taken off, what was written). ``fits``: every candidate family per step. ``resources``: per role (people seen,
    estimate, low, high, events, per person per working day, busy share when start events
    allow). ``notes``: what the log could not give, in plain words.
    """

    source: str
    start: date
    horizon_days: int
    as_of: pd.Timestamp
    cases: int
    scenario_text: str
    entries: tuple[Entry, ...]
    arrivals: pd.DataFrame
    branches: pd.DataFrame
    delays: pd.DataFrame
    fits: pd.DataFrame
    resources: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ledger(self) -> pd.DataFrame:
        """The ledger table (``simulation.calibration.ledger.ledger_table``)."""
        import tomllib

        return ledger_table(tomllib.loads(self.scenario_text))

    def scenario(self, procedure: Procedure) -> Scenario:
        """The calibrated scenario, read and validated like a file."""
        import tomllib

        from simulation.scenario import parse_scenario

        return parse_scenario(tomllib.loads(self.scenario_text),
                              f"the scenario calibrated from {self.source}", procedure)


# ------------------------------------------------------------------------- reading


def read_event_log(path: Path | str, procedure: Procedure, log_format: LogFormat | None = None,
                   as_of: pd.Timestamp | None = None) -> EventLog:
    """Read a log as ``lscb check`` does (its mapping, columns, format and as-of options)."""
    from conformance import LogFormat, read_log, read_options

    options = read_options(procedure, log_format or LogFormat(), as_of=as_of)
    return read_log(Path(path), options)


def calibrate_file(path: Path | str, procedure: Procedure, *, base: Scenario | None = None,
                   log_format: LogFormat | None = None, as_of: pd.Timestamp | None = None,
                   until: date | None = None, calendar: CalendarConfig | None = None,
                   refine: int = 2) -> Calibration:
    """Read the log at ``path`` (as ``lscb check`` would) and calibrate from it."""
    log = read_event_log(path, procedure, log_format, as_of)
    return calibrate(log, procedure, base=base, source=Path(path).name, until=until,
                     calendar=calendar, refine=refine)


# ------------------------------------------------------------------------- working time


def _local_naive(times: pd.Series) -> npt.NDArray[np.datetime64]:
    local = pd.DatetimeIndex(times).tz_convert(LONDON).tz_localize(None)
    result: npt.NDArray[np.datetime64] = local.to_numpy(dtype="datetime64[ns]")
    return result


def working_minutes(times: pd.Series, calendar: WorkingCalendar, office_open: time,
                    office_close: time, date_only: npt.ArrayLike | None = None
                    ) -> npt.NDArray[np.float64]:
    """Minutes of office time (``office_open``-``office_close`` local, on working days) from a
    fixed origin to each instant: the difference of two is the working time between them. A
    date-only event counts as the end of its day's office hours."""
    local = _local_naive(times)
    days = local.astype("datetime64[D]")
    length = _minutes_of(office_close) - _minutes_of(office_open)
    before = np.busday_count(np.datetime64("1990-01-01"), days,
                             busdaycal=calendar.busdaycalendar).astype(float)
    working = np.is_busday(days, busdaycal=calendar.busdaycalendar)
    minute = (local - days).astype("timedelta64[s]").astype(float) / 60.0
    if date_only is not None:
        minute = np.where(np.asarray(date_only, dtype=bool), _minutes_of(office_close), minute)
    inside = np.clip(minute - _minutes_of(office_open), 0.0, length) * working
    result: npt.NDArray[np.float64] = before * length + inside
    return result


def _minutes_of(at: time) -> float:
    return float(at.hour * 60 + at.minute)


# ------------------------------------------------------------------------- small statistics


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + _Z * _Z / n
    centre = (p + _Z * _Z / (2 * n)) / denom
    half = _Z * math.sqrt(p * (1 - p) / n + _Z * _Z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(k: int) -> tuple[float, float]:
    """The exact (Garwood) 95% interval of a Poisson count."""
    from scipy import stats

    low = 0.0 if k == 0 else float(stats.chi2.ppf(0.025, 2 * k)) / 2
    high = float(stats.chi2.ppf(0.975, 2 * k + 2)) / 2
    return low, high


def _sig(x: float, digits: int = 4) -> float:
    """A float rounded to ``digits`` significant figures (what the file shows)."""
    if x == 0 or not math.isfinite(x):
        return 0.0 if x == 0 else x
    return float(f"{x:.{digits}g}")


# ------------------------------------------------------------------------- distributions


def fit_delay(samples: npt.ArrayLike, unit: str = "working days") -> DelayFit | None:
    """Fit non-negative samples to the families a scenario can hold; None when there are fewer
    than ``MIN_SAMPLE``. The family with the smallest KS distance among the usable ones is kept
    when its p-value is at least 0.05, otherwise the samples' quantiles (empirical)."""
    from scipy import stats

    x = np.sort(np.clip(np.asarray(samples, dtype=float), 0.0, None))
    n = len(x)
    if n < MIN_SAMPLE:
        return None
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    half = _Z * sd / math.sqrt(n)
    low, high = max(0.0, mean - half), mean + half
    if float(np.ptp(x)) < 1e-9:
        table = {"distribution": "fixed", "value": _sig(mean), "unit": unit}
        empty = pd.DataFrame(columns=["family", "usable", "ks", "p_value", "parameters"])
        return DelayFit("", n, "fixed", table, mean, low, high, 0.0, 1.0, empty)
    positive = np.maximum(x, 1e-6)
    rows: list[dict[str, Any]] = []
    tables: dict[str, dict[str, Any]] = {}

    def add(family: str, dist: Any, table: dict[str, Any] | None, text: str) -> None:
        result = stats.kstest(x, dist.cdf)
        rows.append({"family": family, "usable": table is not None,
                     "ks": float(result.statistic), "p_value": float(result.pvalue),
                     "parameters": text})
        if table is not None:
            tables[family] = table

    m = _sig(mean)
    add("exponential", stats.expon(scale=mean),
        {"distribution": "exponential", "mean": m, "unit": unit}, f"mean {m:g}")
    with np.errstate(all="ignore"):
        # lognormal and gamma by moments: the scenario gives a lognormal by its mean and sd,
        # and near-zero delays would throw a likelihood fit's tail far out
        if sd > 0 and mean > 0:
            sigma2 = math.log1p((sd / mean) ** 2)
            add("lognormal", stats.lognorm(math.sqrt(sigma2), scale=mean * math.exp(-sigma2 / 2)),
                {"distribution": "lognormal", "mean": m, "sd": _sig(sd), "unit": unit},
                f"mean {m:g}, sd {_sig(sd):g}")
            shape = (mean / sd) ** 2
            add("gamma", stats.gamma(shape, scale=mean / shape), None,
                f"shape {_sig(shape):g}, scale {_sig(mean / shape):g}")
        thin = positive[:: max(1, len(positive) // 2000)]  # the fit's cost grows with n
        c, _, w_scale = stats.weibull_min.fit(thin, floc=0)
        add("weibull", stats.weibull_min(c, scale=w_scale), None,
            f"shape {_sig(c):g}, scale {_sig(w_scale):g}")
        lo, hi = float(x[0]), float(x[-1])
        # triangular by moments: the extremes, and the mode that gives the samples' mean
        t_low, t_high = _sig(lo), _sig(hi)
        t_mode = min(max(_sig(3 * mean - lo - hi), t_low), t_high)
        if t_high > t_low:
            add("triangular", stats.triang((t_mode - t_low) / (t_high - t_low), loc=t_low,
                                           scale=t_high - t_low),
                {"distribution": "triangular", "low": t_low, "mode": t_mode, "high": t_high,
                 "unit": unit}, f"{t_low:g}/{t_mode:g}/{t_high:g}")
        add("uniform", stats.uniform(loc=lo, scale=hi - lo),
            {"distribution": "uniform", "low": _sig(lo), "high": _sig(hi), "unit": unit},
            f"{_sig(lo):g}-{_sig(hi):g}")
    candidates = pd.DataFrame(rows, columns=["family", "usable", "ks", "p_value", "parameters"])
    usable = candidates[candidates["usable"]].sort_values(["ks", "family"], kind="stable")
    best = usable.iloc[0]
    if float(best["p_value"]) >= _P_FIT:
        family = str(best["family"])
        return DelayFit("", n, family, tables[family], mean, low, high, float(best["ks"]),
                        float(best["p_value"]), candidates)
    k = min(n, EMPIRICAL_POINTS)
    values = np.quantile(x, (np.arange(k) + 0.5) / k)
    table = {"distribution": "empirical", "values": [_sig(float(v)) for v in values],
             "unit": unit}
    return DelayFit("", n, "empirical", table, mean, low, high, math.nan, math.nan, candidates)


# ------------------------------------------------------------------------- the flow


def _activities(block: Block | None) -> set[str]:
    if block is None:
        return set()
    if isinstance(block, Task):
        return {block.activity}
    if isinstance(block, (Seq, Parallel)):
        return set().union(*(_activities(c) for c in block.children))
    if isinstance(block, Choice):
        return set().union(*(_activities(b.body) for b in block.branches))
    return _activities(block.body)


def _enablers(flow: Block) -> dict[str, set[str]]:
    """For each activity, the activities whose completion can enable it (the steps the flow
    puts just before it; for a loop's first step, its last ones too)."""
    preds: dict[str, set[str]] = {}

    def visit(block: Block | None, before: frozenset[str]) -> frozenset[str]:
        if block is None:
            return before
        if isinstance(block, Task):
            preds.setdefault(block.activity, set()).update(before)
            return frozenset({block.activity})
        if isinstance(block, Seq):
            current = before
            for child in block.children:
                current = visit(child, current)
            return current
        if isinstance(block, Parallel):
            return frozenset().union(*(visit(c, before) for c in block.children))
        if isinstance(block, Choice):
            ends: frozenset[str] = frozenset()
            for branch in block.branches:
                ends |= visit(branch.body, before)
            return ends
        if isinstance(block, SubProcess):  # behaves exactly as its body
            return visit(block.body, before)
        first = visit(block.body, before)
        visit(block.body, before | first)  # a repeat follows the body's own end
        return first

    visit(flow, frozenset())
    return preds


def _parents(flow: Block) -> dict[int, tuple[Block, int]]:
    """id(block) -> (parent block, index among its children or branches)."""
    out: dict[int, tuple[Block, int]] = {}

    def visit(block: Block | None) -> None:
        if block is None:
            return
        children: Sequence[Block | None] = ()
        if isinstance(block, (Seq, Parallel)):
            children = block.children
        elif isinstance(block, Choice):
            children = [b.body for b in block.branches]
        elif isinstance(block, (Loop, SubProcess)):  # a sub-process is its body (version 2)
            children = [block.body]
        for i, child in enumerate(children):
            if child is not None:
                out[id(child)] = (block, i)
                visit(child)

    visit(flow)
    return out


class _Cases:
    """The cases of a log as sets of activities, for reach and branch questions."""

    def __init__(self, events: pd.DataFrame, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        grouped = events.groupby("case_id", sort=False)["activity"].agg(set)
        self.acts: dict[str, set[str]] = {c: grouped.get(c, set()) for c in self.ids}

    def having(self, activities: Iterable[str], among: Iterable[str]) -> list[str]:
        wanted = set(activities)
        return [c for c in among if self.acts[c] & wanted]


def _reach(block: Block, flow: Block, parents: Mapping[int, tuple[Block, int]],
           cases: _Cases, among: list[str]) -> list[str]:
    """The cases (of ``among``) that got as far as ``block``: those with a step of the block
    before it in its sequence (or, when that one can be empty, that reached it), of the
    branch that holds it, or of the enclosing block's reach."""
    if block is flow or id(block) not in parents:
        return among
    parent, index = parents[id(block)]
    if isinstance(parent, Seq) and index > 0:
        previous = parent.children[index - 1]
        having = cases.having(_activities(previous), among)
        if _may_be_empty(previous):
            earlier = set(_reach(previous, flow, parents, cases, among))
            having = [c for c in among if c in earlier or c in set(having)]
        return having
    if isinstance(parent, Choice):
        reached = _reach(parent, flow, parents, cases, among)
        return cases.having(_activities(block), reached)
    return _reach(parent, flow, parents, cases, among)


def _may_be_empty(block: Block | None) -> bool:
    if block is None:
        return True
    if isinstance(block, Task):
        return False
    if isinstance(block, Seq):
        return all(_may_be_empty(c) for c in block.children)
    if isinstance(block, Parallel):
        return all(_may_be_empty(c) for c in block.children)
    if isinstance(block, Choice):
        return any(_may_be_empty(b.body) for b in block.branches)
    return _may_be_empty(block.body)


def _occurrences(block: Block | None) -> dict[str, int]:
    """How many places of the block hold each activity."""
    out: dict[str, int] = {}
    for node in walk(block):
        if isinstance(node, Task):
            out[node.activity] = out.get(node.activity, 0) + 1
    return out


def _telling_steps(flow: Block, gateway: Choice, attribute: str, fixed: Mapping[str, bool],
                   others: Sequence[str]) -> tuple[set[str], bool] | None:
    """Steps whose presence tells the attribute's value at this gateway, whatever the other
    undecided attributes are: (steps, the value they mean), or None when none do. Only steps
    that the flow holds nowhere outside the gateway can tell."""
    import itertools

    everywhere, inside = _occurrences(flow), _occurrences(gateway)
    own = {a for a, k in inside.items() if everywhere.get(a) == k}

    telling: set[str] | None = None
    meaning: bool | None = None
    free = [a for a in others if a != attribute and a not in fixed]
    for values in itertools.product([True, False], repeat=len(free)):
        base: dict[str, bool | None] = {**fixed, **dict(zip(free, values, strict=True))}
        true_acts = _activities(gateway.branches[gateway.select({**base, attribute: True})].body)
        false_acts = _activities(
            gateway.branches[gateway.select({**base, attribute: False})].body)
        if (true_acts - false_acts) & own:
            steps, means = (true_acts - false_acts) & own, True
        elif (false_acts - true_acts) & own:
            steps, means = (false_acts - true_acts) & own, False
        else:
            return None
        if meaning is not None and means != meaning:
            return None
        meaning = means
        telling = steps if telling is None else telling & steps
        if not telling:
            return None
    if telling is None or meaning is None:
        return None
    return telling, meaning


# ------------------------------------------------------------------------- the estimate


class _Estimator:
    def __init__(self, log: EventLog, procedure: Procedure, base: Scenario, source: str,
                 until: date | None, calendar: CalendarConfig | None) -> None:
        self.procedure = procedure
        self.base = base
        self.source = source
        self.notes: list[str] = []
        self.entries: dict[str, Entry] = {}
        self.data: dict[str, Any] = copy.deepcopy({k: v for k, v in base.data.items()
                                                   if k != "ledger"})
        events = log.events.copy()
        as_of = pd.Timestamp(log.as_of)
        if until is not None:
            cut = pd.Timestamp(datetime.combine(until, time(0)), tz=LONDON).tz_convert("UTC")
            events = events[events["time_utc"] < cut]
            as_of = min(as_of, cut)
        if events.empty:
            raise ValueError("no event of the log falls in the period to calibrate on")
        self.as_of = as_of
        self.events = events.reset_index(drop=True)
        ids = list(dict.fromkeys(self.events["case_id"].astype(str)))
        self.case_ids = ids
        self.cases_frame = log.cases.reindex(ids)
        self.cases = _Cases(self.events, ids)
        self.calendar = WorkingCalendar(calendar) if calendar is not None else WorkingCalendar()
        self.office_open, self.office_close = base.office_open, base.office_close
        self.day = _minutes_of(self.office_close) - _minutes_of(self.office_open)
        first = self.events.groupby("case_id", sort=False)["time_utc"].min()
        self.first_local = pd.DatetimeIndex(first.reindex(ids)).tz_convert(LONDON)
        self.closed = {c for c in ids if CASE_CLOSED in self.cases.acts[c]}
        self.parents = _parents(procedure.flow)
        self.work_minutes_by_role: dict[str, float] = {}
        self.enablers: dict[str, set[str]] = {}
        self.unit_of: dict[str, str] = {}
        self.lag_inputs: dict[str, tuple[npt.NDArray[np.float64], float, str, str]] = {}
        self.delay_rows: dict[str, dict[str, Any]] = {}
        self.delay_fits: dict[str, pd.DataFrame] = {}
        self.current: dict[str, npt.NDArray[np.float64]] = {}  # the lag samples written
        self.booked: dict[str, npt.NDArray[np.float64]] = {}  # delays of booked steps
        self.refining = False
        self.diary_history: dict[str, list[tuple[float, float]]] = {}

    # -- helpers

    def entry(self, keys: Sequence[str], kind: str, source: str, *, n: int | None = None,
              interval: tuple[float, float] | None = None, note: str = "") -> None:
        key = field_key(keys)
        self.entries[key] = Entry(key, kind, source, n, interval, None, note)

    def set(self, keys: Sequence[str], value: Any) -> None:
        node = self.data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    def what(self, text: str) -> str:
        return f"{self.source}: {text}"

    # -- the period

    def period(self) -> None:
        dates = self.first_local.date
        self.start: date = min(dates)
        last: date = max(dates)
        self.horizon = (last - self.start).days + 1
        as_of_date = self.as_of.tz_convert(LONDON).date()
        drain = max(0, (as_of_date - (self.start + timedelta(days=self.horizon))).days + 1)
        n = len(self.case_ids)
        period = f"{self.start.isoformat()} to {last.isoformat()}"
        self.set(["scenario", "start"], self.start)
        self.set(["scenario", "horizon_days"], self.horizon)
        self.set(["scenario", "drain_days"], drain)
        self.entry(["scenario", "start"], "estimated", self.what(
            "the date of the first event of the earliest case"), n=n)
        self.entry(["scenario", "horizon_days"], "estimated", self.what(
            f"the days over which cases began ({period})"), n=n,
            interval=(self.horizon, self.horizon))
        self.entry(["scenario", "drain_days"], "estimated", self.what(
            f"the days from the last case's start to the log's as-of time "
            f"({as_of_date.isoformat()}): cases still open then are pending, as in the log"),
            n=n, interval=(drain, drain))
        name = self.data.setdefault("scenario", {})
        name["name"] = f"Calibrated from {self.source}"
        name["description"] = (f"Estimated from {n:,} cases that began {period}; "
                               "the numbers the log could not give are the base scenario's")

    # -- routes

    def case_facts(self) -> dict[str, dict[str, bool | None]]:
        """Each case's attributes: the log's, else what its steps show."""
        gateways = self.procedure.gateways()
        facts: dict[str, dict[str, bool | None]] = {}
        columns = [a for a in self.procedure.boolean_attributes if a in self.cases_frame]
        for c in self.case_ids:
            row: dict[str, bool | None] = {}
            for a in columns:
                value: Any = self.cases_frame.at[c, a]
                row[a] = None if value is pd.NA or value is None or value != value else bool(value)
            facts[c] = row
        # The attributes that decide how a case begins (the first gateway), where the log
        # leaves them empty: from the steps, given what else is known of the case.
        cache: dict[tuple[str, frozenset[tuple[str, bool]]], tuple[set[str], bool] | None] = {}
        for gateway in gateways[:1]:
            for _ in range(len(gateway.decided_by)):  # one attribute may tell another
                for c in self.case_ids:
                    for attribute in gateway.decided_by:
                        if facts[c].get(attribute) is not None:
                            continue
                        known = frozenset((a, v) for a in gateway.decided_by
                                          if a != attribute
                                          and (v := facts[c].get(a)) is not None)
                        key = (attribute, known)
                        if key not in cache:
                            cache[key] = _telling_steps(self.procedure.flow, gateway, attribute,
                                                        dict(known), gateway.decided_by)
                        told = cache[key]
                        if told is not None:
                            steps, means = told
                            present = bool(self.cases.acts[c] & steps)
                            facts[c][attribute] = means if present else not means
        return facts

    def routes(self) -> dict[str, list[str]]:
        facts = self.case_facts()
        fixed = {rid: {a: p >= 1.0 for a, p in route.attributes.items() if p in (0.0, 1.0)}
                 for rid, route in self.base.routes.items()}
        # A route can hold only the offences its mix gives a weight (the youth imagery route:
        # indecent images only); with version 2 of the model its fixed attribute shows in the
        # steps only when Outcome 21 was used, so the offence is what tells many cases apart.
        offences = {rid: {o for o, w in route.offence.items() if w > 0}
                    for rid, route in self.base.routes.items()}
        offence_of: dict[str, str] = {}
        if "offence" in self.cases_frame:
            for c in self.case_ids:
                value: Any = self.cases_frame.at[c, "offence"]
                if isinstance(value, str) and value:
                    offence_of[c] = value
        members: dict[str, list[str]] = {rid: [] for rid in self.base.routes}
        none = several = 0
        for c in self.case_ids:
            matches = [rid for rid, fx in fixed.items()
                       if all(facts[c].get(a) in (None, v) for a, v in fx.items())
                       and (c not in offence_of or offence_of[c] in offences[rid])]
            if len(matches) == 1:
                members[matches[0]].append(c)
            elif matches:
                several += 1
            else:
                none += 1
        if none:
            self.notes.append(
                f"{none:,} case(s) matched no route of the base scenario and were left out of "
                "the arrival estimates")
        if several:
            self.notes.append(
                f"{several:,} case(s) matched more than one route of the base scenario (the log "
                "and the steps do not tell which) and were left out of the arrival estimates")
        self.members = members
        self.facts = facts
        return members

    def day_weight(self, d: date, weekday: Sequence[float], months: Sequence[float]) -> float:
        holiday = d.weekday() < 5 and not self.calendar.is_working_day(d)
        return weekday[6 if holiday else d.weekday()] * months[d.month - 1]

    def arrivals(self) -> pd.DataFrame:
        rows = []
        days = [self.start + timedelta(days=i) for i in range(self.horizon)]
        classes = np.array([6 if (d.weekday() < 5 and not self.calendar.is_working_day(d))
                            else d.weekday() for d in days])
        month_of = np.array([d.month - 1 for d in days])
        position = {c: i for i, c in enumerate(self.case_ids)}
        months_seen = sorted(set(month_of.tolist()))
        for rid, members in sorted(self.members.items()):
            path = ["routes", rid]
            k = len(members)
            if k == 0:
                self.notes.append(f"route {rid}: no case of the log is of this route; its "
                                  "volume and profiles stay as in the base scenario")
                continue
            local = self.first_local[[position[c] for c in members]]
            day_index = np.array([(d - self.start).days for d in local.date])
            per_day = np.bincount(day_index, minlength=self.horizon).astype(float)
            # Weekday and month weights by iterative proportional fitting (a Poisson model of
            # the daily counts with a weekday and a month effect).
            wd = np.ones(7)
            mo = np.ones(12)
            for _ in range(50):
                for w in range(7):
                    mask = classes == w
                    denom = float(mo[month_of[mask]].sum())
                    wd[w] = per_day[mask].sum() / denom if denom > 0 else 1.0
                for m in months_seen:
                    mask = month_of == m
                    denom = float(wd[classes[mask]].sum())
                    mo[m] = per_day[mask].sum() / denom if denom > 0 else 1.0
            seen_mean = float(np.mean([mo[m] for m in months_seen])) or 1.0
            mo = np.array([mo[m] / seen_mean if m in months_seen else 1.0 for m in range(12)])
            wd = wd / (float(wd.mean()) or 1.0)
            hours = np.bincount(local.hour, minlength=24).astype(float) + 0.5
            hours = hours / hours.mean()
            weekday = [round(float(v), 3) for v in wd]
            months = [round(float(v), 3) for v in mo]
            hour_w = [round(float(v), 3) for v in hours]
            norm = sum(self.day_weight(self.start + timedelta(days=i), weekday, months)
                       for i in range(365))
            covered = sum(self.day_weight(d, weekday, months) for d in days)
            factor = norm / covered if covered > 0 else math.nan
            low, high = poisson_interval(k)
            volume = _sig(k * factor, 5)
            interval = (_sig(low * factor, 5), _sig(high * factor, 5))
            interval = (min(interval[0], volume), max(interval[1], volume))
            self.set([*path, "annual_volume"], volume)
            self.set([*path, "weekday"], weekday)
            self.set([*path, "months"], months)
            self.set([*path, "hours"], hour_w)
            route = self.data["routes"][rid]
            route.pop("surges", None)  # the months profile carries the log's ups and downs
            self.entry([*path, "annual_volume"], "estimated", self.what(
                f"{k:,} cases of this route in {self.horizon} days, as a year's volume under the "
                "weekday and month profiles"), n=k, interval=interval,
                note="exact Poisson interval of the count")
            self.entry([*path, "weekday"], "estimated", self.what(
                "cases per weekday (a bank holiday counts as a Sunday), by iterative "
                "proportional fitting with the months"), n=k)
            unseen = 12 - len(months_seen)
            self.entry([*path, "months"], "estimated", self.what(
                "cases per month" + (f"; {unseen} month(s) not in the log are given the average "
                                     "weight 1 (assumed)" if unseen else "")), n=k)
            self.entry([*path, "hours"], "estimated", self.what(
                "the hour of each case's first event (the log records no arrival time), with "
                "half a case added to each hour"), n=k)
            rows.append({"route": rid, "cases": k, "annual_volume": volume,
                         "low": interval[0], "high": interval[1]})
        return pd.DataFrame(rows, columns=["route", "cases", "annual_volume", "low", "high"])

    # -- branches

    def branches(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        gateways = self.procedure.gateways()
        for rid, members in sorted(self.members.items()):
            route = self.base.routes[rid]
            fixed = {a: p >= 1.0 for a, p in route.attributes.items() if p in (0.0, 1.0)}
            for attribute in self.procedure.boolean_attributes:
                if attribute in fixed:
                    continue
                path = ["routes", rid, "attributes", attribute]
                known = [self.facts[c].get(attribute) for c in members]
                known_values = [v for v in known if v is not None]
                if len(known_values) >= MIN_SAMPLE:
                    k, n = sum(known_values), len(known_values)
                    method = "the attribute's column"
                else:
                    counted = self.from_steps(attribute, members, fixed, gateways)
                    if counted is None:
                        continue
                    k, n, method = counted
                if n < MIN_SAMPLE:
                    self.notes.append(f"route {rid}, {attribute}: only {n} case(s) to tell it; "
                                      "kept as assumed")
                    continue
                p = k / n
                low, high = wilson(k, n)
                self.set(path, _sig(p))
                self.entry(path, "estimated", self.what(f"{k:,} of {n:,} cases ({method})"),
                           n=n, interval=(min(_sig(low), _sig(p)), max(_sig(high), _sig(p))),
                           note="Wilson interval")
                rows.append({"what": f"routes.{rid}.attributes.{attribute}", "probability": p,
                             "n": n, "low": low, "high": high, "method": method})
        return rows

    def from_steps(self, attribute: str, members: list[str], fixed: Mapping[str, bool],
                   gateways: Sequence[Choice]) -> tuple[int, int, str] | None:
        for gateway in gateways:
            if attribute not in gateway.decided_by:
                continue
            told = _telling_steps(self.procedure.flow, gateway, attribute, fixed,
                                  gateway.decided_by)
            if told is None:
                continue
            steps, means = told
            reached = _reach(gateway, self.procedure.flow, self.parents, self.cases, members)
            # a case still open may not have reached the branch's steps yet
            decided = [c for c in reached if c in self.closed or self.cases.acts[c] & steps]
            took = len(self.cases.having(steps, decided))
            k = took if means else len(decided) - took
            return k, len(decided), f"the steps at the gateway '{gateway.id}'"
        return None

    def loops(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        counts = self.events.groupby(["case_id", "activity"], sort=False).size()
        for loop in self.procedure.loops():
            if loop.id not in self.data.get("loops", {}):
                continue
            first = _first_activity(loop.body)
            if first is None:
                continue
            per_case = counts.xs(first, level="activity") if first in counts.index.get_level_values(
                "activity") else pd.Series(dtype=int)
            done = per_case[per_case.index.isin(list(self.closed))]
            trials = int(done.sum())
            repeats = int((done - 1).clip(lower=0).sum())
            if trials < MIN_SAMPLE:
                continue
            p = repeats / trials
            low, high = wilson(repeats, trials)
            self.set(["loops", loop.id], _sig(p))
            self.entry(["loops", loop.id], "estimated", self.what(
                f"{repeats:,} repeats of '{first}' in {trials:,} occurrences (closed cases)"),
                n=trials, interval=(min(_sig(low), _sig(p)), max(_sig(high), _sig(p))),
                note="geometric repeats; Wilson interval")
            rows.append({"what": f"loops.{loop.id}", "probability": p, "n": trials,
                         "low": low, "high": high, "method": "repeats of the loop's first step"})
        return rows

    def slips(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        raw = self.data.get("slips", {})
        tasks = {t.activity: t for t in self.procedure.tasks()}
        closed = [c for c in self.case_ids if c in self.closed]
        skip = raw.get("skip", {})
        for activity in list(skip):
            task = tasks.get(activity)
            if task is None:
                continue
            due = self.due_cases(task, closed)
            k = sum(1 for c in due if activity not in self.cases.acts[c])
            n = len(due)
            if n < MIN_SAMPLE:
                continue
            low, high = wilson(k, n)
            skip[activity] = _sig(k / n)
            self.entry(["slips", "skip", activity], "estimated", self.what(
                f"{k:,} of {n:,} closed cases that went the step's way lack it"), n=n,
                interval=(min(_sig(low), _sig(k / n)), max(_sig(high), _sig(k / n))),
                note="Wilson interval")
            rows.append({"what": f"slips.skip.{activity}", "probability": k / n, "n": n,
                         "low": low, "high": high, "method": "closed cases without the step"})
        times = self.events.groupby(["case_id", "activity"], sort=False)["time_utc"].min()
        lookup = times.to_dict()
        for kind in ("order", "forbidden"):
            slips = raw.get(kind, [])
            parts: list[str] = []
            total = 0
            for slip in slips:
                activity = slip.get("activity")
                if kind == "order":
                    other = slip.get("before")
                    both = [c for c in closed if (c, activity) in lookup and (c, other) in lookup]
                    k = sum(1 for c in both if lookup[(c, activity)] < lookup[(c, other)])
                    n = len(both)
                else:
                    after = slip.get("after")
                    pool = [c for c in closed if after is None or (c, after) in lookup]
                    k = sum(1 for c in pool if (c, activity) in lookup
                            and (after is None or lookup[(c, activity)] > lookup[(c, after)]))
                    n = len(pool)
                if n < MIN_SAMPLE:
                    parts = []
                    break
                low, high = wilson(k, n)
                slip["probability"] = _sig(k / n)
                total += n
                parts.append(f"{activity}: {k} of {n} ({_sig(low):g}-{_sig(high):g})")
                rows.append({"what": f"slips.{kind}: {activity}", "probability": k / n, "n": n,
                             "low": low, "high": high, "method": "closed cases"})
            if parts:
                self.entry(["slips", kind], "estimated", self.what(
                    "closed cases: " + ("the step done before the one the model puts first"
                                        if kind == "order" else "the forbidden event")),
                    n=total, note="; ".join(parts) + " (Wilson intervals)")
        return rows

    def due_cases(self, task: Task, among: list[str]) -> list[str]:
        """Cases that went the way of this step (reached it): those with a step the flow puts
        before it, or after it in the same branch."""
        return _reach(task, self.procedure.flow, self.parents, self.cases, among)

    # -- delays

    def positions(self, events: pd.DataFrame) -> tuple[npt.NDArray[np.float64],
                                                        npt.NDArray[np.float64]]:
        """(working minutes, elapsed minutes) of each event from fixed origins."""
        w = working_minutes(events["time_utc"], self.calendar, self.office_open,
                            self.office_close,
                            events["date_only"].to_numpy() if "date_only" in events else None)
        e = pd.DatetimeIndex(events["time_utc"]).as_unit("ns").asi8.astype(float) / 6e10
        return w, e

    def units(self) -> dict[str, str]:
        """Each step's clock: elapsed hours when the log shows more than a tenth of its events
        outside office hours (someone on duty at night does it) and its delays are short (a
        median under a day), else working days."""
        ev = self.events
        local = _local_naive(ev["time_utc"])
        days = local.astype("datetime64[D]")
        minute = (local - days).astype("timedelta64[s]").astype(float) / 60.0
        inside = (np.is_busday(days, busdaycal=self.calendar.busdaycalendar)
                  & (minute >= _minutes_of(self.office_open))
                  & (minute < _minutes_of(self.office_close)))
        if "date_only" in ev:
            inside |= ev["date_only"].to_numpy(dtype=bool)
        share = pd.Series(~inside).groupby(ev["activity"].astype(str).to_numpy()).mean()
        elapsed = self.samples(ev, {str(a): "hours" for a in share.index})
        return {str(a): ("hours" if v > _OUT_OF_HOURS and elapsed.get(str(a))
                         and float(np.median(elapsed[str(a)])) < 24 else "working days")
                for a, v in share.items()}

    def samples(self, events: pd.DataFrame, units: Mapping[str, str],
                start_positions: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
                | None = None) -> dict[str, list[float]]:
        """Each step's delays after the step that enabled it, in its unit (events sorted by
        case and time); with start positions, to the step's start."""
        enablers = self.enablers
        w, e = self.positions(events)
        cases = events["case_id"].astype(str).to_numpy()
        acts = events["activity"].astype(str).to_numpy()
        out: dict[str, list[float]] = {}
        begin, n = 0, len(events)
        while begin < n:
            end = begin
            while end < n and cases[end] == cases[begin]:
                end += 1
            last: dict[str, int] = {}
            for i in range(begin, end):
                activity = acts[i]
                preds = enablers.get(activity)
                if preds:
                    j = max((last[p] for p in preds if p in last), default=None,
                            key=lambda k: e[k])
                    if j is not None:
                        hours = units.get(activity) == "hours"
                        wi, ei = w[i], e[i]
                        if start_positions is not None and not math.isnan(start_positions[0][i]):
                            wi, ei = start_positions[0][i], start_positions[1][i]
                        value = (ei - e[j]) / 60.0 if hours else (wi - w[j]) / self.day
                        out.setdefault(activity, []).append(value)
                last[activity] = i
            begin = end
        return out

    def delays(self, starts: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        ev = self.events
        self.enablers = _enablers(self.procedure.flow)
        self.unit_of = self.units()
        starts_at: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
        works: dict[str, list[float]] = {}
        if starts is not None and not starts.empty:
            starts_at = self.match_starts(starts)
            w, _ = self.positions(ev)
            for a, ws, wc in zip(ev["activity"].astype(str), starts_at[0], w, strict=True):
                if not math.isnan(ws):
                    works.setdefault(a, []).append(float(wc - ws))
        samples = self.samples(ev, self.unit_of, starts_at)
        rows: dict[str, dict[str, Any]] = {}
        fits: dict[str, pd.DataFrame] = {}
        tasks_raw = self.data.setdefault("tasks", {})
        done: set[str] = set()
        for task in self.procedure.tasks():
            activity = task.activity
            if activity in done:
                continue
            done.add(activity)
            spec = self.base.task(activity)
            path = ["tasks", activity]
            unit = self.unit_of.get(activity, "working days")
            per_unit = self.day if unit == "working days" else 60.0
            work_fit = fit_delay(works[activity], unit="minutes") if works.get(activity) else None
            if work_fit is not None:
                work_table = dict(work_fit.table)
                work_table.pop("unit", None)
                tasks_raw.setdefault(activity, {})["work"] = (
                    work_table if work_table["distribution"] != "fixed" else work_table["value"])
                self.entry([*path, "work"], "estimated", self.what(
                    "working minutes from each start event to its complete event"),
                    n=work_fit.n, note=self.fit_note(work_fit, "minutes"))
                work = 0.0  # the delays run to the start events
                subtract = ""
            else:
                work = spec.work.mean() / per_unit
                subtract = f", less the base scenario's work ({spec.work.mean():g} minutes)"
            raw = np.asarray(samples.get(activity, []), dtype=float)
            if spec.booking is not None:
                if len(raw) and unit == "working days":
                    self.booked[activity] = raw
                    q = np.percentile(raw, [25, 50, 75])
                    self.notes.append(
                        f"'{activity}' is booked into a diary: its {len(raw)} delays (median "
                        f"{q[1]:.1f} {unit}, quartiles {q[0]:.1f} and {q[2]:.1f}) are a "
                        "booking lead and a wait for a free slot together; the lead stays as in "
                        "the base scenario" + (", and the diary's other bookings are estimated "
                                               "by simulation" if self.refining else ""))
                continue
            clock = ("elapsed hours (more than a tenth of its events are outside office hours)"
                     if unit == "hours" else "working time")
            basis = (f"{clock} from the step that enabled it to the step"
                     + ("'s start event" if starts_at is not None and work_fit is not None
                        else subtract))
            self.lag_inputs[activity] = (raw, work, unit, basis)
            row, candidates = self.write_lag(activity, raw - work, unit, basis, 0.0)
            if row is not None:
                rows[activity] = row
                fits[activity] = candidates
        self.delay_rows, self.delay_fits = rows, fits
        return self.delay_tables()

    def write_lag(self, activity: str, values: npt.NDArray[np.float64], unit: str, basis: str,
                  wait: float) -> tuple[dict[str, Any] | None, pd.DataFrame]:
        """Fit the lag of one step and write it (or no lag) into the scenario."""
        tasks_raw = self.data.setdefault("tasks", {})
        path = ["tasks", activity]
        fit = fit_delay(values, unit=unit)
        if fit is not None:
            self.current[activity] = np.clip(np.asarray(values, dtype=float), 0.0, None)
        if fit is None:
            if len(values):
                self.notes.append(f"'{activity}': {len(values)} delay(s) in the log, too few to "
                                  "fit; its lag stays as in the base scenario")
            return None, pd.DataFrame()
        threshold = _NO_LAG if unit == "working days" else _NO_LAG * self.day / 60.0
        key = field_key([*path, "lag"])
        if fit.mean < threshold:
            self.current[activity] = np.zeros(len(values))
            if isinstance(tasks_raw.get(activity), dict):
                tasks_raw[activity].pop("lag", None)
            self.entries.pop(key, None)
            written = "no lag"
        else:
            tasks_raw.setdefault(activity, {})["lag"] = dict(fit.table)
            note = self.fit_note(fit, unit)
            if wait > 0:
                note += (f"; less {_sig(wait, 3):g} {unit} (on average) of waiting for people, "
                         "which the simulation adds by itself")
            self.entry([*path, "lag"], "estimated", self.what(basis), n=fit.n, note=note)
            written = fit.family
        row = {"activity": activity, "unit": unit, "n": fit.n, "family": fit.family,
               "mean": fit.mean, "mean_low": fit.mean_low, "mean_high": fit.mean_high,
               "ks": fit.ks, "p_value": fit.p_value, "wait_removed": wait, "written": written}
        return row, fit.candidates.assign(activity=activity)

    def delay_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        columns = ["activity", "unit", "n", "family", "mean", "mean_low", "mean_high", "ks",
                   "p_value", "wait_removed", "written"]
        delays = pd.DataFrame(list(self.delay_rows.values()), columns=columns)
        parts = [f for f in self.delay_fits.values() if not f.empty]
        fit_columns = ["activity", "family", "usable", "ks", "p_value", "parameters"]
        all_fits = (pd.concat(parts, ignore_index=True)[fit_columns] if parts
                    else pd.DataFrame(columns=fit_columns))
        return delays, all_fits

    def refine(self, simulated: pd.DataFrame) -> None:
        """Correct each lag by what a simulation of the estimate adds to it: the log's delays
        hold the waits for people too, which the simulation adds by itself. Each quantile of
        the lag moves by the gap between the log's delays and the simulated ones at that
        quantile (so the shape, not only the mean, comes closer), and the lag is refitted."""
        sim = self.samples(simulated, self.unit_of)
        for activity, (raw, work, unit, basis) in self.lag_inputs.items():
            row = self.delay_rows.get(activity)
            got = sim.get(activity)
            current = self.current.get(activity)
            if row is None or current is None or not got or len(got) < MIN_SAMPLE:
                continue
            ordered = np.sort(current)
            q = (np.arange(len(ordered)) + 0.5) / len(ordered)
            gap = np.quantile(raw, q) - np.quantile(np.asarray(got, dtype=float), q)
            moved = np.clip(ordered + gap, 0.0, None)
            wait = max(0.0, float(np.mean(raw)) - work - float(np.mean(moved)))
            new_row, candidates = self.write_lag(activity, moved, unit, basis, wait)
            if new_row is not None:
                self.delay_rows[activity] = new_row
                self.delay_fits[activity] = candidates

    def refine_diaries(self, simulated: pd.DataFrame) -> None:
        """The other bookings a working day in the diary of each booked step's role, moved so
        that the simulated delay of the step (its booking lead and the wait for a free slot)
        comes to the log's mean: at first with the wait beyond the lead taken to grow as
        u / (1 - u) with the diary's booked share u, then by the secant through the last two
        simulations."""
        sim = self.samples(simulated, dict.fromkeys(self.booked, "working days"))
        working_days = max(1, int(np.busday_count(
            np.datetime64(self.start), np.datetime64(self.start + timedelta(days=self.horizon)),
            busdaycal=self.calendar.busdaycalendar)))
        for activity, raw in self.booked.items():
            got = sim.get(activity)
            role = self.procedure.activities[activity].role
            spec = self.base.role(role)
            diary = self.data.get("roles", {}).get(role, {}).get("diary")
            booking = self.base.task(activity).booking
            if (not got or len(got) < MIN_SAMPLE or spec.diary is None or booking is None
                    or not isinstance(diary, dict) or spec.headcount is None):
                continue
            headcount = self.data["roles"][role].get("headcount", spec.headcount)
            capacity = float(headcount) * len(spec.diary.slots)  # slots a working day
            own = len(raw) / working_days
            current = float(diary.get("background_per_working_day",
                                      spec.diary.background_per_working_day))
            lead = float(booking.lead_working_days)

            def share(wait: float, w_sim: float, u_sim: float) -> float:
                odds = u_sim / (1 - u_sim) * max(wait, 0.05) / max(w_sim, 0.05)
                return odds / (1 + odds)

            u_sim = min(0.99, (current + own) / capacity)
            w_sim = float(np.mean(got)) - lead
            n = len(raw)
            mean = float(np.mean(raw))
            half = _Z * float(np.std(raw, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
            history = self.diary_history.setdefault(activity, [])
            history.append((current, float(np.mean(got))))
            values = []
            for target in (mean, mean - half, mean + half):
                if len(history) > 1 and history[-1][1] != history[-2][1] and (
                        (history[-1][0] - history[-2][0]) / (history[-1][1] - history[-2][1])
                        > 0):
                    (b0, d0), (b1, d1) = history[-2], history[-1]
                    value = b1 + (target - d1) * (b1 - b0) / (d1 - d0)  # the secant
                else:
                    value = share(target - lead, w_sim, u_sim) * capacity - own
                values.append(min(max(0.0, value), 0.99 * capacity))
            new, low, high = (_sig(v, 3) for v in values)
            diary["background_per_working_day"] = new
            self.entry(["roles", role, "diary", "background_per_working_day"], "estimated",
                       self.what(
                           f"the other bookings a working day that bring the simulated time from "
                           f"the step before '{activity}' to it (a lead of {lead:g} working days, "
                           f"assumed, and the first free slot) to the log's mean, "
                           f"{_sig(mean, 3):g} working days"),
                       n=n, interval=(min(low, high, new), max(low, high, new)),
                       note=f"{own:.2f} of the procedure's own a working day in {capacity:g} "
                            "slots; found by simulating the estimate")

    def refine_arrivals(self, simulated: pd.DataFrame, routes: pd.Series) -> None:
        """Correct each route's hour and weekday profiles by the ratio of the log's first
        events to the simulated ones (arrivals are not logged: a first event comes after the
        first step's lag and work)."""
        first = simulated.groupby("case_id", sort=False)["time_utc"].min()
        local = pd.DatetimeIndex(first).tz_convert(LONDON)
        route_of = routes.reindex(first.index).astype(str).to_numpy()
        position = {c: i for i, c in enumerate(self.case_ids)}
        for rid, members in self.members.items():
            if rid not in self.data.get("routes", {}) or not members:
                continue
            body = self.data["routes"][rid]
            if "hours" not in body or not isinstance(body.get("hours"), list):
                continue
            mine = self.first_local[[position[c] for c in members]]
            theirs = local[route_of == rid]
            if len(theirs) < MIN_SAMPLE:
                continue
            for key, size, observed, simulated_counts in (
                ("hours", 24, np.bincount(mine.hour, minlength=24),
                 np.bincount(theirs.hour, minlength=24)),
            ):
                weights = np.asarray(body[key], dtype=float)
                scale = len(mine) / len(theirs)
                ratio = (observed + 0.5) / (simulated_counts * scale + 0.5)
                new = weights * ratio
                new = new / new.mean() if new.mean() > 0 else weights
                body[key] = [round(float(v), 3) for v in new[:size]]

    def fit_note(self, fit: DelayFit, unit: str) -> str:
        mean = (f"mean {_sig(fit.mean, 3):g} {unit} (95% interval {_sig(fit.mean_low, 3):g}-"
                f"{_sig(fit.mean_high, 3):g})")
        if fit.family == "empirical":
            best = fit.candidates[fit.candidates["usable"]].sort_values("ks", kind="stable")
            top = best.iloc[0]
            return (f"{mean}; no family fits (best {top['family']}: KS {top['ks']:.3f}, p "
                    f"{top['p_value']:.3g}): kept as {len(fit.table['values'])} quantiles")
        if fit.family == "fixed":
            return f"{mean}; every value the same"
        text = f"{mean}; {fit.family} fitted, KS {fit.ks:.3f} (p {fit.p_value:.3g})"
        others = fit.candidates[~fit.candidates["usable"]]
        better = others[others["ks"] < fit.ks]
        if not better.empty:
            b = better.sort_values("ks", kind="stable").iloc[0]
            text += (f"; {b['family']} fits closer (KS {b['ks']:.3f}) but a scenario file "
                     "cannot hold it")
        return text

    def match_starts(self, starts: pd.DataFrame) -> tuple[npt.NDArray[np.float64],
                                                           npt.NDArray[np.float64]]:
        """For each complete event, the (working, elapsed) position of its start event (nan
        when none): the latest start of the same step in the case at or before it."""
        ev = self.events
        out = np.full(len(ev), np.nan)
        out_e = np.full(len(ev), np.nan)
        w, e = self.positions(starts)
        s = starts.assign(w=w, e=e)
        s = s.sort_values(["case_id", "activity", "time_utc"], kind="stable")
        groups = {key: (g["time_utc"].to_numpy(), g["w"].to_numpy(), g["e"].to_numpy())
                  for key, g in s.groupby(["case_id", "activity"], sort=False)}
        times = ev["time_utc"].to_numpy()
        for i, (c, a) in enumerate(zip(ev["case_id"].astype(str), ev["activity"].astype(str),
                                       strict=True)):
            found = groups.get((c, a))
            if found is None:
                continue
            j = int(np.searchsorted(found[0], times[i], side="right")) - 1
            if j >= 0:
                out[i] = found[1][j]
                out_e[i] = found[2][j]
        return out, out_e

    # -- people

    def resources(self, starts: pd.DataFrame | None) -> pd.DataFrame:
        rows = []
        ev = self.events
        working_days = int(np.busday_count(
            np.datetime64(self.start), np.datetime64(self.as_of.tz_convert(LONDON).date())
            + np.timedelta64(1, "D"), busdaycal=self.calendar.busdaycalendar))
        for rid, spec in self.base.roles.items():
            if not spec.limited:
                continue
            mine = ev[(ev["role"].astype(str) == rid) & ev["resource"].notna()
                      & (ev["resource"].astype(str) != rid) & (ev["resource"].astype(str) != "")]
            if mine.empty:
                self.notes.append(f"role {rid}: the log names no person in this role; its "
                                  "headcount stays as in the base scenario")
                continue
            per_person = mine["resource"].astype(str).value_counts()
            seen = len(per_person)
            f1 = int((per_person == 1).sum())
            f2 = int((per_person == 2).sum())
            if f2 > 0:
                chao = seen + f1 * f1 / (2 * f2)
                ratio = f1 / f2
                var = f2 * (ratio ** 4 / 4 + ratio ** 3 + ratio ** 2 / 2)
            else:
                chao = seen + f1 * (f1 - 1) / 2
                var = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1 ** 4 / (4 * chao)
                var = max(var, 0.0)
            estimate = max(1, round(chao))
            high = max(estimate, math.ceil(chao + _Z * math.sqrt(var)))
            events_per_day = len(mine) / seen / max(working_days, 1)
            self.set(["roles", rid, "headcount"], estimate)
            note = (f"{seen} named in the log ({f1} seen once, {f2} twice; Chao1 estimate of "
                    f"those never seen); {events_per_day:.2f} events of this procedure per person "
                    "per working day")
            busy = math.nan
            if starts is not None and not starts.empty:
                busy = self.busy_share(rid, seen, working_days)
                if math.isfinite(busy):
                    note += f"; the steps took {busy:.1%} of their office time"
            self.entry(["roles", rid, "headcount"], "estimated", self.what(
                f"the people named in the role {rid}"), n=len(mine),
                interval=(min(seen, estimate), high), note=note)
            rows.append({"role": rid, "people_seen": seen, "headcount": estimate,
                         "low": min(seen, estimate), "high": high, "events": len(mine),
                         "events_per_person_per_working_day": events_per_day,
                         "busy_share": busy})
        if starts is None or starts.empty:
            self.notes.append("the log has no start events: the time people spent working "
                              "cannot be told from the time cases waited for them, so the "
                              "steps' work and the roles' other work stay as in the base "
                              "scenario")
        return pd.DataFrame(rows, columns=["role", "people_seen", "headcount", "low", "high",
                                           "events", "events_per_person_per_working_day",
                                           "busy_share"])

    def busy_share(self, role: str, people: int, working_days: int) -> float:
        fit_rows = self.work_minutes_by_role.get(role)
        if fit_rows is None or people == 0 or working_days == 0:
            return math.nan
        return float(fit_rows / (people * working_days * self.day))

    # -- the rest

    def assumptions(self) -> None:
        base_ledger = load_ledger(self.base) if "ledger" in self.base.data else None
        for keys in _leaf_keys(self.data):
            key = field_key(keys)
            if key in ("scenario.name", "scenario.description", "scenario.replications",
                       "scenario.seed", "scenario.timeline_days"):
                continue
            if any(e.covers(key) for e in self.entries.values()):
                continue
            if (len(keys) == 4 and keys[0] == "routes" and keys[2] == "attributes"
                    and isinstance(self.data["routes"][keys[1]]["attributes"][keys[3]], bool)
                    and any(keys[3] in g.decided_by for g in self.procedure.gateways()[:1])):
                self.entries[key] = Entry(key, "assumed", "defines the route: the log's cases are "
                                          "sorted into routes by it", None, None, None, "")
                continue
            known = base_ledger.entry_for(key) if base_ledger is not None else None
            if known is not None and known.field == key:
                self.entries[key] = known
                continue
            if known is not None and key.startswith(known.field):
                # the base ledger covers a table that calibration changed in part: this
                # field keeps the base entry's word
                self.entries[key] = Entry(key, known.kind, known.source, known.n, None,
                                          None, known.note)
                continue
            self.entries[key] = Entry(key, "assumed", "as in the base scenario: the log "
                                      "cannot tell it", None, None, None, "")


def _first_activity(block: Block | None) -> str | None:
    if block is None:
        return None
    if isinstance(block, Task):
        return block.activity
    if isinstance(block, Seq):
        for child in block.children:
            found = _first_activity(child)
            if found is not None:
                return found
        return None
    if isinstance(block, (Loop, SubProcess)):
        return _first_activity(block.body)
    return None


def _leaf_keys(data: Mapping[str, Any], prefix: tuple[str, ...] = ()
               ) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for k, v in data.items():
        here = (*prefix, k)
        if isinstance(v, Mapping) and v and not _inline(here, v):
            out.extend(_leaf_keys(v, here))
        else:
            out.append(here)
    return out


def _inline(keys: tuple[str, ...], value: Mapping[str, Any]) -> bool:
    """A table written on one line (a distribution, a background, a booking)."""
    return "distribution" in value or keys[-1] in ("background", "booking")


def calibrate(log: EventLog, procedure: Procedure, *, base: Scenario | None = None,
              source: str = "the log", until: date | None = None,
              starts: pd.DataFrame | None = None,
              calendar: CalendarConfig | None = None, refine: int = 2) -> Calibration:
    """Estimate a scenario from ``log`` (see the module docstring).

    ``base``: the scenario whose routes, roles and assumptions are kept (default: the built-in
    one). ``source``: the log's name in the ledger. ``until``: calibrate on the events before
    this local date only (a holdout's first part). ``starts``: start events (case_id,
    activity, time_utc) when the log has them, to separate working from waiting.
    ``calendar``: the checker's calendar settings (bank holidays, closures). ``refine``: how
    many times to simulate the estimate over the log's period (or its first part, for about
    3,000 cases) and correct it: each quantile of each lag by the gap between the log's delays
    and the simulated ones at that quantile (the log's delays hold the waits for people too,
    which the simulation adds by itself), and each route's hour profile by the ratio of the
    log's first events to the simulated ones; 0 for none.
    """
    from simulation.scenario import load_scenario

    if base is None:
        base = load_scenario(default_scenario_path(), procedure)
    est = _Estimator(log, procedure, base, source, until, calendar)
    est.refining = refine > 0
    est.period()
    est.routes()
    arrivals = est.arrivals()
    rows = est.branches() + est.loops() + est.slips()
    branches = pd.DataFrame(rows, columns=["what", "probability", "n", "low", "high", "method"])
    if starts is not None and not starts.empty:
        est.work_minutes_by_role = _work_by_role(est, starts)
    est.delays(starts)
    resources = est.resources(starts)
    for _ in range(refine):
        simulated, routes = _simulate_estimate(est)
        est.refine(simulated)
        est.refine_diaries(simulated)
        est.refine_arrivals(simulated, routes)
    if refine:
        est.notes.append(
            f"each lag is the log's delay less the step's work and less the wait for people that "
            f"the simulation adds by itself (found by simulating the estimate {refine} time(s) "
            "over the log's period and moving each quantile of the lag by the gap between the "
            "log's delays and the simulated ones); the hour profiles are corrected the same way "
            "by the simulated first events")
    delays, fits = est.delay_tables()
    est.assumptions()
    text = _scenario_text(est)
    entries = tuple(load_ledger(_parse_toml(text)).entries.values())
    return Calibration(
        source=source, start=est.start, horizon_days=est.horizon, as_of=est.as_of,
        cases=len(est.case_ids), scenario_text=text, entries=entries, arrivals=arrivals,
        branches=branches, delays=delays, fits=fits, resources=resources,
        notes=tuple(est.notes),
    )


_REFINE_CASES: Final = 3000  # simulated cases wanted for the correction


def _simulate_estimate(est: _Estimator) -> tuple[pd.DataFrame, pd.Series]:
    """The estimate simulated over the log's period (or its first part, when that holds
    ``_REFINE_CASES`` cases), in replications enough for as many: its events (case ids made
    unique across replications) and each case's route."""
    from simulation.engine import simulate
    from simulation.scenario import parse_scenario

    data = copy.deepcopy(est.data)
    cases = max(1, len(est.case_ids))
    if cases > _REFINE_CASES:  # a part of the period holds enough cases
        head = data["scenario"]
        head["horizon_days"] = max(28, math.ceil(est.horizon * _REFINE_CASES / cases))
    scenario = parse_scenario(data, "the estimate", est.procedure)
    n = max(1, min(4, math.ceil(_REFINE_CASES / cases)))
    events, routes = [], []
    for i in range(n):
        rep = simulate(scenario, est.procedure, scenario.seed, i)
        prefix = f"r{i}-"
        events.append(rep.events[["case_id", "activity", "time_utc"]].assign(
            case_id=prefix + rep.events["case_id"].astype(str)))
        routes.append(pd.Series(rep.cases["route"].to_numpy(),
                                index=prefix + rep.cases.index.astype(str)))
    return pd.concat(events, ignore_index=True), pd.concat(routes)


def _work_by_role(est: _Estimator, starts: pd.DataFrame) -> dict[str, float]:
    w_start = est.match_starts(starts)[0]
    w = working_minutes(est.events["time_utc"], est.calendar, est.office_open, est.office_close)
    spent = np.where(np.isnan(w_start), 0.0, w - np.nan_to_num(w_start))
    frame = pd.DataFrame({"role": est.events["role"].astype(str), "spent": spent})
    return {str(k): float(v) for k, v in frame.groupby("role")["spent"].sum().items()}


def _parse_toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


# ------------------------------------------------------------------------- the file


_SECTION_ORDER: Final = ("scenario", "calendar", "routes", "roles", "tasks", "loops", "slips")


def _comment(entry: Entry | None) -> str:
    if entry is None:
        return ""
    if entry.kind == "estimated":
        text = "estimated"
        if entry.n is not None:
            text += f", n = {entry.n:,}"
        if entry.interval is not None:
            low, high = entry.interval
            text += f", 95% interval {low:g}-{high:g}" if low != high else ""
        if entry.note and entry.note.startswith("mean "):
            text += f"; {entry.note.split(';')[0]}"
        return "# " + text
    if entry.kind == "published":
        return "# published: " + entry.source
    return "# assumption" + (": " + entry.source if entry.source and not entry.source.startswith(
        "as in the base scenario") else " (as in the base scenario)")


def _scenario_text(est: _Estimator) -> str:
    entries = est.entries
    lines = [
        f"# A scenario calibrated from {est.source} by `lscb calibrate`.",
        "#",
        "# Every number estimated from the log has its sample size and uncertainty in a comment",
        "# beside it; every other number is the base scenario's, marked as an assumption. The",
        "# ledger at the end says where each field comes from (docs/scenario.md).",
    ]
    for note in est.notes:
        lines.append("#")
        lines.extend(_wrap("# - " + note, "#   "))
    lines.append("")

    def entry_for(keys: tuple[str, ...]) -> Entry | None:
        key = field_key(keys)
        found = entries.get(key)
        if found is not None:
            return found
        for length in range(len(keys) - 1, 0, -1):
            found = entries.get(field_key(keys[:length]))
            if found is not None:
                return found
        return None

    def write_table(keys: tuple[str, ...], table: Mapping[str, Any], header: str) -> None:
        simple = [(k, v) for k, v in table.items()
                  if not (isinstance(v, Mapping) and not _inline((*keys, k), v))
                  and not (isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v))]
        if simple or all(not isinstance(v, (Mapping, list)) for v in table.values()):
            lines.append(header)
        for k, v in simple:
            here = (*keys, k)
            line = f"{toml_key(k)} = {toml_value(v)}"
            comment = _comment(entry_for(here))
            lines.append(f"{line}   {comment}" if comment else line)
        if simple:
            lines.append("")
        for k, v in table.items():
            here = (*keys, k)
            if isinstance(v, Mapping) and not _inline(here, v):
                write_table(here, v, "[" + ".".join(toml_key(x) for x in here) + "]")
        for k, v in table.items():
            here = (*keys, k)
            if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
                comment = _comment(entry_for(here))
                if comment:
                    lines.append(comment)
                for item in v:
                    lines.append("[[" + ".".join(toml_key(x) for x in here) + "]]")
                    for ik, iv in item.items():
                        lines.append(f"{toml_key(ik)} = {toml_value(iv)}")
                    lines.append("")

    data = est.data
    for section in _SECTION_ORDER:
        body = data.get(section)
        if not isinstance(body, Mapping):
            continue
        if section in ("routes", "roles", "tasks"):
            for name, sub in body.items():
                if isinstance(sub, Mapping):
                    write_table((section, name), sub, f"[{section}.{toml_key(name)}]")
        else:
            write_table((section,), body, f"[{section}]")
    lines.append("# " + "-" * 77 + " ledger")
    lines.append("")
    ordered = [entries[k] for k in sorted(entries, key=_ledger_order(data))]
    return "\n".join(lines) + "\n" + ledger_toml(ordered)


def _ledger_order(data: Mapping[str, Any]) -> Any:
    position = {field_key(k): i for i, k in enumerate(_leaf_keys(data))}

    def key(field: str) -> tuple[int, str]:
        if field in position:
            return position[field], field
        best = min((i for f, i in position.items() if f.startswith(field + ".")),
                   default=len(position))
        return best, field

    return key


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, subsequent_indent=indent) or [text]


def write_calibration(calibration: Calibration, out: Path | str) -> list[Path]:
    """Write the scenario file and, beside it, its ledger as CSV (``<name>.ledger.csv``)."""
    target = Path(out)
    target.write_text(calibration.scenario_text, encoding="utf-8")
    ledger_path = target.with_name(target.stem + ".ledger.csv")
    calibration.ledger.to_csv(ledger_path, index=False, lineterminator="\n")
    return [target, ledger_path]
