"""OpenFlow: per chassis, real ovn-controller 22.03 (on the SB that real ovn-northd made of
ovnlab's exported Northbound, with that chassis's VIFs on its br-int) vs ovnlab's
controller: `ovs-ofctl dump-flows br-int` on both, equal up to what is arbitrary (cookies,
counters, OpenFlow port numbers, conntrack zone numbers) and the allow-list. Heavier than
the logical flows: the named states and a sample of generated ones."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from compare import Comparison, Tracker, ofctl_flows, stale
from corpus import NAMED, OPS, TOPOLOGIES, Named, apply, start_cloud
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from real_ovn import Central, Keys, RealChassis, Underlay, Vif, close_all

from ovnlab.lab import Lab

pytestmark = pytest.mark.differential

GENERATED_EXAMPLES = 10
SETTLE = 45.0  # seconds for BFD to elect the HA gateways and the flows to stop changing


def keys_of(lab: Lab) -> Keys:
    """The tunnel keys ovnlab's northd gave datapaths and ports (its SB)."""
    switch_dps, switches, routers, switch_ports, router_ports = set(), {}, {}, {}, {}
    redirect_ports = {}
    for dp in lab.sb.rows("Datapath_Binding"):
        ids = dp["external_ids"]
        if "logical-switch" in ids:
            switch_dps.add(dp.uuid)
            switches[ids["name"]] = dp["tunnel_key"]
        else:
            routers[ids["name"]] = dp["tunnel_key"]
    for pb in lab.sb.rows("Port_Binding"):
        if pb["type"] == "chassisredirect":
            redirect_ports[pb["logical_port"]] = pb["tunnel_key"]
        else:
            ports = switch_ports if pb["datapath"] in switch_dps else router_ports
            ports[pb["logical_port"]] = pb["tunnel_key"]
    return Keys(switches, routers, switch_ports, router_ports, redirect_ports)


def vifs_of(lab: Lab, host: str) -> set[Vif]:
    """br-int's ports that carry an iface-id on ovnlab's chassis (`ovs-vsctl`)."""
    show = lab.exec(host, "ovs-vsctl show").stdout
    bridge = show.split("Bridge br-int", 1)[1].split("\n    Bridge ", 1)[0]
    vifs = set()
    for port in re.findall(r"^        Port (\S+)$", bridge, re.M):
        iface_id = lab.exec(host, ["ovs-vsctl", "get", "interface", port,
                                   "external_ids:iface-id"])
        if iface_id.rc == 0 and iface_id.stdout.strip():
            vifs.add(Vif(port, iface_id.stdout.strip().strip('"')))
    return vifs


def compare_openflow(lab: Lab, central: Central, underlay: Underlay, run_dir: Path,
                     what: str) -> list[Comparison]:
    central.load_nb(lab.export("nb"), keys_of(lab))
    _copy_mac_bindings(lab, central)
    chassis: list[RealChassis] = []
    try:
        for node in lab.topology.nodes:
            chassis.append(RealChassis(
                central, underlay, run_dir / node.hostname, node.system_id, node.hostname,
                node.tunnel_ip, node.bridge_mappings, ",".join(node.ovn_cms_options)))
        for a in chassis:
            for b in chassis:
                if a is not b:
                    a.neighbour(b)
        for node, ch in zip(lab.topology.nodes, chassis, strict=True):
            ch.set_vifs(vifs_of(lab, node.hostname))
        ours = [ofctl_flows(_dump(lab, node.hostname)) for node in lab.topology.nodes]
        deadline = time.monotonic() + SETTLE
        while True:
            real = _settled(lab, central, chassis, deadline)
            out = [Comparison(f"{what}, chassis {node.hostname}", ofctl_flows(flows), mine)
                   for node, flows, mine in zip(lab.topology.nodes, real, ours, strict=True)]
            # a chassis whose BFD sessions are still coming up may think itself the active
            # gateway for a moment (its own flows, not the SB's claims, say so): the steady
            # state is what is compared, so a difference is final only at the deadline
            if not any(c.unexplained for c in out) or time.monotonic() > deadline:
                return out
            time.sleep(1.0)
    finally:
        close_all(chassis)


def _dump(lab: Lab, host: str) -> str:
    ours = lab.exec(host, "ovs-ofctl --names dump-flows br-int")
    assert ours.rc == 0, ours.stderr
    return ours.stdout


def _copy_mac_bindings(lab: Lab, central: Central) -> None:
    """The neighbours ovnlab's chassis learned (SB MAC_Binding, written by pinctrl at run
    time, not by northd) into the real SB, on the datapath with the same (pinned) key."""
    keys = {dp.uuid: dp["tunnel_key"] for dp in lab.sb.rows("Datapath_Binding")}
    args: list[str] = []
    for mb in lab.sb.rows("MAC_Binding"):
        dp = central.sbctl("--bare", "--columns=_uuid", "find", "datapath_binding",
                           f"tunnel_key={keys[mb['datapath']]}").strip()
        args += ["--", "create", "mac_binding", f"datapath={dp}",
                 f'logical_port="{mb["logical_port"]}"', f'ip="{mb["ip"]}"',
                 f'mac="{mb["mac"]}"']
    if args:
        central.sbctl(*args[1:])


def _settled(lab: Lab, central: Central, chassis: list[RealChassis],
             deadline: float) -> list[str]:
    """Each real chassis's flows once the HA gateway ports are claimed by the chassis that
    ovnlab made active (BFD over the underlay elects them; until every session is up,
    a lower-priority chassis may claim one for a while) and two dumps in a row agree."""
    names = {c.uuid: c["name"] for c in lab.sb.rows("Chassis")}
    wanted = {pb["logical_port"]: names.get(pb["chassis"], pb["chassis"])
              for pb in lab.sb.rows("Port_Binding")
              if pb["type"] == "chassisredirect" and pb["chassis"]}
    last = None
    while True:
        central.wait_hv()
        claims = central.claims()
        flows = [ch.dump_flows() for ch in chassis]
        normalised = [ofctl_flows(f) for f in flows]  # without the ever-changing counters
        if (claims == wanted and normalised == last) or time.monotonic() > deadline:
            return flows
        last = normalised if claims == wanted else None
        time.sleep(0.5)


def _check(cmps: list[Comparison], tracker: Tracker, family: str) -> None:
    for cmp in cmps:
        tracker.saw(family, cmp.what, cmp.used)
    failed = [cmp.report() for cmp in cmps if cmp.unexplained]
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


@pytest.mark.parametrize("state", NAMED, ids=lambda s: s.name)
def test_named_state(state: Named, central: Central, underlay: Underlay, real_dir: Path,
                     tracker: Tracker) -> None:
    _check(compare_openflow(state.build(), central, underlay, real_dir / "chassis",
                            state.name), tracker, "openflow-named")


@settings(max_examples=GENERATED_EXAMPLES, derandomize=True, database=None,
          phases=(Phase.generate,))
@given(topology=st.sampled_from(TOPOLOGIES),
       ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7)), min_size=8, max_size=14))
def test_generated_clouds(topology: str, ops: list[tuple[str, int]], central: Central,
                          underlay: Underlay, real_dir: Path, tracker: Tracker) -> None:
    cloud = start_cloud(topology)
    for op, arg in ops:
        apply(cloud, op, arg)
    _check(compare_openflow(cloud.lab, central, underlay, real_dir / "chassis",
                            f"{topology} after steps {ops}"), tracker, "openflow-generated")


def test_every_openflow_allowance_still_matches(tracker: Tracker) -> None:
    """Runs last: over the named states, each OpenFlow allow-list entry must have matched."""
    named = {n.split(", chassis ")[0] for n in tracker.states.get("openflow-named", ())}
    if named != {s.name for s in NAMED} or "openflow-generated" not in tracker.states:
        pytest.skip("the whole OpenFlow corpus did not run in this session")
    unused = stale(tracker.used, {"openflow"})
    assert not unused, "allow-list entries that match nothing any more (remove them):\n" + \
        "\n".join(f"  {e.name}: {e.reason}" for e in unused)
