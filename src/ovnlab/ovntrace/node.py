"""ovn-trace.c's `struct ovntrace_node`: the tree a trace builds, which the renderers
print in the detailed, summary and minimal forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class NodeType(Enum):
    OUTPUT = "output"
    MODIFY = "modify"
    ACTION = "action"
    ERROR = "error"
    PIPELINE = "pipeline"
    TABLE = "table"
    TRANSFORMATION = "transformation"

    @property
    def terminal(self) -> bool:
        return self in (NodeType.OUTPUT, NodeType.MODIFY, NodeType.ACTION, NodeType.ERROR)


@dataclass
class Node:
    type: NodeType
    name: str
    subs: list[Node] = field(default_factory=list)
    always_indent: bool = False

    def add(self, type_: NodeType, name: str) -> Node:
        node = Node(type_, name)
        self.subs.append(node)
        return node

    def clone(self) -> Node:
        return Node(self.type, self.name, [s.clone() for s in self.subs], self.always_indent)
