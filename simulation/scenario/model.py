"""The scenario: how much work arrives, who is on duty, how long things take (docs/scenario.md).

``Scenario`` is a frozen record of a validated scenario file; its parts are in
``simulation.scenario.parts``. ``load_scenario`` reads a file with the project's one TOML reader
(``model.tomlsource.read_toml``) and ``parse_scenario`` validates the mapping TOML gives against
the procedure as a whole (``simulation.scenario.reader``): every problem is collected and raised
together in one ``InputError``. Nothing here runs anything; the engine (``simulation.engine``)
does the work.
"""

from __future__ import annotations

import copy
import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Final

from conformance import CheckConfig
from model.procedure import Procedure
from model.tomlsource import read_toml
from simulation.calibration.ledger import drop_entries
from simulation.scenario.fields import field_keys
from simulation.scenario.parts import (
    Dispatch,
    Distribution,
    Hours,
    RoleSpec,
    Route,
    Slips,
    TaskSpec,
)
from simulation.scenario.reader import read_fields

__all__ = [
    "DEFAULT_SCENARIO",
    "Scenario",
    "default_scenario_path",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_SCENARIO: Final = "default_scenario.toml"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (docs/scenario.md describes every field).

    ``checking`` holds the settings the simulated logs are judged with, and the calendar the
    simulated staff work to: the ``[checking]`` section of the file, read as the checker reads
    its configuration file (the checker's defaults when the file has no such section).
    ``source`` names where the scenario came from, for messages; ``data`` is the mapping it was
    read from, which ``with_values`` changes and reads again.

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> procedure = load_procedure()
    >>> scenario = load_scenario(None, procedure)
    >>> scenario.roles["lado"].headcount
    2
    >>> scenario.with_values({"roles.lado.headcount": 3}, procedure).roles["lado"].headcount
    3
    """

    name: str
    description: str
    start: date
    horizon_days: int
    warm_up_days: int
    drain_days: int
    replications: int
    seed: int
    dispatch: Dispatch
    demand: float  # multiplies the routes' volumes (this procedure's cases)
    background_demand: float  # multiplies the background work and diary bookings
    timeline_days: int
    office_open: time
    office_close: time
    routes: Mapping[str, Route]
    roles: Mapping[str, RoleSpec]
    tasks: Mapping[str, TaskSpec]
    loops: Mapping[str, float]
    slips: Slips
    checking: CheckConfig = field(default_factory=CheckConfig)
    source: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_values(self, values: Mapping[str, Any], procedure: Procedure) -> Scenario:
        """A copy with fields replaced, validated like a file.

        Parameters
        ----------
        values
            Field path -> new value. A path is dotted ('roles.lado.headcount',
            'checking.icpc_clock') or a short form of a ``[scenario]`` field ('demand',
            'dispatch', 'seed', ...); see ``field_keys``.
        procedure
            The procedure the scenario is validated against.

        Raises
        ------
        InputError
            Every problem of the changed scenario, naming the fields.
        """
        data = copy.deepcopy(dict(self.data))
        for path, value in values.items():
            keys = field_keys(path)
            node = data
            for key in keys[:-1]:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
            node[keys[-1]] = value
        drop_entries(data, list(values))  # a changed value no longer comes from its source
        changed = ", ".join(f"{k} = {v}" for k, v in values.items())
        return parse_scenario(data, f"{self.source} with {changed}", procedure)

    def role(self, role_id: str) -> RoleSpec:
        """The role's spec; a role the scenario does not list is unlimited, on office hours."""
        spec = self.roles.get(role_id)
        if spec is not None:
            return spec
        return RoleSpec(
            role_id, None, Hours.OFFICE, self.office_open, self.office_close, 0, 0.0, 1, 0.0,
            None, None,
        )

    def task(self, activity: str) -> TaskSpec:
        """The activity's spec; one the scenario does not list takes 15 minutes, no lag."""
        spec = self.tasks.get(activity)
        if spec is not None:
            return spec
        return TaskSpec(activity, Distribution("fixed", 15.0), None, (), None)


def default_scenario_path() -> Path:
    """The built-in scenario file (Northumberland's volumes; its comments give the sources).

    Examples
    --------
    >>> default_scenario_path().name
    'default_scenario.toml'
    """
    return Path(str(importlib.resources.files("simulation").joinpath(DEFAULT_SCENARIO)))


def load_scenario(path: Path | str | None, procedure: Procedure) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        A TOML scenario file; None for the built-in default (``default_scenario_path()``).
    procedure
        The procedure the scenario is validated against (its roles, activities, loops).

    Raises
    ------
    InputError
        The file cannot be read or is not TOML (naming line and column), or every problem
        of its fields.

    Examples
    --------
    >>> from model.procedure import load_procedure
    >>> scenario = load_scenario(None, load_procedure())
    >>> scenario.routes["referral"].annual_volume
    233.0
    """
    if path is None:
        data = read_toml(default_scenario_path(), what="a scenario file")
        return parse_scenario(data, f"the default scenario ({DEFAULT_SCENARIO})", procedure)
    return parse_scenario(read_toml(path, what="a scenario file"), str(path), procedure)


def parse_scenario(data: Mapping[str, Any], source: str, procedure: Procedure) -> Scenario:
    """Validate a scenario given as the mapping TOML gives.

    Raises
    ------
    InputError
        With every problem found, each naming its field ('roles.lado.headcount'), what was
        expected and the value found.
    """
    fields = read_fields(data, source, procedure)
    return Scenario(**fields, source=source, data=copy.deepcopy(dict(data)))
