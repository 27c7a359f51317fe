"""Logical switch flows (northd.c build_lswitch_* for 22.03), IPv4 only.

Owners: a Logical_Switch (per-datapath flows), a Logical_Switch_Port (per-port flows, also
the router-side ARP resolution for its addresses), the self-originated ARP flood of a router
port, and an ACL (on every switch it applies to).
"""

from __future__ import annotations

from ovnlab.nb import NatType
from ovnlab.northd.context import SwitchCtx
from ovnlab.northd.env import Env
from ovnlab.northd.features import ChassisFeatures
from ovnlab.northd.lflow import FlowSink, json_key
from ovnlab.northd.model import (
    LportAddresses,
    extract_lsp_addresses,
    ip_in_networks,
    is_lrp_enabled,
    is_lsp_enabled,
    lrp_networks,
    network_str,
)
from ovnlab.northd.switch_acl import Add, acl_hints, acls_od
from ovnlab.northd.switch_dhcp import dhcpv4_flows
from ovnlab.ovsdb import Row

MC_FLOOD = "_MC_flood"
MC_UNKNOWN = "_MC_unknown"
MC_FLOOD_L2 = "_MC_flood_l2"


def gen_switch(env: Env, ls: Row, out: FlowSink) -> None:
    """Per-datapath flows of build_lswitch_and_lrouter_iterate_by_od + build_lswitch_flows."""
    ctx = env.switch(ls.uuid)
    assert ctx is not None
    dp = ls.uuid
    feats = env.features
    blocked = feats.ct_blocked

    def add(stage: str, prio: int, match: str, actions: str, src: str) -> None:
        out.add(dp, stage, prio, match, actions, src, None)

    _pre_acl_lb_stateful(ctx, feats, add)
    acl_hints(ctx.has_acls, ctx.has_stateful, blocked, add)
    acls_od(ctx.has_acls, ctx.has_stateful, feats, add)
    _qos_stateful_hairpin(blocked, add)
    _admission_and_lookup(ctx, add)


def _pre_acl_lb_stateful(ctx: SwitchCtx, feats: ChassisFeatures, add: Add) -> None:
    """build_lswitch_lflows_pre_acl_and_acl: build_pre_acls, build_pre_lb,
    build_pre_stateful."""
    src = "northd.c:build_pre_acls"
    add("ls_in_pre_acl", 0, "1", "next;", src)
    add("ls_out_pre_acl", 0, "1", "next;", src)
    add("ls_in_pre_acl", 110, "eth.dst == $svc_monitor_mac", "next;", src)
    add("ls_out_pre_acl", 110, "eth.src == $svc_monitor_mac", "next;", src)
    if ctx.has_stateful:
        v6 = "nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)"
        add("ls_in_pre_acl", 110, v6, "next;", src)
        add("ls_out_pre_acl", 110, v6, "next;", src)
        add("ls_in_pre_acl", 110, "eth.mcast", "next;", src)
        add("ls_out_pre_acl", 110, "eth.mcast", "next;", src)
        add("ls_in_pre_acl", 100, "ip", "reg0[0] = 1; next;", src)
        add("ls_out_pre_acl", 100, "ip", "reg0[0] = 1; next;", src)
    # build_pre_lb (no load balancers in ovnlab)
    src = "northd.c:build_pre_lb"
    for p in ("in", "out"):
        add(f"ls_{p}_pre_lb", 110, "eth.mcast", "next;", src)
        add(f"ls_{p}_pre_lb", 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;", src)
        add(f"ls_{p}_pre_lb", 0, "1", "next;", src)
        add(f"ls_{p}_pre_lb", 110, "reg0[16] == 1", "next;", src)
    add("ls_in_pre_lb", 110, "eth.dst == $svc_monitor_mac", "next;", src)
    add("ls_out_pre_lb", 110, "eth.src == $svc_monitor_mac", "next;", src)
    # build_pre_stateful
    src = "northd.c:build_pre_stateful"
    for p in ("in", "out"):
        add(f"ls_{p}_pre_stateful", 0, "1", "next;", src)
        add(f"ls_{p}_pre_stateful", 110, "reg0[2] == 1", feats.ct_lb, src)
        add(f"ls_{p}_pre_stateful", 100, "reg0[0] == 1", "ct_next;", src)


def _qos_stateful_hairpin(blocked: str, add: Add) -> None:
    """build_qos, build_stateful, build_lb_hairpin (no QoS rules, no load balancers)."""
    src = "northd.c:build_qos"
    for st in ("ls_in_qos_mark", "ls_out_qos_mark", "ls_in_qos_meter", "ls_out_qos_meter"):
        add(st, 0, "1", "next;", src)
    # build_stateful
    src = "northd.c:build_stateful"
    add("ls_in_lb", 0, "1", "next;", src)
    for p in ("in", "out"):
        add(f"ls_{p}_stateful", 0, "1", "next;", src)
        add(f"ls_{p}_stateful", 100, "reg0[1] == 1 && reg0[13] == 1",
            f"ct_commit {{ {blocked} = 0; ct_label.label = reg3; }}; next;", src)
        add(f"ls_{p}_stateful", 100, "reg0[1] == 1 && reg0[13] == 0",
            f"ct_commit {{ {blocked} = 0; }}; next;", src)
    src = "northd.c:build_lb_hairpin"
    for st in ("ls_in_pre_hairpin", "ls_in_nat_hairpin", "ls_in_hairpin"):
        add(st, 0, "1", "next;", src)


def _admission_and_lookup(ctx: SwitchCtx, add: Add) -> None:
    """Admission control, port security, FDB, ARP/DHCP/DNS defaults, L2 lookup."""
    src = "northd.c:build_lswitch_lflows_admission_control"
    if not ctx.vlan_passthru:
        add("ls_in_port_sec_l2", 100, "vlan.present", "drop;", src)
    add("ls_in_port_sec_l2", 100, "eth.src[40]", "drop;", src)
    src = "northd.c:build_lswitch_input_port_sec_od"
    add("ls_in_port_sec_nd", 0, "1", "next;", src)
    add("ls_in_port_sec_ip", 0, "1", "next;", src)
    src = "northd.c:build_lswitch_learn_fdb_od"
    add("ls_in_lookup_fdb", 0, "1", "next;", src)
    add("ls_in_put_fdb", 0, "1", "next;", src)
    add("ls_in_arp_rsp", 0, "1", "next;", "northd.c:build_lswitch_arp_nd_responder_default")
    src = "northd.c:build_lswitch_dhcp_and_dns_defaults"
    for st in ("ls_in_dhcp_options", "ls_in_dhcp_response", "ls_in_dns_lookup",
               "ls_in_dns_response", "ls_in_external_port"):
        add(st, 0, "1", "next;", src)
    src = "northd.c:build_lswitch_destination_lookup_bmcast"
    add("ls_in_l2_lkup", 110, "eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)",
        "handle_svc_check(inport);", src)
    add("ls_in_l2_lkup", 70, "eth.mcast", f'outport = "{MC_FLOOD}"; output;', src)
    src = "northd.c:build_lswitch_output_port_sec_od"
    add("ls_out_port_sec_ip", 0, "1", "next;", src)
    add("ls_out_port_sec_l2", 100, "eth.mcast", "output;", src)
    src = "northd.c:build_lswitch_flows"
    add("ls_in_l2_lkup", 0, "1", "outport = get_fdb(eth.dst); next;", src)
    if ctx.has_unknown:
        add("ls_in_l2_unknown", 50, 'outport == "none"', f'outport = "{MC_UNKNOWN}"; output;', src)
    else:
        add("ls_in_l2_unknown", 50, 'outport == "none"', "drop;", src)
    add("ls_in_l2_unknown", 0, "1", "output;", src)


def _v4_set(ips: list[str]) -> str:
    return "{" + ", ".join(ips) + "}"


def lsp_addresses(lsp: Row, peer: Row | None = None) -> list[LportAddresses]:
    """op->lsp_addrs: the parsed addresses, the dynamic ones and, for a router port whose
    addresses say "router", its peer router port's networks (join_logical_ports)."""
    out = []
    for a in lsp["addresses"]:
        la = extract_lsp_addresses(a)
        if la is not None:
            out.append(la)
    if lsp["dynamic_addresses"]:
        la = extract_lsp_addresses(lsp["dynamic_addresses"])
        if la is not None:
            out.append(la)
    if peer is not None and "router" in lsp["addresses"]:
        nets = lrp_networks(peer)
        if nets is not None:
            out.append(nets)
    return out


def ps_addresses(lsp: Row) -> list[LportAddresses]:
    return [la for la in (extract_lsp_addresses(a) for a in lsp["port_security"])
            if la is not None]


def gen_switch_port(env: Env, lsp: Row, out: FlowSink) -> None:
    ls_uuid = env.idx.ls_of_lsp.get(lsp.uuid)
    if ls_uuid is None:
        return
    ctx = env.switch(ls_uuid)
    assert ctx is not None
    dp = ls_uuid
    jk = json_key(lsp["name"])
    name = lsp["name"]
    h = lsp.uuid
    typ = lsp["type"]
    enabled = is_lsp_enabled(lsp)
    ps = ps_addresses(lsp)
    external = typ == "external"

    _input_port_sec_and_fdb(lsp, dp, ps, out)
    has_unknown = "unknown" in lsp["addresses"]
    # skip_port_from_conntrack: router ports (pre_lb always, pre_acl if stateful), localnet
    if typ in ("router", "localnet"):
        src = "northd.c:skip_port_from_conntrack"
        stages = ["pre_lb"] + (["pre_acl"] if ctx.has_stateful else [])
        for st in stages:
            out.add(dp, f"ls_in_{st}", 110, f"ip && inport == {jk}", "next;", src, h, name)
            out.add(dp, f"ls_out_{st}", 110, f"ip && outport == {jk}", "next;", src, h, name)
    # ARP responder
    if typ == "localnet" or typ == "vtep":
        out.add(dp, "ls_in_arp_rsp", 100, f"inport == {jk}", "next;",
                "northd.c:build_lswitch_arp_nd_responder_skip_local", h, name)
    elif not external and not has_unknown and not ctx.vlan_passthru and typ != "virtual":
        _arp_nd_responder(lsp_addresses(lsp, env.peer_lrp(lsp) if typ == "router" else None),
                          typ == "router", dp, jk, name, h, out)
    dhcpv4_flows(env, lsp, lsp_addresses(lsp), ctx, dp, out)
    if not external:
        # build_lswitch_ip_unicast_lookup
        _unicast_lookup(env, lsp, dp, jk, ctx.localnet_ports != (), ctx.all_router_ports, out)
        _output_port_sec(lsp, dp, ps, enabled, out)
    # build_arp_resolve_flows_for_lrouter_port, switch-port half
    if enabled:
        _arp_resolve_for_lsp(env, lsp, ctx.router_ports, out)


def _input_port_sec_and_fdb(lsp: Row, dp: str, ps: list[LportAddresses],
                            out: FlowSink) -> None:
    """build_lswitch_input_port_sec_op, build_lswitch_learn_fdb_op."""
    jk, name, h, typ = json_key(lsp["name"]), lsp["name"], lsp.uuid, lsp["type"]
    if is_lsp_enabled(lsp) and typ != "external":
        m = f"inport == {jk}"
        if ps:
            m += " && eth.src == {" + " ".join(p.mac for p in ps) + "}"
        out.add(dp, "ls_in_port_sec_l2", 50, m, "next;",
                "northd.c:build_lswitch_input_port_sec_op", h, name)
        if ps:
            _port_sec_ip(dp, jk, name, h, ps, True, out)
            _port_sec_nd(dp, jk, name, h, ps, out)
    # build_lswitch_learn_fdb_op
    if not ps and typ == "" and "unknown" in lsp["addresses"]:
        src = "northd.c:build_lswitch_learn_fdb_op"
        out.add(dp, "ls_in_lookup_fdb", 100, f"inport == {jk}",
                "reg0[11] = lookup_fdb(inport, eth.src); next;", src, h, name)
        out.add(dp, "ls_in_put_fdb", 100, f"inport == {jk} && reg0[11] == 0",
                "put_fdb(inport, eth.src); next;", src, h, name)


def _output_port_sec(lsp: Row, dp: str, ps: list[LportAddresses], enabled: bool,
                     out: FlowSink) -> None:
    """build_lswitch_output_port_sec_op."""
    jk, name, h = json_key(lsp["name"]), lsp["name"], lsp.uuid
    src = "northd.c:build_lswitch_output_port_sec_op"
    m = f"outport == {jk}"
    if enabled:
        if ps:
            m += " && eth.dst == {" + " ".join(p.mac for p in ps) + "}"
        out.add(dp, "ls_out_port_sec_l2", 50, m, "output;", src, h, name)
    else:
        out.add(dp, "ls_out_port_sec_l2", 150, m, "drop;", src, h, name)
    if ps:
        _port_sec_ip(dp, jk, name, h, ps, False, out)


def _arp_nd_responder(addrs: list[LportAddresses], is_router: bool, dp: str, jk: str, name: str,
                      h: str, out: FlowSink) -> None:
    """build_lswitch_arp_nd_responder_known_ips(): answer ARP / ND for the port's addresses
    on the sender's chassis, except to the port itself (its duplicate address checks)."""
    src = "northd.c:build_lswitch_arp_nd_responder_known_ips"
    for la in addrs:
        for ip in la.ipv4:
            a = str(ip.ip)
            m = f"arp.tpa == {a} && arp.op == 1"
            out.add(dp, "ls_in_arp_rsp", 50, m,
                    f"eth.dst = eth.src; eth.src = {la.mac}; arp.op = 2; /* ARP reply */ "
                    f"arp.tha = arp.sha; arp.sha = {la.mac}; arp.tpa = arp.spa; "
                    f"arp.spa = {a}; outport = inport; flags.loopback = 1; output;",
                    src, h)
            out.add(dp, "ls_in_arp_rsp", 100, f"{m} && inport == {jk}", "next;", src, h, name)
        for ip6 in la.ipv6:
            a = ip6.addr_s
            m = f"nd_ns && ip6.dst == {{{a}, {ip6.sn_addr_s}}} && nd.target == {a}"
            na = "nd_na_router" if is_router else "nd_na"
            out.add(dp, "ls_in_arp_rsp", 50, m,
                    f"{na} {{ eth.src = {la.mac}; ip6.src = {a}; nd.target = {a}; "
                    f"nd.tll = {la.mac}; outport = inport; flags.loopback = 1; output; }};",
                    src, h)
            out.add(dp, "ls_in_arp_rsp", 100, f"{m} && inport == {jk}", "next;", src, h, name)


def _port_sec_ip(dp: str, jk: str, name: str, h: str, ps: list[LportAddresses], ingress: bool,
                 out: FlowSink) -> None:
    src = "northd.c:build_port_security_ip"
    st = "ls_in_port_sec_ip" if ingress else "ls_out_port_sec_ip"
    for p in ps:
        if p.ipv4:
            if ingress:
                out.add(dp, st, 90, f"inport == {jk} && eth.src == {p.mac} && ip4.src == 0.0.0.0"
                        " && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67",
                        "next;", src, h, name)
                parts = []
            else:
                parts = ["255.255.255.255", "224.0.0.0/4"]
            for ip in p.ipv4:
                if ip.network.prefixlen == 32 or ip.ip != ip.network.network_address:
                    parts.append(str(ip.ip))
                    if not ingress and ip.network.prefixlen != 32:
                        parts.append(str(ip.network.broadcast_address))
                else:
                    parts.append(network_str(ip))
            if ingress:
                m = f"inport == {jk} && eth.src == {p.mac} && ip4.src == {_v4_set(parts)}"
            else:
                m = f"outport == {jk} && eth.dst == {p.mac} && ip4.dst == {_v4_set(parts)}"
            out.add(dp, st, 90, m, "next;", src, h, name)
        d, f = ("inport", "eth.src") if ingress else ("outport", "eth.dst")
        out.add(dp, st, 80, f"{d} == {jk} && {f} == {p.mac} && ip", "drop;", src, h, name)


def _port_sec_nd(dp: str, jk: str, name: str, h: str, ps: list[LportAddresses],
                 out: FlowSink) -> None:
    src = "northd.c:build_port_security_nd"
    for p in ps:
        m = f"inport == {jk} && eth.src == {p.mac} && arp.sha == {p.mac}"
        if p.ipv4:
            ips = [str(ip.ip) if ip.network.prefixlen == 32 else network_str(ip) for ip in p.ipv4]
            m += " && arp.spa == " + _v4_set(ips)
        out.add(dp, "ls_in_port_sec_nd", 90, m, "next;", src, h, name)
    out.add(dp, "ls_in_port_sec_nd", 80, f"inport == {jk} && (arp || nd)", "drop;", src, h, name)


def _unicast_lookup(env: Env, lsp: Row, dp: str, jk: str, has_localnet: bool, all_router: bool,
                    out: FlowSink) -> None:
    src = "northd.c:build_lswitch_ip_unicast_lookup"
    h = lsp.uuid
    peer = env.peer_lrp(lsp)
    if peer is not None:
        _rport_arp_req_flows(env, lsp, peer, dp, jk, all_router, out)
    for a in lsp["addresses"]:
        la = extract_lsp_addresses(a)
        if la is not None:
            out.add(dp, "ls_in_l2_lkup", 50, f"eth.dst == {la.mac}",
                    f"outport = {jk}; output;", src, h)
        elif a == "dynamic" and lsp["dynamic_addresses"]:
            dla = extract_lsp_addresses(lsp["dynamic_addresses"])
            if dla is not None:
                out.add(dp, "ls_in_l2_lkup", 50, f"eth.dst == {dla.mac}",
                        f"outport = {jk}; output;", src, h)
        elif a == "router" and peer is not None:
            nets = lrp_networks(peer)
            assert nets is not None
            m = f"eth.dst == {nets.mac}"
            rctx = env.router(env.idx.lr_of_lrp[peer.uuid])
            if rctx is not None and rctx.dgp is not None and has_localnet:
                if rctx.dgp.uuid == peer.uuid:
                    m += f" && is_chassis_resident({json_key(rctx.dgp.cr)})"
                elif (peer["options"].get("reside-on-redirect-chassis") == "true"
                      and rctx.n_dgp == 1):
                    m += f" && is_chassis_resident({json_key(rctx.dgp.cr)})"
            out.add(dp, "ls_in_l2_lkup", 50, m, f"outport = {jk}; output;", src, h)
            # The per-FIP `eth.dst == external_mac` flows are owned by the NAT rows.


def _rport_arp_req_flows(env: Env, lsp: Row, peer: Row, dp: str, jk: str, all_router: bool,
                         out: FlowSink) -> None:
    """build_lswitch_rport_arp_req_flows() for the router's own IPs and SNAT IPs (the
    dnat_and_snat external IPs are emitted by their NAT rows)."""
    if not is_lrp_enabled(peer):
        return
    lr_uuid = env.idx.lr_of_lrp[peer.uuid]
    rctx = env.router(lr_uuid)
    nets = lrp_networks(peer)
    assert rctx is not None and nets is not None
    ips: list[str] = []
    lr = env.row("Logical_Router", lr_uuid)
    assert lr is not None
    seen: set[str] = set()
    for u in lr["nat"]:
        nat = env.row("NAT", u)
        if nat is None or nat["type"] != NatType.SNAT:
            continue
        e = env.nat_fact(nat, rctx.dgp is not None).entry
        if e is not None and e.external_ip not in seen:
            seen.add(e.external_ip)
            ips.append(e.external_ip)
    ips.extend(str(ip.ip) for ip in nets.ipv4)
    for ip in ips:
        rport_arp_req_flow(ip, dp, jk, all_router, lsp.uuid, out)
    for ip6 in nets.ipv6:
        rport_arp_req_flow(ip6.addr_s, dp, jk, all_router, lsp.uuid, out)
    # The dnat(_and_snat) IPs are emitted by their NAT rows, the self-originated flood by
    # "selforig".


def rport_arp_req_flow(ip: str, dp: str, jk: str, all_router: bool, hint: str,
                       out: FlowSink) -> None:
    """ARP requests / neighbour solicitations for a router-owned address go to that router
    port (and are still flooded to the switch's other ports)."""
    src = "northd.c:build_lswitch_rport_arp_req_flow"
    if ":" in ip:
        m = f"flags[1] == 0 && nd_ns && nd.target == {ip}"
    else:
        m = f"flags[1] == 0 && arp.op == 1 && arp.tpa == {ip}"
    if not all_router:
        a = f'clone {{outport = {jk}; output; }}; outport = "{MC_FLOOD_L2}"; output;'
    else:
        a = f"outport = {jk}; output;"
    out.add(dp, "ls_in_l2_lkup", 80, m, a, src, hint)


def gen_self_orig(env: Env, lsp: Row, out: FlowSink) -> None:
    """build_lswitch_rport_arp_req_self_orig_flow(): ARP requests the router itself sends
    (from its MAC or a FIP's external MAC) are flooded on L2 only."""
    ls_uuid = env.idx.ls_of_lsp.get(lsp.uuid)
    peer = env.peer_lrp(lsp)
    if ls_uuid is None or peer is None or not is_lrp_enabled(peer):
        return
    ctx = env.switch(ls_uuid)
    assert ctx is not None
    if ctx.all_router_ports:
        return
    nets = lrp_networks(peer)
    assert nets is not None
    lr_uuid = env.idx.lr_of_lrp[peer.uuid]
    rn = env.router_nats(lr_uuid)
    assert rn is not None
    macs = [nets.mac, *(m for m in rn.sorted_macs if m != nets.mac)]
    out.add(ls_uuid, "ls_in_l2_lkup", 75,
            "eth.src == {" + ", ".join(macs) + "} && (arp.op == 1 || nd_ns)",
            f'outport = "{MC_FLOOD_L2}"; output;',
            "northd.c:build_lswitch_rport_arp_req_self_orig_flow", None)


def _arp_resolve_for_lsp(env: Env, lsp: Row, router_ports: tuple[str, ...],
                         out: FlowSink) -> None:
    src = "northd.c:build_arp_resolve_flows_for_lrouter_port"
    if not router_ports:
        return
    typ = lsp["type"]
    if typ == "router":
        peer = env.peer_lrp(lsp)
        if peer is None:
            return
        lr_uuid = env.idx.lr_of_lrp[peer.uuid]
        lr = env.row("Logical_Router", lr_uuid)
        assert lr is not None
        if lr["options"].get("dynamic_neigh_routers") == "true":
            return
        for rp_name in router_ports:
            rlsp = env.lsp_named(rp_name)
            other = env.peer_lrp(rlsp) if rlsp is not None else None
            if other is None or other.uuid == peer.uuid:
                continue
            onets = lrp_networks(other)
            assert onets is not None
            if onets.ipv4:
                ips = [str(i.ip) for i in onets.ipv4]
                m = f"outport == {json_key(peer['name'])} && reg0 == " + (
                    ips[0] if len(ips) == 1 else _v4_set(ips))
                out.add(lr_uuid, "lr_in_arp_resolve", 100, m, f"eth.dst = {onets.mac}; next;",
                        src, lsp.uuid)
        return
    if typ == "virtual":
        return
    addrs = lsp_addresses(lsp)
    if not addrs:
        return
    for rp_name in router_ports:
        rlsp = env.lsp_named(rp_name)
        peer = env.peer_lrp(rlsp) if rlsp is not None else None
        if peer is None:
            continue
        nets = lrp_networks(peer)
        assert nets is not None
        lr_uuid = env.idx.lr_of_lrp[peer.uuid]
        for la in addrs:
            for ip in la.ipv4:
                a = str(ip.ip)
                if not ip_in_networks(a, nets.ipv4):
                    continue
                out.add(lr_uuid, "lr_in_arp_resolve", 100,
                        f"outport == {json_key(peer['name'])} && reg0 == {a}",
                        f"eth.dst = {la.mac}; next;", src, lsp.uuid)
