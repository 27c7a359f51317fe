"""OpenFlow: a real ovn-controller 22.03 on ovnlab's exported Northbound (real ovn-northd
between them) vs ovnlab's controller, `ovs-ofctl dump-flows br-int` of the chassis that
hosts the VM, equal up to what is arbitrary: cookies, counters, OpenFlow port numbers
(ports are printed by name, and named alike on both) and conntrack zone numbers (the real
controller hands them out in hash order)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_ovn import Central, RealChassis, Vif

from ovnlab.lab import Lab
from ovnlab.sb.features import advertised
from ovnlab.scenario import run_article

pytestmark = pytest.mark.differential

HOST = "compute1"
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


@pytest.fixture(scope="module")
def article_lab() -> Lab:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    return lab


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


@pytest.fixture(scope="module")
def real_host(article_lab: Lab, central: Central, real_dir: Path) -> Iterator[RealChassis]:
    """The VM's chassis as a real one; the lab's other chassis as SB rows only (their
    encaps and advertised features, which is all the VM's chassis sees of them)."""
    lab = article_lab
    central.load_nb(lab.export("nb"))
    pin_tunnel_keys(lab, central)
    node = next(n for n in lab.topology.nodes if n.hostname == HOST)
    for other in lab.topology.nodes:
        if other is not node:
            central.sbctl("chassis-add", other.system_id, "geneve", other.tunnel_ip)
            central.sbctl("set", "chassis", other.system_id, f"hostname={other.hostname}",
                          *(f"other_config:{k}={v}" for k, v in advertised().items()))
    chassis = RealChassis(central, real_dir / HOST, node.system_id, node.hostname,
                          node.tunnel_ip, node.bridge_mappings, ",".join(node.ovn_cms_options))
    br = lab.vswitches[HOST].bridges["br-int"]
    chassis.set_vifs({Vif(p.name, p.external_ids["iface-id"]) for p in br.ports.values()
                      if p.external_ids.get("iface-id")})
    try:
        central.wait_hv()
        yield chassis
    finally:
        chassis.close()
        for other in lab.topology.nodes:
            if other is not node:
                central.sbctl("--if-exists", "chassis-del", other.system_id)


def test_vm_chassis_flows_equal_real_ovn_controller(article_lab: Lab,
                                                    real_host: RealChassis) -> None:
    ours = article_lab.exec(HOST, "ovs-ofctl --names dump-flows br-int")
    assert ours.rc == 0, ours.stderr
    real, mine = normalise(real_host.dump_flows()), normalise(ours.stdout)
    missing = [f for f in real if f not in mine]
    extra = [f for f in mine if f not in real]
    assert not missing and not extra, (
        f"{len(missing)} flows only on the real chassis, {len(extra)} only in ovnlab:\n"
        + "\n".join([*(f"- {f}" for f in missing), *(f"+ {f}" for f in extra)]))
