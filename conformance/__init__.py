"""Conformance checking of event logs against the procedure model.

The front door is :func:`check`: a log (a file, or an ``EventLog``) in, a :class:`CheckReport`
out, from which every output is built::

    import conformance

    report = conformance.check("log.csv", mapping="local.yaml", config="check.toml")
    report.summary                        # per rule: cases per status, compliance
    report.deviations                     # one row per violated rule per case

Below it: :func:`read_log` (read and validate a log), :func:`judge` (the rule engine),
:func:`load_check_config` and :class:`CheckConfig` (the settings), :func:`log_from_frame` (a log
from frames already in the schema). Everything named in ``__all__`` is the package's public
interface; its modules (``logio``, ``engine``, ``report``, ``config``, ``fitness``, ...) may
move. Importing the package imports pandas; pm4py and matplotlib are imported only when
control-flow fitness is measured or a chart drawn.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

# ``conformance.check`` is the function below, not the module of the same name: importing
# the module first and binding the name after keeps it so (the module stays importable as
# ``from conformance.check import ...``).
from conformance.check import FITNESS_METHODS, LogFormat, check, read_options, rules_to_judge
from conformance.config import (
    ICPC_CLOCKS,
    CheckConfig,
    check_config_from_mapping,
    config_with_overrides,
    load_check_config,
)
from conformance.engine import RESULT_COLUMNS, STATUSES, Judgement, judge
from conformance.logio import (
    ColumnMap,
    EventLog,
    ReadOptions,
    load_mapping,
    log_from_frame,
    read_log,
)
from conformance.report import CheckReport

__all__ = [
    "FITNESS_METHODS",
    "ICPC_CLOCKS",
    "RESULT_COLUMNS",
    "STATUSES",
    "CheckConfig",
    "CheckReport",
    "ColumnMap",
    "EventLog",
    "Judgement",
    "LogFormat",
    "ReadOptions",
    "check",
    "check_config_from_mapping",
    "config_with_overrides",
    "judge",
    "load_check_config",
    "load_mapping",
    "log_from_frame",
    "read_log",
    "read_options",
    "rules_to_judge",
    "sample_ground_truth_path",
    "sample_log_path",
]


def _data_file(name: str) -> Path:
    return Path(str(importlib.resources.files(__name__).joinpath("data", name)))


def sample_log_path() -> Path:
    """The simulated event log with injected slips that ships with the package (CSV in the
    contract's schema).

    Examples
    --------
    >>> import conformance
    >>> conformance.sample_log_path().name
    'sample_log.csv'
    """
    return _data_file("sample_log.csv")


def sample_ground_truth_path() -> Path:
    """The simulator's ground truth for the sample log: one row per injected slip (``case_id``,
    ``slip``, ``activity``, ``detail``, ``rule_ids``: the rules it breaks, separated by ';',
    empty when none). Every (case, rule) it lists is a deviation of the sample log.

    Examples
    --------
    >>> import conformance
    >>> conformance.sample_ground_truth_path().name
    'sample_ground_truth.csv'
    """
    return _data_file("sample_ground_truth.csv")
