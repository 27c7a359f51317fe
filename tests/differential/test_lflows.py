"""Logical flows: real ovn-northd 22.03 on ovnlab's exported Northbound vs ovnlab's northd,
`ovn-sbctl lflow-list` on both, equal up to what is arbitrary and the allow-list; for the
benchmarks' samples, the stored Logical_Flow rows too (what bench_northd counts)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from compare import GROUP_COLUMNS, ROW_COLUMNS, Comparison, Tracker, lflow_rows, lflows, stale
from corpus import NAMED, OPS, SAMPLES, TOPOLOGIES, Named, Sample, apply, start_cloud
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from real_ovn import Central

from ovnlab.export import DbKind, export_db
from ovnlab.lab import Lab
from ovnlab.northd import Northd
from ovnlab.ovsdb import Database
from ovnlab.tools import ovn_sbctl

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


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_sample(sample: Sample, central: Central, tracker: Tracker) -> None:
    """The NB and chassis exported before ovnlab's northd runs, as bench_northd feeds the
    real northd: the same lflow-list, and the same stored rows up to Logical_DP_Group."""
    nb, sb = sample.build()
    central.load_nb(export_db(nb, DbKind.NB), sb_file=export_db(sb, DbKind.SB))
    Northd(nb, sb).run()
    flows = Comparison(sample.name, lflows(central.sbctl("lflow-list")),
                       lflows(_sbctl(sb, nb, "lflow-list")))
    _check(flows, tracker, "sample")
    rows = Comparison(f"{sample.name} rows", _rows(central.sbctl), _rows(
        lambda *args: _sbctl(sb, nb, *args)))
    _check(rows, tracker, "sample")
    assert _one_per_datapath(rows.ours, rows.real) == _one_per_datapath(rows.real, rows.ours)


def _sbctl(sb: Database, nb: Database, *args: str) -> str:
    result = ovn_sbctl.run(sb, list(args), nb=nb)
    assert result.rc == 0, result.stderr
    return result.stdout


def _rows(sbctl: Callable[..., str]) -> list[tuple[str, str]]:
    bare = ("--format=csv", "--data=bare", "--no-headings")
    return lflow_rows(sbctl(*bare, f"--columns={ROW_COLUMNS}", "list", "logical_flow"),
                      sbctl(*bare, f"--columns={GROUP_COLUMNS}", "list", "logical_dp_group"))


def _one_per_datapath(side: list[tuple[str, str]],
                      other: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """The rows on this side only, each counted once per datapath it is for: the rows
    one side shares in a Logical_DP_Group must be exactly the other's single rows."""
    out: Counter[tuple[str, str]] = Counter()
    for (group, flow), n in (Counter(side) - Counter(other)).items():
        count, rest = re.fullmatch(r"datapaths=(\d+), (.*)", flow).groups()  # type: ignore[union-attr]
        out[(group, rest)] += n * int(count)
    return out


@settings(max_examples=GENERATED_EXAMPLES, derandomize=True, database=None,
          phases=(Phase.generate,))  # each failure names its steps: no slow shrinking
@given(topology=st.sampled_from(TOPOLOGIES),
       ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7)), min_size=8, max_size=14))
def test_generated_clouds(topology: str, ops: list[tuple[str, int]], central: Central,
                          tracker: Tracker) -> None:
    cloud = start_cloud(topology)
    for i, (op, arg) in enumerate(ops):
        apply(cloud, op, arg)
        what = f"{topology} after steps {ops[:i + 1]}"
        _check(compare_lflows(cloud.lab, central, what), tracker, "generated")


def test_every_lflow_allowance_still_matches(tracker: Tracker) -> None:
    """Runs last: over the whole corpus (at least MIN_GENERATED_STATES generated states),
    each allow-list entry must have matched a flow (a fix landed? then its entry goes)."""
    generated = tracker.states.get("generated")
    if (tracker.states.get("named") != {s.name for s in NAMED} or generated is None
            or "sample" not in tracker.states):
        pytest.skip("the whole lflow corpus did not run in this session")
    assert len(generated) >= MIN_GENERATED_STATES, \
        f"only {len(generated)} generated states compared (want {MIN_GENERATED_STATES})"
    unused = stale(tracker.used, {"lflow"})
    assert not unused, "allow-list entries that match nothing any more (remove them):\n" + \
        "\n".join(f"  {e.name}: {e.reason}" for e in unused)
