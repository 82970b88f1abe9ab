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
  the steps took and how long the role's steps took (start to complete: working) and waited
  (the enabling step to the start: waiting). A log with lifecycle transitions gives the start
  events (``read_event_log(..., starts=True)``, what ``calibrate_file`` and ``lscb calibrate``
  do: the reader pairs each complete event with its start, ``conformance.logio.lifecycle``).

Everything else stays as in the base scenario (the built-in one unless given) and is marked as
an assumption. ``Calibration.scenario_text`` is a normal scenario file (``lscb simulate
--scenario`` takes it) whose every estimated number has its sample size and uncertainty in a
comment beside it, with the ledger (``simulation.calibration.ledger``) at its end; the same
log gives the same text, byte for byte.

This module is the front; the work is done by the modules beside it, in the order it runs:
``estimate`` (the period, routes, arrivals, chances and people the log tells directly),
``lags`` (each step's delays and their fits), ``refine`` (simulations of the estimate that
separate waiting for people and diary slots from the lags), ``scenario_file`` (the file with
its comments and ledger); ``fitting`` (working time, intervals, distribution fits) and ``flow``
(what the procedure's flow says about enabling steps, reach and gateways) serve them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from model.calendar import CalendarConfig
from model.procedure import Procedure
from simulation.calibration.fitting import EMPIRICAL_POINTS, MIN_SAMPLE, DelayFit, fit_delay
from simulation.calibration.fitting import working_minutes as working_minutes
from simulation.calibration.lags import LagEstimator, work_by_role
from simulation.calibration.ledger import Entry, ledger_table, load_ledger
from simulation.calibration.refine import refine as refine_by_simulation
from simulation.calibration.scenario_file import scenario_text
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

# ------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Calibration:
    """What a log told about a scenario.

    ``scenario_text``: the scenario file. ``entries``: its ledger (one entry per field).
    ``arrivals``: per route (cases, annual_volume, low, high). ``branches``: per route and
    attribute, and per loop and slip (what, probability, n, low, high, method). ``delays``:
    per step (unit: working days or hours, n, family, mean and its 95% interval, KS distance,
    p-value, the wait for people taken off, what was written). ``fits``: every candidate
    family per step. ``resources``: per role (people seen, estimate, low, high, events, per
    person per working day; with start events, busy share,
    steps started, their mean working minutes, steps with an enabling step and their mean
    working days of waiting). ``notes``: what the log could not give, in plain words.
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
                   as_of: pd.Timestamp | None = None, *, starts: bool = False) -> EventLog:
    """Read a log as ``lscb check`` does (its mapping, columns, format and as-of options);
    ``starts``: also keep each complete event's start event (``start_utc``) when the log has
    lifecycle transitions, to separate working from waiting."""
    from dataclasses import replace

    from conformance import LogFormat, read_log, read_options

    options = read_options(procedure, log_format or LogFormat(), as_of=as_of)
    return read_log(Path(path), replace(options, keep_starts=starts))


def calibrate_file(path: Path | str, procedure: Procedure, *, base: Scenario | None = None,
                   log_format: LogFormat | None = None, as_of: pd.Timestamp | None = None,
                   until: date | None = None, calendar: CalendarConfig | None = None,
                   refine: int = 2, workers: int | None = None) -> Calibration:
    """Read the log at ``path`` (as ``lscb check`` would) and calibrate from it."""
    log = read_event_log(path, procedure, log_format, as_of, starts=True)
    return calibrate(log, procedure, base=base, source=Path(path).name, until=until,
                     calendar=calendar, refine=refine, workers=workers)


def calibrate(log: EventLog, procedure: Procedure, *, base: Scenario | None = None,
              source: str = "the log", until: date | None = None,
              starts: pd.DataFrame | None = None,
              calendar: CalendarConfig | None = None, refine: int = 2,
              workers: int | None = None) -> Calibration:
    """Estimate a scenario from ``log`` (see the module docstring).

    ``base``: the scenario whose routes, roles and assumptions are kept (default: the built-in
    one). ``source``: the log's name in the ledger. ``until``: calibrate on the events before
    this local date only (a holdout's first part). ``starts``: start events (case_id,
    activity, time_utc), to separate working from waiting; without them, the log's own
    ``start_utc`` when it was read with its start events (``read_event_log(..., starts=True)``).
    ``calendar``: the checker's calendar settings (bank holidays, closures). ``refine``: how
    many times to simulate the estimate over the log's period (or its first part, for about
    3,000 cases) and correct it: each quantile of each lag by the gap between the log's delays
    and the simulated ones at that quantile (the log's delays hold the waits for people too,
    which the simulation adds by itself; a lag in elapsed hours of a step that waits for office
    hours has its mean searched instead, ``refine.refine_waiting_lags``), and each route's hour
    profile by the ratio of the log's first events to the simulated ones; 0 for none. ``workers``: the processes those
    simulations run in (default: two, or one on a single core); the result does not depend on it.
    """
    from simulation.scenario import load_scenario

    if base is None:
        base = load_scenario(default_scenario_path(), procedure)
    est = LagEstimator(log, procedure, base, source, until, calendar)
    est.refining = refine > 0
    est.period()
    est.routes()
    arrivals = est.arrivals()
    rows = est.branches() + est.loops() + est.slips()
    branches = pd.DataFrame(rows, columns=["what", "probability", "n", "low", "high", "method"])
    starts_at = est.start_positions(starts)
    if starts_at is not None:
        est.work_minutes_by_role = work_by_role(est, starts_at)
    est.delays(starts_at)
    resources = est.resources(starts_at is not None)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    refine_by_simulation(est, refine, max(1, workers))
    delays, fits = est.delay_tables()
    est.assumptions()
    text = scenario_text(est)
    entries = tuple(load_ledger(_parse_toml(text)).entries.values())
    return Calibration(
        source=source, start=est.start, horizon_days=est.horizon, as_of=est.as_of,
        cases=len(est.case_ids), scenario_text=text, entries=entries, arrivals=arrivals,
        branches=branches, delays=delays, fits=fits, resources=resources,
        notes=tuple(est.notes),
    )


def _parse_toml(text: str) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(text)


def write_calibration(calibration: Calibration, out: Path | str) -> list[Path]:
    """Write the scenario file and, beside it, its ledger as CSV (``<name>.ledger.csv``)."""
    target = Path(out)
    target.write_text(calibration.scenario_text, encoding="utf-8")
    ledger_path = target.with_name(target.stem + ".ledger.csv")
    calibration.ledger.to_csv(ledger_path, index=False, lineterminator="\n")
    return [target, ledger_path]
