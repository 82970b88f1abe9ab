"""Run Simod (in its own virtual environment, never a dependency of this project) on a log in the
contract's schema, simulate the model it discovers with Prosimos for as many cases from the
log's first event, and write the simulated log as case_id, activity, time_utc.

Run with Simod's Python:  /path/to/simod-venv/bin/python bench/simod_run.py LOG.csv OUT.csv

Used by ``bench/bench_calibrate.py --simod-python``. Simod wants start and end times: the log's
events are instantaneous, so both are the event's time (as this project's simulated logs are
compared). Imports nothing of this project.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd


def main(log_path: Path, out_path: Path) -> None:
    from simod.event_log.event_log import EventLog
    from simod.settings.simod_settings import SimodSettings
    from simod.simod import Simod
    from simod.simulation.prosimos import ProsimosSettings, simulate

    log = pd.read_csv(log_path, dtype=str, keep_default_na=False)
    times = pd.to_datetime(log["timestamp"], utc=True, format="ISO8601")
    frame = pd.DataFrame({
        "case_id": log["case_id"],
        "activity": log["activity"],
        "start_time": times,
        "end_time": times,
        "resource": log["resource"].where(log["resource"] != "", log["role"]),
    })
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        train = folder / "log.csv"
        frame.to_csv(train, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f+00:00")
        settings = SimodSettings.one_shot()
        settings.common.train_log_path = train
        settings.common.test_log_path = None
        settings.common.perform_final_evaluation = False
        event_log = EventLog.from_path(
            log_ids=settings.common.log_ids, train_log_path=train, test_log_path=None,
            preprocessing_settings=settings.preprocessing, need_test_partition=False)
        output = folder / "simod"
        Simod(settings, event_log=event_log, output_dir=output).run()
        best = output / "best_result"
        bpmn = next(best.glob("*.bpmn"))
        parameters = next(p for p in best.glob("*.json") if p.stem == bpmn.stem)
        simulated = folder / "simulated.csv"
        simulate(ProsimosSettings(bpmn_path=bpmn, parameters_path=parameters,
                                  output_log_path=simulated,
                                  num_simulation_cases=int(log["case_id"].nunique()),
                                  simulation_start=times.min()))
        result = pd.read_csv(simulated)
        pd.DataFrame({"case_id": result["case_id"].astype(str),
                      "activity": result["activity"],
                      "time_utc": pd.to_datetime(result["end_time"], utc=True,
                                                 format="ISO8601")}).to_csv(out_path, index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
