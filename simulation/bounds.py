"""Upper bounds on what one replication may hold, checked before anything runs.

A scenario value can make one replication need more memory than any machine has: ``demand =
1e9`` asks for some hundred billion cases, a headcount of 1e8 for a hundred million people, each
with a calendar. The bounds below keep one replication to what a laptop holds; past one, the
run is refused at once with a message that names the value, what it implies and the option that
raises the bound (``lscb simulate --max-cases`` ...). They bound one replication, not the run:
replications run one after another in each worker.

================  ====================  ===================================================
bound             option                what it limits (in one replication)
================  ====================  ===================================================
cases             ``--max-cases``       expected arrivals: each route's annual volume times
                                        ``demand`` over the warm-up and horizon, with its
                                        largest surge
headcount         ``--max-headcount``   the people of one role
background jobs   ``--max-other-work``  expected jobs of other work over the whole run
days              ``--max-days``        warm-up, horizon and drain together
================  ====================  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from model.errors import InputError, Problem
from simulation.scenario import Scenario

__all__ = ["DEFAULT_BOUNDS", "Bounds", "bound_problems", "check_bounds"]

_MINUTES_PER_DAY: Final = 24 * 60


@dataclass(frozen=True)
class Bounds:
    """What one replication may hold; see the module's table."""

    max_cases: int = 500_000
    max_headcount: int = 10_000
    max_other_work: int = 5_000_000
    max_days: int = 7_320  # twenty years

    def __post_init__(self) -> None:
        for name in ("max_cases", "max_headcount", "max_other_work", "max_days"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} is at least 1")


DEFAULT_BOUNDS: Final = Bounds()


def _expected_cases(scenario: Scenario) -> float:
    days = scenario.warm_up_days + scenario.horizon_days
    total = 0.0
    for route in scenario.routes.values():
        surge = max((s.multiplier for s in route.surges), default=1.0)
        total += route.annual_volume * scenario.demand * max(1.0, surge) * days / 365
    return total


def _expected_other_work(scenario: Scenario) -> float:
    minutes = (scenario.warm_up_days + scenario.horizon_days + scenario.drain_days) \
        * _MINUTES_PER_DAY
    total = 0.0
    for role in scenario.roles.values():
        if role.background is None or role.headcount is None:
            continue
        mean = role.background.job.mean()
        if mean > 0:
            total += role.background.share * scenario.background_demand / mean \
                * role.headcount * minutes
    return total


def bound_problems(scenario: Scenario, bounds: Bounds = DEFAULT_BOUNDS) -> list[Problem]:
    """What in ``scenario`` passes ``bounds`` (empty when nothing does)."""
    source = scenario.source
    problems: list[Problem] = []
    days = scenario.warm_up_days + scenario.horizon_days + scenario.drain_days
    if days > bounds.max_days:
        problems.append(Problem(
            f"{source}, scenario.warm_up_days + horizon_days + drain_days",
            f"at most {bounds.max_days:,} days in one replication (--max-days raises it)",
            f"{days:,} days"))
    cases = _expected_cases(scenario)
    if cases > bounds.max_cases:
        problems.append(Problem(
            f"{source}, scenario.demand and the routes' annual_volume",
            f"at most {bounds.max_cases:,} cases arriving in one replication "
            "(--max-cases raises it)",
            f"demand {scenario.demand:g} over {scenario.warm_up_days + scenario.horizon_days:,} "
            f"days: about {cases:,.0f} cases"))
    for role in scenario.roles.values():
        if role.headcount is not None and role.headcount > bounds.max_headcount:
            problems.append(Problem(
                f"{source}, roles.{role.id}.headcount",
                f"at most {bounds.max_headcount:,} people in one role (--max-headcount "
                "raises it)",
                f"{role.headcount:,}"))
    other = _expected_other_work(scenario)
    if other > bounds.max_other_work:
        problems.append(Problem(
            f"{source}, scenario.background_demand and the roles' background work",
            f"at most {bounds.max_other_work:,} jobs of other work in one replication "
            "(--max-other-work raises it)",
            f"about {other:,.0f} jobs"))
    return problems


def check_bounds(scenarios: list[Scenario] | tuple[Scenario, ...],
                 bounds: Bounds = DEFAULT_BOUNDS) -> None:
    """``InputError`` with every problem of every scenario past ``bounds``."""
    problems: list[Problem] = []
    seen: set[int] = set()
    for scenario in scenarios:
        if id(scenario) in seen:
            continue
        seen.add(id(scenario))
        for problem in bound_problems(scenario, bounds):
            if problem not in problems:
                problems.append(problem)
    if problems:
        raise InputError(scenarios[0].source if scenarios else "the scenario", problems)
