"""Flows real ovn-northd 22.03 emits that an IPv4-only northd would miss: router-port
ARP/ND responders, DHCPv4, gateway_mtu, the FIP's ARP flow on every router switch,
_MC_mrouter_static. Expected texts are the real 22.03 output for the seed's NB (run with
/work/shared/ovn-22.03); each is checked after an incremental run against a fresh one."""

from __future__ import annotations

from ovnlab.northd import Northd
from ovnlab.northd.samples import GW_MAC, SEED, VM_MAC, seed_nb
from ovnlab.ovsdb import Database, Row
from ovnlab.sb import new_sb

GW = f"lrp-{SEED.gw_port}"
GW_LLA = "fe80::f816:3eff:fe00:211"  # in6_generate_lla(GW_MAC)
VM = SEED.vm_port


def _flows(sb: Database, stage: str) -> set[tuple[int, str, str]]:
    return {(f["priority"], f["match"], f["actions"]) for f in sb.rows("Logical_Flow")
            if f["external_ids"]["stage-name"] == stage}


def _all(sb: Database) -> set[tuple[str, int, int, str, str]]:
    return {(f["pipeline"], f["table_id"], f["priority"], f["match"], f["actions"])
            for f in sb.rows("Logical_Flow")}


def _fresh(nb: Database) -> Database:
    sb = new_sb()
    Northd(nb, sb).run()
    return sb


def _update(nb: Database, table: str, name: str, **cols: object) -> Row:
    row = nb.lookup(table, name)
    assert row is not None
    with nb.transaction() as txn:
        return txn.update(table, row.uuid, **cols)


def test_gateway_mtu_checks_every_admission_flow_of_the_gateway_port() -> None:
    nb = seed_nb()
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    gw = nb.lookup("Logical_Router_Port", GW)
    assert gw is not None
    _update(nb, "Logical_Router_Port", GW, options={**gw["options"], "gateway_mtu": "1400"})
    northd.run()
    adm = _flows(sb, "lr_in_admission")
    # gateway_mtu + 14 (no VLAN on the provider network): 1414, on all three flows of the port
    assert {a for _p, m, a in adm if f'inport == "{GW}"' in m} == {
        f"reg9[1] = check_pkt_larger(1414); xreg0[0..47] = {GW_MAC}; next;"}
    assert len([m for _p, m, _a in adm if f'inport == "{GW}"' in m]) == 3
    assert (50, f'outport == "{GW}"', "reg9[1] = check_pkt_larger(1414); next;") in \
        _flows(sb, "lr_in_chk_pkt_len")
    big = _flows(sb, "lr_in_larger_pkts")
    assert any(p == 150 and "ip6 && reg9[1] && reg9[0] == 0" in m
               and f"ip6.src = {GW_LLA};" in a and "icmp6.frag_mtu = 1400;" in a
               for p, m, a in big)
    fip_icmp = [a for p, m, a in _flows(sb, "lr_in_ip_input")
                if p == 160 and m.endswith("&& ip4 && ip4.dst == 10.0.2.216")]
    assert len(fip_icmp) == 1 and "icmp4.frag_mtu = 1400;" in fip_icmp[0]
    assert _all(sb) == _all(_fresh(nb))

    # a VLAN tag on the provider network's localnet port makes the L2 header 18 bytes
    ln = next(r for r in nb.rows("Logical_Switch_Port") if r["type"] == "localnet")
    _update(nb, "Logical_Switch_Port", ln["name"], tag_request=100)
    northd.run()
    assert {a for _p, m, a in _flows(sb, "lr_in_admission") if f'inport == "{GW}"' in m} == {
        f"reg9[1] = check_pkt_larger(1418); xreg0[0..47] = {GW_MAC}; next;"}
    assert _all(sb) == _all(_fresh(nb))


def test_dhcpv4_flows_follow_the_port_and_its_dhcp_options_row() -> None:
    nb = seed_nb()
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    assert not _flows(sb, "ls_in_dhcp_options") - {(0, "1", "next;")}
    with nb.transaction() as txn:
        dhcp = txn.insert("DHCP_Options", cidr="172.16.100.0/24", options={
            "lease_time": "43200", "mtu": "1442", "router": "172.16.100.1",
            "server_id": "172.16.100.1", "server_mac": "fa:16:3e:20:37:65"})
    _update(nb, "Logical_Switch_Port", VM, dhcpv4_options=dhcp.uuid)
    northd.run()
    put = ("reg0[3] = put_dhcp_opts(offerip = 172.16.100.10, lease_time = 43200, mtu = 1442, "
           "netmask = 255.255.255.0, router = 172.16.100.1, server_id = 172.16.100.1); next;")
    head = f'inport == "{VM}" && eth.src == {VM_MAC}'
    assert _flows(sb, "ls_in_dhcp_options") == {
        (0, "1", "next;"),
        (100, f"{head} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 "
              "&& udp.dst == 67", put),
        (100, f"{head} && ip4.src == 172.16.100.10 && ip4.dst == {{172.16.100.1, "
              "255.255.255.255} && udp.src == 68 && udp.dst == 67", put)}
    assert (100, f"{head} && ip4 && udp.src == 68 && udp.dst == 67 && reg0[3]",
            "eth.dst = eth.src; eth.src = fa:16:3e:20:37:65; ip4.src = 172.16.100.1; "
            "udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;") in \
        _flows(sb, "ls_in_dhcp_response")
    assert (34000, f'outport == "{VM}" && eth.src == fa:16:3e:20:37:65 && ip4.src == '
            "172.16.100.1 && udp && udp.src == 67 && udp.dst == 68", "ct_commit; next;") in \
        _flows(sb, "ls_out_acl")

    # editing the DHCP_Options row alone (Neutron's subnet update) rewrites the flows
    with nb.transaction() as txn:
        txn.update("DHCP_Options", dhcp.uuid, options={**dhcp["options"], "mtu": "1400",
                                                        "dns_server": "{8.8.8.8, 1.1.1.1}"})
    northd.run()
    opts = {a for _p, _m, a in _flows(sb, "ls_in_dhcp_options")} - {"next;"}
    assert opts == {put.replace("mtu = 1442, ", "mtu = 1400, ").replace(
        "offerip = 172.16.100.10, ", "offerip = 172.16.100.10, dns_server = {8.8.8.8, 1.1.1.1}, ")}
    assert _all(sb) == _all(_fresh(nb))

    # an offer IP outside the row's cidr gets no DHCP (build_dhcpv4_action)
    with nb.transaction() as txn:
        txn.update("DHCP_Options", dhcp.uuid, cidr="10.0.0.0/8")
    northd.run()
    assert _flows(sb, "ls_in_dhcp_options") == {(0, "1", "next;")}


def test_a_fip_is_arped_for_on_a_switch_added_to_the_router_later() -> None:
    nb = seed_nb()
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    lr = nb.rows("Logical_Router")[0]
    with nb.transaction() as txn:
        lrp = txn.insert("Logical_Router_Port", name="lrp-late", mac="fa:16:3e:00:05:01",
                         networks=("192.168.5.1/24",))
        rp = txn.insert("Logical_Switch_Port", name="late-rp", type="router",
                        addresses=("router",), options={"router-port": "lrp-late"})
        vm = txn.insert("Logical_Switch_Port", name="late-vm",
                        addresses=("fa:16:3e:00:05:0a 192.168.5.10",))
        txn.insert("Logical_Switch", name="late", ports=(rp.uuid, vm.uuid))
        txn.update("Logical_Router", lr.uuid, ports=(*lr["ports"], lrp.uuid))
    northd.run()
    late = next(d.uuid for d in sb.rows("Datapath_Binding")
                if d["external_ids"].get("name") == "late")
    l2 = {(f["priority"], f["match"], f["actions"]) for f in sb.rows("Logical_Flow")
          if f["logical_datapath"] == late and f["external_ids"]["stage-name"] == "ls_in_l2_lkup"}
    clone = 'clone {outport = "late-rp"; output; }; outport = "_MC_flood_l2"; output;'
    assert (80, "flags[1] == 0 && arp.op == 1 && arp.tpa == 10.0.2.216", clone) in l2
    assert (80, "flags[1] == 0 && nd_ns && nd.target == fe80::f816:3eff:fe00:501", clone) in l2
    rsp = {(f["priority"], f["match"]) for f in sb.rows("Logical_Flow")
           if f["logical_datapath"] == late and f["external_ids"]["stage-name"] == "ls_in_arp_rsp"}
    assert (50, "arp.tpa == 192.168.5.1 && arp.op == 1") in rsp
    assert _all(sb) == _all(_fresh(nb))


def test_mcast_flood_reports_ports_form_mc_mrouter_static() -> None:
    nb = seed_nb()
    ln = next(r for r in nb.rows("Logical_Switch_Port") if r["type"] == "localnet")
    _update(nb, "Logical_Switch_Port", ln["name"],
            options={**ln["options"], "mcast_flood_reports": "true", "mcast_flood": "false"})
    sb = new_sb()
    Northd(nb, sb).run()
    pb = {p.uuid: p["logical_port"] for p in sb.rows("Port_Binding")}
    groups = {(m["name"], m["tunnel_key"]): sorted(pb[p] for p in m["ports"])
              for m in sb.rows("Multicast_Group")}
    assert groups[("_MC_mrouter_static", 32771)] == [ln["name"]]
    assert not any(name == "_MC_static" for name, _k in groups)
    # 22.03 drops unregistered router multicast at 10450 only with mcast_relay
    assert not any(f["priority"] == 10450 for f in sb.rows("Logical_Flow"))
