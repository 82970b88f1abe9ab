"""Control-flow fitness against the procedure's Petri net (conformance/fitness.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from conformance.fitness import CASE_COLUMNS, Method, _shortest_run, fitness
from conformance.logio import EventLog, ReadOptions, read_log
from model.procedure import load_procedure

WORKPLACE = (
    "Concern identified",
    "Line manager informed",
    "Computer secured",
    "LADO contacted",
    "Police notified",
    "Actions agreed with police",
    "Access details provided to police",
    "Computer seized by police",
    "Employee actions agreed",
    "Social care notified",  # contract v2: through the LADO (§7.8), and the referral's steps
    "Concerns discussed with police and social care",
    "Information shared",
    "Family informed",
    "Case closed",
)
REFERRAL = (
    "Social care notified",
    "Police notified",
    "Concerns discussed with police and social care",
    "Information shared",
    "Family informed",
    "Strategy discussion held",
    "Strategy discussion held",
    "Section 47 enquiry started",
    "Access to children assessed",
    "Section 47 enquiry completed",
    "Initial child protection conference held",
    "Case closed",
)


def write_log(tmp_path: Path, traces: dict[str, Sequence[str]]) -> EventLog:
    """A CSV with one event per minute per case, read back through the project's reader."""
    start = pd.Timestamp("2024-01-08T09:00:00")
    lines = ["case_id,activity,timestamp"]
    for case, trace in traces.items():
        for step, activity in enumerate(trace):
            lines.append(f"{case},{activity},{(start + pd.Timedelta(minutes=step)).isoformat()}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    procedure = load_procedure()
    return read_log(path, ReadOptions(vocabulary=frozenset(procedure.activities)))


def by_case(log: EventLog, method: str = "alignments") -> pd.DataFrame:
    result = fitness(log, load_procedure(), method)
    assert tuple(result.cases.columns) == CASE_COLUMNS
    return result.cases.set_index("case_id")


def test_conformant_traces_fit_fully(tmp_path: Path) -> None:
    log = write_log(tmp_path, {"w": WORKPLACE, "r": REFERRAL, "w2": WORKPLACE})
    cases = by_case(log, "alignments")
    assert cases["fitness"].tolist() == [1.0, 1.0, 1.0]
    assert cases["is_fit"].all()
    assert (cases["deviations"] == "").all()
    assert not cases["open"].any()
    assert (cases["method"] == "alignments").all()


def test_token_replay_fits_a_conformant_workplace_trace(tmp_path: Path) -> None:
    row = by_case(write_log(tmp_path, {"w": WORKPLACE}), "token-replay").loc["w"]
    assert (row["fitness"], row["is_fit"], row["deviations"]) == (1.0, True, "")


def test_auto_replays_exactly_where_token_replay_is_wrong(tmp_path: Path) -> None:
    # "Police notified" sits at two places in the net; pm4py's replay tries the wrong one for
    # a referral case and reports a conforming trace as unfit. Exact replay tries them all.
    log = write_log(tmp_path, {"w": WORKPLACE, "r": REFERRAL})
    replayed = by_case(log, "token-replay")
    assert not replayed.loc["r", "is_fit"]
    result = fitness(log, load_procedure(), "auto")
    assert result.method is Method.REPLAY
    cases = result.cases.set_index("case_id")
    assert cases["is_fit"].all() and (cases["fitness"] == 1.0).all()
    assert cases["method"].to_dict() == {"w": "replay", "r": "replay"}


def test_auto_aligns_the_unfit_within_its_budget_then_replays_tokens(tmp_path: Path) -> None:
    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    swapped = list(REFERRAL)
    k = swapped.index("Family informed")
    swapped.insert(0, swapped.pop(k))
    traces = {"ok": WORKPLACE, "a": skipped, "a2": skipped, "b": tuple(swapped)}
    log = write_log(tmp_path, traces)
    result = fitness(log, load_procedure(), "auto", max_alignment_variants=1)
    cases = result.cases.set_index("case_id")
    # the most frequent unfit variant is aligned; the other is left to token replay
    assert cases["method"].to_dict() == {
        "ok": "replay", "a": "alignments", "a2": "alignments", "b": "token-replay"}
    assert cases.loc["a", "deviations"] == "missing: Computer secured"
    assert not cases.loc["b", "is_fit"]
    assert "1 most frequent of them (the budget)" in result.reason
    full = fitness(log, load_procedure(), "alignments").cases.set_index("case_id")
    assert full["is_fit"].to_dict() == cases["is_fit"].to_dict()
    assert full.loc["a", "fitness"] == cases.loc["a", "fitness"]


def test_exact_replay_agrees_with_alignments_on_every_model_path() -> None:
    from conformance.net import Replayer, compile_net
    from model.graph import paths

    replayer = Replayer(compile_net(load_procedure()))
    all_paths = paths(load_procedure(), max_loops=1)
    assert all(replayer.fits(tuple(p), is_open=False) for p in all_paths)
    for p in all_paths[:40]:
        assert all(replayer.fits(tuple(p[:n]), is_open=True) for n in range(len(p)))
        assert not replayer.fits(tuple(p[:-1]), is_open=False)  # without Case closed
        assert not replayer.fits((*p, p[0]), is_open=False)  # a step after closure
        assert not replayer.fits(tuple(p[1:]), is_open=True)  # the first step skipped


def test_skipped_step_is_named_missing_and_fitness_comes_from_the_moves(tmp_path: Path) -> None:
    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    cases = by_case(write_log(tmp_path, {"ok": WORKPLACE, "skip": skipped}))
    row = cases.loc["skip"]
    assert not row["is_fit"]
    assert row["deviations"] == "missing: Computer secured"
    # One deviation against the worst case: every logged step moved alone plus the model's
    # shortest run (pm4py's definition, computed here from the alignment, not its field).
    shortest = _shortest_run(load_procedure().flow)
    assert row["fitness"] == pytest.approx(1 - 1 / (len(skipped) + shortest))


def test_skipped_step_by_token_replay(tmp_path: Path) -> None:
    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    row = by_case(write_log(tmp_path, {"skip": skipped}), "token-replay").loc["skip"]
    assert not row["is_fit"]
    assert row["fitness"] < 1
    assert "missing: Computer secured" in row["deviations"]


@pytest.mark.parametrize("method", ["alignments", "token-replay"])
def test_swapped_order_is_unfit_and_named(tmp_path: Path, method: str) -> None:
    swapped = list(WORKPLACE)
    swapped[0], swapped[1] = swapped[1], swapped[0]  # manager told before the concern arose
    row = by_case(write_log(tmp_path, {"swap": swapped}), method).loc["swap"]
    assert not row["is_fit"]
    assert row["fitness"] < 1
    named = row["deviations"]
    assert "Concern identified" in named or "Line manager informed" in named
    if method == "alignments":
        assert named.startswith("out of order: ")


@pytest.mark.parametrize("method", ["alignments", "token-replay"])
def test_unknown_activity_is_never_reported_as_fitting(tmp_path: Path, method: str) -> None:
    # pm4py's token replay on its own calls such a trace fully fitting.
    odd = (*WORKPLACE[:3], "Coffee break", *WORKPLACE[3:])
    log = write_log(tmp_path, {"odd": odd})
    result = fitness(log, load_procedure(), method)
    row = result.cases.set_index("case_id").loc["odd"]
    assert not row["is_fit"]
    assert row["fitness"] < 1
    assert "Coffee break (not in the model)" in row["deviations"]
    assert row["outside_model"] == 1
    assert dict(result.outside_model) == {"Coffee break": 1}


def test_forbidden_events_are_left_out_and_counted(tmp_path: Path) -> None:
    with_forbidden = (*WORKPLACE[:3], "Computer used", *WORKPLACE[3:],
                      "Images downloaded or distributed")
    log = write_log(tmp_path, {"f": with_forbidden})
    result = fitness(log, load_procedure(), "alignments")
    assert result.cases["is_fit"].tolist() == [True]
    assert dict(result.excluded) == {"Computer used": 1, "Images downloaded or distributed": 1}
    assert dict(result.outside_model) == {}


@pytest.mark.parametrize("method", ["alignments", "token-replay"])
def test_open_case_is_judged_on_its_steps_so_far(tmp_path: Path, method: str) -> None:
    log = write_log(tmp_path, {
        "prefix": WORKPLACE[:4],
        "bad-prefix": ("Concern identified", "Family informed"),
    })
    cases = by_case(log, method)
    assert cases["open"].all()
    assert cases.loc["prefix", "is_fit"]
    assert cases.loc["prefix", "fitness"] == 1.0
    assert not cases.loc["bad-prefix", "is_fit"]
    assert "Family informed" in str(cases.loc["bad-prefix", "deviations"])


def test_auto_says_what_it_did(tmp_path: Path) -> None:
    log = write_log(tmp_path, {"a": WORKPLACE, "b": REFERRAL, "c": WORKPLACE})
    result = fitness(log, load_procedure(), "auto")
    assert result.method is Method.REPLAY and result.requested is Method.AUTO
    assert result.variants == 2
    assert result.reason.startswith("exact replay of 2 distinct variants; the 0 that do not fit")


def test_each_case_gets_its_own_variants_result(tmp_path: Path) -> None:
    skipped = tuple(a for a in WORKPLACE if a != "LADO contacted")
    log = write_log(tmp_path, {"a": WORKPLACE, "b": skipped, "c": WORKPLACE, "d": skipped})
    calls: list[tuple[int, int]] = []
    result = fitness(log, load_procedure(), "alignments",
                     progress=lambda done, total: calls.append((done, total)))
    cases = result.cases.set_index("case_id")
    assert cases["is_fit"].to_dict() == {"a": True, "b": False, "c": True, "d": False}
    assert cases.loc["d", "deviations"] == "missing: LADO contacted"
    assert calls[-1] == (2, 2)
    assert result.fit_cases == 2
    assert result.mean_fitness == pytest.approx(cases["fitness"].mean())


def test_pm4py_aligns_when_the_net_is_too_large_for_ours_with_the_same_fitness(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.fitness as fitness_module
    from conformance.align import Graph, TooLarge

    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    swapped = list(REFERRAL)
    swapped.insert(0, swapped.pop(swapped.index("Family informed")))
    odd = (*WORKPLACE[:3], "Coffee break", *WORKPLACE[5:])
    log = write_log(tmp_path, {"ok": WORKPLACE, "a": skipped, "b": tuple(swapped), "c": odd,
                               "open": REFERRAL[3:7]})
    ours = fitness(log, load_procedure(), "alignments")

    def too_large(net: object) -> Graph:
        raise TooLarge("the net has more than 10 reachable markings")

    monkeypatch.setattr(fitness_module, "Graph", too_large)
    theirs = fitness(log, load_procedure(), "alignments")
    assert "the alignments are pm4py's (the net has more than 10" in theirs.reason
    assert "pm4py" not in ours.reason
    for column in ("fitness", "is_fit", "open", "method"):
        assert ours.cases[column].tolist() == theirs.cases[column].tolist()
    fits = ours.cases.set_index("case_id")["is_fit"].to_dict()
    assert fits == {"ok": True, "a": False, "b": False, "c": False, "open": False}


def test_the_default_fitness_does_not_import_pm4py(tmp_path: Path) -> None:
    """pm4py takes over a second to import: exact replay and our aligner do without it."""
    import subprocess
    import sys

    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    write_log(tmp_path, {"ok": WORKPLACE, "a": skipped, "open": REFERRAL[:4]})
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from conformance.fitness import fitness\n"
        "from conformance.logio import ReadOptions, read_log\n"
        "from model.procedure import load_procedure\n"
        "p = load_procedure()\n"
        f"log = read_log(Path({str(tmp_path / 'log.csv')!r}), "
        "ReadOptions(vocabulary=frozenset(p.activities)))\n"
        "for method in ('auto', 'alignments'):\n"
        "    r = fitness(log, p, method)\n"
        "    fits = r.cases.set_index('case_id')['is_fit'].to_dict()\n"
        "    assert fits == {'ok': True, 'a': False, 'open': True}, fits\n"
        "print('pm4py' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_variants_are_the_same_found_case_by_case(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A log whose cases would make too large a matrix is grouped case by case, the same way."""
    import conformance.fitness as fitness_module

    skipped = tuple(a for a in WORKPLACE if a != "Computer secured")
    log = write_log(tmp_path, {"a": WORKPLACE, "b": skipped, "c": WORKPLACE, "d": REFERRAL,
                               "e": skipped[:5], "f": ("Coffee break",)})
    by_matrix = fitness(log, load_procedure(), "auto")
    monkeypatch.setattr(fitness_module, "_MATRIX_CELLS", 0)
    one_by_one = fitness(log, load_procedure(), "auto")
    assert by_matrix.variants == one_by_one.variants == 5
    pd.testing.assert_frame_equal(by_matrix.cases, one_by_one.cases)
    assert by_matrix.cases.set_index("case_id")["outside_model"].to_dict() == {
        "a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 1}
