"""Conformance checking of event logs against the procedure model."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["sample_ground_truth_path", "sample_log_path"]


def _data_file(name: str) -> Path:
    return Path(str(importlib.resources.files(__name__).joinpath("data", name)))


def sample_log_path() -> Path:
    """The simulated event log with injected slips that ships with the package (CSV in the
    contract's schema)."""
    return _data_file("sample_log.csv")


def sample_ground_truth_path() -> Path:
    """The simulator's ground truth for the sample log: one row per injected slip (``case_id``,
    ``slip``, ``activity``, ``detail``, ``rule_ids``: the rules it breaks, separated by ';',
    empty when none). Every (case, rule) it lists is a deviation of the sample log."""
    return _data_file("sample_ground_truth.csv")
