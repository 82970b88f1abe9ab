"""Caseload simulation of the procedure with SimPy, judged by the conformance checker.

The front door is one call::

    import simulation
    result = simulation.run(replications=20)   # the built-in procedure and scenario

``run`` simulates independent replications of a scenario (a ``Scenario``, a scenario file, or
the built-in one), judges every simulated log with the checker's rules and settings
(``conformance.CheckConfig``: the scenario's ``[checking]`` section, or ``check_config=``) and
aggregates compliance per rule with 95% confidence intervals into a ``SimulationResult``.
``sweep`` does the same over a grid of changed fields (a ``SweepResult``); ``find_target``
searches one field for the smallest value that reaches a compliance target.

Inside: ``scenario`` (the scenario file and its reader), ``engine`` (the SimPy model of one
replication), ``staff`` (people, queues, diaries), ``clock`` (simulation time and the calendar),
``runner`` (processes, Dask, progress), ``results`` (judging and aggregating, files written),
``plots`` (figures; imports matplotlib, so it is not imported here).

Examples
--------
>>> import simulation
>>> from model.procedure import load_procedure
>>> procedure = load_procedure()
>>> short = simulation.load_scenario(None, procedure).with_values(
...     {"horizon_days": 20, "warm_up_days": 0, "drain_days": 60}, procedure)
>>> result = simulation.run(short, procedure, replications=2, seed=1, workers=1)
>>> type(result).__name__, result.replications
('SimulationResult', 2)
"""

from __future__ import annotations

# first: the compiled core is used only when it was built from the source as it is now
from simulation import _native  # noqa: F401
from simulation.bounds import Bounds
from simulation.outputs import output_names, write_outputs
from simulation.results import SimulationResult
from simulation.runner import run
from simulation.scenario import Scenario, default_scenario_path, load_scenario
from simulation.whatif import SweepResult, TargetResult, find_target, sweep

__all__ = [
    "Bounds",
    "Scenario",
    "SimulationResult",
    "SweepResult",
    "TargetResult",
    "default_scenario_path",
    "find_target",
    "load_scenario",
    "output_names",
    "run",
    "sweep",
    "write_outputs",
]
