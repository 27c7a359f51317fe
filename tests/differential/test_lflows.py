"""Logical flows: real ovn-northd 22.03 on ovnlab's exported Northbound vs ovnlab's northd,
`ovn-sbctl lflow-list` on both, equal up to what is arbitrary and the allow-list."""

from __future__ import annotations

import pytest
from compare import Comparison, Tracker, lflows, stale
from corpus import NAMED, OPS, Named, apply, start_cloud
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from real_ovn import Central

from ovnlab.lab import Lab

pytestmark = pytest.mark.differential

GENERATED_EXAMPLES = 30  # sequences; every step of each is a state (>= 200 in all)
MIN_GENERATED_STATES = 200


def compare_lflows(lab: Lab, central: Central, what: str) -> Comparison:
    central.load_nb(lab.export("nb"))
    ours = lab.exec("network", "ovn-sbctl lflow-list")
    assert ours.rc == 0, ours.stderr
    return Comparison(what, lflows(central.sbctl("lflow-list")), lflows(ours.stdout))


def _check(cmp: Comparison, tracker: Tracker, family: str) -> None:
    tracker.saw(family, cmp.what, cmp.used)
    if cmp.unexplained:
        pytest.fail(cmp.report(), pytrace=False)


@pytest.mark.parametrize("state", NAMED, ids=lambda s: s.name)
def test_named_state(state: Named, central: Central, tracker: Tracker) -> None:
    _check(compare_lflows(state.build(), central, state.name), tracker, "named")


@settings(max_examples=GENERATED_EXAMPLES, derandomize=True, database=None,
          phases=(Phase.generate,))  # each failure names its steps: no slow shrinking
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7)), min_size=8, max_size=14))
def test_generated_clouds(ops: list[tuple[str, int]], central: Central, tracker: Tracker) -> None:
    cloud = start_cloud()
    for i, (op, arg) in enumerate(ops):
        apply(cloud, op, arg)
        _check(compare_lflows(cloud.lab, central, f"after steps {ops[:i + 1]}"), tracker,
               "generated")


def test_every_lflow_allowance_still_matches(tracker: Tracker) -> None:
    """Runs last: over the whole corpus (at least MIN_GENERATED_STATES generated states),
    each allow-list entry must have matched a flow (a fix landed? then its entry goes)."""
    generated = tracker.states.get("generated")
    if tracker.states.get("named") != {s.name for s in NAMED} or generated is None:
        pytest.skip("the whole lflow corpus did not run in this session")
    assert len(generated) >= MIN_GENERATED_STATES, \
        f"only {len(generated)} generated states compared (want {MIN_GENERATED_STATES})"
    unused = stale(tracker.used, {"lflow"})
    assert not unused, "allow-list entries that match nothing any more (remove them):\n" + \
        "\n".join(f"  {e.name}: {e.reason}" for e in unused)
