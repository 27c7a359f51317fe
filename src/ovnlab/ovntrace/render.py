"""Printing a trace tree as ovn-trace does: `--detailed` (tables, indented), `--summary`
(nested braces) and `--minimal` (what is externally visible)."""

from __future__ import annotations

from ovnlab.ovntrace.node import Node, NodeType

_TITLES = (NodeType.PIPELINE, NodeType.TRANSFORMATION)


def details(nodes: list[Node], level: int = 0) -> str:
    """ovntrace_node_print_details()."""
    out: list[str] = []
    for i, sub in enumerate(nodes):
        if sub.type is NodeType.MODIFY:
            continue
        more = int(i + 1 < len(nodes) or sub.always_indent or sub.type.terminal)
        indent = " " * ((level + more) * 4)
        title = sub.type in _TITLES
        if title:
            out.append("\n")
        out.append(f"{indent}{sub.name}\n")
        if title:
            out.append(f"{indent}{'-' * len(sub.name)}\n")
        out.append(details(sub.subs, level + 2 * more))
    return "".join(out)


def _prune(nodes: list[Node], drop: tuple[NodeType, ...]) -> list[Node]:
    """Replace each node of a `drop` type by its (pruned) children."""
    out: list[Node] = []
    for sub in nodes:
        sub.subs = _prune(sub.subs, drop)
        if sub.type in drop:
            out.extend(sub.subs)
        else:
            out.append(sub)
    return out


def summary_tree(nodes: list[Node]) -> list[Node]:
    """ovntrace_node_prune_summary(), on a copy."""
    return _prune([n.clone() for n in nodes], (NodeType.MODIFY, NodeType.TABLE))


def minimal_tree(nodes: list[Node]) -> list[Node]:
    """ovntrace_node_prune_hard(), on a copy."""
    return _prune([n.clone() for n in nodes], (NodeType.ACTION, NodeType.PIPELINE,
                                               NodeType.TABLE, NodeType.OUTPUT))


def summary(nodes: list[Node], level: int = 0) -> str:
    """ovntrace_node_print_summary()."""
    out: list[str] = []
    for sub in nodes:
        if sub.type is NodeType.ACTION and sub.name.startswith("next("):
            continue
        out.append(" " * (level * 4) + sub.name)
        if sub.subs:
            out.append(" {\n" + summary(sub.subs, level + 1) + " " * (level * 4) + "}")
        if sub.type is not NodeType.ACTION:
            out.append(";")
        out.append("\n")
    return "".join(out)
