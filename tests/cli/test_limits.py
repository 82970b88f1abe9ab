"""Bounded cost, end to end: each small input that used to cost gigabytes or minutes is refused
with a clear error (exit status 2) or handled, within 1 GiB and 60 seconds, and every limit can
be raised with its option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lscb.cli import main

# ----------------------------------------------------------------- hostile files, end to end

GIB = 1 << 30
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
sys.stdout.write(f"{done.returncode}\\n{peak}\\n" + done.stderr + "\\n@@\\n" + done.stdout)
"""


def _lscb_measured(*args: str | Path) -> tuple[int, int, str, str]:
    """Run ``lscb ARGS`` in a process of its own: exit status, peak memory (bytes), standard
    error and standard output. More than 60 seconds is a failure (TimeoutExpired)."""
    import subprocess
    import sys

    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "lscb", *map(str, args)],
        capture_output=True, text=True, timeout=90, check=True,
    )
    status, peak, rest = measured.stdout.split("\n", 2)
    err, _, out = rest.partition("\n@@\n")
    return int(status), int(peak), err, out


def _parquet_many_rows(path: Path, rows: int) -> Path:
    """A small Parquet file of many dictionary-encoded rows (one repeated value per column)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    zeros = pa.array(np.zeros(rows, dtype=np.int32))

    def repeated(value: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(zeros, pa.array([value]))

    table = pa.table({"case_id": repeated("C1"), "activity": repeated("Case closed"),
                      "timestamp": repeated("2024-01-01T09:00:00")})
    pq.write_table(table, path, compression="zstd", row_group_size=rows)
    return path


def _parquet_big_unused_column(path: Path, value_bytes: int, rows: int) -> Path:
    """A small Parquet file with a column nobody maps whose values add up to gigabytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    indices = pa.array(np.zeros(rows, dtype=np.int32))
    table = pa.table({
        "case_id": pa.array([f"C{i % 7}" for i in range(rows)]),
        "activity": pa.array(["Case closed"] * rows),
        "timestamp": pa.array(["2024-01-01T09:00:00"] * rows),
        "notes": pa.DictionaryArray.from_arrays(indices, pa.array(["x" * value_bytes])),
    })
    pq.write_table(table, path, compression="zstd")
    return path


def _csv_wide_header(path: Path, columns: int) -> Path:
    header = ",".join(["case_id", "activity", "timestamp", *(f"c{i}" for i in range(columns))])
    path.write_text(header + "\nA,Case closed,2024-01-01" + "," * columns + "\n",
                    encoding="utf-8")
    return path


def _xes_gz_one_huge_value(path: Path, value_bytes: int) -> Path:
    """A small .xes.gz whose one activity name is ``value_bytes`` long."""
    import gzip

    chunk = b"A" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
                  b'<trace><string key="concept:name" value="C1"/>\n<event>'
                  b'<date key="time:timestamp" value="2024-01-01T09:00:00"/>'
                  b'<string key="concept:name" value="')
        for _ in range(value_bytes // len(chunk)):
            out.write(chunk)
        out.write(b'"/></event></trace></log>\n')
    return path


def _assert_cheap(peak: int) -> None:
    assert peak < GIB, f"peak memory {peak / GIB:.2f} GiB"


def test_a_small_parquet_file_of_20_million_rows_is_refused(tmp_path: Path) -> None:
    path = _parquet_many_rows(tmp_path / "rows.parquet", 20_000_000)
    assert path.stat().st_size < 1_000_000
    status, peak, err, _ = _lscb_measured("check", path, "--fitness", "none")
    assert status == 2 and "20,000,000 rows" in err and "--max-events raises it" in err
    _assert_cheap(peak)


def test_an_unused_parquet_column_of_gigabytes_is_not_read(tmp_path: Path) -> None:
    path = _parquet_big_unused_column(tmp_path / "wide.parquet", 1_000_000, 2_000)
    assert path.stat().st_size < 1_000_000  # 2 GB of text once decoded
    status, peak, err, out = _lscb_measured("check", path, "--fitness", "none", "--as-of",
                                            "2024-01-02")
    assert status in (0, 1), err
    assert "Checked 7 cases (2,000 events)" in out
    _assert_cheap(peak)


def test_a_mapped_parquet_column_with_huge_values_is_refused(tmp_path: Path) -> None:
    path = _parquet_big_unused_column(tmp_path / "wide.parquet", 2_000_000, 2_000)
    status, peak, err, _ = _lscb_measured("check", path, "--activity-column", "notes")
    assert status == 2 and "a value of 2,000,000 bytes" in err and "--max-field-bytes" in err
    _assert_cheap(peak)


def test_a_csv_header_of_a_million_columns_is_refused(tmp_path: Path) -> None:
    path = _csv_wide_header(tmp_path / "wide.csv", 1_000_000)
    status, peak, err, _ = _lscb_measured("check", path)
    assert status == 2 and "1,000,003 columns" in err and "--max-columns raises it" in err
    assert "Traceback" not in err
    _assert_cheap(peak)


def test_a_small_xes_gz_holding_one_200_mb_value_is_refused(tmp_path: Path) -> None:
    path = _xes_gz_one_huge_value(tmp_path / "huge.xes.gz", 200 * (1 << 20))
    assert path.stat().st_size < 2_000_000
    out = tmp_path / "out"
    status, peak, err, _ = _lscb_measured("check", path, "--out", out)
    assert status == 2 and "--max-field-bytes raises it" in err
    assert not out.exists()  # no 200 MB reports
    _assert_cheap(peak)


def test_a_simulation_demand_of_a_billion_is_refused_before_it_runs() -> None:
    status, peak, err, _ = _lscb_measured("simulate", "--demand", "1e9", "--workers", "1")
    assert status == 2 and "--max-cases raises it" in err and "Traceback" not in err
    _assert_cheap(peak)


def test_a_headcount_of_a_hundred_million_is_refused_before_it_runs(tmp_path: Path) -> None:
    from simulation import default_scenario_path

    text = default_scenario_path().read_text(encoding="utf-8")
    # Without the ledger's entry for the headcount: its plausible range (1-3) would refuse the
    # value first, and this test is about the bound on one replication.
    text = re.sub(r'\[ledger\."roles\.lado\.headcount"\]\n(?:[^\[\n][^\n]*\n|\n)*', "", text)
    assert 'ledger."roles.lado.headcount"' not in text
    scenario = tmp_path / "big.toml"
    scenario.write_text(text.replace("[roles.lado]\nheadcount = 2",
                                     "[roles.lado]\nheadcount = 100000000"), encoding="utf-8")
    assert "headcount = 100000000" in scenario.read_text(encoding="utf-8")
    status, peak, err, _ = _lscb_measured("simulate", "--scenario", scenario, "--workers", "1")
    assert status == 2 and "roles.lado.headcount" in err and "--max-headcount" in err
    _assert_cheap(peak)


def test_300_cases_of_random_steps_are_judged_within_the_time_budget(tmp_path: Path) -> None:
    import random

    from model.procedure import Kind, load_procedure

    steps = sorted(a.name for a in load_procedure().activities.values()
                   if a.kind is not Kind.FORBIDDEN)
    rng = random.Random(11)
    lines = ["case_id,activity,timestamp"]
    for case in range(300):
        for step in range(rng.randint(20, 40)):
            lines.append(f"C{case},{rng.choice(steps)},2024-01-08T{9 + step // 60:02d}:"
                         f"{step % 60:02d}:00")
    log = tmp_path / "random.csv"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A budget spent before the first variant is aligned (the clock is read before each chunk
    # of variants), so that it runs out on any machine: the check still ends, every case judged
    # (by exact replay where nothing else had time), and the output says what ran out.
    status, peak, err, out = _lscb_measured("check", log, "--alignment-seconds", "1e-9")
    assert status in (0, 1), err
    text = " ".join(out.split())
    assert ("the 300 that do not fit the model were given to the aligner to measure and "
            "explain their deviations; the time budget for aligning (1e-09 s, --alignment-seconds raises it) "
            "ran out: 300 variants were not aligned in time") in text, text
    _assert_cheap(peak)


# ----------------------------------------------------------------- every limit can be raised


def _rows_log(path: Path, rows: int, *, extra_columns: int = 0, field: int = 1) -> Path:
    header = ["case_id", "activity", "timestamp", *(f"x{i}" for i in range(extra_columns))]
    lines = [",".join(header)]
    for row in range(rows):
        lines.append(",".join([f"C{row}", "Case closed", "2024-01-01", *(["y" * field]
                                                                         * extra_columns)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("option", "small", "enough", "log"),
    [
        ("--max-events", "5", "10", lambda p: _rows_log(p, 10)),
        ("--max-columns", "4", "5", lambda p: _rows_log(p, 2, extra_columns=2)),
        ("--max-field-bytes", "100", "1000", lambda p: _rows_log(p, 2, extra_columns=1,
                                                                 field=500)),
        ("--max-input-bytes", "100", "100000", lambda p: _rows_log(p, 10)),
    ],
)
def test_each_limit_refuses_past_it_and_can_be_raised(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, small: str,
        enough: str, log: object) -> None:
    path = log(tmp_path / "log.csv")  # type: ignore[operator]
    status = main(["check", str(path), "--fitness", "none", option, small])
    _, err = capsys.readouterr()
    assert status == 2 and f"{option} raises it" in err
    assert main(["check", str(path), "--fitness", "none", option, enough]) in (0, 1)
    capsys.readouterr()


def test_the_option_defaults_are_the_libraries_defaults() -> None:
    from conformance.logio import DEFAULT_LIMITS
    from lscb.options import _LIMIT_DEFAULTS
    from simulation.bounds import DEFAULT_BOUNDS

    assert {k: getattr(DEFAULT_LIMITS, k) for k in _LIMIT_DEFAULTS} == _LIMIT_DEFAULTS
    assert DEFAULT_BOUNDS.max_cases == 500_000 and DEFAULT_BOUNDS.max_headcount == 10_000
