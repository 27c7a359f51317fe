"""The incremental-processing engine (ovnlab.incproc), on small DAGs whose right answer is
plain arithmetic: a node that sums the values pushed into a source, kept incrementally."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnlab.incproc import ChangeSource, Engine, Handled, Node, NodeState, converge


class Summer:
    """A node keeping the sum of a table of values (`insert` adds rows and reports them
    to `source`, as an OVSDB table node tracks inserts); its handler is exact unless
    `broken`, and gives up on negative values (so the node recomputes)."""

    def __init__(self, broken: bool = False) -> None:
        self.table: list[int] = []
        self.source: ChangeSource[int] = ChangeSource("values")
        self.total = 0
        self.broken = broken
        self.node = Node("sum", run=self.run, inputs=[(self.source, self.handle)],
                         snapshot=lambda: self.total)

    def insert(self, values: list[int]) -> None:
        self.table.extend(values)
        self.source.push(values)

    def run(self) -> bool:
        old, self.total = self.total, sum(self.table)
        return old != self.total

    def handle(self) -> Handled:
        if any(v < 0 for v in self.source.tracked):
            return Handled.UNHANDLED
        delta = sum(self.source.tracked) + (1 if self.broken else 0)
        self.total += delta
        return Handled.UPDATED if delta else Handled.UNCHANGED


def recorder(log: list[object], mark: object) -> Callable[[], bool]:
    """A node's run() that logs `mark` and says its data changed."""
    def run() -> bool:
        log.append(mark)
        return True
    return run


def test_first_run_recomputes_then_handlers_apply_changes() -> None:
    s = Summer()
    engine = Engine(s.node)
    assert engine.pending
    engine.run()
    assert s.node.stats.recompute == 1 and s.node.state is NodeState.UNCHANGED
    s.insert([2, 3])
    assert engine.pending
    assert engine.run()
    assert s.total == 5 and s.node.stats.recompute == 1 and s.node.stats.compute == 1
    assert not engine.pending
    assert not engine.run()  # nothing pushed: nothing ran
    assert s.node.state is NodeState.UNCHANGED and s.node.stats.compute == 1


def test_unhandled_change_falls_back_to_recompute() -> None:
    s = Summer()
    engine = Engine(s.node)
    engine.run()
    s.insert([4, -1])
    engine.run()
    assert s.total == 3 and s.node.stats.recompute == 2


def test_input_without_handler_always_recomputes() -> None:
    src: ChangeSource[int] = ChangeSource("x")
    runs: list[object] = []
    node = Node("n", run=recorder(runs, 1), inputs=[(src, None)])
    engine = Engine(node)
    engine.run()
    src.push([1])
    engine.run()
    assert len(runs) == 2 and node.stats.recompute == 2


def test_tracked_changes_last_one_run() -> None:
    s = Summer()
    engine = Engine(s.node)
    s.insert([1])
    engine.run()
    assert s.source.tracked == [1]
    engine.run()
    assert s.source.tracked == []


def test_check_names_a_node_whose_handler_drifts_from_recompute() -> None:
    good, bad = Summer(), Summer(broken=True)
    for s in (good, bad):
        engine = Engine(s.node)
        engine.run()
        s.insert([1, 2])
        engine.run()
    assert Engine(good.node).check() == []
    assert Engine(bad.node).check() == ["sum"]
    assert bad.total == 3  # check() leaves the recomputed data


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 20), max_size=5), max_size=8))
def test_incremental_equals_recompute_for_any_change_sequence(batches: list[list[int]]) -> None:
    s = Summer()
    engine = Engine(s.node)
    for batch in batches:
        s.insert(batch)
        engine.run()
        assert engine.check() == []
    assert s.total == sum(v for b in batches for v in b)


def test_nodes_run_inputs_first_and_stale_inputs_force_recompute() -> None:
    order: list[object] = []
    a = Node("a", run=recorder(order, "a"))
    b = Node("b", run=recorder(order, "b"), inputs=[(a, None)])
    c = Node("c", run=recorder(order, "c"),
             inputs=[(b, lambda: Handled.UNCHANGED), (a, lambda: Handled.UNCHANGED)])
    engine = Engine(c)
    assert [n.name for n in engine.nodes] == ["a", "b", "c"]
    engine.run()
    assert order == ["a", "b", "c"]
    assert c.stats.recompute == 1  # its inputs were stale: no handler can apply a first run


def test_a_cycle_is_refused() -> None:
    a = Node("a", run=lambda: False)
    b = Node("b", run=lambda: False, inputs=[(a, None)])
    a.add_input(b)
    with pytest.raises(ValueError, match="cycle"):
        Engine(b)


def test_stats_print_as_ovn_appctl_inc_engine_show_stats() -> None:
    s = Summer()
    engine = Engine(s.node)
    engine.run()
    s.insert([1])
    engine.run()
    assert engine.stats().splitlines()[-4:] == [
        "Node: sum", "- recompute:            1", "- compute:              1",
        "- abort:                0"]


class PingPong:
    """A daemon that, on each value below `limit`, writes value+1 into its peer's source:
    two of them converge when the value reaches `limit`."""

    def __init__(self, name: str, limit: int) -> None:
        self.source: ChangeSource[int] = ChangeSource(name)
        self.peer: PingPong | None = None
        self.limit = limit
        self.engine = Engine(Node(name, run=self._run, inputs=[(self.source, None)]))

    def _run(self) -> bool:
        assert self.peer is not None
        self.peer.source.push(v + 1 for v in self.source.tracked if v < self.limit)
        return bool(self.source.tracked)

    @property
    def pending(self) -> bool:
        return self.engine.pending

    def run(self) -> bool:
        return self.engine.run()


def test_converge_runs_engines_until_none_has_work() -> None:
    a, b = PingPong("a", 6), PingPong("b", 6)
    a.peer, b.peer = b, a
    converge([a, b])  # the first runs
    a.source.push([0])
    assert converge([a, b]) == 7
    assert not a.pending and not b.pending


def test_converge_gives_up_on_a_livelock() -> None:
    a, b = PingPong("a", 10**9), PingPong("b", 10**9)
    a.peer, b.peer = b, a
    converge([a, b])
    a.source.push([0])
    with pytest.raises(RuntimeError, match="no convergence"):
        converge([a, b], max_rounds=5)
