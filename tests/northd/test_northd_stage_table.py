"""Per stage, the seed's key flows as real OVN prints them (real-ovn-lab.md), with the
provenance each flow records."""

import pytest

from ovnlab.northd import Northd
from ovnlab.northd.samples import FIP_MAC, GW_MAC, IF_MAC, SEED, VM_MAC, seed_nb
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb

VM = SEED.vm_port
GW = f"lrp-{SEED.gw_port}"
CR = f"cr-lrp-{SEED.gw_port}"
IF_LLA = "fe80::f816:3eff:fe00:101"  # in6_generate_lla(IF_MAC)
IF_SN = "ff02::1:ff00:101"  # its solicited-node address
IF = f"lrp-{SEED.router_if_port}"

# (stage, priority, match, actions, source function, NB table owning the flow)
EXPECTED = [
    ("ls_in_port_sec_l2", 50, f'inport == "{VM}" && eth.src == {{{VM_MAC}}}', "next;",
     "build_lswitch_input_port_sec_op", "Logical_Switch_Port"),
    ("ls_in_port_sec_ip", 90, f'inport == "{VM}" && eth.src == {VM_MAC} && ip4.src == {{172.16.100.10}}',
     "next;", "build_port_security_ip", "Logical_Switch_Port"),
    ("ls_in_pre_acl", 100, "ip", "reg0[0] = 1; next;", "build_pre_acls", "Logical_Switch"),
    ("ls_in_acl", 1, "ip && (!ct.est || (ct.est && ct_mark.blocked == 1))",
     "reg0[1] = 1; next;", "build_acls", "Logical_Switch"),
    ("ls_in_arp_rsp", 50, "arp.tpa == 172.16.100.10 && arp.op == 1",
     f"eth.dst = eth.src; eth.src = {VM_MAC}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; "
     f"arp.sha = {VM_MAC}; arp.tpa = arp.spa; arp.spa = 172.16.100.10; outport = inport; "
     "flags.loopback = 1; output;", "build_lswitch_arp_nd_responder_known_ips",
     "Logical_Switch_Port"),
    ("ls_in_l2_lkup", 50, f"eth.dst == {VM_MAC}", f'outport = "{VM}"; output;',
     "build_lswitch_ip_unicast_lookup", "Logical_Switch_Port"),
    ("ls_in_l2_lkup", 50, f'eth.dst == {FIP_MAC} && is_chassis_resident("{VM}")',
     f'outport = "{SEED.gw_port}"; output;', "build_lswitch_ip_unicast_lookup", "NAT"),
    ("ls_in_l2_lkup", 80, "flags[1] == 0 && arp.op == 1 && arp.tpa == 10.0.2.216",
     f'clone {{outport = "{SEED.gw_port}"; output; }}; outport = "_MC_flood_l2"; output;',
     "build_lswitch_rport_arp_req_flow", "NAT"),
    # the FIP is ARPed for on the tenant switch too (its VMs reach it through the router)
    ("ls_in_l2_lkup", 80, "flags[1] == 0 && arp.op == 1 && arp.tpa == 10.0.2.216",
     f'clone {{outport = "{SEED.router_if_port}"; output; }}; outport = "_MC_flood_l2"; '
     "output;", "build_lswitch_rport_arp_req_flow", "NAT"),
    ("ls_in_l2_lkup", 80, f"flags[1] == 0 && nd_ns && nd.target == {IF_LLA}",
     f'clone {{outport = "{SEED.router_if_port}"; output; }}; outport = "_MC_flood_l2"; '
     "output;", "build_lswitch_rport_arp_req_flow", "Logical_Switch_Port"),
    # a router port's own addresses are answered on the asking VM's chassis
    ("ls_in_arp_rsp", 50, "arp.tpa == 172.16.100.1 && arp.op == 1",
     f"eth.dst = eth.src; eth.src = {IF_MAC}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; "
     f"arp.sha = {IF_MAC}; arp.tpa = arp.spa; arp.spa = 172.16.100.1; outport = inport; "
     "flags.loopback = 1; output;", "build_lswitch_arp_nd_responder_known_ips",
     "Logical_Switch_Port"),
    ("ls_in_arp_rsp", 50, f"nd_ns && ip6.dst == {{{IF_LLA}, {IF_SN}}} && "
     f"nd.target == {IF_LLA}",
     f"nd_na_router {{ eth.src = {IF_MAC}; ip6.src = {IF_LLA}; nd.target = {IF_LLA}; "
     f"nd.tll = {IF_MAC}; outport = inport; flags.loopback = 1; output; }};",
     "build_lswitch_arp_nd_responder_known_ips", "Logical_Switch_Port"),
    ("ls_out_acl", 2002,
     f"reg0[7] == 1 && (outport == @pg_{SEED.sg.replace('-', '_')} && ip4 && "
     "ip4.src == 0.0.0.0/0 && icmp4)", "reg0[1] = 1; next;", "consider_acl", "ACL"),
    ("ls_out_port_sec_l2", 50, f'outport == "{VM}" && eth.dst == {{{VM_MAC}}}', "output;",
     "build_lswitch_output_port_sec_op", "Logical_Switch_Port"),
    ("lr_in_admission", 50, f'eth.dst == {GW_MAC} && inport == "{GW}" && is_chassis_resident("{CR}")',
     f"xreg0[0..47] = {GW_MAC}; next;", "build_adm_ctrl_flows_for_lrouter_port",
     "Logical_Router_Port"),
    ("lr_in_lookup_neighbor", 100, "arp.op == 2",
     "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;",
     "build_neigh_learning_flows_for_lrouter", "Logical_Router"),
    ("lr_in_learn_neighbor", 90, "arp", "put_arp(inport, arp.spa, arp.sha); next;",
     "build_neigh_learning_flows_for_lrouter", "Logical_Router"),
    ("lr_in_ip_input", 90, "ip4.dst == 172.16.100.1 && icmp4.type == 8 && icmp4.code == 0",
     "ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ",
     "build_lrouter_ipv4_ip_input", "Logical_Router_Port"),
    ("lr_in_ip_input", 92, f'inport == "{GW}" && arp.op == 1 && arp.tpa == 10.0.2.211 && '
     f'is_chassis_resident("{CR}")',
     "eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ "
     "arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; "
     "flags.loopback = 1; output;", "build_lrouter_port_nat_arp_nd_flow", "Logical_Router_Port"),
    ("lr_in_unsnat", 100, f'ip && ip4.dst == 10.0.2.211 && inport == "{GW}" && '
     f'flags.loopback == 0 && is_chassis_resident("{CR}")', "ct_snat_in_czone;",
     "build_lrouter_in_unsnat_flow", "NAT"),
    ("lr_in_defrag", 0, "1", "next;", "build_lrouter_nat_defrag_and_lb", "Logical_Router"),
    ("lr_in_dnat", 100, f'ip && ip4.dst == 10.0.2.216 && inport == "{GW}"',
     "ct_dnat_in_czone(172.16.100.10);", "build_lrouter_in_dnat_flow", "NAT"),
    ("lr_in_ip_routing", 74, "ip4.dst == 172.16.100.0/24",
     f'ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = 172.16.100.1; eth.src = {IF_MAC}; '
     f'outport = "{IF}"; flags.loopback = 1; next;',
     "build_ip_routing_flows_for_lrouter_port", "Logical_Router_Port"),
    ("lr_in_ip_routing", 194, f'inport == "{IF}" && ip6.dst == fe80::/64',
     f'ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = {IF_LLA}; eth.src = {IF_MAC}; '
     f'outport = "{IF}"; flags.loopback = 1; next;',
     "build_ip_routing_flows_for_lrouter_port", "Logical_Router_Port"),
    ("lr_in_ip_input", 90, f'inport == "{IF}" && ip6.dst == {{{IF_LLA}, {IF_SN}}} && '
     f"nd_ns && nd.target == {IF_LLA}",
     "nd_na_router { eth.src = xreg0[0..47]; ip6.src = nd.target; nd.tll = xreg0[0..47]; "
     "outport = inport; flags.loopback = 1; output; };", "build_lrouter_nd_flow",
     "Logical_Router_Port"),
    ("lr_in_ip_routing", 1, "reg7 == 0 && ip4.dst == 0.0.0.0/0",
     f'ip.ttl--; reg8[0..15] = 0; reg0 = 10.0.2.2; reg1 = 10.0.2.211; eth.src = {GW_MAC}; '
     f'outport = "{GW}"; flags.loopback = 1; next;', "build_static_route_flow", "Logical_Router"),
    ("lr_in_arp_resolve", 100, f'outport == "{IF}" && reg0 == 172.16.100.10',
     f"eth.dst = {VM_MAC}; next;", "build_arp_resolve_flows_for_lrouter_port",
     "Logical_Switch_Port"),
    ("lr_in_arp_resolve", 0, "ip4", "get_arp(outport, reg0); next;",
     "build_arp_resolve_flows_for_lrouter", "Logical_Router"),
    ("lr_in_gw_redirect", 50, f'outport == "{GW}"', f'outport = "{CR}"; next;',
     "build_gateway_redirect_flows_for_lrouter", "Logical_Router_Port"),
    ("lr_in_arp_request", 100, "eth.dst == 00:00:00:00:00:00 && ip4",
     "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };",
     "build_arp_request_flows_for_lrouter", "Logical_Router"),
    ("lr_out_chk_dnat_local", 50, 'ip && ip4.dst == 10.0.2.216 && is_chassis_resident("' + VM + '")',
     "reg9[4] = 1; next;", "build_lrouter_out_is_dnat_local", "NAT"),
    ("lr_out_undnat", 100, f'ip && ip4.src == 172.16.100.10 && outport == "{GW}"',
     f"eth.src = {FIP_MAC}; ct_dnat_in_czone;", "build_lrouter_out_undnat_flow", "NAT"),
    ("lr_out_snat", 153, f'ip && ip4.src == 172.16.100.0/24 && outport == "{GW}" && '
     f'is_chassis_resident("{CR}")', "ct_snat_in_czone(10.0.2.211);",
     "build_lrouter_out_snat_flow", "NAT"),
    ("lr_out_delivery", 100, f'outport == "{GW}"', "output;",
     "build_egress_delivery_flows_for_lrouter_port", "Logical_Router_Port"),
]


@pytest.fixture(scope="module")
def compiled() -> tuple[Northd, Database]:
    sb = new_sb()
    northd = Northd(seed_nb(), sb)
    northd.run()
    return northd, sb


@pytest.mark.parametrize("stage,prio,match,actions,source,owner", EXPECTED,
                         ids=[f"{e[0]}-{e[1]}-{i}" for i, e in enumerate(EXPECTED)])
def test_stage_flow(compiled: tuple[Northd, Database], stage: str, prio: int, match: str,
                    actions: str, source: str, owner: str) -> None:
    northd, sb = compiled
    rows = [f for f in sb.rows("Logical_Flow") if f["external_ids"]["stage-name"] == stage
            and f["priority"] == prio and f["match"] == match and f["actions"] == actions]
    assert len(rows) == 1, [f["match"] for f in sb.rows("Logical_Flow")
                            if f["external_ids"]["stage-name"] == stage]
    flow = rows[0]
    assert flow["actions"] == actions
    assert flow["external_ids"]["source"] == f"northd.c:{source}"
    prov = northd.provenance(flow.uuid)
    assert prov and prov[0].owner_table == owner and prov[0].stage == stage
