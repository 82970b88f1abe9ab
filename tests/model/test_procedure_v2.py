"""Contract version 2 in the model: the rules' severities and bases, the corrected flow, words a
board member can read, and a diagram that fits a page."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from model import contract
from model.bpmn import page_layouts, to_bpmn_xml
from model.describe import describe
from model.errors import InputError
from model.graph import page_graph, pages, paths, to_graph
from model.picture import draw
from model.procedure import Choice, Procedure, default_procedure_path, load_procedure
from model.rules import Basis, Severity, load_rules

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
POLICE, SOCIAL_CARE = "Police notified", "Social care notified"


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def all_paths(procedure: Procedure) -> list[list[str]]:
    return paths(procedure)


def gateway(p: Procedure, gate_id: str) -> Choice:
    return next(g for g in p.gateways() if g.id == gate_id)


def before(path: list[str], first: str, then: str) -> bool:
    return first in path and then in path and path.index(first) < path.index(then)


# The contract's rules -------------------------------------------------------------------------


def test_the_model_holds_contract_version_2(procedure: Procedure) -> None:
    assert list(procedure.activities) == [a for a in procedure.activities]
    assert set(contract.ACTIVITIES) <= set(procedure.activities)
    assert len(contract.ACTIVITIES) == 30 and len(contract.RULE_IDS) == 20
    assert set(contract.ATTRIBUTES) <= set(procedure.attributes)
    assert procedure.attributes["offence"].values == contract.OFFENCES
    assert set(procedure.offences) == set(contract.OFFENCES)
    assert [r.id for r in procedure.rules] == list(contract.RULE_IDS)
    for rule in procedure.rules:
        fixed = contract.RULES[rule.id]
        assert (rule.clause, rule.severity.value, rule.basis.value) == tuple(fixed), rule.id
        assert rule.title and rule.title[0].isupper(), rule.id
        if rule.basis is Basis.INTERPRETATION:  # an interpretation is a warning at most
            assert rule.severity is Severity.WARNING, rule.id
    assert procedure.activities["Concern identified"].clause == "§7, §4 ¶4"
    assert procedure.activities["Outcome 21 recorded"].clause == "§1 ¶4, Amendment"


def test_changed_rules_have_the_scope_and_conditions_of_version_2(procedure: Procedure) -> None:
    notified = procedure.rule("police-and-social-care-notified")
    assert notified.scope.value == "any" and not notified.when
    secured = procedure.rule("secured-computer-not-used")
    assert secured.scope.value == "workplace"
    assert secured.after == (*contract.MANAGER_INFORMED, "Computer secured")
    assert procedure.rule("employee-actions-agreed").require == (("Employee actions agreed",),)
    after_lado = procedure.rule("employee-actions-after-lado")
    assert after_lado.template.value == "precedence" and after_lado.preceded_by == "LADO contacted"
    unidentified = procedure.rule("unidentified-child-investigation")
    assert unidentified.when == {"children_at_continuing_risk": False, "alleged_is_child": False,
                                 "offence": "indecent-images"}
    assert unidentified.require == (("Child identification investigation continued",),)
    child = procedure.rule("child-alleged-procedure")
    assert child.require == (("Abuse by children procedure considered",
                              "Abuse by children procedure started"),)
    assert procedure.rule("outcome-21-only-for-young-people").when == {
        "youth_produced_imagery": False}


def procedure_text() -> str:
    return default_procedure_path().read_text(encoding="utf-8")


def test_a_procedure_file_must_give_each_rule_its_basis_and_title(tmp_path: Path) -> None:
    text = procedure_text()
    text = text.replace("    title: A manager is told the same working day\n", "", 1)
    text = text.replace(
        "    severity: warning  # the text sets no timescale: the same working day is our reading",
        "    severity: violation", 1)
    text = text.replace("    basis: text\n    template: absence\n    activity: Images",
                        "    template: absence\n    activity: Images", 1)
    path = tmp_path / "procedure.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_procedure(path)
    message = str(info.value)
    assert "a field 'title' (a plain-language title) in rule 'escalated-same-working-day'" in message
    assert "a rule whose basis is an interpretation is a warning at most" in message
    assert "a field 'basis' ('text' or 'interpretation') in rule 'no-image-handling'" in message
    # and the contract's severity and basis are checked too
    assert "rule 'computer-secured-same-working-day' with clause §7.3, §4 ¶5, severity warning" \
        in message


def test_local_rules_may_name_an_offence_and_several_anchors(
        procedure: Procedure, tmp_path: Path) -> None:
    path = tmp_path / "local.yaml"
    path.write_text(
        "rules:\n"
        "  - id: grooming-to-police-same-day\n"
        "    title: Grooming goes to the police the same day\n"
        "    clause: local\n"
        "    severity: warning\n"
        "    basis: text\n"
        "    template: response\n"
        "    trigger: Social care notified\n"
        "    require: [Police notified]\n"
        "    within: same day\n"
        "    when: {offence: grooming}\n"
        "  - id: no-use-after-either\n"
        "    clause: local\n"
        "    severity: warning\n"
        "    template: absence\n"
        "    activity: Computer used\n"
        "    after: [LADO contacted, Computer secured]\n"
        "  - id: bad-offence\n"
        "    clause: local\n"
        "    severity: warning\n"
        "    template: absence\n"
        "    activity: Computer used\n"
        "    when: {offence: shoplifting}\n",
        encoding="utf-8")
    with pytest.raises(InputError, match=r"line 23, field 'when'.*one of indecent-images, "
                                         r"grooming, sexual-communication"):
        load_rules(path, set(procedure.activities), set(procedure.boolean_attributes),
                   categories=procedure.categories)
    path.write_text(path.read_text(encoding="utf-8").split("  - id: bad-offence")[0],
                    encoding="utf-8")
    first, second = load_rules(path, set(procedure.activities),
                               set(procedure.boolean_attributes),
                               categories=procedure.categories)
    assert first.when == {"offence": "grooming"} and first.basis is Basis.TEXT
    assert second.after == ("LADO contacted", "Computer secured")
    assert second.basis is Basis.INTERPRETATION  # a local rule's default: the partnership's reading
    assert second.heading == "Computer used does not occur after the first of LADO contacted " \
                             "or Computer secured"


# The flow -------------------------------------------------------------------------------------


def test_no_path_ends_without_police_and_social_care(all_paths: list[list[str]]) -> None:
    assert all_paths
    for path in all_paths:
        assert POLICE in path and SOCIAL_CARE in path, path
        assert path[-1] == "Case closed"
    workplace = [p for p in all_paths if p[0] == "Concern identified"]
    assert workplace and all(before(p, "LADO contacted", SOCIAL_CARE) for p in workplace)


def test_a_strategy_discussion_decides_whether_an_enquiry_starts(
        procedure: Procedure, all_paths: list[list[str]]) -> None:
    discussed = [p for p in all_paths if "Strategy discussion held" in p]
    assert any("Section 47 enquiry started" not in p for p in discussed)
    assert any("Section 47 enquiry started" in p for p in discussed)
    # the review can follow the enquiry
    completed = "Section 47 enquiry completed"
    assert any("Strategy discussion held" in p[p.index(completed):]
               for p in all_paths if completed in p)
    gate = gateway(procedure, "section-47")
    assert gate.decided_by == ("section_47_needed",)
    # most referrals are followed by a statutory assessment, not all
    assert any("Statutory assessment started" in p for p in all_paths)
    assert any("Statutory assessment started" not in p and SOCIAL_CARE in p for p in all_paths)


def test_the_outcomes_are_decisions_that_can_co_occur(
        procedure: Procedure, all_paths: list[list[str]]) -> None:
    icpc, identify = ("Initial child protection conference held",
                      "Child identification investigation continued")
    assert any(icpc in p and identify in p for p in all_paths)
    assert any(identify in p and "National specialist services informed" not in p
               for p in all_paths)
    considered, started = ("Abuse by children procedure considered",
                           "Abuse by children procedure started")
    assert all(before(p, considered, started) for p in all_paths if started in p)
    assert any(considered in p and started not in p for p in all_paths)
    identification = gateway(procedure, "identification")
    images = {"offence": "indecent-images", "alleged_is_child": False}
    assert identification.select(images) == 0
    assert identification.select({**images, "offence": "grooming"}) == 1
    assert identification.select({"alleged_is_child": False}) == 1  # offence unknown


def test_outcome_21_is_a_choice_for_youth_produced_imagery(procedure: Procedure) -> None:
    gate = gateway(procedure, "outcome-21")
    assert gate.select({"youth_produced_imagery": True, "outcome_21_used": True}) == 0
    assert gate.select({"youth_produced_imagery": True, "outcome_21_used": False}) == 1
    assert gate.select({"youth_produced_imagery": False, "outcome_21_used": True}) == 1


def test_the_conference_is_convened_by_the_local_authority_and_chaired_independently(
        procedure: Procedure) -> None:
    icpc = procedure.activities["Initial child protection conference held"]
    lane = procedure.roles[icpc.role]
    assert "independent" in lane.name.lower()
    assert "local authority convenes" in lane.meaning
    assert "convened by the local authority, chaired independently" in icpc.meaning


def test_offences_keep_the_texts_words_with_notes_on_the_statute(procedure: Procedure) -> None:
    grooming = procedure.offences["grooming"]
    assert "Criminal Justice and Courts Act 2015, section 36" in grooming.note
    communication = procedure.offences["sexual-communication"]
    assert "reasonably believes the child to be under 16" in communication.meaning
    assert "does not reasonably believe" in communication.note


# Words ----------------------------------------------------------------------------------------


def test_model_show_text_lists_everything_in_words(procedure: Procedure) -> None:
    text = describe(procedure)
    lines = text.splitlines()
    for name in contract.ACTIVITIES:
        clause = procedure.activities[name].clause
        assert any(name in line and clause in line for line in lines), name
    for rule in procedure.rules:
        fixed = contract.RULES[rule.id]
        head = f"  {rule.id} ({fixed.clause}; {fixed.severity}; basis: {fixed.basis}"
        assert any(line.startswith(head) for line in lines), rule.id
        assert rule.title in " ".join(text.split())
    assert "ACTIVITIES BY ROLE (30)" in text and "RULES (20)" in text
    assert "if the concern is about the line manager: Senior manager informed" in text
    assert "concern_about_line_manager = true" not in text
    flat = " ".join(text.split())
    assert "[same day: by the end of the same calendar date" in flat
    assert "[immediately: within 1 hour of elapsed time" in flat
    assert "the DfE statistics count instead from the strategy discussion that started" in flat
    assert "Criminal Justice and Courts Act 2015" in flat


# The diagram ----------------------------------------------------------------------------------


def test_every_page_fits_a_landscape_page(procedure: Procedure, tmp_path: Path) -> None:
    from PIL import Image

    for page in pages(procedure):
        path = tmp_path / f"{page.id or 'overview'}.png"
        draw(procedure, path, "png", page.id)
        with Image.open(path) as image:
            width, height = image.size
        assert width <= 2_500, (page.id, width)
        assert height <= width, (page.id, height)
    with Image.open(tmp_path / "overview.png") as image:
        assert image.size[0] <= 2_000
    pdf = tmp_path / "all.pdf"
    draw(procedure, pdf, "pdf")
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page ") \
        >= len(pages(procedure))


def test_sub_processes_are_collapsed_on_the_overview_with_one_lane_per_role(
        procedure: Procedure) -> None:
    overview = page_graph(procedure)
    collapsed = {n for n, d in overview.nodes(data=True) if d["kind"] == "subprocess"}
    assert collapsed == {"workplace", "referral"}
    assert [page.id for page in pages(procedure)] == [
        None, "workplace", "referral", "section-47-enquiry", "outcomes"]
    roles = set()
    for placed in page_layouts(procedure):
        names = [lane.role for lane in placed.lanes]
        assert len(names) == len(set(names))  # one lane per role on each page
        roles |= set(names)
        for lane in placed.lanes:
            assert any(shape.role == lane.role for shape in placed.nodes)
    assert roles == set(procedure.roles)


def flow_graph(container: ET.Element) -> tuple[dict[str, ET.Element], set[tuple[str, str]]]:
    nodes = {str(el.get("id")): el for el in container.iter()
             if el.tag.startswith(BPMN) and el.tag[len(BPMN):] in (
                 "startEvent", "endEvent", "task", "exclusiveGateway", "parallelGateway",
                 "subProcess")}
    edges = {(str(f.get("sourceRef")), str(f.get("targetRef")))
             for f in container.iter(f"{BPMN}sequenceFlow")}
    return nodes, edges


def test_paged_bpmn_inlined_is_the_flat_bpmn(procedure: Procedure) -> None:
    paged = ET.fromstring(to_bpmn_xml(procedure))
    flat = ET.fromstring(to_bpmn_xml(procedure, flat=True))
    nodes, edges = flow_graph(paged)
    subs = [el for el in paged.iter(f"{BPMN}subProcess")]
    assert [s.get("name") for s in subs] == [s.name for s in procedure.subprocesses()]
    for sub in reversed(subs):  # inner ones first
        sub_id = str(sub.get("id"))
        start = next(str(e.get("id")) for e in sub if e.tag == f"{BPMN}startEvent")
        end = next(str(e.get("id")) for e in sub if e.tag == f"{BPMN}endEvent")
        first = {t for s, t in edges if s == start}
        last = {s for s, t in edges if t == end}
        outside_in = {s for s, t in edges if t == sub_id}
        outside_out = {t for s, t in edges if s == sub_id}
        edges = {(s, t) for s, t in edges if sub_id not in (s, t) and start != s and end != t}
        edges |= set(itertools.product(outside_in, first)) | set(itertools.product(last,
                                                                                   outside_out))
        for gone in (sub_id, start, end):
            del nodes[gone]
    flat_nodes, flat_edges = flow_graph(flat)
    assert set(nodes) == set(flat_nodes)
    assert edges == flat_edges
    assert len(flat_edges) == to_graph(procedure).number_of_edges()
    # every sub-process is collapsed on the diagram that shows it, and drawn on its own
    diagrams = paged.findall("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram")
    assert len(diagrams) == len(pages(procedure))
    shapes = {str(s.get("bpmnElement")): s for s in paged.iter(f"{DI}BPMNShape")}
    for sub in subs:
        assert shapes[str(sub.get("id"))].get("isExpanded") == "false"
    planes = {str(d[0].get("bpmnElement")) for d in diagrams}
    assert {str(s.get("id")) for s in subs} < planes
