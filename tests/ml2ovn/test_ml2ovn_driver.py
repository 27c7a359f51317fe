from __future__ import annotations

import pytest

from ovnlab.errors import NotFound
from ovnlab.ml2ovn import names
from ovnlab.ml2ovn.scenario import seed_scenario, set_lsp_up, unregister_chassis
from ovnlab.ovsdb import Row

FIP_MAC = "fa:16:3e:9f:84:ff"


def gw_chassis(lab, gw_port) -> list[tuple[str, str, int]]:
    lrp = lab.driver.api.must("Logical_Router_Port", names.lrp_name(gw_port["id"]))
    return [(g["name"], g["chassis_name"], g["priority"]) for g in lab.driver.api.gateway_chassis(lrp)]


def fip_nat(lab, fip) -> Row:
    return lab.nb.tables["NAT"][fip["id"]]


# ----------------------------------------------------------------------------- observation 1
def test_seed_gateway_chassis_three_rows_network_node_highest(lab) -> None:
    s = seed_scenario(lab.neutron)
    lrp_name = f"lrp-{s['gw_port']['id']}"
    expected = [(f"{lrp_name}_{lab.chassis_of(h)}", lab.chassis_of(h), prio)
                for h, prio in (("network", 3), ("compute1", 2), ("compute2", 1))]
    assert gw_chassis(lab, s["gw_port"]) == expected
    assert len(lab.nb.rows("Gateway_Chassis")) == 3


def test_gw_only_topology_schedules_only_the_network_node(lab_factory) -> None:
    lab = lab_factory("gw-only")
    s = seed_scenario(lab.neutron)
    assert [(c, p) for _, c, p in gw_chassis(lab, s["gw_port"])] == [(lab.chassis_of("network"), 1)]


def test_least_loaded_spreads_the_primary_across_routers(lab) -> None:
    s = seed_scenario(lab.neutron)
    neutron = lab.neutron
    r2 = neutron.router("r2")
    gw2 = neutron.set_gateway(r2, s["ext_n2"], s["extsubnet"], "10.0.2.212")
    first = gw_chassis(lab, s["gw_port"])
    second = gw_chassis(lab, gw2)
    assert first[0][1] == lab.chassis_of("network")
    assert second[0][1] == lab.chassis_of("compute2")  # hosted only at priority 1 so far
    assert [p for *_, p in second] == [3, 2, 1]


def test_chance_scheduler_is_seeded(lab_factory) -> None:
    orders = []
    for _ in range(2):
        lab = lab_factory("seed", "ovn.ovn_l3_scheduler=chance", seed=7)
        s = seed_scenario(lab.neutron)
        orders.append([c for _, c, _ in gw_chassis(lab, s["gw_port"])])
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == sorted(lab.chassis_of(h) for h in ("network", "compute1", "compute2"))


def test_no_candidate_for_tunnelled_external_network(lab) -> None:
    neutron = lab.neutron
    ext = neutron.network("ext_geneve", network_type="geneve", segment=99, external=True)
    sub = neutron.subnet(ext, "s", "10.9.0.0/24")
    r = neutron.router("r")
    gw = neutron.set_gateway(r, ext, sub, "10.9.0.5")
    assert gw_chassis(lab, gw) == []


def test_reschedule_when_chassis_go_and_come(lab) -> None:
    s = seed_scenario(lab.neutron)
    net, c1, c2 = (lab.chassis_of(h) for h in ("network", "compute1", "compute2"))
    unregister_chassis(lab.sb, "compute1")
    assert [(c, p) for _, c, p in gw_chassis(lab, s["gw_port"])] == [(net, 2), (c2, 1)]
    unregister_chassis(lab.sb, "network")
    assert [(c, p) for _, c, p in gw_chassis(lab, s["gw_port"])] == [(c2, 1)]
    from ovnlab.ml2ovn.scenario import register_chassis
    from ovnlab.topology import replace
    register_chassis(lab.sb, replace(lab.topo, nodes=tuple(n for n in lab.topo.nodes if n.hostname != "compute2")))
    # The current primary stays on top (no flap); the returning chassis are added below it.
    got = [(c, p) for _, c, p in gw_chassis(lab, s["gw_port"])]
    assert got[0] == (c2, 3)
    assert sorted(c for c, _ in got[1:]) == sorted([net, c1])


def test_flagging_a_chassis_makes_it_the_only_candidate_on_reschedule(lab) -> None:
    s = seed_scenario(lab.neutron)
    ch = lab.sb.find("Chassis", hostname="network")[0]
    other = {**ch["other_config"], "ovn-cms-options": "enable-chassis-as-gw"}
    with lab.sb.transaction() as txn:
        txn.update("Chassis", ch.uuid, other_config=other, external_ids=other)
    assert [(c, p) for _, c, p in gw_chassis(lab, s["gw_port"])] == [(lab.chassis_of("network"), 1)]


# ----------------------------------------------------------------------------- observation 2
def test_seed_nat_rows(lab) -> None:
    s = seed_scenario(lab.neutron)
    lr = lab.driver.api.must("Logical_Router", f"neutron-{s['router']['id']}")
    nats = sorted(lab.driver.api.children(lr, "nat"), key=lambda r: r["type"])
    dnat, snat = nats
    assert (dnat["type"], dnat["external_ip"], dnat["logical_ip"], dnat["external_mac"], dnat["logical_port"]) == \
        ("dnat_and_snat", "10.0.2.216", "172.16.100.10", FIP_MAC, s["vm_port"]["id"])
    assert dnat.uuid == s["fip"]["id"]
    assert dnat["external_ids"][names.FIP_EXTERNAL_MAC] == FIP_MAC
    assert dnat["gateway_port"] is None
    assert (snat["type"], snat["external_ip"], snat["logical_ip"], snat["external_mac"], snat["logical_port"]) == \
        ("snat", "10.0.2.211", "172.16.100.0/24", None, None)
    vm_lsp = lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])
    assert vm_lsp["external_ids"][names.PORT_FIP] == "10.0.2.216"


def test_seed_switches_routers_and_ports(lab) -> None:
    s = seed_scenario(lab.neutron)
    api = lab.driver.api
    ext_ls = api.must("Logical_Switch", f"neutron-{s['ext_n2']['id']}")
    localnet = api.must("Logical_Switch_Port", f"provnet-{s['ext_n2']['id']}")
    assert localnet.uuid in ext_ls["ports"]
    assert (localnet["type"], localnet["options"]["network_name"], localnet["tag"]) == ("localnet", "extnet0", None)
    assert api.by_name("Logical_Switch_Port", f"provnet-{s['n1']['id']}") is None
    assert ext_ls["external_ids"][names.NETWORK_NAME] == "ext_n2"
    vm = api.must("Logical_Switch_Port", s["vm_port"]["id"])
    mac = s["vm_port"]["mac_address"]
    assert vm["addresses"] == (f"{mac} 172.16.100.10",)
    assert vm["port_security"] == (f"{mac} 172.16.100.10",)
    assert vm["external_ids"][names.CIDRS] == "172.16.100.10/24"
    assert vm["external_ids"][names.DEVICE_OWNER] == "compute:nova"
    gw_lsp = api.must("Logical_Switch_Port", s["gw_port"]["id"])
    assert (gw_lsp["type"], gw_lsp["addresses"]) == ("router", ("router",))
    assert gw_lsp["options"] == {"router-port": f"lrp-{s['gw_port']['id']}", "nat-addresses": "router",
                                 "exclude-lb-vips-from-garp": "true"}
    if_lsp = api.must("Logical_Switch_Port", s["interface"]["id"])
    assert if_lsp["options"] == {"router-port": f"lrp-{s['interface']['id']}"}
    gw_lrp = api.must("Logical_Router_Port", f"lrp-{s['gw_port']['id']}")
    assert (gw_lrp["mac"], gw_lrp["networks"]) == (s["gw_port"]["mac_address"], ("10.0.2.211/24",))
    assert gw_lrp["external_ids"][names.IS_EXT_GW] == "True"
    if_lrp = api.must("Logical_Router_Port", f"lrp-{s['interface']['id']}")
    assert if_lrp["networks"] == ("172.16.100.1/24",)
    lr = api.must("Logical_Router", f"neutron-{s['router']['id']}")
    routes = api.children(lr, "static_routes")
    assert [(r["ip_prefix"], r["nexthop"], r["external_ids"][names.IS_EXT_GW]) for r in routes] == \
        [("0.0.0.0/0", "10.0.2.2", "true")]
    assert lr["external_ids"][names.GW_PORT_ID] == s["gw_port"]["id"]
    # The FIP's own port has no LSP (is_lsp_ignored).
    assert api.by_name("Logical_Switch_Port", s["fip"]["floating_port_id"]) is None


def test_vlan_provider_network_gets_a_tagged_localnet_port(lab) -> None:
    net = lab.neutron.network("v", network_type="vlan", physnet="extnet0", segment=42)
    lsp = lab.driver.api.must("Logical_Switch_Port", f"provnet-{net['id']}")
    assert (lsp["type"], lsp["tag"]) == ("localnet", 42)


# ----------------------------------------------------------------------------- external_mac
def test_external_mac_absent_when_distributed_fip_off(lab_factory) -> None:
    lab = lab_factory("seed", "ovn.enable_distributed_floating_ip=false")
    s = seed_scenario(lab.neutron)
    nat = fip_nat(lab, s["fip"])
    assert nat["external_mac"] is None
    assert nat["logical_port"] == s["vm_port"]["id"]
    assert nat["external_ids"][names.FIP_EXTERNAL_MAC] == FIP_MAC


def test_external_mac_absent_while_vm_port_down_and_set_when_it_comes_up(lab) -> None:
    s = seed_scenario(lab.neutron, vm_up=False)
    assert fip_nat(lab, s["fip"])["external_mac"] is None
    set_lsp_up(lab.nb, s["vm_port"]["id"], True)
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC
    assert lab.status_events == [(s["vm_port"]["id"], True)]


def test_port_down_keeps_external_mac_when_distributed(lab) -> None:
    s = seed_scenario(lab.neutron)
    set_lsp_up(lab.nb, s["vm_port"]["id"], False)
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC
    assert lab.status_events[-1] == (s["vm_port"]["id"], False)


def test_toggling_distributed_fip_rewrites_existing_rows(lab_factory) -> None:
    lab = lab_factory("seed", "ovn.enable_distributed_floating_ip=false")
    s = seed_scenario(lab.neutron)
    assert fip_nat(lab, s["fip"])["external_mac"] is None
    lab.driver.set_distributed_floating_ip(True, lambda port_id: port_id == s["vm_port"]["id"])
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC
    lab.driver.set_distributed_floating_ip(False, lambda port_id: True)
    assert fip_nat(lab, s["fip"])["external_mac"] is None
    lab.driver.set_distributed_floating_ip(True)  # reads LSP.up from the NB
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC
    # Centralized: a port coming up clears any stale external_mac.
    lab.driver.config = lab.driver.config.__class__(enable_distributed_floating_ip=False)
    set_lsp_up(lab.nb, s["vm_port"]["id"], False)
    assert fip_nat(lab, s["fip"])["external_mac"] is None


def test_disassociate_and_reassociate_fip(lab) -> None:
    s = seed_scenario(lab.neutron)
    lab.neutron.disassociate(s["fip"])
    assert s["fip"]["id"] not in lab.nb.tables["NAT"]
    assert [n["type"] for n in lab.nb.rows("NAT")] == ["snat"]
    vm = lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])
    assert names.PORT_FIP not in vm["external_ids"]
    lab.neutron.associate(s["fip"], s["vm_port"], s["router"])
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC


# ----------------------------------------------------------------------------- router changes
def test_remove_interface_and_clear_gateway(lab) -> None:
    s = seed_scenario(lab.neutron, with_fip=False)
    lab.neutron.remove_interface(s["router"], s["n1subnet"])
    assert lab.nb.rows("NAT") == []
    assert lab.driver.api.by_name("Logical_Router_Port", f"lrp-{s['interface']['id']}") is None
    assert lab.driver.api.by_name("Logical_Switch_Port", s["interface"]["id"]) is None
    lab.neutron.clear_gateway(s["router"])
    assert lab.nb.rows("Gateway_Chassis") == []
    assert lab.nb.rows("Logical_Router_Static_Route") == []
    assert lab.nb.rows("Logical_Router_Port") == []
    lr = lab.driver.api.must("Logical_Router", f"neutron-{s['router']['id']}")
    assert lr["external_ids"][names.GW_PORT_ID] == ""


def test_gateway_set_after_interfaces_adds_snat_and_disable_snat_removes_it(lab) -> None:
    s = seed_scenario(lab.neutron, with_fip=False)
    router = s["router"]
    original = dict(router)
    router["external_gateway_info"] = {**router["external_gateway_info"], "enable_snat": False}
    lab.driver.update_router(router, original)
    assert lab.nb.rows("NAT") == []
    router["external_gateway_info"] = {**router["external_gateway_info"], "enable_snat": True}
    lab.driver.update_router(router)
    assert [(n["type"], n["external_ip"], n["logical_ip"]) for n in lab.nb.rows("NAT")] == \
        [("snat", "10.0.2.211", "172.16.100.0/24")]


def test_delete_router_and_network(lab) -> None:
    s = seed_scenario(lab.neutron)
    lab.neutron.disassociate(s["fip"])
    lab.neutron.remove_interface(s["router"], s["n1subnet"])
    lab.neutron.clear_gateway(s["router"])
    lab.driver.delete_router(s["router"])
    assert lab.nb.rows("Logical_Router") == []
    lab.neutron.delete_port(s["vm_port"])
    for pg in lab.nb.rows("Port_Group"):
        assert pg["ports"] == ()
    lab.driver.delete_network(s["n1"])
    assert lab.driver.api.by_name("Logical_Switch", f"neutron-{s['n1']['id']}") is None
    assert {r["name"] for r in lab.nb.rows("Logical_Switch_Port")} == {f"provnet-{s['ext_n2']['id']}"}


# ----------------------------------------------------------------------------- security groups
def test_security_groups_become_port_groups_and_acls(lab) -> None:
    s = seed_scenario(lab.neutron)
    api = lab.driver.api
    sg = s["allow-icmp-ssh"]
    pg = api.must("Port_Group", "pg_" + sg["id"].replace("-", "_"))
    vm = api.must("Logical_Switch_Port", s["vm_port"]["id"])
    assert vm.uuid in pg["ports"]
    assert vm.uuid in api.must("Port_Group", "neutron_pg_drop")["ports"]
    matches = {(a["direction"], a["priority"], a["action"], a["match"]) for a in api.children(pg, "acls")}
    assert ("to-lport", 1002, "allow-related",
            f"outport == @{pg['name']} && ip4 && ip4.src == 0.0.0.0/0 && icmp4") in matches
    assert ("to-lport", 1002, "allow-related",
            f"outport == @{pg['name']} && ip4 && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22") in matches
    assert ("from-lport", 1002, "allow-related", f"inport == @{pg['name']} && ip4") in matches
    drop = {(a["direction"], a["priority"], a["action"], a["match"])
            for a in api.children(api.must("Port_Group", "neutron_pg_drop"), "acls")}
    assert drop == {("from-lport", 1001, "drop", "inport == @neutron_pg_drop && ip"),
                    ("to-lport", 1001, "drop", "outport == @neutron_pg_drop && ip")}
    # Router ports are trusted: no port security, no groups.
    gw_lsp = api.must("Logical_Switch_Port", s["gw_port"]["id"])
    assert gw_lsp["port_security"] == ()
    assert all(gw_lsp.uuid not in g["ports"] for g in lab.nb.rows("Port_Group"))


def test_rule_add_and_delete(lab) -> None:
    sg = lab.neutron.security_group("web", default_rules=False)
    pg = lab.driver.api.must("Port_Group", "pg_" + sg["id"].replace("-", "_"))
    rule = lab.neutron.security_group_rule(sg, direction="ingress", protocol="tcp", port_range_min=80,
                                           port_range_max=81, remote_ip_prefix="10.0.0.0/8")
    pg = lab.driver.api.must("Port_Group", pg["name"])
    [acl] = lab.driver.api.children(pg, "acls")
    assert acl["match"] == f"outport == @{pg['name']} && ip4 && ip4.src == 10.0.0.0/8 && tcp && tcp.dst >= 80 && tcp.dst <= 81"
    assert acl["external_ids"] == {"neutron:security_group_rule_id": rule["id"]}
    lab.driver.delete_security_group_rule(rule)
    assert lab.driver.api.must("Port_Group", pg["name"])["acls"] == ()
    assert lab.nb.rows("ACL") and all(a["priority"] == 1001 for a in lab.nb.rows("ACL"))
    lab.driver.delete_security_group(sg)
    assert lab.driver.api.by_name("Port_Group", pg["name"]) is None


def test_port_security_disabled_port_is_open(lab) -> None:
    net = lab.neutron.network("n", network_type="geneve", segment=5)
    sub = lab.neutron.subnet(net, "s", "192.168.1.0/24", enable_dhcp=False)
    port = lab.neutron.port(net, [(sub, "192.168.1.5")], port_security=False)
    lsp = lab.driver.api.must("Logical_Switch_Port", port["id"])
    assert lsp["port_security"] == ()
    assert lsp["addresses"] == ("unknown",)
    assert all(lsp.uuid not in g["ports"] for g in lab.nb.rows("Port_Group"))
    # With OVN's DHCP on the subnet the address is listed too (for the DHCP reply).
    sub2 = lab.neutron.subnet(net, "s2", "192.168.2.0/24")
    port2 = lab.neutron.port(net, [(sub2, "192.168.2.5")], port_security=False)
    lsp2 = lab.driver.api.must("Logical_Switch_Port", port2["id"])
    assert lsp2["addresses"] == (f"{port2['mac_address']} 192.168.2.5", "unknown")


# ----------------------------------------------------------------------------- DHCP
def test_dhcp_options_for_dhcp_subnets_and_their_ports(lab) -> None:
    s = seed_scenario(lab.neutron)
    [row] = lab.nb.rows("DHCP_Options")  # extsubnet has DHCP off
    assert row["cidr"] == "172.16.100.0/24"
    assert row["external_ids"]["subnet_id"] == s["n1subnet"]["id"]
    opts = row["options"]
    assert (opts["server_id"], opts["router"], opts["lease_time"], opts["mtu"]) == \
        ("172.16.100.1", "172.16.100.1", "43200", "1442")
    assert opts["server_mac"].startswith("fa:16:3e:")
    vm = lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])
    assert vm["dhcpv4_options"] == row.uuid
    router_lsp = lab.driver.api.must("Logical_Switch_Port", s["interface"]["id"])
    assert router_lsp["dhcpv4_options"] is None
    # Turning DHCP off removes the row and the ports' references.
    sub = {**s["n1subnet"], "enable_dhcp": False, "revision_number": 1}
    lab.driver.update_subnet(sub, s["n1subnet"])
    assert lab.nb.rows("DHCP_Options") == []
    assert lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])["dhcpv4_options"] is None
    sub = {**sub, "enable_dhcp": True, "dns_nameservers": ["8.8.8.8"],
           "host_routes": [{"destination": "10.9.0.0/16", "nexthop": "172.16.100.254"}]}
    lab.driver.update_subnet(sub)
    [row] = lab.nb.rows("DHCP_Options")
    assert row["options"]["dns_server"] == "{8.8.8.8}"
    assert row["options"]["classless_static_route"] == "{10.9.0.0/16,172.16.100.254, 0.0.0.0/0,172.16.100.1}"
    assert lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])["dhcpv4_options"] == row.uuid


# ----------------------------------------------------------------------------- transactions
def test_failed_operation_leaves_nb_and_driver_state_unchanged(lab) -> None:
    seqno = lab.nb.seqno
    before = {t: dict(rows) for t, rows in lab.nb.tables.items()}
    with pytest.raises(RuntimeError), lab.driver.transaction():
        lab.neutron.network("doomed")
        raise RuntimeError("SQLite write failed")
    assert lab.nb.seqno == seqno
    assert {t: dict(rows) for t, rows in lab.nb.tables.items()} == before


def test_port_on_unknown_network_is_rejected(lab) -> None:
    fake_net = {"id": "0" * 8}
    with pytest.raises(NotFound):
        lab.driver.create_port({"id": "p1", "network_id": fake_net["id"], "mac_address": "fa:16:3e:00:00:01",
                                "fixed_ips": [], "device_owner": ""})
    assert lab.nb.find("Logical_Switch_Port", name="p1") == []


def test_nested_hooks_commit_once(lab) -> None:
    seen: list[int] = []
    lab.nb.subscribe(lambda changes: seen.append(len(changes)))
    with lab.driver.transaction():
        seed_scenario(lab.neutron)
    assert len(seen) == 1


def test_status_callback_is_optional(lab_factory) -> None:
    lab = lab_factory()
    lab.driver.on_port_status = None
    s = seed_scenario(lab.neutron, vm_up=False)
    set_lsp_up(lab.nb, s["vm_port"]["id"], True)
    assert lab.nb.tables["NAT"][s["fip"]["id"]]["external_mac"] == FIP_MAC


# ----------------------------------------------------------------------------- event delivery
def test_deferred_port_events_wait_for_run(lab) -> None:
    lab.driver.defer_port_events = True
    s = seed_scenario(lab.neutron, vm_up=False)
    set_lsp_up(lab.nb, s["vm_port"]["id"], True)
    assert fip_nat(lab, s["fip"])["external_mac"] is None
    assert lab.status_events == []
    assert lab.driver.run() is True
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC
    assert lab.status_events == [(s["vm_port"]["id"], True)]
    assert lab.driver.run() is False


def test_out_of_order_deliveries_end_in_the_current_state(lab) -> None:
    from ovnlab.ovsdb import Change
    lab.driver.defer_port_events = True
    s = seed_scenario(lab.neutron, vm_up=False)
    lsp = lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])
    up, down = lsp.replace(up=True), lsp.replace(up=False)
    set_lsp_up(lab.nb, s["vm_port"]["id"], True)
    set_lsp_up(lab.nb, s["vm_port"]["id"], False)
    lab.driver._pending_status.clear()
    # A nested commit's news (up -> down) arrives before the outer one's (none -> up).
    lab.driver._on_nb_changes([Change("Logical_Switch_Port", "update", lsp.uuid, up, down)])
    lab.driver._on_nb_changes([Change("Logical_Switch_Port", "update", lsp.uuid, lsp, up)])
    lab.driver.run()
    assert fip_nat(lab, s["fip"])["external_mac"] == FIP_MAC  # it was up once: DVR keeps the MAC
    assert lab.status_events == [(s["vm_port"]["id"], False)]


def test_host_id_follows_the_port_state(lab) -> None:
    s = seed_scenario(lab.neutron, vm_up=False)
    vm = lambda: lab.driver.api.must("Logical_Switch_Port", s["vm_port"]["id"])  # noqa: E731
    assert names.HOST_ID not in vm()["external_ids"]
    set_lsp_up(lab.nb, s["vm_port"]["id"], True)
    assert vm()["external_ids"][names.HOST_ID] == "compute1"
    lab.neutron.update_port(s["vm_port"], name="web")  # a port update keeps it
    assert vm()["external_ids"][names.HOST_ID] == "compute1"
    set_lsp_up(lab.nb, s["vm_port"]["id"], False)
    assert names.HOST_ID not in vm()["external_ids"]


def test_vlan_tenant_network_redirect_options_follow_distributed_fip(lab) -> None:
    nt = lab.neutron
    vnet = nt.network("v", network_type="vlan", physnet="extnet0", segment=30)
    vsub = nt.subnet(vnet, "vs", "192.168.30.0/24")
    ext = nt.network("ext", network_type="flat", physnet="extnet0", external=True)
    esub = nt.subnet(ext, "es", "10.0.2.0/24", gateway_ip="10.0.2.2", enable_dhcp=False)
    r = nt.router("r")
    gw = nt.set_gateway(r, ext, esub, "10.0.2.211")
    intf = nt.add_interface(r, vsub)
    api = lab.driver.api
    lrp_gw = lambda: api.must("Logical_Router_Port", f"lrp-{gw['id']}")["options"]  # noqa: E731
    lrp_if = lambda: api.must("Logical_Router_Port", f"lrp-{intf['id']}")["options"]  # noqa: E731
    # Distributed FIPs and only VLAN/flat networks: bridged redirect, nothing centralized.
    assert lrp_gw() == {"redirect-type": "bridged"}
    assert lrp_if() == {"reside-on-redirect-chassis": "false"}
    lab.driver.set_distributed_floating_ip(False)
    assert lrp_gw() == {}
    assert lrp_if() == {"reside-on-redirect-chassis": "true"}
    lab.driver.set_distributed_floating_ip(True)
    # A geneve network on the router centralizes the VLAN one again.
    gnet = nt.network("g", segment=31)
    nt.add_interface(r, nt.subnet(gnet, "gs", "192.168.31.0/24"))
    assert lrp_gw() == {}


def test_allowed_address_pairs(lab) -> None:
    net = lab.neutron.network("n", segment=5)
    sub = lab.neutron.subnet(net, "s", "192.168.1.0/24")
    port = lab.neutron.port(net, [(sub, "192.168.1.5")])
    mac = port["mac_address"]
    lab.neutron.update_port(port, allowed_address_pairs=[
        {"ip_address": "192.168.1.100", "mac_address": mac},
        {"ip_address": "192.168.1.101", "mac_address": "fa:16:3e:00:00:99"}])
    lsp = lab.driver.api.must("Logical_Switch_Port", port["id"])
    assert lsp["port_security"] == (f"{mac} 192.168.1.5 192.168.1.100", "fa:16:3e:00:00:99 192.168.1.101")
    assert lsp["addresses"] == (f"{mac} 192.168.1.5", "fa:16:3e:00:00:99")


def test_failed_config_change_keeps_the_old_setting(lab) -> None:
    seed_scenario(lab.neutron)
    with pytest.raises(RuntimeError), lab.driver.transaction():
        lab.driver.set_distributed_floating_ip(False)
        raise RuntimeError("the cloud's config write failed")
    assert lab.driver.distributed is True
    assert lab.nb.find("NAT", type="dnat_and_snat")[0]["external_mac"] == FIP_MAC
