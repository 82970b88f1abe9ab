"""The scenario: how much work arrives, who is on duty, how long things take (docs/scenario.md).

A scenario is a TOML file read into frozen records and validated against the procedure:

- ``model``: ``Scenario``, ``load_scenario``, ``parse_scenario``, ``default_scenario_path``;
- ``parts``: the records of its parts (routes, roles, tasks, slips) and ``Distribution``;
- ``reader`` and ``values``: the validating reader, which reports every problem at once (its
  ``[checking]`` section is read by the checker's own reader, ``conformance.check_config_from_
  mapping``, into ``Scenario.checking``);
- ``fields``: field paths ('roles.lado.headcount') and ``describe`` for messages.
"""

from __future__ import annotations

from simulation.scenario.fields import describe, field_keys
from simulation.scenario.model import (
    DEFAULT_SCENARIO,
    Scenario,
    default_scenario_path,
    load_scenario,
    parse_scenario,
)
from simulation.scenario.parts import (
    Background,
    Booking,
    Delay,
    Diary,
    Dispatch,
    Distribution,
    ForbiddenSlip,
    Hours,
    LagUnit,
    OrderSlip,
    RoleSpec,
    Route,
    Slips,
    Surge,
    TaskSpec,
    cumulative,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "Background",
    "Booking",
    "Delay",
    "Diary",
    "Dispatch",
    "Distribution",
    "ForbiddenSlip",
    "Hours",
    "LagUnit",
    "OrderSlip",
    "RoleSpec",
    "Route",
    "Scenario",
    "Slips",
    "Surge",
    "TaskSpec",
    "cumulative",
    "default_scenario_path",
    "describe",
    "field_keys",
    "load_scenario",
    "parse_scenario",
]
