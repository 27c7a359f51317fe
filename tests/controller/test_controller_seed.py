"""The seed scenario on three chassis: DESIGN §1 observation 3 and the physical tables."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ctl_seed import FIP, GW_MAC, seed_lab

from ovnlab.controller.ofctrl import dump_text
from ovnlab.flows import format_actions, format_match
from ovnlab.flows.format import format_flow_mod

DNAT = ("table=14, priority=100,ip,reg14=0x1,metadata=0x3,nw_dst=10.0.2.216 "
        "actions=ct(commit,table=15,zone=NXM_NX_REG11[0..15],nat(dst=172.16.100.10))")
SNAT = ("table=43, priority=161,ip,reg15=0x1,metadata=0x3,nw_src=172.16.100.10 "
        "actions=mod_dl_src:fa:16:3e:9f:84:ff,ct(commit,table=44,zone=NXM_NX_REG11[0..15],"
        "nat(src=10.0.2.216))")


def fip_nat(lines: list[str]) -> list[str]:
    return [line for line in lines if FIP in line and "nat" in line]


def test_observation3_on_vm_chassis() -> None:
    lab = seed_lab()
    flows = lab.controllers["compute1"].dump_flows()
    assert DNAT in flows
    assert SNAT in flows
    assert not lab.controllers["compute1"].errors


def test_distributed_fip_snat_only_on_vm_chassis() -> None:
    lab = seed_lab()
    for host in ("network", "compute2"):
        lines = fip_nat(lab.controllers[host].dump_flows())
        assert DNAT in lines  # lr_in_dnat has no residency: every chassis has it
        assert not [x for x in lines if x.startswith("table=43")], host


def test_centralized_fip_snat_only_on_gateway() -> None:
    lab = seed_lab(distributed=False)
    net = fip_nat(lab.controllers["network"].dump_flows())
    comp = fip_nat(lab.controllers["compute1"].dump_flows())
    snat = ("table=43, priority=161,ip,reg15=0x1,metadata=0x3,nw_src=172.16.100.10 "
            "actions=ct(commit,table=44,zone=NXM_NX_REG11[0..15],nat(src=10.0.2.216))")
    assert snat in net
    assert not [x for x in comp if x.startswith("table=43")]
    assert not [x for x in comp if x.startswith("table=14")]  # DNAT pinned to cr-lrp too


def test_port_claims_and_gateway_failover() -> None:
    lab = seed_lab()
    sb = lab.sb
    vm = sb.get("Port_Binding", lab.u["vm_1"])
    cr = sb.get("Port_Binding", lab.u["cr-lrp-r-gw"])
    node = {c.name: h for h, c in lab.controllers.items()}
    assert node[sb.get("Chassis", vm["chassis"])["name"]] == "compute1" and vm["up"] is True
    assert node[sb.get("Chassis", cr["chassis"])["name"]] == "network"
    for c in lab.controllers.values():
        c.set_chassis_alive("network", False)
    cr = sb.get("Port_Binding", lab.u["cr-lrp-r-gw"])
    assert node[sb.get("Chassis", cr["chassis"])["name"]] == "compute1"
    # compute2 sends cr-lrp traffic to the group's tunnels in priority order, as real
    # OVN's bundle(active_backup); the tunnel to the dead network node no longer forwards.
    c2 = lab.controllers["compute2"]
    net_tun, c1_tun = (c2.br_int.ports[f"ovn-{lab.controllers[h].name[:6]}-0"]
                       for h in ("network", "compute1"))
    assert any(line.startswith("table=37, priority=100,reg15=0x3,metadata=0x3") and
               line.endswith(f"bundle(eth_src,0,active_backup,ofport,members:{net_tun.ofport},"
                             f"{c1_tun.ofport})") for line in c2.dump_flows())
    assert (net_tun.bfd_status["forwarding"], c1_tun.bfd_status["forwarding"]) == \
        ("false", "true")
    # VIF unplugged: released
    del lab.vswitches["compute1"].bridges["br-int"].ports["tap-vm1"]
    lab.controllers["compute1"].run()
    vm = sb.get("Port_Binding", lab.u["vm_1"])
    assert vm["chassis"] is None and vm["up"] is False


def test_tunnels_patches_and_chassis_rows() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    ports = c1.br_int.ports
    others = [c.name for h, c in lab.controllers.items() if h != "compute1"]
    for name in others:
        p = ports[f"ovn-{name[:6]}-0"]
        assert p.type == "geneve" and p.options["key"] == "flow" and p.options["csum"] == "true"
    assert ports["patch-br-int-to-provnet-extnet0"].options == {
        "peer": "patch-provnet-extnet0-to-br-int"}
    brex = lab.vswitches["compute1"].bridges["br-ex"]
    assert brex.ports["patch-provnet-extnet0-to-br-int"].type == "patch"
    ch = lab.sb.get("Chassis", c1.name)
    assert ch["hostname"] == "compute1"
    assert ch["other_config"]["ovn-bridge-mappings"] == "extnet0:br-ex"
    enc = lab.sb.get("Encap", ch["encaps"][0])
    assert (enc["type"], enc["ip"]) == ("geneve", c1.cfg.encap_ip)
    flows = c1.dump_flows()
    tun = ports[f"ovn-{others[0][:6]}-0"].ofport
    assert (f"table=0, priority=100,in_port={tun} actions=move:NXM_NX_TUN_ID[0..23]->"
            "OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],"
            "move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,38)") in flows
    vif = ports["tap-vm1"].ofport
    assert f"table=65, priority=100,reg15=0x1,metadata=0x1 actions=output:{vif}" in flows


def test_cookie_is_lflow_uuid_prefix() -> None:
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    dnat = next(f for f in c1.flows() if f.table == 14 and f.priority == 100)
    row = next(r for r in lab.sb.rows("Logical_Flow")
               if r["pipeline"] == "ingress" and r["table_id"] == 6)
    assert dnat.cookie == int(row.uuid[:8], 16)


def _mask(lines: list[str], lab) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for line in lines:
        for h, c in lab.controllers.items():
            line = line.replace(c.name[:6], f"<{h}>")
        out.append(line)
    return out


def test_golden_dump_flows_compute1() -> None:
    from pathlib import Path
    lab = seed_lab()
    got = "\n".join(_mask(lab.controllers["compute1"].dump_flows(), lab)) + "\n"
    golden = Path(__file__).with_name("golden_compute1_dump_flows.txt")
    if os.environ.get("OVNLAB_UPDATE_GOLDEN"):
        golden.write_text(got)
    assert got == golden.read_text()


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("ovs-ofctl") is None, reason="needs ovs-ofctl")
def test_every_flow_accepted_and_printed_like_ovs() -> None:
    """`ovs-ofctl parse-flow` accepts each flow and prints back the same match/actions."""
    for distributed in (True, False):
        lab = seed_lab(distributed=distributed)
        for c in lab.controllers.values():
            for f in c.flows():
                r = subprocess.run(["ovs-ofctl", "parse-flow", format_flow_mod(f)], capture_output=True,
                                   text=True, check=False)
                assert r.returncode == 0, (format_flow_mod(f), r.stderr)
                body = r.stdout.strip().splitlines()[-1].split(" ADD ", 1)[1]
                head = f"table:{f.table} " if f.table else ""
                assert body.startswith(head + format_match(f.match, f.priority)), (dump_text(f), body)
                # OVN's `dec_ttl()` (NXAST_DEC_TTL_CNT_IDS, no ids) has no text of its own:
                # ovs-ofctl reads `dec_ttl()` as the plain action and prints `dec_ttl`.
                want = format_actions(f.actions).replace("dec_ttl()", "dec_ttl")
                assert body.endswith("actions=" + want), (dump_text(f), body)


def test_fip_arp_reply_only_where_resident() -> None:
    lab = seed_lab()
    for host, c in lab.controllers.items():
        arp = [x for x in c.dump_flows() if x.startswith("table=11, priority=92")
               and FIP in x]
        assert bool(arp) == (host == "compute1"), host


def test_requested_chassis_blocks_claim_elsewhere() -> None:
    lab = seed_lab(boot_vm=False)
    with lab.sb.transaction() as txn:
        txn.update("Port_Binding", lab.u["vm_1"], options={"requested-chassis": "compute2"})
    lab.vswitches["compute1"].bridges["br-int"].add_port(
        "tap-vm1", external_ids={"iface-id": "vm_1"})
    lab.controllers["compute1"].run()
    assert lab.sb.get("Port_Binding", lab.u["vm_1"])["chassis"] is None
    lab.vswitches["compute2"].bridges["br-int"].add_port(
        "tap-vm1", external_ids={"iface-id": "vm_1"})
    lab.controllers["compute2"].run()
    ch = lab.sb.get("Port_Binding", lab.u["vm_1"])["chassis"]
    assert lab.sb.get("Chassis", ch)["hostname"] == "compute2"


def test_chassis_advertises_22_03_features() -> None:
    """chassis.c: every 22.03 ovn-controller says it understands port-up notifications,
    unmasked ct_label (so ct_mark flags) and ct_lb related traffic."""
    lab = seed_lab(boot_vm=False)
    for row in lab.sb.rows("Chassis"):
        cfg = row["other_config"]
        assert (cfg["port-up-notif"], cfg["ct-no-masked-label"], cfg["ovn-ct-lb-related"]) \
            == ("true", "true", "true")


def test_localnet_port_replaces_chassis_macs_with_the_router_port_mac() -> None:
    """put_replace_chassis_mac_flows: per router port behind the localnet's switch, a
    conj_id=100 flow rewriting eth.src, and the localnet clause of the conjunction (the
    chassis-MAC clause comes from ovn-chassis-mac-mappings, which ovnlab's chassis lack)."""
    lab = seed_lab()
    c1 = lab.controllers["compute1"]
    patch = next(p for p in c1.br_int.ports.values() if p.type == "patch")
    dump = c1.dump_flows()
    conj = [x for x in dump if x.startswith("table=0, priority=180,")]
    assert len(conj) == 2
    assert conj[0].startswith(f"table=0, priority=180,conj_id=100,in_port={patch.ofport},"
                              "vlan_tci=0x0000/0x1000 actions=")
    assert conj[0].endswith(f",load:0x2->OXM_OF_METADATA[],load:0x1->NXM_NX_REG14[],"
                            f"mod_dl_src:{GW_MAC},resubmit(,8)")
    assert conj[1] == ("table=0, priority=180,vlan_tci=0x0000/0x1000 "
                       "actions=conjunction(100,2/2)")
