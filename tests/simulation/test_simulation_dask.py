"""Replications on a Dask distributed cluster give what they give in this process."""

from __future__ import annotations

import pandas as pd
import pytest

from model.procedure import load_procedure
from simulation.scenario import load_scenario
from simulation.whatif import sweep


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_sweep_on_a_local_dask_cluster_matches_local_run() -> None:
    distributed = pytest.importorskip("distributed")
    procedure = load_procedure()
    scenario = load_scenario(None, procedure).with_values(
        {"horizon_days": 30, "warm_up_days": 7, "drain_days": 90}, procedure)
    grid = {"roles.lado.headcount": [1, 2]}
    local = sweep(scenario, procedure, grid, replications=2, workers=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = sweep(scenario, procedure, grid, replications=2,
                       scheduler=cluster.scheduler_address)
    assert len(remote.table) == 2 * len(procedure.rules)
    pd.testing.assert_frame_equal(local.table, remote.table)
