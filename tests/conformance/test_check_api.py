"""The package's front door (conformance.check) and the ICPC clock as a rule option."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

import conformance
from conformance import CheckConfig, LogFormat, judge, log_from_frame
from conformance.config import ICPC_CLOCK_OPTIONS, ICPC_RULE
from model.contract import SECTION_47_STARTED
from model.procedure import load_procedure
from model.rules import Occurrence, TriggerOccurrence

RULES = load_procedure().rules
AS_OF = "2024-12-31T12:00"

SD, S47, ICPC = (
    "Strategy discussion held",
    "Section 47 enquiry started",
    "Initial child protection conference held",
)
SECTION_47 = TriggerOccurrence(Occurrence.LAST_BEFORE, SECTION_47_STARTED)


def two_discussions() -> conformance.EventLog:
    """A discussion, the Section 47 enquiry, a second discussion, then the conference: 15
    working days from the second discussion are kept; from the first, not."""
    events = pd.DataFrame({
        "case_id": ["x"] * 4,
        "activity": [SD, S47, SD, ICPC],
        "time_utc": ["2024-03-01 10:00", "2024-03-04 10:00", "2024-03-15 10:00",
                     "2024-04-03 10:00"],
    })
    cases = pd.DataFrame({"children_at_continuing_risk": [True]}, index=["x"])
    return log_from_frame(events, cases)


def icpc_row(config: CheckConfig) -> pd.Series:
    results = judge(two_discussions(), RULES, config).results
    return results[results["rule_id"] == ICPC_RULE].iloc[0]


def test_the_icpc_clock_is_a_trigger_occurrence_override() -> None:
    icpc = next(rule for rule in RULES if rule.id == ICPC_RULE)
    assert CheckConfig().trigger_occurrence(icpc) == icpc.trigger_occurrence
    assert CheckConfig(icpc_clock="section-47-start").trigger_occurrence(icpc) == SECTION_47
    assert ICPC_CLOCK_OPTIONS["section-47-start"] == {ICPC_RULE: SECTION_47}
    # The shorthand and the override it stands for judge alike.
    shorthand = icpc_row(CheckConfig(icpc_clock="section-47-start"))
    override = icpc_row(CheckConfig(trigger_occurrences={ICPC_RULE: SECTION_47}))
    default = icpc_row(CheckConfig())
    assert shorthand["status"] == override["status"] == "violated"
    assert shorthand["trigger_time"] == override["trigger_time"]
    assert default["status"] == "satisfied"
    # An explicit override wins over the shorthand.
    both = CheckConfig(icpc_clock="section-47-start",
                       trigger_occurrences={ICPC_RULE: icpc.trigger_occurrence})
    assert icpc_row(both)["status"] == "satisfied"


def test_trigger_occurrence_overrides_are_checked() -> None:
    with pytest.raises(TypeError, match="must be a TriggerOccurrence"):
        CheckConfig(trigger_occurrences={ICPC_RULE: "first"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="needs an activity"):
        CheckConfig(trigger_occurrences={ICPC_RULE: TriggerOccurrence(Occurrence.LAST_BEFORE)})
    stray = CheckConfig(trigger_occurrences={"no-such-rule": SECTION_47})
    with pytest.raises(ValueError, match="no-such-rule"):
        judge(two_discussions(), RULES, stray)
    not_response = CheckConfig(trigger_occurrences={"no-image-handling": SECTION_47})
    with pytest.raises(ValueError, match="no-image-handling"):
        judge(two_discussions(), RULES, not_response)


def test_a_config_is_hashable_picklable_and_equal_by_value() -> None:
    config = CheckConfig(icpc_clock="section-47-start", trigger_occurrences={ICPC_RULE: SECTION_47})
    again = pickle.loads(pickle.dumps(config))
    assert again == config
    assert hash(again) == hash(config)
    assert config != CheckConfig(icpc_clock="section-47-start")


def test_check_takes_paths_or_objects(tmp_path: Path) -> None:
    sample = conformance.sample_log_path()
    settings = tmp_path / "check.toml"
    settings.write_text('icpc_clock = "section-47-start"\n[calendar]\nsame_day = "working"\n',
                        encoding="utf-8")
    from_path = conformance.check(sample, config=settings, as_of=AS_OF, fitness="none")
    from_object = conformance.check(str(sample), config=conformance.load_check_config(settings),
                                    as_of=AS_OF, fitness="none")
    assert from_path.judgement.config == from_object.judgement.config
    assert from_path.judgement.config.icpc_clock == "section-47-start"
    pd.testing.assert_frame_equal(from_path.judgement.results, from_object.judgement.results)
    # A log read already is judged as the file is.
    read = conformance.read_log(sample, conformance.read_options(
        load_procedure(), as_of=pd.Timestamp(AS_OF, tz="Europe/London")))
    given = conformance.check(read, as_of=AS_OF, fitness="none")
    plain = conformance.check(sample, as_of=AS_OF, fitness="none")
    pd.testing.assert_frame_equal(given.judgement.results, plain.judgement.results)
    assert given.options == plain.options


def test_check_takes_a_mapping_file(tmp_path: Path) -> None:
    sample = pd.read_csv(conformance.sample_log_path(), dtype=str, keep_default_na=False)
    local = sample.rename(columns={"case_id": "REF", "activity": "STEP"})
    local["STEP"] = local["STEP"].replace({"Case closed": "Closed"})
    log = tmp_path / "local.csv"
    local.to_csv(log, index=False)
    mapping = tmp_path / "local.yaml"
    mapping.write_text("columns:\n  case_id: REF\n  activity: STEP\n"
                       "activities:\n  Closed: Case closed\n", encoding="utf-8")
    mapped = conformance.check(log, mapping=mapping, as_of=AS_OF, fitness="none")
    plain = conformance.check(conformance.sample_log_path(), as_of=AS_OF, fitness="none")
    pd.testing.assert_frame_equal(mapped.judgement.summary(), plain.judgement.summary())
    assert mapped.options["mapping"] == "local.yaml"
    with pytest.raises(ValueError, match="mapping file once"):
        conformance.check(log, mapping=mapping, log_format=LogFormat(mapping=mapping))
    with pytest.raises(ValueError, match="this log is read"):
        conformance.check(plain.log, mapping=mapping)
