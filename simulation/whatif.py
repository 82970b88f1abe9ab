"""What-if analysis: the same scenario over a grid of changed fields, and target search.

Every point of the grid runs the same replications with the same seed (common random numbers:
the same cases arrive with the same attributes and durations), so differences between points are
the changes' effects rather than noise. All points' replications go to one pool of workers (or
one Dask cluster) at once.
"""

from __future__ import annotations

import difflib
import itertools
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from conformance import CheckConfig
from model.errors import InputError, Problem
from model.procedure import Procedure
from simulation.results import ReplicationOutcome, aggregate
from simulation.runner import Job, check_settings, execute
from simulation.scenario import Scenario, describe

__all__ = ["SweepResult", "TargetResult", "find_target", "parse_values", "rule_problem",
           "sweep"]


@dataclass(frozen=True)
class SweepResult:
    """``table``: one row per grid point and rule: the varied fields' values, then rule_id,
    compliance, ci_low, ci_high (95%), judged_per_replication, violated_per_replication."""

    fields: tuple[str, ...]
    table: pd.DataFrame
    replications: int
    seed: int


@dataclass(frozen=True)
class TargetResult:
    """The smallest value of ``field`` whose mean compliance with ``rule_id`` reaches
    ``target`` (None when none of the values tried does), and every value tried."""

    field: str
    rule_id: str
    target: float
    value: Any | None
    compliance: float
    ci_low: float
    ci_high: float
    tried: pd.DataFrame


def parse_values(text: str) -> list[Any]:
    """Values from the command line: 'a,b,c' (each read as a TOML value, else as text) or an
    integer range 'lo..hi'."""
    text = text.strip()
    if ".." in text and "," not in text:
        lo, _, hi = text.partition("..")
        try:
            first, last = int(lo), int(hi)
        except ValueError:
            raise ValueError("a range 'lo..hi' of whole numbers") from None
        if last < first:
            raise ValueError("a range 'lo..hi' with lo <= hi")
        return list(range(first, last + 1))
    values: list[Any] = []
    for token in text.split(","):
        token = token.strip()
        if not token:
            raise ValueError("values separated by commas, none of them empty")
        try:
            values.append(tomllib.loads(f"v = {token}")["v"])
        except tomllib.TOMLDecodeError:
            values.append(token)
    return values


def rule_problem(where: str, rule_id: str, procedure: Procedure) -> Problem | None:
    """The problem with a rule id given by the user, naming the closest known one; None when
    the procedure has the rule."""
    ids = [r.id for r in procedure.rules]
    if rule_id in ids:
        return None
    close = difflib.get_close_matches(rule_id, ids, n=1)
    expected = ("a rule of the procedure (did you mean " + repr(close[0]) + "?)" if close
                else "a rule of the procedure: " + ", ".join(ids))
    return Problem(where, expected, describe(rule_id))


def _ordered(values: Sequence[Any]) -> list[Any]:
    """Smallest first; numbers before other values (such as "unlimited"), kept in order."""
    def is_number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    numbers = [v for v in values if is_number(v)]
    others = [v for v in values if not is_number(v)]
    try:
        return sorted(numbers) + sorted(others)
    except TypeError:
        return sorted(numbers) + others


def _points(scenario: Scenario, procedure: Procedure,
            grid: Mapping[str, Sequence[Any]]) -> list[tuple[tuple[Any, ...], Scenario]]:
    """Every combination, validated; all problems of all points raised at once."""
    fields = list(grid)
    out: list[tuple[tuple[Any, ...], Scenario]] = []
    problems: list[Problem] = []
    for combo in itertools.product(*(grid[f] for f in fields)):
        try:
            out.append((combo, scenario.with_values(dict(zip(fields, combo, strict=True)),
                                                    procedure)))
        except InputError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    if problems:
        raise InputError(scenario.source, problems,
                         summary=f"{scenario.source}: the sweep's values give "
                                 f"{len(problems)} problem(s)")
    return out


def _summarise(outcomes: Sequence[ReplicationOutcome], scenario: Scenario,
               procedure: Procedure, seed: int, check_config: CheckConfig) -> pd.DataFrame:
    result = aggregate(outcomes, scenario, procedure, seed, check_config)
    return result.compliance[["rule_id", "compliance", "ci_low", "ci_high",
                              "judged_per_replication", "violated_per_replication"]]


def sweep(scenario: Scenario, procedure: Procedure, grid: Mapping[str, Sequence[Any]], *,
          replications: int | None = None, seed: int | None = None, workers: int | None = None,
          scheduler: str | None = None, progress: bool = False,
          check_config: CheckConfig | None = None) -> SweepResult:
    """Compliance at every point of a grid of changed fields.

    Parameters
    ----------
    scenario, procedure
        The scenario the grid changes, and the procedure.
    grid
        Field path (as ``Scenario.with_values`` takes it) -> the values to try. Every
        combination is a point; every point is validated before anything runs.
    replications, seed, workers, scheduler, progress
        As for ``simulation.run``; every point runs the same replications with the same seed.
    check_config
        The checker's settings for every point (None: each point's own ``[checking]``, so
        'checking.icpc_clock' can be a field of the grid).

    Returns
    -------
    SweepResult
        One row per point and rule.

    Raises
    ------
    InputError
        Every problem of every point at once.

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> from simulation.scenario import load_scenario
    >>> procedure = load_procedure()
    >>> scenario = load_scenario(None, procedure).with_values(
    ...     {"horizon_days": 15, "warm_up_days": 0, "drain_days": 60}, procedure)
    >>> result = sweep(scenario, procedure, {"roles.lado.headcount": [1, 2]},
    ...                replications=1, seed=3, workers=1)
    >>> list(result.table.columns[:3])
    ['roles.lado.headcount', 'rule_id', 'compliance']
    >>> sorted(set(result.table["roles.lado.headcount"]))
    [1, 2]
    """
    if not grid:
        raise ValueError("a sweep needs at least one field to vary")
    n = replications if replications is not None else scenario.replications
    base = scenario.seed if seed is None else seed
    points = _points(scenario, procedure, grid)
    configs = [check_settings(sc, check_config) for _, sc in points]
    jobs = [Job(sc, procedure, base, r, key=(i,), check_config=configs[i])
            for i, (_, sc) in enumerate(points) for r in range(n)]
    outcomes = execute(jobs, workers, scheduler, progress, description="sweep")
    frames = []
    for i, (combo, sc) in enumerate(points):
        mine = [o for o in outcomes if o.key == (i,)]
        table = _summarise(mine, sc, procedure, base, configs[i])
        for name, value in reversed(list(zip(grid, combo, strict=True))):
            table.insert(0, name, [value] * len(table))
        frames.append(table)
    return SweepResult(tuple(grid), pd.concat(frames, ignore_index=True), n, base)


def find_target(scenario: Scenario, procedure: Procedure, field: str, values: Sequence[Any],
                rule_id: str, target: float, *, replications: int | None = None,
                seed: int | None = None, workers: int | None = None,
                scheduler: str | None = None, progress: bool = False,
                check_config: CheckConfig | None = None) -> TargetResult:
    """Try ``values`` of ``field`` from the smallest up; stop at the first whose mean
    compliance with ``rule_id`` reaches ``target`` (a fraction, 0..1)."""
    problems = []
    unknown = rule_problem("--target", rule_id, procedure)
    if unknown is not None:
        problems.append(unknown)
    if not 0 < target <= 1:
        problems.append(Problem("--target", "a target level between 0 and 1 (0.85 for 85%)",
                                describe(target)))
    if problems:
        raise InputError("--target", problems)
    _points(scenario, procedure, {field: list(values)})  # every value valid, before any run
    rows = []
    for value in _ordered(values):
        result = sweep(scenario, procedure, {field: [value]}, replications=replications,
                       seed=seed, workers=workers, scheduler=scheduler, progress=progress,
                       check_config=check_config)
        row = result.table[result.table["rule_id"] == rule_id].iloc[0]
        rows.append(row)
        mean = float(row["compliance"])
        if not math.isnan(mean) and mean >= target:
            return TargetResult(field, rule_id, target, value, mean, float(row["ci_low"]),
                                float(row["ci_high"]), pd.DataFrame(rows))
    return TargetResult(field, rule_id, target, None, math.nan, math.nan, math.nan,
                        pd.DataFrame(rows))
