"""The compiled forms of the procedure agree: graph, Petri net, BPMN (and back), DOT, JSON, picture."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence as Seq
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from model.bpmn import Box, layout, to_bpmn_xml, write_bpmn
from model.graph import NODE_KINDS, paths, to_dot, to_graph, to_json
from model.petri import check_sound, to_petri_net, write_pnml
from model.picture import draw
from model.procedure import (
    Activity,
    Branch,
    Choice,
    Kind,
    Loop,
    Parallel,
    Procedure,
    Role,
    Sequence,
    Task,
    load_procedure,
)

pm4py = pytest.importorskip("pm4py")

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_TAGS = ("startEvent", "endEvent", "task", "exclusiveGateway", "parallelGateway")
DISCUSSED = "Concerns discussed with police and social care"
FAMILY = "Family informed"


@pytest.fixture(scope="module")
def procedure() -> Procedure:
    return load_procedure()


@pytest.fixture(scope="module")
def all_paths(procedure: Procedure) -> list[list[str]]:
    return paths(procedure)


@pytest.fixture(scope="module")
def bpmn_file(procedure: Procedure, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bpmn") / "procedure.bpmn"
    write_bpmn(procedure, path)
    return path


@pytest.fixture(scope="module")
def reimported_net(bpmn_file: Path) -> tuple[Any, Any, Any]:
    net, initial, final = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(bpmn_file)))
    return net, initial, final


def flow_activities(p: Procedure) -> set[str]:
    return {task.activity for task in p.tasks()}


def event_log(traces: Seq[Seq[str]]) -> pd.DataFrame:
    """A pm4py-ready log: one case per trace, in order, with increasing UTC timestamps
    (pm4py follows row order, so the rows are sorted by case and time)."""
    start = pd.Timestamp("2024-01-01 09:00", tz="UTC")
    rows = [
        {"case:concept:name": f"case-{n:05d}", "concept:name": activity,
         "time:timestamp": start + pd.Timedelta(minutes=i)}
        for n, trace in enumerate(traces)
        for i, activity in enumerate(trace)
    ]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["case:concept:name", "time:timestamp"], kind="stable")


def fitness(traces: Seq[Seq[str]], net: Any, initial: Any, final: Any) -> list[float]:
    """Alignment fitness, one per trace (token replay is unreliable with silent transitions
    and duplicate labels, so alignments it is)."""
    log = event_log(traces)
    results = pm4py.conformance_diagnostics_alignments(
        log, net, initial, final, activity_key="concept:name",
        case_id_key="case:concept:name", timestamp_key="time:timestamp")
    return [float(r["fitness"]) for r in results]


def misplaced(all_paths: list[list[str]]) -> list[list[str]]:
    """Traces the procedure does not allow: the family informed before the concerns are
    discussed, and a path with that discussion left out."""
    base = next(path for path in all_paths if DISCUSSED in path and FAMILY in path)
    early = [a for a in base if a != FAMILY]
    early.insert(early.index(DISCUSSED), FAMILY)
    missing = [a for a in base if a != DISCUSSED]
    return [early, missing]


# The graph ------------------------------------------------------------------------------------


def test_graph_nodes_have_kind_role_and_clause(procedure: Procedure) -> None:
    graph = to_graph(procedure)
    for node, data in graph.nodes(data=True):
        assert data["kind"] in NODE_KINDS, node
        assert data["role"] in procedure.roles, node
        assert isinstance(data["clause"], str)
    tasks = {n for n, d in graph.nodes(data=True) if d["kind"] == "task"}
    assert tasks == {t.id for t in procedure.tasks()}
    for task in procedure.tasks():
        assert graph.nodes[task.id]["activity"] == task.activity
        assert graph.nodes[task.id]["role"] == task.role
    kinds = [d["kind"] for _, d in graph.nodes(data=True)]
    assert kinds.count("start") == kinds.count("end") == 1
    assert kinds.count("xor-split") == kinds.count("xor-join") == len(procedure.gateways())
    assert kinds.count("loop-entry") == kinds.count("loop-exit") == len(procedure.loops())


def test_graph_edges_carry_conditions_and_gateways(procedure: Procedure) -> None:
    graph = to_graph(procedure)
    escalation = {graph.edges[e]["condition"] for e in graph.out_edges("escalation-split")}
    assert escalation == {"whistleblowing_used = true", "concern_about_line_manager = true",
                          "otherwise"}
    assert all(graph.edges[e]["gateway"] == "escalation-split"
               for e in graph.out_edges("escalation-split"))
    back = graph.edges["strategy-discussions-exit", "strategy-discussions-entry"]
    assert back["condition"] == "repeat: further evidence comes to light (§5 ¶6)"
    assert back["back"] is True
    assert graph.edges["t01", "escalation-split"]["gateway"] is None
    assert graph.edges["t01", "escalation-split"]["condition"] is None
    # a branch with no step is an edge from split to join
    assert graph.has_edge("referral-split", "referral-join")


def test_paths_cover_every_branch_and_loop_once_and_twice(
        procedure: Procedure, all_paths: list[list[str]]) -> None:
    assert len(all_paths) == len({tuple(p) for p in all_paths})
    assert all(path[-1] == "Case closed" for path in all_paths)
    assert set(itertools.chain.from_iterable(all_paths)) == flow_activities(procedure)
    held = {path.count("Strategy discussion held") for path in all_paths}
    assert held == {0, 1, 2}
    assert {path.count("Strategy discussion held") for path in paths(procedure, 0)} == {0, 1}
    # 5 ways to begin x (1 + 2 notifications x (1 + 2 loops x 3 x 2 outcomes)) x 2 allegations
    assert len(all_paths) == 270
    assert len(paths(procedure, max_loops=0)) == 150


def test_dot_has_a_cluster_per_lane_and_every_task(procedure: Procedure) -> None:
    dot = to_dot(procedure)
    assert dot.startswith('digraph "nlscb-1.4.9" {')
    for role in {t.role for t in procedure.tasks()}:
        assert f'subgraph "cluster_{role}"' in dot
        assert f'label="{procedure.roles[role].name}";' in dot
    for activity in flow_activities(procedure):
        assert f'label="{activity}"' in dot
    assert '"strategy-discussions-exit" -> "strategy-discussions-entry"' in dot


def test_json_carries_the_whole_procedure(procedure: Procedure) -> None:
    document = json.loads(to_json(procedure))
    assert set(document) == {"procedure", "roles", "attributes", "offences", "activities",
                             "flow", "rules"}
    assert document["roles"]["lado"]["name"] == "LADO"
    assert [a["name"] for a in document["activities"]] == list(procedure.activities)
    rules = {r["id"]: r for r in document["rules"]}
    assert rules["icpc-within-15-working-days"]["within"] == "15 working days"
    assert rules["icpc-within-15-working-days"]["trigger_occurrence"] == "last before response"
    assert rules["no-image-handling"]["within"] is None

    def tasks(block: Any) -> list[str]:
        if isinstance(block, dict):
            found = [block["task"]] if "task" in block else []
            return found + [t for value in block.values() for t in tasks(value)]
        if isinstance(block, list):
            return [t for item in block for t in tasks(item)]
        return []

    assert tasks(document["flow"]) == [t.activity for t in procedure.tasks()]


# The Petri net --------------------------------------------------------------------------------


def test_petri_net_is_a_sound_workflow_net(procedure: Procedure) -> None:
    net, initial, final = to_petri_net(procedure)
    sound, _ = pm4py.check_soundness(net, initial, final)
    assert sound
    assert check_sound(procedure)
    assert [p.name for p in initial] == ["source"] and [p.name for p in final] == ["sink"]
    names = [t.name for t in net.transitions]
    assert len(names) == len(set(names))
    assert all(t.name.startswith("tau_") for t in net.transitions if t.label is None)


def test_the_compiled_forms_have_the_same_activities(procedure: Procedure) -> None:
    expected = flow_activities(procedure)
    graph = to_graph(procedure)
    in_graph = {d["activity"] for _, d in graph.nodes(data=True) if d["kind"] == "task"}
    net, _, _ = to_petri_net(procedure)
    in_net = {t.label for t in net.transitions if t.label is not None}
    root = ET.fromstring(to_bpmn_xml(procedure))
    in_bpmn = {t.get("name") for t in root.iter(f"{{{NS['bpmn']}}}task")}
    assert in_graph == in_net == in_bpmn == expected
    assert "Computer used" not in expected


def test_every_path_replays_on_the_petri_net(
        procedure: Procedure, all_paths: list[list[str]]) -> None:
    net, initial, final = to_petri_net(procedure)
    # one path in another interleaving of the manager's first actions
    workplace = next(p for p in all_paths if p[:2] == ["Concern identified", "Line manager informed"])
    first = ["Computer secured", "LADO contacted", "Police notified"]
    swapped = [a for a in workplace if a not in first]
    swapped[2:2] = list(reversed(first))
    assert fitness([*all_paths, swapped], net, initial, final) == [1.0] * (len(all_paths) + 1)


def test_traces_outside_the_model_do_not_fit(
        procedure: Procedure, all_paths: list[list[str]],
        reimported_net: tuple[Any, Any, Any]) -> None:
    bad = misplaced(all_paths)
    compiled = to_petri_net(procedure)
    for net in (compiled, reimported_net):
        scores = fitness(bad, *net)
        assert all(score < 1.0 for score in scores), scores


def test_pnml_round_trip(procedure: Procedure, tmp_path: Path) -> None:
    path = tmp_path / "procedure.pnml"
    write_pnml(procedure, path)
    net, initial, final = pm4py.read_pnml(str(path))
    assert {t.label for t in net.transitions if t.label} == flow_activities(procedure)
    assert pm4py.check_soundness(net, initial, final)[0]


# BPMN -----------------------------------------------------------------------------------------


def test_bpmn_reimports_to_the_same_language(
        bpmn_file: Path, all_paths: list[list[str]],
        reimported_net: tuple[Any, Any, Any]) -> None:
    net, initial, final = reimported_net
    labels = {t.label for t in net.transitions if t.label is not None}
    assert labels == set(itertools.chain.from_iterable(all_paths))
    assert fitness(all_paths, net, initial, final) == [1.0] * len(all_paths)


def test_bpmn_is_structurally_valid(procedure: Procedure, bpmn_file: Path) -> None:
    root = ET.parse(bpmn_file).getroot()
    process = root.find("bpmn:process", NS)
    assert process is not None
    nodes = {str(el.get("id")): el for tag in FLOW_NODE_TAGS
             for el in process.findall(f"bpmn:{tag}", NS)}
    flows = process.findall("bpmn:sequenceFlow", NS)
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids)), "ids are unique"
    for flow in flows:
        assert flow.get("sourceRef") in nodes and flow.get("targetRef") in nodes
    for node_id, node in nodes.items():
        for ref in node.findall("bpmn:incoming", NS) + node.findall("bpmn:outgoing", NS):
            assert ref.text in {f.get("id") for f in flows}, node_id
        default = node.get("default")
        if default is not None:
            flow = next(f for f in flows if f.get("id") == default)
            assert flow.get("sourceRef") == node_id
            assert flow.find("bpmn:conditionExpression", NS) is None

    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    refs = [str(ref.text) for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(nodes), "every flow node is in exactly one lane"
    used_roles = [r for r in procedure.roles if r in {t.role for t in procedure.tasks()}]
    assert [lane.get("name") for lane in lanes] == [procedure.roles[r].name for r in used_roles]
    for lane in lanes:
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            node = nodes[str(ref.text)]
            if node.tag.endswith("}task"):
                task_lanes = {procedure.roles[t.role].name for t in procedure.tasks()
                              if t.activity == node.get("name")}
                assert lane.get("name") in task_lanes

    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane is not None
    shapes: dict[str, Box] = {}
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None
        shapes[str(shape.get("bpmnElement"))] = Box(
            *(float(bounds.get(k, "nan")) for k in ("x", "y", "width", "height")))
    participant = root.find("bpmn:collaboration/bpmn:participant", NS)
    assert participant is not None and participant.get("processRef") == process.get("id")
    assert participant.get("id") in shapes
    assert set(nodes) <= set(shapes), "every flow node has a shape"
    assert {lane.get("id") for lane in lanes} <= set(shapes), "every lane has a shape"
    node_boxes = [shapes[n] for n in nodes]
    lane_boxes = [shapes[str(lane.get("id"))] for lane in lanes]
    for boxes in (node_boxes, lane_boxes):
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b), (a, b)
    for lane in lanes:
        band = shapes[str(lane.get("id"))]
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            box = shapes[str(ref.text)]
            assert band.y <= box.y and box.bottom <= band.bottom, "a node sits in its lane"
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
    assert set(edges) == {f.get("id") for f in flows}, "every flow has an edge"
    for edge in edges.values():
        points = edge.findall("di:waypoint", NS)
        assert len(points) >= 2
        xy = [(float(p.get("x", "nan")), float(p.get("y", "nan"))) for p in points]
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(xy)), "orthogonal"


def test_bpmn_carries_conditions_defaults_and_documentation(bpmn_file: Path) -> None:
    root = ET.parse(bpmn_file).getroot()
    process = root.find("bpmn:process", NS)
    assert process is not None
    gateways = {g.get("name"): g for g in process.findall("bpmn:exclusiveGateway", NS)}
    escalation = gateways["Who the employee tells"]
    flows = {f.get("id"): f for f in process.findall("bpmn:sequenceFlow", NS)}
    outgoing = [flows[r.text] for r in escalation.findall("bpmn:outgoing", NS)]
    conditions = {f.get("name"): f.findtext("bpmn:conditionExpression", None, NS)
                  for f in outgoing}
    assert conditions == {"whistleblowing_used = true": "whistleblowing_used = true",
                          "concern_about_line_manager = true": "concern_about_line_manager = true",
                          "otherwise": None}
    assert flows[escalation.get("default")].get("name") == "otherwise"
    loop = gateways["One or more strategy discussions"]
    back = [flows[r.text] for r in loop.findall("bpmn:outgoing", NS)
            if flows[r.text].get("name", "").startswith("repeat: ")]
    assert len(back) == 1
    tasks = {t.get("name"): t for t in process.findall("bpmn:task", NS)}
    strategy = tasks["Strategy discussion held"].findtext("bpmn:documentation", "", NS)
    assert strategy.startswith("§5 ¶4-5: a multi-agency strategy discussion takes place")
    assert "- Is there a child at immediate risk of Significant Harm" in strategy
    assert len(process.findall("bpmn:parallelGateway", NS)) == 14


def test_layout_keeps_nodes_apart_and_in_their_lanes(procedure: Procedure) -> None:
    placed = layout(procedure)
    for a, b in itertools.combinations(placed.nodes, 2):
        assert not a.box.overlaps(b.box), (a.id, b.id)
    lanes = {lane.role: lane.box for lane in placed.lanes}
    for shape in placed.nodes:
        assert lanes[shape.role].y <= shape.box.y and shape.box.bottom <= lanes[shape.role].bottom
    for edge in placed.edges:
        if not edge.back:  # every flow but a loop's runs left to right
            assert edge.waypoints[0][0] <= edge.waypoints[-1][0]
        inner = [s.box for s in placed.nodes if s.id not in (edge.source, edge.target)]
        for start, end in itertools.pairwise(edge.waypoints):
            assert not any(box.crossed_by(start, end, margin=0) for box in inner), edge


# A small procedure exercising every compile rule ---------------------------------------------


def small_procedure() -> Procedure:
    """Start, a choice whose branches are a loop, a parallel block, and two branches with no step
    (one edge in the graph), then an end task."""
    names = ["A", "B", "C", "D", "E"]
    activities = {n: Activity(n, "one" if n in "ABE" else "two", "someone", f"§{i}", Kind.TASK,
                              f"step {n}") for i, n in enumerate(names, start=1)}
    roles = {"one": Role("one", "One", "first"), "two": Role("two", "Two", "second")}
    flow = Sequence("main", (
        Task("t1", "A", "one", "§1"),
        Choice("pick", "Which?", "§9", ("x", "y"), (
            Branch({"x": True}, Loop("again", "Again", "§9", Task("t2", "B", "one", "§2"),
                                     "more to do")),
            Branch({"y": True}, Parallel("both", "Both", (Task("t3", "C", "two", "§3"),
                                                           Task("t4", "D", "two", "§4")), "§9")),
            Branch({"x": False}, None),
            Branch(None, None),
        )),
        Task("t5", "E", "one", "§5"),
    ), "")
    return Procedure("small", "Small", "a test", roles, {}, {}, activities, flow, ())


def test_compile_rules_on_a_small_procedure(tmp_path: Path) -> None:
    small = small_procedure()
    graph = to_graph(small)
    assert graph.edges["pick-split", "pick-join"]["condition"] == "x = false or otherwise"
    assert graph.edges["pick-split", "pick-join"]["default"] is True
    found = paths(small, max_loops=2)
    assert sorted(found) == sorted([
        ["A", "B", "E"], ["A", "B", "B", "E"], ["A", "B", "B", "B", "E"],
        ["A", "C", "D", "E"], ["A", "E"]])
    net, initial, final = to_petri_net(small)
    assert check_sound(small)
    assert fitness([*found, ["A", "D", "C", "E"]], net, initial, final) == [1.0] * 6
    # a redo that went back before the choice would let "A B C D E" through
    outside = [["A", "C", "E"], ["B", "E"], ["A", "B", "C", "D", "E"], ["A", "B"]]
    assert all(score < 1.0 for score in fitness(outside, net, initial, final))
    write_bpmn(small, tmp_path / "small.bpmn")
    again = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(tmp_path / "small.bpmn")))
    assert fitness(found, *again) == [1.0] * len(found)
    assert all(score < 1.0 for score in fitness([["A", "C", "E"], ["A", "B", "C", "E"]], *again))


# The picture ----------------------------------------------------------------------------------


def test_picture_svg_and_png(procedure: Procedure, tmp_path: Path) -> None:
    draw(procedure, tmp_path / "one.svg", "svg")
    draw(procedure, tmp_path / "two.svg", "svg")
    draw(procedure, tmp_path / "one.png", "png")
    svg = (tmp_path / "one.svg").read_bytes()
    assert svg == (tmp_path / "two.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg and len(svg) > 10_000
    png = (tmp_path / "one.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_picture_rejects_an_unknown_format(procedure: Procedure, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a picture format 'svg' or 'png'"):
        draw(procedure, tmp_path / "x.pdf", "pdf")  # type: ignore[arg-type]
