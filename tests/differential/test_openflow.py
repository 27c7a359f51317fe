"""OpenFlow: a real ovn-controller 22.03 (behind a real ovn-northd fed ovnlab's exported
Northbound) vs ovnlab's controller, `ovs-ofctl --names dump-flows br-int` of each chassis
of each named state, equal up to what is arbitrary: cookies, counters, OpenFlow port
numbers (ports are printed by name, and named alike on both) and conntrack zone numbers
(the real controller hands them out in hash order)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from corpus import NAMED, Named
from real_ovn import TIMEOUT, Central, RealChassis, Vif

from ovnlab.lab import Lab
from ovnlab.sb.features import advertised

pytestmark = pytest.mark.differential

_ZONE_LOAD = re.compile(r"load:0x[0-9a-f]+->NXM_NX_REG1([123])\[\]")


def normalise(dump: str) -> list[str]:
    out = []
    for line in dump.splitlines():
        line = line.strip()
        if not line or line.startswith(("NXST", "OFPST")):
            continue
        line = re.sub(r"cookie=0x[0-9a-f]+, duration=[0-9.]+s, ", "", line)
        line = re.sub(r"n_packets=\d+, n_bytes=\d+, (idle_age=\d+, )?(hard_age=\d+, )?", "", line)
        out.append(_ZONE_LOAD.sub(r"load:<zone>->NXM_NX_REG1\1[]", line))
    return sorted(out)


def pin_tunnel_keys(lab: Lab, central: Central) -> None:
    """Which tunnel key a datapath or port gets is arbitrary (a fresh real northd numbers
    them in hash order, ovnlab's in creation order, as a real one does over time): ask the
    real northd for ovnlab's keys (requested-tnl-key), from an empty SB."""
    for dp in lab.sb.rows("Datapath_Binding"):  # by name: a restore renumbers row UUIDs
        ext = dp["external_ids"]
        if "logical-switch" in ext:
            central.nbctl("set", "Logical_Switch", ext["name"],
                          f"other_config:requested-tnl-key={dp['tunnel_key']}")
        elif "logical-router" in ext:
            central.nbctl("set", "Logical_Router", ext["name"],
                          f"options:requested-tnl-key={dp['tunnel_key']}")
    lrps = {r["name"] for r in lab.nb.rows("Logical_Router_Port")}
    for pb in lab.sb.rows("Port_Binding"):
        if pb["type"] == "chassisredirect":
            continue  # derived: the lowest free key on both
        table = "Logical_Router_Port" if pb["logical_port"] in lrps else "Logical_Switch_Port"
        central.nbctl("set", table, pb["logical_port"],
                      f"options:requested-tnl-key={pb['tunnel_key']}")
    central.reset_sb()


def copy_mac_bindings(lab: Lab, central: Central) -> None:
    """The MAC_Bindings ovnlab's chassis learnt (pings in the state) into the real SB:
    the flows of table 66/67 come from them."""
    for mb in lab.sb.rows("MAC_Binding"):
        key = lab.sb.tables["Datapath_Binding"][mb["datapath"]]["tunnel_key"]
        dp = central.sbctl("--bare", "--columns=_uuid", "find", "Datapath_Binding",
                           f"tunnel_key={key}").strip()
        central.sbctl("create", "MAC_Binding", f"logical_port={mb['logical_port']}",
                      f'ip="{mb["ip"]}"', f'mac="{mb["mac"]}"', f"datapath={dp}")


def wait_registered(central: Central, name: str) -> None:
    """Until the chassis has its Chassis_Private row: before, `--wait=hv` does not wait
    for it."""
    deadline = time.monotonic() + TIMEOUT
    while not central.sbctl("--bare", "--columns=name", "find", "Chassis_Private",
                            f"name={name}").strip():
        if time.monotonic() > deadline:
            raise TimeoutError(f"chassis {name} did not register")
        time.sleep(0.05)


def settled_flows(chassis: RealChassis) -> list[str]:
    """The chassis's flows once two dumps a moment apart agree: ports it creates (patch
    ports) get their flows an iteration after the one that answered `--wait=hv`."""
    deadline = time.monotonic() + TIMEOUT
    flows = normalise(chassis.dump_flows())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = normalise(chassis.dump_flows())
        if again == flows:
            return flows
        flows = again
    raise TimeoutError("the real chassis's flows kept changing")


def real_flows(lab: Lab, central: Central, run_dir: Path, host: str) -> list[str]:
    """`host` as a real chassis, the lab's other chassis as SB rows (their encaps,
    advertised features and the ports they bound, which is all `host` sees of them)."""
    central.load_nb(lab.export("nb"))
    pin_tunnel_keys(lab, central)
    copy_mac_bindings(lab, central)
    node = next(n for n in lab.topology.nodes if n.hostname == host)
    for other in lab.topology.nodes:
        if other is not node:
            central.sbctl("chassis-add", other.system_id, "geneve", other.tunnel_ip)
            central.sbctl("set", "chassis", other.system_id, f"hostname={other.hostname}",
                          *(f"other_config:{k}={v}" for k, v in advertised().items()))
    for pb in lab.sb.rows("Port_Binding"):  # what the other chassis claimed in ovnlab
        ch = lab.sb.tables["Chassis"].get(pb["chassis"]) if pb["chassis"] else None
        if ch is not None and ch["name"] != node.system_id:
            central.sbctl("lsp-bind", pb["logical_port"], ch["name"])
    chassis = RealChassis(central, run_dir / host, node.system_id, node.hostname,
                          node.tunnel_ip, node.bridge_mappings, ",".join(node.ovn_cms_options))
    try:
        br = lab.vswitches[host].bridges["br-int"]
        chassis.set_vifs({Vif(p.name, p.external_ids["iface-id"]) for p in br.ports.values()
                          if p.external_ids.get("iface-id")})
        wait_registered(central, node.system_id)
        central.wait_hv()  # its nb_cfg catches up once its flows are installed
        return settled_flows(chassis)
    finally:
        chassis.close()


def lab_flows(lab: Lab, host: str) -> list[str]:
    """`host`'s flows while it sees what the real chassis sees: its peers are SB rows
    without an ovn-controller, so no BFD session to them comes up (a gateway chassis
    cut off from every peer gives its gateway ports up, as ha_chassis_group_is_active)."""
    ctl = lab.controllers[host]
    others = [n.system_id for n in lab.topology.nodes if n.hostname != host]
    for name in others:
        ctl.set_chassis_alive(name, False)
    lab.converge()
    try:
        ours = lab.exec(host, "ovs-ofctl --names dump-flows br-int")
        assert ours.rc == 0, ours.stderr
        return normalise(ours.stdout)
    finally:
        for name in others:
            ctl.set_chassis_alive(name, True)
        lab.converge()


@pytest.mark.parametrize("state", NAMED, ids=lambda s: s.name)
def test_every_chassis_flows_equal_real_ovn_controller(state: Named, central: Central,
                                                       real_dir: Path) -> None:
    lab = state.build()
    report = []
    for node in lab.topology.nodes:
        real = real_flows(lab, central, real_dir / state.name, node.hostname)
        mine = lab_flows(lab, node.hostname)
        missing = [f for f in real if f not in mine]
        extra = [f for f in mine if f not in real]
        if missing or extra:
            report.append(f"{node.hostname}: {len(missing)} flows only on the real chassis, "
                          f"{len(extra)} only in ovnlab:\n"
                          + "\n".join([*(f"- {f}" for f in missing),
                                       *(f"+ {f}" for f in extra)]))
    assert not report, "\n".join(report)
