"""Running many replications: jobs, worker processes, a Dask cluster, a progress bar.

A ``Job`` is one replication to run; ``replicate`` simulates, judges and summarises it (in a
worker process); ``execute`` runs jobs in this process, in a pool of processes or on a Dask
cluster and gives their outcomes back in the order of the jobs, whatever order they finish in.
``run`` is the front door: independent replications of a scenario, judged with the checker's
settings and aggregated with 95% confidence intervals.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from conformance import CheckConfig
from model.errors import InputError, Problem
from model.procedure import Procedure, load_procedure
from simulation.bounds import DEFAULT_BOUNDS, Bounds, check_bounds
from simulation.engine import simulate
from simulation.results import (
    Replication,
    ReplicationOutcome,
    SimulationResult,
    aggregate,
    outcome_of,
)
from simulation.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MARGINAL_COLUMNS", "Job", "check_settings", "execute", "marginal_values", "replicate",
           "run"]

_CONNECT_SECONDS: Final = 10  # how long to try to reach a Dask scheduler before giving up


@dataclass(frozen=True)
class Job:
    """One replication to run: what to simulate, how to judge it, whether to keep its log.

    ``check_config``: the checker's settings to judge with and whose calendar the staff work
    to (None: the scenario's ``checking``). ``key`` tells the jobs of a sweep's points apart.
    ``measure``: a picklable function of the replication run in the worker, whose result the
    outcome carries as ``measured`` (so that a caller's own reduction of a large log is done in
    parallel and the log itself never crosses processes). ``lean``: only what judging
    needs (``simulate(lean=True)``, and the late cases' time not split: the outcome's
    timeline, queues and bottlenecks are empty), for a caller that reads the judgement alone.
    """

    scenario: Scenario
    procedure: Procedure
    seed: int
    replication: int
    keep: bool = False
    key: tuple[Any, ...] = ()
    check_config: CheckConfig | None = None
    measure: Callable[[Replication], Any] | None = None
    lean: bool = False


def check_settings(scenario: Scenario, check_config: CheckConfig | None) -> CheckConfig:
    """The settings a run of ``scenario`` is judged with: ``check_config`` when given, else the
    scenario's ``[checking]`` section (or the checker's defaults).

    Raises
    ------
    InputError
        When the settings fix an as-of time: each simulated log is judged as of its own last
        event, so the simulator cannot take one.
    """
    config = check_config if check_config is not None else scenario.checking
    if config.as_of is not None:
        raise InputError("the check settings", [Problem(
            "as_of", "no as-of time (each simulated log is judged as of its last event)",
            config.as_of.isoformat())])
    return config


def replicate(job: Job) -> ReplicationOutcome:
    """Simulate, judge and summarise one replication (runs in a worker process)."""
    config = check_settings(job.scenario, job.check_config)
    rep = simulate(job.scenario, job.procedure, job.seed, job.replication, check_config=config,
                   lean=job.lean)
    outcome = outcome_of(rep, job.procedure, config, keep=job.keep, key=job.key,
                         bottlenecks=not job.lean)
    if job.measure is None:
        return outcome
    return dataclasses.replace(outcome, measured=job.measure(rep))


def execute(jobs: Sequence[Job], workers: int | None = None, scheduler: str | None = None,
            progress: bool = False, description: str = "replications",
            bounds: Bounds = DEFAULT_BOUNDS) -> list[ReplicationOutcome]:
    """Run jobs in parallel processes (``workers``, default: every core), on a Dask cluster
    (``scheduler``: its address), or in this process (``workers=1``). Results come back in the
    order of ``jobs``, whatever order they finish in. Every scenario is checked against
    ``bounds`` first (``simulation.bounds``): one past them is refused before anything runs."""
    check_bounds([job.scenario for job in jobs], bounds)
    bar = _progress(len(jobs), progress, description)
    results: list[ReplicationOutcome | None] = [None] * len(jobs)
    try:
        if scheduler is not None:
            _on_dask(jobs, scheduler, results, bar.update)
        else:
            n = workers if workers is not None else (os.cpu_count() or 1)
            n = max(1, min(n, len(jobs)))
            if n == 1:
                for i, job in enumerate(jobs):
                    results[i] = replicate(job)
                    bar.update(1)
            else:
                _in_processes(jobs, n, results, bar.update)
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _in_processes(jobs: Sequence[Job], workers: int, results: list[ReplicationOutcome | None],
                  tick: Callable[[int], object]) -> None:
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(replicate, job): i for i, job in enumerate(jobs)}
        for future in cf.as_completed(futures):
            results[futures[future]] = future.result()
            tick(1)


def _on_dask(jobs: Sequence[Job], address: str, results: list[ReplicationOutcome | None],
             tick: Callable[[int], object]) -> None:
    from distributed import Client, as_completed  # heavy, and only for a cluster

    try:
        client = Client(address, timeout=_CONNECT_SECONDS)  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:  # nothing answers there, or not an address
        raise InputError(
            f"the Dask scheduler at {address}",
            [Problem("--scheduler",
                     "the address of a running Dask scheduler, such as tcp://10.0.0.5:8786 "
                     "(start one with `dask scheduler`, which prints its address, and workers "
                     "with `dask worker ADDRESS`)",
                     _sentence(str(exc)) or type(exc).__name__)],
            summary=f"the Dask scheduler at {address} could not be reached",
        ) from exc
    with client:
        futures = client.map(replicate, list(jobs), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        completed = as_completed(futures, with_results=True)  # type: ignore[no-untyped-call]
        for future, outcome in completed:
            results[index[future.key]] = outcome
            tick(1)


def _sentence(text: str) -> str:
    """An exception's message as the middle of a sentence."""
    return text[:1].lower() + text[1:]


class _NoBar:
    def update(self, n: int = 1) -> None:
        del n

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, description: str) -> Any:
    if not enabled or total < 2 or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm  # only when a bar is shown

    return tqdm(total=total, desc=description, unit="run", file=sys.stderr, leave=False)


def run(scenario: Scenario | Path | str | None = None, procedure: Procedure | None = None, *,
        replications: int | None = None, seed: int | None = None,
        check_config: CheckConfig | None = None, workers: int | None = None,
        scheduler: str | None = None, progress: bool = False,
        keep_first: bool = True, bounds: Bounds = DEFAULT_BOUNDS,
        marginal: bool = False) -> SimulationResult:
    """Simulate a caseload many times, judge every simulated log with the checker, aggregate.

    Parameters
    ----------
    scenario
        A ``Scenario``, the path of a scenario file, or None for the built-in scenario.
    procedure
        The procedure to simulate; None for the built-in one (``load_procedure()``).
    replications
        How many independent replications (None: the scenario's own count, 20 in the built-in
        scenario).
    seed
        The base seed (None: the scenario's). Replication ``i`` is fixed by the seed and ``i``
        alone, so the same seed gives the same result however the work is spread.
    check_config
        The checker's settings (``conformance.CheckConfig``) to judge the simulated logs with;
        the simulated staff also work to its calendar (bank holidays, closures). None: the
        scenario's ``[checking]`` section, or the checker's defaults.
    workers
        Worker processes (None: every core; 1: this process only).
    scheduler
        The address of a Dask scheduler to run the replications on, instead of local
        processes.
    progress
        Show a progress bar on a terminal.
    keep_first
        Keep the first replication's full log in ``SimulationResult.first``.
    bounds
        What one replication may hold (``simulation.bounds``); a scenario past them is refused.
    marginal
        Also run the scenario with one more person in each role that has a headcount, with
        the same seeds, and give the paired change in each deadline's compliance
        (``SimulationResult.marginal``; :func:`marginal_values`): as many more runs for each
        such role.

    Returns
    -------
    SimulationResult
        Compliance per rule with 95% confidence intervals across replications, utilisation,
        queues, bottlenecks and timeliness.

    Raises
    ------
    InputError
        A scenario file that cannot be used (every problem at once), check settings with an
        as-of time, or a Dask scheduler that cannot be reached.

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> from simulation.scenario import load_scenario
    >>> procedure = load_procedure()
    >>> scenario = load_scenario(None, procedure).with_values(
    ...     {"horizon_days": 20, "warm_up_days": 0, "drain_days": 60}, procedure)
    >>> result = run(scenario, procedure, replications=2, seed=7, workers=1)
    >>> result.replications
    2
    >>> list(result.compliance.columns[:5])
    ['rule_id', 'title', 'clause', 'severity', 'basis']
    >>> result.rule("police-and-social-care-notified")["severity"]
    'violation'
    """
    proc = procedure if procedure is not None else load_procedure()
    if scenario is None or isinstance(scenario, (Path, str)):
        chosen = load_scenario(scenario, proc)
    else:
        chosen = scenario
    config = check_settings(chosen, check_config)
    n = replications if replications is not None else chosen.replications
    base = chosen.seed if seed is None else seed
    jobs = [Job(chosen, proc, base, i, keep=keep_first and i == 0, check_config=config)
            for i in range(n)]
    outcomes = execute(jobs, workers, scheduler, progress, bounds=bounds)
    result = aggregate(outcomes, chosen, proc, base, config)
    if marginal:
        extra = marginal_values(result, proc, workers=workers, scheduler=scheduler,
                                progress=progress)
        result = dataclasses.replace(result, marginal=extra)
    return result


MARGINAL_COLUMNS: Final = ("role", "headcount", "rule_id", "compliance", "with_one_more",
                           "change", "ci_low", "ci_high", "replications")


def marginal_values(result: SimulationResult, procedure: Procedure, *,
                    roles: Sequence[str] | None = None, workers: int | None = None,
                    scheduler: str | None = None, progress: bool = False) -> pd.DataFrame:
    """What one more person in each role would do: the marginal value of capacity.

    For each role with a headcount (or each of ``roles``), the result's scenario is run again
    with one more person, with the same seed and replications as ``result`` (common random
    numbers: the same cases arrive with the same durations), judged with the same settings.
    For each deadline rule, the change in compliance is the mean of the replications' paired
    differences, with its 95% interval (Student's t). "Who is the bottleneck" is then answered
    by what adding capacity would do.

    Returns
    -------
    pandas.DataFrame
        ``MARGINAL_COLUMNS``: role, headcount (as in the scenario), rule_id, compliance (the
        result's, over the paired replications), with_one_more, change, ci_low, ci_high (of the
        change; NaN with one replication), replications (paired, with a judged case in both);
        largest change first within each rule.
    """
    import numpy as np
    import pandas as pd
    from scipy import stats

    scenario = result.scenario
    chosen = [r for r in (roles if roles is not None else list(scenario.roles))
              if scenario.role(r).headcount is not None]
    deadline = [r.id for r in procedure.rules if r.within is not None]
    jobs = []
    for role in chosen:
        headcount = scenario.role(role).headcount
        assert headcount is not None  # chosen: roles with a headcount
        variant = scenario.with_values({f"roles.{role}.headcount": headcount + 1}, procedure)
        jobs += [Job(variant, procedure, result.seed, i, key=(role,),
                     check_config=result.check_config) for i in range(result.replications)]
    outcomes = execute(jobs, workers, scheduler, progress, "one more person")
    base = result.per_replication.pivot_table(index="replication", columns="rule_id",
                                              values="compliance", dropna=False)
    rows = []
    for role in chosen:
        parts = [o.counts.assign(replication=o.index) for o in outcomes if o.key == (role,)]
        plus = pd.concat(parts).pivot_table(index="replication", columns="rule_id",
                                            values="compliance", dropna=False)
        for rule in deadline:
            if rule not in base.columns or rule not in plus.columns:
                continue
            pair = pd.concat([base[rule], plus[rule]], axis=1, keys=["a", "b"]).dropna()
            n = len(pair)
            if not n:
                continue
            diff = (pair["b"] - pair["a"]).to_numpy(dtype=float)
            mean = float(diff.mean())
            half = (float(stats.t.ppf(0.975, n - 1)) * float(diff.std(ddof=1)) / n ** 0.5
                    if n > 1 else float("nan"))
            rows.append({"role": role, "headcount": scenario.role(role).headcount,
                         "rule_id": rule, "compliance": float(pair["a"].mean()),
                         "with_one_more": float(pair["b"].mean()), "change": mean,
                         "ci_low": mean - half, "ci_high": mean + half, "replications": n})
    frame = pd.DataFrame(rows, columns=list(MARGINAL_COLUMNS))
    order = np.abs(frame["change"].to_numpy(dtype=float))
    frame = frame.assign(_abs=order).sort_values(["rule_id", "_abs"], ascending=[True, False],
                                                 kind="stable")
    result_frame: pd.DataFrame = frame.drop(columns="_abs").reset_index(drop=True)
    return result_frame
