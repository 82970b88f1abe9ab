"""Benchmark of the conformance checker (not a test): speed, memory and agreement.

    python bench/bench_check.py                  # 100,000 cases (about 1.5 million events)
    python bench/bench_check.py --cases 10000

Generates a log with known injected deviations (bench/make_log.py), writes it as CSV, then
measures in one run, each part in its own process (so that peak memory is its own):

(a) the rule engine alone: ``judge`` on the log as ``read_log`` gives it (events per second,
    cold and warm), and whether exactly the injected deviations are found;
(b) ``lscb check`` end to end on the CSV (wall time, peak RSS, agreement), with the default
    fitness measure and with ``--fitness none``; skipped when the command is not available;
(c) pm4py's DECLARE conformance (``pm4py.conformance_declare``) with a hand-built DECLARE model
    of the order rules DECLARE can express, on the same events;
(d) pm4py token-based replay against the model's Petri net (``model.petri``); skipped when
    missing;
(e) the baseline of issue 10: pm4py reading the same CSV as its users do (``pandas.read_csv``
    and ``pm4py.format_dataframe``) and running DECLARE on the order rules, end to end in its
    own process, like ``lscb check``. The run reports ``lscb check``'s wall time as a ratio of
    it (the target: at most 0.5 with the default fitness, on a log with at least 50,000
    deviations; ``--injection-rate`` sets how many cases get one) and the peak memory, and
    the same ratio in CPU time (user + system), which other work on a shared machine moves less.

Prints a table and writes bench/results/check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "check.json"

# The order rules DECLARE can express (without times, alternatives or case attributes), as
# (template, activities, the contract rule it stands for).
DECLARE_CONSTRAINTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("absence", ("Images downloaded or distributed",), "no-image-handling"),
    ("nonsuccession", ("Computer secured", "Computer used"), "secured-computer-not-used"),
    (
        "precedence",
        ("Concerns discussed with police and social care", "Family informed"),
        "discuss-before-informing-family",
    ),
    (
        "precedence",
        ("Information shared", "Strategy discussion held"),
        "information-shared-before-strategy-discussion",
    ),
    (
        "precedence",
        ("Strategy discussion held", "Section 47 enquiry started"),
        "section-47-after-strategy-discussion",
    ),
    ("precedence", ("LADO contacted", "Employee actions agreed"), "employee-actions-after-lado"),
    (
        "responded_existence",
        ("Concern identified", "Employee actions agreed"),
        "employee-actions-after-lado",
    ),
    (
        "response",
        ("Police notified", "Access details provided to police"),
        "access-details-provided",
    ),
    ("responded_existence", ("Social care notified", "Police notified"),
     "police-and-social-care-notified"),
    ("response", ("Concern identified", "Computer secured"), "computer-secured-same-working-day"),
    ("response", ("Concern identified", "LADO contacted"), "lado-same-day"),
    ("response", ("Concern identified", "Police notified"), "police-same-working-day"),
    ("response", ("Concern identified", "Actions agreed with police"), "police-same-working-day"),
    ("precedence", ("Concern identified", "Computer secured"), "computer-secured-same-working-day"),
    ("response", ("Section 47 enquiry started", "Section 47 enquiry completed"), ""),
    ("precedence", ("Section 47 enquiry started", "Section 47 enquiry completed"), ""),
)


# ------------------------------------------------------------------ worker parts


def _read(log_path: Path, as_of: str) -> Any:
    from datetime import datetime

    from conformance.logio import ReadOptions, read_log

    return read_log(log_path, ReadOptions(as_of=datetime.fromisoformat(as_of)))


def _truth(path: Path) -> set[tuple[str, str]]:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str)
    return set(zip(frame["case_id"], frame["rule_id"], strict=True))


def _pm4py_frame(events: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "case:concept:name": events["case_id"].astype(object).to_numpy(),
            "concept:name": events["activity"].astype(object).to_numpy(),
            "time:timestamp": events["time_utc"].to_numpy(),
        }
    )


def part_engine(log_path: Path, truth_path: Path, as_of: str, repeat: int) -> dict[str, Any]:
    import resource

    from conformance.engine import judge
    from model.procedure import load_procedure

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    log = _read(log_path, as_of)
    read_s = time.perf_counter() - start
    after_read = peak_mb()
    rules = load_procedure().rules
    runs = []
    judgement = None
    for _ in range(repeat):
        start = time.perf_counter()
        judgement = judge(log, rules)
        runs.append(time.perf_counter() - start)
    assert judgement is not None
    after_judge = peak_mb()
    start = time.perf_counter()
    deviations = judgement.deviations()
    deviations_s = time.perf_counter() - start
    found = set(zip(deviations["case_id"].astype(str), deviations["rule_id"].astype(str),
                    strict=True))
    truth = _truth(truth_path)
    events = int(judgement.events)
    best = min(runs)
    return {
        "events": events,
        "cases": int(judgement.cases),
        "rules": len(rules),
        "read_s": read_s,
        "peak_rss_after_read_mb": after_read,
        "peak_rss_after_judge_mb": after_judge,
        "judge_cold_s": runs[0],
        "judge_best_s": best,
        "judge_runs_s": runs,
        "deviations_s": deviations_s,
        "events_per_s": events / best,
        "events_per_s_cold": events / runs[0],
        "events_per_s_with_messages": events / (best + deviations_s),
        "deviations": len(found),
        "injected": len(truth),
        "missed": len(truth - found),
        "extra": len(found - truth),
        "exact": found == truth,
        "statuses": {str(k): int(v) for k, v in judgement.results["status"].value_counts().items()},
    }


def part_declare(log_path: Path, truth_path: Path, as_of: str) -> dict[str, Any]:
    import pm4py

    log = _read(log_path, as_of)
    start = time.perf_counter()
    frame = _pm4py_frame(log.events)
    prepare_s = time.perf_counter() - start
    model: dict[str, dict[Any, dict[str, float]]] = {}
    for template, activities, _ in DECLARE_CONSTRAINTS:
        key: Any = activities[0] if len(activities) == 1 else activities
        model.setdefault(template, {})[key] = {"support": 1.0, "confidence": 1.0}
    start = time.perf_counter()
    result = pm4py.conformance_declare(
        frame,
        model,
        activity_key="concept:name",
        timestamp_key="time:timestamp",
        case_id_key="case:concept:name",
    )
    declare_s = time.perf_counter() - start
    # pm4py returns a plain list; its order is that of the case ids, sorted (checked below on
    # the absence constraint, which can be recomputed directly).
    case_ids = sorted(set(frame["case:concept:name"]))
    flagged: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for case_id, diagnostics in zip(case_ids, result, strict=True):
        for template, activities in diagnostics["deviations"]:
            names = (activities,) if isinstance(activities, str) else tuple(activities)
            flagged.setdefault((template, names), set()).add(case_id)
    images = set(frame.loc[frame["concept:name"] == "Images downloaded or distributed",
                           "case:concept:name"])
    order_verified = flagged.get(("absence", ("Images downloaded or distributed",)), set()) == (
        images
    )
    truth = _truth(truth_path)
    constraints = []
    for template, activities, rule_id in DECLARE_CONSTRAINTS:
        hit = flagged.get((template, activities), set())
        injected = {c for c, r in truth if r == rule_id}
        constraints.append(
            {
                "constraint": f"{template}({', '.join(activities)})",
                "rule": rule_id,
                "flagged": len(hit),
                "injected_for_rule": len(injected),
                "injected_found": len(hit & injected),
            }
        )
    events = len(frame)
    order_rules = {r for _, _, r in DECLARE_CONSTRAINTS if r}
    found = {(c, r) for (t, a), cases in flagged.items() for c in cases
             for tt, aa, r in DECLARE_CONSTRAINTS if (tt, aa) == (t, a) and r}
    return {
        "events": events,
        "constraints": len(DECLARE_CONSTRAINTS),
        "prepare_s": prepare_s,
        "declare_s": declare_s,
        "events_per_s": events / declare_s,
        "unfit_cases": sum(1 for r in result if not r["is_fit"]),
        "case_order_verified": order_verified,
        "rules_covered": sorted(order_rules),
        "injected_in_covered_rules": sum(1 for _, r in truth if r in order_rules),
        "injected_found": len(found & truth),
        "flags_not_injected": len(found - truth),
        "per_constraint": constraints,
    }


def part_pm4py_baseline(log_path: Path) -> dict[str, Any]:
    """pm4py as its users run it: read the CSV with pandas, format it, DECLARE (timed inside;
    the caller times the whole process, imports included)."""
    start = time.perf_counter()
    import pandas as pd
    import pm4py

    imported_s = time.perf_counter() - start
    start = time.perf_counter()
    frame = pd.read_csv(log_path, dtype={"case_id": str})
    frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity",
                                   timestamp_key="timestamp")
    read_s = time.perf_counter() - start
    model: dict[str, dict[Any, dict[str, float]]] = {}
    for template, activities, _ in DECLARE_CONSTRAINTS:
        key: Any = activities[0] if len(activities) == 1 else activities
        model.setdefault(template, {})[key] = {"support": 1.0, "confidence": 1.0}
    start = time.perf_counter()
    result = pm4py.conformance_declare(frame, model)
    declare_s = time.perf_counter() - start
    return {"events": len(frame), "import_s": imported_s, "read_s": read_s,
            "declare_s": declare_s, "unfit_cases": sum(1 for r in result if not r["is_fit"])}


def part_replay(log_path: Path, as_of: str) -> dict[str, Any]:
    try:
        from model.petri import to_petri_net
    except ImportError:
        return {"skipped": "model.petri is not available"}
    import pm4py

    from model.procedure import load_procedure

    net, initial, final = to_petri_net(load_procedure())
    log = _read(log_path, as_of)
    frame = _pm4py_frame(log.events)
    start = time.perf_counter()
    result = pm4py.conformance_diagnostics_token_based_replay(
        frame,
        net,
        initial,
        final,
        activity_key="concept:name",
        timestamp_key="time:timestamp",
        case_id_key="case:concept:name",
    )
    replay_s = time.perf_counter() - start
    fitness = [float(r["trace_fitness"]) for r in result]
    return {
        "events": len(frame),
        "replay_s": replay_s,
        "events_per_s": len(frame) / replay_s,
        "fit_cases": sum(1 for r in result if r["trace_is_fit"]),
        "cases": len(result),
        "mean_fitness": sum(fitness) / len(fitness) if fitness else None,
    }


# ------------------------------------------------------------------ orchestration


def _run(cmd: Sequence[str], out: Path) -> dict[str, Any]:
    """Run a child process; its wall time, peak RSS and exit status; stdout in ``out``."""
    err = out.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=stderr, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result: dict[str, Any] = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # less moved by other work on the machine
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
    }
    if proc.returncode not in (0, 1):
        result["stderr_tail"] = err.read_text(encoding="utf-8", errors="replace")[-2000:]
    return result


def _worker(part: str, args: argparse.Namespace, data: Path, work: Path) -> dict[str, Any]:
    out = work / f"{part}.json"
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--part", part,
        "--log", str(data / "event_log.csv"), "--truth", str(data / "truth.csv"),
        "--as-of", (data / "as_of.txt").read_text(encoding="utf-8").strip(),
        "--repeat", str(args.repeat),
    ]
    process = _run(cmd, out)
    if process["exit"] != 0:
        return {"skipped": f"failed (exit {process['exit']})", **process}
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result.update(process)
    return result


def _lscb() -> str | None:
    found = shutil.which("lscb") or str(Path(sys.executable).with_name("lscb"))
    if not Path(found).exists():
        return None
    probe = subprocess.run([found, "check", "--help"], capture_output=True, check=False)
    return found if probe.returncode == 0 else None


def _cli(data: Path, work: Path, extra: list[str], name: str) -> dict[str, Any]:
    lscb = _lscb()
    if lscb is None:
        return {"skipped": "the lscb check command is not available"}
    as_of = (data / "as_of.txt").read_text(encoding="utf-8").strip()
    out = work / f"{name}.json"
    cmd = [lscb, "check", str(data / "event_log.csv"), "--format", "json", "--as-of", as_of,
           "--quiet", *extra]
    process = _run(cmd, out)
    if process["exit"] not in (0, 1):
        return {"skipped": f"lscb check failed (exit {process['exit']})", **process}
    report = json.loads(out.read_text(encoding="utf-8"))
    found = {(d["case_id"], d["rule_id"]) for d in report["deviations"]}
    truth = _truth(data / "truth.csv")
    events = sum(1 for _ in (data / "event_log.csv").open("rb")) - 1
    return {
        **process,
        "command": " ".join(["lscb", "check", "LOG", *cmd[3:]]),
        "events": events,
        "events_per_s": events / process["wall_s"],
        "exact": found == truth,
        "missed": len(truth - found),
        "extra": len(found - truth),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "cpus": str(os.cpu_count())}
    for package in ("numpy", "pandas", "pm4py"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "missing"
    return out


def _table(results: dict[str, Any]) -> str:
    lines = [f"{'method':<44} {'events/s':>12} {'time s':>9} {'peak MB':>9}  agreement"]

    def add(name: str, part: dict[str, Any], seconds: str, agreement: str) -> None:
        if "skipped" in part:
            lines.append(f"{name:<44} {'-':>12} {'-':>9} {'-':>9}  skipped: {part['skipped']}")
            return
        lines.append(
            f"{name:<44} {part['events_per_s']:>12,.0f} {part[seconds]:>9.2f} "
            f"{part['peak_rss_mb']:>9.0f}  {agreement}"
        )

    engine = results["engine"]
    if "skipped" not in engine:
        exact = "exact" if engine["exact"] else f"missed {engine['missed']}, extra {engine['extra']}"
        add("(a) rule engine, judge() (best of runs)", engine, "judge_best_s", exact)
        lines.append(
            f"{'    cold first run / with messages':<44} {engine['events_per_s_cold']:>12,.0f} "
            f"{engine['judge_cold_s']:>9.2f} {'':>9}  deviations() "
            f"{engine['deviations_s']:.2f} s -> {engine['events_per_s_with_messages']:,.0f}/s"
        )
    else:
        add("(a) rule engine", engine, "judge_best_s", "")
    for key, name in (("cli", "(b) lscb check (default fitness)"),
                      ("cli_rules_only", "(b) lscb check --fitness none")):
        part = results[key]
        agreement = "" if "skipped" in part else (
            "exact" if part["exact"] else f"missed {part['missed']}, extra {part['extra']}"
        )
        add(name, part, "wall_s", agreement)
    declare = results["declare"]
    agreement = "" if "skipped" in declare else (
        f"{declare['injected_found']}/{declare['injected_in_covered_rules']} injected in its "
        f"rules; {declare['flags_not_injected']} other flags"
    )
    add("(c) pm4py DECLARE conformance", declare, "declare_s", agreement)
    replay = results["replay"]
    agreement = "" if "skipped" in replay else (
        f"{replay['fit_cases']:,}/{replay['cases']:,} cases fit"
    )
    add("(d) pm4py token-based replay", replay, "replay_s", agreement)
    baseline = results.get("pm4py", {"skipped": "not run"})
    if "skipped" not in baseline:
        lines.append(
            f"{'(e) pm4py read_csv + format + DECLARE':<44} "
            f"{baseline['events'] / baseline['wall_s']:>12,.0f} {baseline['wall_s']:>9.1f} "
            f"{baseline['peak_rss_mb']:>9.0f}  read {baseline['read_s']:.1f} s, DECLARE "
            f"{baseline['declare_s']:.1f} s, imports {baseline['import_s']:.1f} s")
        for key, ratio in results.get("ratios", {}).items():
            lines.append(f"lscb check ({key}) / pm4py read + DECLARE: {ratio:.2f} "
                         f"(target at most 0.5 with the default fitness); peak "
                         f"{results[key]['peak_rss_mb']:,.0f} MB")
        for key, ratio in results.get("cpu_ratios", {}).items():
            lines.append(f"  the same in CPU time (user + system): {ratio:.2f} "
                         f"({results[key]['cpu_s']:.1f} s against {baseline['cpu_s']:.1f} s)")
    lines.append(f"deviations injected: {results.get('injected_deviations', 0):,}")
    if "skipped" not in engine and "skipped" not in declare:
        lines.append(
            f"engine / DECLARE speed: {engine['events_per_s'] / declare['events_per_s']:.1f}x"
        )
    lines.append(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in results["load_average_before"])
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in results["load_average_after"])
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="judge() runs in part (a)")
    parser.add_argument("--data", type=Path, default=None,
                        help="where to write the generated log (default: a temporary directory)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    # Internal: run one part in this process and print its JSON.
    parser.add_argument("--injection-rate", type=float, default=0.75,
                        help="share of finished cases given one deviation (default 0.75: "
                             "over 50,000 deviations in 100,000 cases)")
    parser.add_argument("--parts", default="engine,cli,cli_rules_only,declare,replay,pm4py",
                        help="the parts to run, comma-separated")
    parser.add_argument("--part", choices=("engine", "declare", "replay", "pm4py"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--truth", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.part:
        if args.part == "engine":
            result = part_engine(args.log, args.truth, args.as_of, args.repeat)
        elif args.part == "declare":
            result = part_declare(args.log, args.truth, args.as_of)
        elif args.part == "pm4py":
            result = part_pm4py_baseline(args.log)
        else:
            result = part_replay(args.log, args.as_of)
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="lscb-bench-") as tmp:
        data = args.data or Path(tmp) / "data"
        work = Path(tmp)
        # Every part runs in a child process of this small one, so that each peak RSS is the
        # part's own (a child forked from a big parent starts with the parent's pages).
        generate = _run(
            [sys.executable, str(ROOT / "bench" / "make_log.py"), "--cases", str(args.cases),
             "--seed", str(args.seed), "--out", str(data),
             "--injection-rate", str(args.injection_rate)],
            work / "generate.out",
        )
        if generate["exit"] != 0:
            print(generate.get("stderr_tail", ""), file=sys.stderr)
            return 1
        print((work / "generate.out").read_text(encoding="utf-8").strip(),
              f"({generate['wall_s']:.1f} s)", flush=True)
        results: dict[str, Any] = {
            "cases": args.cases,
            "seed": args.seed,
            "injection_rate": args.injection_rate,
            "machine": _versions(),
            "load_average_before": list(os.getloadavg()),
            "generate": generate,
            "injected_deviations": len(_truth(data / "truth.csv")),
        }
        parts: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("engine", lambda: _worker("engine", args, data, work)),
            ("cli", lambda: _cli(data, work, [], "cli")),
            ("cli_rules_only", lambda: _cli(data, work, ["--fitness", "none"], "cli-none")),
            ("declare", lambda: _worker("declare", args, data, work)),
            ("replay", lambda: _worker("replay", args, data, work)),
            ("pm4py", lambda: _worker("pm4py", args, data, work)),
        ]
        wanted = set(args.parts.split(","))
        for key, run in parts:
            if key not in wanted:
                results[key] = {"skipped": "not asked for (--parts)"}
                continue
            print(f"running {key} ...", flush=True)
            results[key] = run()
        results["load_average_after"] = list(os.getloadavg())
    if "skipped" not in results["engine"]:
        results["events"] = results["engine"]["events"]
    baseline = results["pm4py"]
    if "skipped" not in baseline:
        results["ratios"] = {
            key: results[key]["wall_s"] / baseline["wall_s"]
            for key in ("cli", "cli_rules_only") if "skipped" not in results[key]
        }
        results["cpu_ratios"] = {
            key: results[key]["cpu_s"] / baseline["cpu_s"]
            for key in ("cli", "cli_rules_only") if "skipped" not in results[key]
        }

    table = _table(results)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
