"""The procedure as data: it loads, it holds the contract, and broken files say every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from lscb.cli import main
from model import contract
from model.errors import InputError
from model.procedure import Choice, Kind, Loop, Parallel, Task, load_procedure, walk
from model.rules import Occurrence, Scope, Severity, Template, load_rules


def test_builtin_procedure_holds_every_contract_name() -> None:
    p = load_procedure()
    assert set(contract.ACTIVITIES) <= set(p.activities)
    assert set(contract.ATTRIBUTES) <= set(p.attributes)
    assert [r.id for r in p.rules] == list(contract.RULE_IDS)
    for act in p.activities.values():
        assert act.clause and act.role in p.roles
    for block in walk(p.flow):
        if isinstance(block, (Choice, Parallel, Loop)):
            assert block.clause, block.id
        if isinstance(block, Choice):
            assert block.decided_by and block.branches[-1].when is None


def test_flow_shape_follows_the_text() -> None:
    p = load_procedure()
    flow_acts = {t.activity for t in p.tasks()}
    forbidden = {a.name for a in p.activities.values() if a.kind is Kind.FORBIDDEN}
    assert forbidden == {"Computer used", "Images downloaded or distributed"}
    assert flow_acts == set(p.activities) - forbidden
    assert p.tasks()[-1].activity == "Case closed"
    loops = p.loops()
    bodies = [lp.body for lp in loops if isinstance(lp.body, Task)]
    assert bodies[0].activity == "Strategy discussion held"
    sd = p.activities["Strategy discussion held"]
    assert len(sd.considerations) == 13 and "police" in sd.participants
    assert set(p.offences) == {
        "indecent-images",
        "arranging-meeting-after-grooming",
        "sexual-communication-with-child",
    }


def test_gateway_selection_uses_case_attributes() -> None:
    p = load_procedure()
    escalation = next(g for g in p.gateways() if g.id == "escalation")
    assert (
        escalation.select({"concern_about_line_manager": False, "whistleblowing_used": False}) == 2
    )
    assert (
        escalation.select({"concern_about_line_manager": True, "whistleblowing_used": False}) == 1
    )
    assert escalation.select({"concern_about_line_manager": True, "whistleblowing_used": True}) == 0


def test_contract_rules_parse_into_templates() -> None:
    p = load_procedure()
    icpc = p.rule("icpc-within-15-working-days")
    assert icpc.template is Template.RESPONSE
    assert icpc.trigger_occurrence.kind is Occurrence.LAST_BEFORE_RESPONSE
    assert str(icpc.within) == "15 working days"
    assert icpc.when == {"children_at_continuing_risk": True}
    assert p.rule("police-immediately").severity is Severity.WARNING
    assert p.rule("access-details-provided").scope is Scope.WORKPLACE
    esc = p.rule("escalated-same-working-day")
    assert esc.require == (tuple(contract.MANAGER_INFORMED),)


BROKEN_PROCEDURE = """\
procedure: {id: x, title: t, source: s}
roles:
  employee: {name: Employee, meaning: m}
attributes:
  concern_about_line_manager: {type: boolean, clause: "§7.2", meaning: m}
offences: {}
activities:
  - name: Concern identified
    role: employee
    clause: "§7"
    meaning: m
  - name: Line manager informed
    role: nobody
    clause: "§7.1"
    meaning: m
flow:
  sequence:
    - Concern identified
    - Concern misspelt
    - choice: Who
      id: g
      clause: "§7"
      decided_by: [concern_about_line_manager]
      branches:
        - do: Line manager informed
        - otherwise: true
          do: null
rules:
  - id: r1
    clause: "§7.1"
    severity: violation
    template: response
    require: [Line manager informed]
    within: same working day
"""


def test_broken_procedure_lists_every_problem_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_PROCEDURE, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_procedure(path)
    text = str(info.value)
    assert "broken.yaml" in text
    # unknown activity in the flow, with its line
    assert "line 19" in text and "unknown activity 'Concern misspelt'" in text
    # a gateway branch without a condition
    assert "line 25" in text and "gateway branch without a condition" in text
    # a deadline without a trigger
    assert "deadline without a trigger" in text
    # a role that does not exist
    assert "line 13, field 'role'" in text
    # the contract's names are required
    assert "Computer secured" in text
    assert len(info.value.problems) >= 6


def test_broken_rules_file_lists_every_problem(tmp_path: Path) -> None:
    p = load_procedure()
    path = tmp_path / "local.yaml"
    path.write_text(
        "rules:\n"
        "  - id: lado-next-working-day\n"
        "    clause: local\n"
        "    severity: violation\n"
        "    template: response\n"
        "    trigger: Line manager informed\n"
        "    require: [LADO contact]\n"
        "    within: one working day\n"
        "  - id: no-trigger\n"
        "    clause: local\n"
        "    severity: loud\n"
        "    template: response\n"
        "    require: [LADO contacted]\n"
        "    within: 1 working day\n"
        "    when: {unknown_attribute: true}\n"
        "  - id: only-after-without-after\n"
        "    clause: local\n"
        "    severity: warning\n"
        "    template: existence\n"
        "    require: [Employee actions agreed]\n"
        "    only_after: true\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_rules(path, set(p.activities), set(p.boolean_attributes))
    text = str(info.value)
    assert "line 21, field 'only_after'" in text
    assert "line 7, field 'require'" in text and "unknown activity 'LADO contact'" in text
    assert "line 8, field 'within'" in text
    assert "deadline without a trigger" in text
    assert "line 11, field 'severity'" in text
    assert "line 15, field 'when'" in text
    assert len(info.value.problems) == 6


def test_local_rules_file_with_the_same_templates(tmp_path: Path) -> None:
    p = load_procedure()
    path = tmp_path / "local.yaml"
    path.write_text(
        "rules:\n"
        "  - id: lado-within-one-working-day\n"
        "    clause: local practice\n"
        "    severity: violation\n"
        "    template: response\n"
        "    trigger: [Line manager informed, Senior manager informed]\n"
        "    require: [LADO contacted]\n"
        "    within: 1 working day\n"
        "  - id: icpc-from-section-47\n"
        "    clause: §6 ¶1 (DfE reading)\n"
        "    severity: violation\n"
        "    template: response\n"
        "    trigger: Strategy discussion held\n"
        "    trigger_occurrence: last before Section 47 enquiry started\n"
        "    require: [Initial child protection conference held]\n"
        "    within: 15 working days\n"
        "    when: {children_at_continuing_risk: true}\n",
        encoding="utf-8",
    )
    rules = load_rules(path, set(p.activities), set(p.boolean_attributes))
    assert [r.id for r in rules] == ["lado-within-one-working-day", "icpc-from-section-47"]
    assert rules[1].trigger_occurrence.activity == "Section 47 enquiry started"
    assert rules[0].origin.endswith("local.yaml:2")


def test_duplicate_keys_and_yaml_syntax_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("rules:\n  - id: a\n    id: b\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3"):
        load_rules(path, set(), set())
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_rules(path, set(), set())


def test_model_show_lists_every_activity_and_rule_with_its_clause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["model", "show"]) == 0
    out = capsys.readouterr().out
    p = load_procedure()
    for name in contract.ACTIVITIES:
        act = p.activities[name]
        assert any(name in line and act.clause in line for line in out.splitlines()), name
    for rid in contract.RULE_IDS:
        rule = p.rule(rid)
        assert any(rid in line and rule.clause in line for line in out.splitlines()), rid
    assert "Is the other parent or any other carer" in out


def test_model_validate_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "validate"]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_PROCEDURE, encoding="utf-8")
    assert main(["model", "validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "line 19" in err
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {id: a, clause: x, severity: warning, template: precedence,"
        " activity: Family informed, preceded_by: Information shared}\n",
        encoding="utf-8",
    )
    assert main(["model", "validate", str(rules)]) == 0
    assert "valid rules file" in capsys.readouterr().out
