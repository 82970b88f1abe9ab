"""Regenerate the sample event log that ships with the package (the audit report's default).

    python bench/make_sample_log.py            # writes conformance/data/sample_log.csv
    python bench/make_sample_log.py --out DIR  # writes DIR/sample_log.csv instead

One replication of the built-in scenario (a year of a Northumberland-sized county, about 330
cases) simulated with a fixed seed, with the scenario's procedural slips injected (a step
skipped, the family told before the discussion with police and social care, the secured
computer used, images handled). Then three things real exports do, so that the audit report has
its caveats to show:

- **dates only**: cases that began before ``MIGRATED_BEFORE`` carry only the date of the
  Section 47 start and of the initial conference, as records migrated from an older system
  (census-style) would;
- **an unknown fact**: ``children_at_continuing_risk`` is left empty in a few cases
  (``UNKNOWN_RISK_SHARE``), so the rules that depend on it cannot be assessed there;
- **local activity names**: a few cases have a ``Case note added`` event, which is not an
  activity of the procedure (an unmapped local name).

None of the three touches a case with an injected slip, and none can create a deviation (a
date-only step is earlier than the timed one it replaces and is neither the trigger of a
same-day deadline nor a forbidden step), so ``sample_ground_truth.csv`` (the simulator's ground
truth: case_id, slip, activity, detail, rule_ids separated by ';') stays exact: every (case,
rule) it lists is a deviation of the log. The log has more deviations than the ground truth:
the simulated queues also make deadlines slip, which is what the scenario report is about.

The output is the same, byte for byte, for the same project version.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np

from model.procedure import load_procedure
from simulation.engine import simulate
from simulation.results import write_event_log
from simulation.scenario import load_scenario

SEED: Final = 20240401
MIGRATED_BEFORE: Final = "2024-07-01"  # local date: cases that began earlier were migrated
DATE_ONLY_ACTIVITIES: Final = (
    "Section 47 enquiry started",
    "Initial child protection conference held",
)
UNKNOWN_RISK_SHARE: Final = 0.05
LOCAL_NAME: Final = "Case note added"
LOCAL_NAME_SHARE: Final = 0.04
OUT_DIR: Final = Path(__file__).resolve().parents[1] / "conformance" / "data"


def make_sample(seed: int = SEED) -> tuple[str, str]:
    """The sample log and its ground truth, as CSV text."""
    procedure = load_procedure()
    scenario = load_scenario(None, procedure)
    rep = simulate(scenario, procedure, seed=seed, replication=0)
    with tempfile.TemporaryDirectory(prefix="lscb-sample-") as work:
        path = Path(work) / "log.csv"
        write_event_log(rep, path, procedure)
        text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    column = {name: i for i, name in enumerate(header)}
    slipped = set(rep.ground_truth["case_id"].astype(str))
    cases = list(dict.fromkeys(row[column["case_id"]] for row in body))
    clean = [c for c in cases if c not in slipped]
    rng = np.random.default_rng(seed)
    unknown_risk = set(
        rng.choice(clean, size=round(UNKNOWN_RISK_SHARE * len(clean)), replace=False).tolist()
    )
    local_name = set(
        rng.choice(clean, size=round(LOCAL_NAME_SHARE * len(clean)), replace=False).tolist()
    )

    first_date: dict[str, str] = {}
    out: list[list[str]] = []
    noted: set[str] = set()
    for row in body:
        case_id = row[column["case_id"]]
        stamp = row[column["timestamp"]]
        first_date.setdefault(case_id, stamp[:10])
        if case_id in unknown_risk:
            row[column["children_at_continuing_risk"]] = ""
        if (
            case_id not in slipped
            and first_date[case_id] < MIGRATED_BEFORE
            and row[column["activity"]] in DATE_ONLY_ACTIVITIES
        ):
            row[column["timestamp"]] = stamp[:10]
        out.append(row)
        if case_id in local_name and case_id not in noted:
            noted.add(case_id)
            note = list(row)
            note[column["activity"]] = LOCAL_NAME
            note[column["timestamp"]] = _later(stamp)
            out.append(note)

    log = io.StringIO()
    writer = csv.writer(log, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(out)
    truth = io.StringIO()
    rep.ground_truth.to_csv(truth, index=False, lineterminator="\n")
    return log.getvalue(), truth.getvalue()


def _later(stamp: str) -> str:
    """Ten minutes after an ISO 8601 timestamp with offset, in the same offset."""
    moment = datetime.fromisoformat(stamp)
    return (moment + _TEN_MINUTES).isoformat()


_TEN_MINUTES: Final = timedelta(minutes=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT_DIR,
        help="the directory to write (default: conformance/data)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    log, truth = make_sample(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sample_log.csv").write_text(log, encoding="utf-8")
    (args.out / "sample_ground_truth.csv").write_text(truth, encoding="utf-8")
    print(f"Wrote sample_log.csv and sample_ground_truth.csv to {args.out}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
