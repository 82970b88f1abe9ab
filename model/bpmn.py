"""The procedure as BPMN 2.0 XML with a full diagram (the shapes and routes placed by
:mod:`model.layout`, whose names are also importable from here).

The process is compiled from the graphs of :mod:`model.graph`: one pool (participant) whose lanes
are the roles the flow uses, a start and an end event, a task per task node (its documentation
carries the clause, the meaning and, for the strategy discussion, the questions it must
consider), an exclusive gateway per choice (outgoing flows are named by the branch's condition
in words, "the concern is about the line manager", and carry it as attribute expressions in a
condition expression; the ``otherwise`` branch is the gateway's default flow), a parallel
gateway pair per parallel block, and a loop as an exclusive join, the body and an exclusive split
with a back flow.

By default each sub-process of the procedure is a BPMN ``subProcess``: drawn collapsed on the
overview (so the overview fits a landscape page) and in full on a diagram of its own, with its
own lanes, one per role it uses (bpmn.io opens it from the collapsed shape). ``flat=True`` gives
the whole flow in one process and one wide diagram instead, for tools that do not read
sub-processes (pm4py's BPMN import among them).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import networkx as nx

from model.graph import JOIN_KINDS, SPLIT_KINDS, page_graph, to_graph
from model.layout import (
    EXTERNAL_LABEL_KINDS,
    LABEL_CHAR_WIDTH,
    LABELLED_INSIDE,
    Box,
    EdgePath,
    LaneBand,
    Layout,
    NodeShape,
    label_lines,
    layout,
    page_layouts,
)
from model.procedure import Procedure

__all__ = [
    "LABEL_CHAR_WIDTH",
    "Box",
    "EdgePath",
    "LaneBand",
    "Layout",
    "NodeShape",
    "label_lines",
    "layout",
    "page_layouts",
    "to_bpmn_xml",
    "write_bpmn",
]

NAMESPACES: Final = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_ELEMENT: Final = {
    "start": "bpmn:startEvent",
    "end": "bpmn:endEvent",
    "task": "bpmn:task",
    "xor-split": "bpmn:exclusiveGateway",
    "xor-join": "bpmn:exclusiveGateway",
    "loop-entry": "bpmn:exclusiveGateway",
    "loop-exit": "bpmn:exclusiveGateway",
    "and-split": "bpmn:parallelGateway",
    "and-join": "bpmn:parallelGateway",
    "subprocess": "bpmn:subProcess",
}
_PREFIX: Final = {"start": "StartEvent", "end": "EndEvent", "task": "Task",
                  "subprocess": "SubProcess"}


class _Ids:
    """XML ids (NCNames) for the graph's node ids, unique after cleaning."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, prefix: str, raw: str) -> str:
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]', '_', raw)}"
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}_{n}"
        self.used.add(candidate)
        return candidate


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _bounds(parent: ET.Element, box: Box) -> None:
    _sub(parent, "dc:Bounds", x=_number(box.x), y=_number(box.y), width=_number(box.width),
         height=_number(box.height))


def _cited(clause: str, text: str) -> str:
    """``text`` as a sentence, after its clause (when it has one)."""
    sentence = text.rstrip(".") + "."
    return f"{clause}: {sentence}" if clause.strip() not in ("", "-") else sentence


def _task_documentation(p: Procedure, activity: str, clause: str) -> str:
    act = p.activities[activity]
    lines = [_cited(clause, act.meaning), f"Performed by: {act.performer}."]
    if act.participants:
        names = ", ".join(p.roles[r].name if r in p.roles else r for r in act.participants)
        lines.append(f"With: {names}.")
    if act.considerations:
        lines.append("It must carefully consider:")
        lines += [f"- {question}" for question in act.considerations]
    return "\n".join(lines)


@dataclass
class _Page:
    """One page as written: its graph, layout and XML ids."""

    graph: nx.DiGraph
    placed: Layout
    node_ids: dict[str, str]
    lane_ids: dict[str, str]
    edge_ids: dict[tuple[str, str], str]


class _Writer:
    """Writes the process (and its sub-processes) and then the diagrams of every page."""

    def __init__(self, p: Procedure, *, flat: bool) -> None:
        self.p = p
        self.flat = flat
        self.ids = _Ids()
        self.flows = 0
        self.pages: list[_Page] = []
        self.decided_by = {f"{c.id}-split": " Decided by: " + ", ".join(c.decided_by) + "."
                           for c in p.gateways()}
        self.decided_by.update(
            {f"{loop.id}-exit": f" Again while: {loop.repeat}." for loop in p.loops()})

    def page(self, page: str | None) -> _Page:
        graph = to_graph(self.p) if self.flat else page_graph(self.p, page)
        placed = layout(self.p, page, flat=self.flat)
        node_ids = {}
        for node, data in graph.nodes(data=True):
            kind = data["kind"]
            raw = node
            if kind in ("start", "end"):
                raw = "1" if page is None else str(page)
            node_ids[node] = self.ids.make(_PREFIX.get(kind, "Gateway"), raw)
        edge_ids = {}
        for edge in graph.edges:
            self.flows += 1
            edge_ids[edge] = self.ids.make("Flow", f"{self.flows:03d}")
        lane_ids = {band.role: self.ids.make("Lane", band.role if page is None
                                             else f"{page}_{band.role}")
                    for band in placed.lanes}
        return _Page(graph, placed, node_ids, lane_ids, edge_ids)

    def container(self, parent: ET.Element, page: str | None, set_id: str) -> None:
        """The lanes, flow nodes and sequence flows of one page inside ``parent`` (the process
        or a sub-process), sub-processes written with their own contents."""
        p = self.p
        current = self.page(page)
        self.pages.append(current)
        graph, placed, node_ids = current.graph, current.placed, current.node_ids
        lane_set = _sub(parent, "bpmn:laneSet", id=self.ids.make("LaneSet", set_id))
        for band in placed.lanes:
            lane = _sub(lane_set, "bpmn:lane", id=current.lane_ids[band.role], name=band.name)
            if band.role in p.roles:
                _sub(lane, "bpmn:documentation", p.roles[band.role].meaning)
            for shape in placed.nodes:
                if shape.role == band.role:
                    _sub(lane, "bpmn:flowNodeRef", node_ids[shape.id])
        for node, data in graph.nodes(data=True):
            kind = data["kind"]
            attrs = {"id": node_ids[node]}
            if kind in LABELLED_INSIDE or kind in EXTERNAL_LABEL_KINDS:
                attrs["name"] = data["label"]
            if kind in SPLIT_KINDS or kind in JOIN_KINDS:
                attrs["gatewayDirection"] = "Diverging" if kind in SPLIT_KINDS else "Converging"
                defaults = [e for e in graph.out_edges(node, data="default") if e[2]]
                if defaults and kind != "and-split":
                    attrs["default"] = current.edge_ids[defaults[0][:2]]
            element = _sub(parent, _ELEMENT[kind], **attrs)
            if kind == "task":
                _sub(element, "bpmn:documentation",
                     _task_documentation(p, data["activity"], data["clause"]))
            elif kind == "subprocess":
                _sub(element, "bpmn:documentation",
                     _cited(data["clause"], data["label"])
                     + " Drawn collapsed here and in full on a diagram of its own.")
            elif data["clause"]:
                _sub(element, "bpmn:documentation",
                     _cited(data["clause"], data["label"]) + self.decided_by.get(node, ""))
            for edge in graph.in_edges(node):
                _sub(element, "bpmn:incoming", current.edge_ids[edge])
            for edge in graph.out_edges(node):
                _sub(element, "bpmn:outgoing", current.edge_ids[edge])
            if kind == "subprocess":
                self.container(element, node, node)
        for source, target, data in graph.edges(data=True):
            attrs = {"id": current.edge_ids[source, target], "sourceRef": node_ids[source],
                     "targetRef": node_ids[target]}
            if data["label"]:
                attrs["name"] = data["label"]
            flow = _sub(parent, "bpmn:sequenceFlow", **attrs)
            if data["clause"]:
                _sub(flow, "bpmn:documentation", data["clause"])
            if data["condition"] and not data["default"]:
                _sub(flow, "bpmn:conditionExpression", data["condition"],
                     xsi__type="bpmn:tFormalExpression")

    def diagram(self, root: ET.Element, current: _Page, plane_element: str,
                participant_id: str | None) -> None:
        placed = current.placed
        page = placed.page
        name = "Overview" if page is None else placed.title
        diagram = _sub(root, "bpmndi:BPMNDiagram",
                       id=self.ids.make("Diagram", page or self.p.id), name=name)
        plane = _sub(diagram, "bpmndi:BPMNPlane", id=self.ids.make("Plane", page or self.p.id),
                     bpmnElement=plane_element)
        if participant_id is not None:
            shape_el = _sub(plane, "bpmndi:BPMNShape", id=self.ids.make("Shape", participant_id),
                            bpmnElement=participant_id, isHorizontal="true")
            _bounds(shape_el, placed.pool)
        for band in placed.lanes:
            lane_id = current.lane_ids[band.role]
            shape_el = _sub(plane, "bpmndi:BPMNShape", id=self.ids.make("Shape", lane_id),
                            bpmnElement=lane_id, isHorizontal="true")
            _bounds(shape_el, band.box)
        for shape in placed.nodes:
            node_id = current.node_ids[shape.id]
            attrs = {"id": self.ids.make("Shape", node_id), "bpmnElement": node_id}
            if _ELEMENT[shape.kind] == "bpmn:exclusiveGateway":
                attrs["isMarkerVisible"] = "true"
            if shape.kind == "subprocess":
                attrs["isExpanded"] = "false"
            shape_el = _sub(plane, "bpmndi:BPMNShape", **attrs)
            _bounds(shape_el, shape.box)
            if shape.label_box is not None:
                _bounds(_sub(shape_el, "bpmndi:BPMNLabel"), shape.label_box)
        for path in placed.edges:
            flow_id = current.edge_ids[path.source, path.target]
            edge_el = _sub(plane, "bpmndi:BPMNEdge", id=self.ids.make("Edge", flow_id),
                           bpmnElement=flow_id)
            for x, y in path.waypoints:
                _sub(edge_el, "di:waypoint", x=_number(x), y=_number(y))
            if path.label_box is not None:
                _bounds(_sub(edge_el, "bpmndi:BPMNLabel"), path.label_box)


def to_bpmn_xml(p: Procedure, *, flat: bool = False) -> str:
    """BPMN 2.0 XML of the procedure: a collaboration with one pool, a lane per role the flow
    uses, the process, and a diagram with a shape for the pool, every lane and every flow node
    and an edge for every sequence flow. Sub-processes are BPMN sub-processes, collapsed on the
    overview and each drawn on a diagram of its own (with their own lanes); ``flat`` writes the
    whole flow as one process on one diagram instead."""
    writer = _Writer(p, flat=flat)
    ids = writer.ids
    process_id = ids.make("Process", p.id)
    participant_id = ids.make("Participant", p.id)
    collaboration_id = ids.make("Collaboration", p.id)

    root = ET.Element("bpmn:definitions", {f"xmlns:{k}": v for k, v in NAMESPACES.items()})
    root.set("id", ids.make("Definitions", p.id))
    root.set("targetNamespace", "https://example.org/lscb")
    root.set("exporter", "lscb")
    root.set("exporterVersion", "0.1.0")
    collaboration = _sub(root, "bpmn:collaboration", id=collaboration_id)
    participant = _sub(collaboration, "bpmn:participant", id=participant_id, name=p.title,
                       processRef=process_id)
    _sub(participant, "bpmn:documentation", f"{p.source}. Procedure id: {p.id}.")
    process = _sub(root, "bpmn:process", id=process_id, name=p.title, isExecutable="false")
    writer.container(process, None, p.id)

    overview, *subs = writer.pages
    writer.diagram(root, overview, collaboration_id, participant_id)
    for current in subs:
        page = current.placed.page
        assert page is not None
        parent = next(w for w in writer.pages if page in w.node_ids)
        writer.diagram(root, current, parent.node_ids[page], None)

    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_bpmn(p: Procedure, path: Path | str, *, flat: bool = False) -> None:
    """Write :func:`to_bpmn_xml` to a file (UTF-8)."""
    Path(path).write_text(to_bpmn_xml(p, flat=flat), encoding="utf-8")
