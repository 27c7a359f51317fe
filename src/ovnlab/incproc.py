"""Incremental processing, as OVN's lib/inc-proc-eng.[ch]: one engine for northd and for
every ovn-controller.

A daemon is a DAG of `Node`s. Each node owns its data and can compute it from scratch
(`run`, a full recompute) or, when one of its inputs changed, try a *change handler* for
that input, which either applies the change (and says whether the node's data moved) or
gives up so the node recomputes. Source nodes (no inputs) wrap what the daemon reads from
outside, e.g. a database's changes since the last run (`ChangeSource`): listeners only
push into them and mark the engine stale; nothing computes until the engine runs.

    nb = ChangeSource("NB")
    lflow = Node("lflow", run=recompute_all, inputs=[(nb, on_nb_change)])
    engine = Engine(lflow)
    engine.run()                 # recomputes everything the first time
    nb.push(changes); engine.run()   # on_nb_change handles them, or lflow recomputes

`Engine.check()` is the property every node must have: recomputing from the current
inputs gives the data the incremental runs produced (what OVN's tests check with
`inc-engine/recompute`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class NodeState(Enum):
    """engine_node_state: what a node's last run did to its data."""

    STALE = "stale"  # not run since the engine was created or forced to recompute
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Handled(Enum):
    """What a change handler did with its input's change."""

    UNHANDLED = "unhandled"  # it cannot: the node recomputes
    UPDATED = "updated"  # applied; the node's data changed
    UNCHANGED = "unchanged"  # applied; nothing the node's consumers see moved


ChangeHandler = Callable[[], Handled]


@dataclass
class NodeStats:
    """inc-engine/show-stats: how often a node recomputed, and how often its change
    handlers coped alone."""

    recompute: int = 0
    compute: int = 0


class Node:
    """engine_node: `run()` recomputes the node's data from its inputs and returns whether
    it changed; `inputs` pair each input node with its change handler (None: any change of
    that input means a recompute). `snapshot()` gives a comparable picture of the data for
    `Engine.check()` (None: not checked). `clear_tracked()` drops per-run change tracking
    that consumers read in their handlers."""

    def __init__(self, name: str, run: Callable[[], bool],
                 inputs: Sequence[tuple[Node, ChangeHandler | None]] = (),
                 snapshot: Callable[[], Any] | None = None,
                 clear_tracked: Callable[[], None] | None = None) -> None:
        self.name = name
        self._run = run
        self.inputs = list(inputs)
        self._snapshot = snapshot
        self._clear_tracked = clear_tracked
        self.state = NodeState.STALE
        self.stats = NodeStats()

    def add_input(self, node: Node, handler: ChangeHandler | None = None) -> None:
        self.inputs.append((node, handler))

    def recompute(self) -> None:
        self.stats.recompute += 1
        self.state = NodeState.UPDATED if self._run() else NodeState.UNCHANGED

    def snapshot(self) -> Any:
        return self._snapshot() if self._snapshot is not None else None

    def clear_tracked(self) -> None:
        if self._clear_tracked is not None:
            self._clear_tracked()

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.state.value})"


class ChangeSource(Node, Generic[T]):
    """A source node fed from outside (an OVSDB table's tracked changes, a vswitch's
    events): `push` queues, the engine's run moves the queue to `tracked` for this run's
    handlers, and the next run clears it."""

    def __init__(self, name: str, on_push: Callable[[], None] | None = None,
                 net: Callable[[list[T]], list[T]] | None = None) -> None:
        super().__init__(name, run=self._take)
        self.pending: list[T] = []
        self.tracked: list[T] = []
        self._on_push = on_push
        self._net = net  # what the queue amounts to, when the run takes it

    def push(self, items: Iterable[T]) -> None:
        before = len(self.pending)
        self.pending.extend(items)
        if len(self.pending) != before and self._on_push is not None:
            self._on_push()

    def _take(self) -> bool:
        taken, self.pending = self.pending, []
        self.tracked = self._net(taken) if self._net is not None and len(taken) > 1 else taken
        return bool(self.tracked)

    def clear_tracked(self) -> None:
        self.tracked = []


class Engine:
    """The nodes reachable from `top`, run in topological order (inputs first), as
    engine_run(). `run()` returns whether any node's data changed."""

    def __init__(self, top: Node) -> None:
        self.top = top
        self.nodes = _topological(top)
        self._force = True  # the first run recomputes everything

    @property
    def sources(self) -> list[Node]:
        return [n for n in self.nodes if not n.inputs]

    @property
    def pending(self) -> bool:
        """Whether a run has anything to do."""
        return self._force or any(isinstance(n, ChangeSource) and n.pending
                                  for n in self.nodes)

    @property
    def forced(self) -> bool:
        """Whether the next run recomputes every node."""
        return self._force

    def force_recompute(self) -> None:
        """inc-engine/recompute: the next run recomputes every node."""
        self._force = True

    def run(self) -> bool:
        for node in self.nodes:
            node.clear_tracked()
        force, self._force = self._force, False
        for node in self.nodes:
            _run_node(node, force)
        return any(n.state is NodeState.UPDATED for n in self.nodes)

    def check(self) -> list[str]:
        """Recompute every node from the current inputs and name those whose data
        differs from what the incremental runs left; the data is left recomputed."""
        before = {n.name: n.snapshot() for n in self.nodes}
        for node in self.nodes:
            if node.inputs:
                node.recompute()
        return [n.name for n in self.nodes
                if before[n.name] is not None and n.snapshot() != before[n.name]]

    def stats(self) -> str:
        """`ovn-appctl inc-engine/show-stats` (22.03 format)."""
        # abort counts runs cut short for want of a database transaction; ovnlab's never are.
        return "".join(f"Node: {n.name}\n- recompute: {n.stats.recompute:12}\n"
                       f"- compute:   {n.stats.compute:12}\n- abort:     {0:12}\n"
                       for n in self.nodes)


def _run_node(node: Node, force: bool) -> None:
    if not node.inputs:
        if force or isinstance(node, ChangeSource):
            node.recompute()
        else:
            node.state = NodeState.UNCHANGED
        return
    if force or any(i.state is NodeState.STALE for i, _ in node.inputs):
        node.recompute()
        return
    updated = [(i, h) for i, h in node.inputs if i.state is NodeState.UPDATED]
    if not updated:
        node.state = NodeState.UNCHANGED
        return
    state = NodeState.UNCHANGED
    for _, handler in updated:
        result = handler() if handler is not None else Handled.UNHANDLED
        if result is Handled.UNHANDLED:
            node.recompute()
            return
        if result is Handled.UPDATED:
            state = NodeState.UPDATED
    node.stats.compute += 1
    node.state = state


def _topological(top: Node) -> list[Node]:
    order: list[Node] = []
    seen: set[int] = set()
    on_path: set[int] = set()

    def visit(node: Node) -> None:
        if id(node) in seen:
            return
        if id(node) in on_path:
            raise ValueError(f"incremental engine: cycle through {node.name}")
        on_path.add(id(node))
        for child, _ in node.inputs:
            visit(child)
        on_path.discard(id(node))
        seen.add(id(node))
        order.append(node)

    visit(top)
    return order


class Runnable(Protocol):
    """What the converger runs: an engine, or a daemon wrapping one."""

    @property
    def pending(self) -> bool: ...

    def run(self) -> object: ...


def converge(daemons: Sequence[Runnable], max_rounds: int = 50) -> int:
    """Run every daemon that has work, round after round, until none has: the lab's
    replacement for daemons calling each other (a write made during one daemon's run only
    wakes the others' sources). Returns the rounds taken."""
    for rounds in range(max_rounds):
        busy = [d for d in daemons if d.pending]
        if not busy:
            return rounds
        for daemon in busy:
            daemon.run()
    raise RuntimeError(f"incremental engines: no convergence after {max_rounds} rounds")
