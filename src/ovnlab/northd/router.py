"""Logical router flows (northd.c build_lrouter_* for 22.03), IPv4 only, distributed
routers with at most one distributed gateway port (what Neutron creates).

Owners: a Logical_Router (per-datapath flows, static routes), a Logical_Router_Port
(admission, neighbour learning, ip_input, connected routes, delivery, gw redirect), and a
NAT row (every NAT flow of build_lrouter_nat_defrag_and_lb and friends, on the router and
on the external switch).
"""

from __future__ import annotations

from collections.abc import Callable

from ovnlab.nb import NatType
from ovnlab.northd.context import RouterCtx
from ovnlab.northd.env import Env
from ovnlab.northd.lflow import FlowSink, json_key
from ovnlab.northd.model import (
    LportAddresses,
    ip_in_networks,
    is_lrp_enabled,
    lrp_networks,
    network_str,
    parse_ipv4_cidr,
)
from ovnlab.northd.router_mtu import gateway_mtu_flow, gateway_mtu_flows
from ovnlab.ovsdb import Row

ROUTE_PRIO_OFFSET_MULTIPLIER = 3
ROUTE_PRIO_OFFSET_STATIC = 1
ROUTE_PRIO_OFFSET_CONNECTED = 2
REG_INPORT_ETH_ADDR = "xreg0[0..47]"
MFF_N_LOG_REGS = 10
_Add = Callable[..., None]  # (stage, priority, match, actions, source[, hint])


def gen_router(env: Env, lr: Row, out: FlowSink) -> None:
    ctx = env.router(lr.uuid)
    assert ctx is not None
    dp = lr.uuid

    def add(stage: str, prio: int, match: str, actions: str, src: str,
            hint: str | None = None) -> None:
        out.add(dp, stage, prio, match, actions, src, hint)

    snat_router_level_arp(env, lr, ctx, out)
    add("lr_in_admission", 100, "vlan.present || eth.src[40]", "drop;",
        "northd.c:build_adm_ctrl_flows_for_lrouter")
    _neigh_learning(ctx, add)
    _routing_and_resolution(env, lr, out, add)
    _ip_input_drops(add)
    _nat_defaults(ctx, lr, env, add)


def _neigh_learning(ctx: RouterCtx, add: _Add) -> None:
    """build_neigh_learning_flows_for_lrouter."""
    src = "northd.c:build_neigh_learning_flows_for_lrouter"
    learn = ctx.learn_from_arp_request
    extra = "" if learn else "reg9[3] = 1; "
    add("lr_in_lookup_neighbor", 100, "arp.op == 2",
        f"reg9[2] = lookup_arp(inport, arp.spa, arp.sha); {extra}next;", src)
    add("lr_in_lookup_neighbor", 100, "nd_na",
        f"reg9[2] = lookup_nd(inport, nd.target, nd.tll); {extra}next;", src)
    if not learn:
        add("lr_in_lookup_neighbor", 110, "nd_na && ip6.src == fe80::/10 && ip6.dst == ff00::/8",
            "reg9[2] = lookup_nd(inport, nd.target, nd.tll); "
            "reg9[3] = lookup_nd_ip(inport, nd.target); next;", src)
    add("lr_in_lookup_neighbor", 100, "nd_ns",
        "reg9[2] = lookup_nd(inport, ip6.src, nd.sll); "
        + ("" if learn else "reg9[3] = lookup_nd_ip(inport, ip6.src); ") + "next;", src)
    add("lr_in_lookup_neighbor", 0, "1", "reg9[2] = 1; next;", src)
    add("lr_in_learn_neighbor", 100, "reg9[2] == 1" + ("" if learn else " || reg9[3] == 0"),
        "next;", src)
    add("lr_in_learn_neighbor", 90, "arp", "put_arp(inport, arp.spa, arp.sha); next;", src)
    add("lr_in_learn_neighbor", 95, "nd_ns && (ip6.src == 0 || nd.sll == 0)", "next;", src)
    add("lr_in_learn_neighbor", 95, "nd_na && nd.tll == 0",
        "put_nd(inport, nd.target, eth.src); next;", src)
    add("lr_in_learn_neighbor", 90, "nd_na", "put_nd(inport, nd.target, nd.tll); next;", src)
    add("lr_in_learn_neighbor", 90, "nd_ns", "put_nd(inport, ip6.src, nd.sll); next;", src)


def _routing_and_resolution(env: Env, lr: Row, out: FlowSink, add: _Add) -> None:
    """ND/RA, routing, multicast lookup, policy, ARP resolve/request defaults."""
    add("lr_in_nd_ra_options", 0, "1", "next;", "northd.c:build_ND_RA_flows_for_lrouter")
    add("lr_in_nd_ra_response", 0, "1", "next;", "northd.c:build_ND_RA_flows_for_lrouter")
    add("lr_in_ip_routing_pre", 0, "1", "reg7 = 0; next;",
        "northd.c:build_ip_routing_pre_flows_for_lrouter")
    # build_static_route_flows_for_lrouter
    add("lr_in_ip_routing_ecmp", 150, "reg8[0..15] == 0", "next;",
        "northd.c:build_static_route_flows_for_lrouter")
    _static_routes(env, lr, out)
    src = "northd.c:build_mcast_lookup_flows_for_lrouter"
    add("lr_in_ip_routing", 10550, "nd_rs || nd_ra", "drop;", src)
    if lr["options"].get("mcast_relay", "").lower() == "true":
        # Relay without IGMP groups (not modelled): flood to mcast_flood ports or drop.
        if _flood_static(env, lr):
            add("lr_in_ip_routing", 10450, "ip4.mcast || ip6.mcast",
                'clone { outport = "_MC_static"; ip.ttl--; next; };', src)
        else:
            add("lr_in_ip_routing", 10450, "ip4.mcast || ip6.mcast", "drop;", src)
    src = "northd.c:build_ingress_policy_flows_for_lrouter"
    add("lr_in_policy", 0, "1", "reg8[0..15] = 0; next;", src)
    add("lr_in_policy_ecmp", 150, "reg8[0..15] == 0", "next;", src)
    src = "northd.c:build_arp_resolve_flows_for_lrouter"
    add("lr_in_arp_resolve", 500, "ip4.mcast || ip6.mcast", "next;", src)
    add("lr_in_arp_resolve", 0, "ip4", "get_arp(outport, reg0); next;", src)
    add("lr_in_arp_resolve", 0, "ip6", "get_nd(outport, xxreg0); next;", src)
    src = "northd.c:build_check_pkt_len_flows_for_lrouter"
    add("lr_in_chk_pkt_len", 0, "1", "next;", src)
    add("lr_in_larger_pkts", 0, "1", "next;", src)
    add("lr_in_gw_redirect", 0, "1", "next;", "northd.c:build_gateway_redirect_flows_for_lrouter")
    src = "northd.c:build_arp_request_flows_for_lrouter"
    add("lr_in_arp_request", 100, "eth.dst == 00:00:00:00:00:00 && ip4",
        "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; "
        "arp.op = 1; output; };", src)
    add("lr_in_arp_request", 100, "eth.dst == 00:00:00:00:00:00 && ip6",
        "nd_ns { nd.target = xxreg0; output; };", src)
    add("lr_in_arp_request", 0, "1", "output;", src)


def _ip_input_drops(add: _Add) -> None:
    """build_misc_local_traffic_drop_flows_for_lrouter."""
    src = "northd.c:build_misc_local_traffic_drop_flows_for_lrouter"
    add("lr_in_ip_input", 100, "ip4.src_mcast ||ip4.src == 255.255.255.255 || "
        "ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || "
        "ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8", "drop;", src)
    add("lr_in_ip_input", 85, "arp || nd", "drop;", src)
    add("lr_in_ip_input", 84, "nd_rs || nd_ra", "next;", src)
    add("lr_in_ip_input", 83, "ip6.mcast_rsvd", "drop;", src)
    add("lr_in_ip_input", 82, "ip4.mcast || ip6.mcast", "drop;", src)
    add("lr_in_ip_input", 50, "eth.bcast", "drop;", src)
    add("lr_in_ip_input", 32, "ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)",
        "drop;", src)
    add("lr_in_ip_input", 30, "ip.ttl == {0, 1}", "drop;", src)
    add("lr_in_ip_input", 0, "1", "next;", src)


def _nat_defaults(ctx: RouterCtx, lr: Row, env: Env, add: _Add) -> None:
    """build_lrouter_nat_defrag_and_lb: the per-datapath part."""
    src = "northd.c:build_lrouter_nat_defrag_and_lb"
    add("lr_in_defrag", 0, "1", "next;", src)
    add("lr_in_unsnat", 0, "1", "next;", src)
    add("lr_out_chk_dnat_local", 0, "1", "reg9[4] = 0; next;", src)
    add("lr_out_snat", 0, "1", "next;", src)
    add("lr_in_dnat", 0, "1", "next;", src)
    add("lr_out_undnat", 0, "1", "next;", src)
    add("lr_out_post_undnat", 0, "1", "next;", src)
    add("lr_out_post_snat", 0, "1", "next;", src)
    add("lr_out_egr_loop", 0, "1", "next;", src)
    add("lr_in_ecmp_stateful", 0, "1", "next;", src)
    if ctx.is_gw_router and lr["nat"]:
        add("lr_out_undnat", 50, "ip", "flags.loopback = 1; ct_dnat;", src)
        add("lr_out_post_undnat", 50, "ip && ct.new", "ct_commit { } ; next; ", src)
    add("lr_out_snat", 120, "nd_ns", "next;", src)
    if (ctx.is_gw_router or ctx.dgp is not None) and ctx.n_dgp <= 1 and ctx.has_nat:
        add("lr_out_chk_dnat_local", 50, f"ip && {env.features.ct_natted} == 1",
            "reg9[4] = 1; next;", src, lr.uuid)


def _flood_static(env: Env, lr: Row) -> bool:
    """mcast_info.rtr.flood_static: an enabled router port with options:mcast_flood=true."""
    for u in lr["ports"]:
        lrp = env.row("Logical_Router_Port", u)
        if lrp is not None and is_lrp_enabled(lrp) and \
                lrp["options"].get("mcast_flood", "").lower() == "true":
            return True
    return False


def _static_routes(env: Env, lr: Row, out: FlowSink) -> None:
    """build_static_route_flow() for IPv4 routes of the main route table."""
    src = "northd.c:build_static_route_flow"
    lrps = [r for r in (env.row("Logical_Router_Port", u) for u in lr["ports"]) if r is not None]
    for u in lr["static_routes"]:
        route = env.row("Logical_Router_Static_Route", u)
        if route is None or route["route_table"]:
            continue
        prefix = parse_ipv4_cidr(route["ip_prefix"])
        if prefix is None:
            continue
        is_src = route["policy"] == "src-ip"
        discard = route["nexthop"] == "discard"
        out_port: Row | None = None
        lrp_addr: str | None = None
        if not discard:
            out_port, lrp_addr = _route_outport(env, lrps, route)
            if out_port is None or lrp_addr is None:
                continue
        ofs = (ROUTE_PRIO_OFFSET_CONNECTED if route["options"].get("origin") == "connected"
               else ROUTE_PRIO_OFFSET_STATIC)
        add_route(out, lr.uuid, out_port, lrp_addr, network_str(prefix), prefix.network.prefixlen,
                  None if discard else route["nexthop"], is_src, route.uuid, discard, ofs, src)


def _route_outport(env: Env, lrps: list[Row], route: Row) -> tuple[Row | None, str | None]:
    nexthop = route["nexthop"]
    if route["output_port"]:
        port = env.lrp_named(route["output_port"])
        if port is None:
            return None, None
        nets = lrp_networks(port)
        if nets is None:
            return None, None
        for ip in nets.ipv4:
            if nexthop and ip_in_networks(nexthop, (ip,)):
                return port, str(ip.ip)
        return port, (str(nets.ipv4[0].ip) if nets.ipv4 else None)
    for port in lrps:
        nets = lrp_networks(port)
        if nets is None:
            continue
        for ip in nets.ipv4:
            if nexthop and ip_in_networks(nexthop, (ip,)):
                return port, str(ip.ip)
    return None, None


def add_route(out: FlowSink, dp: str, port: Row | None, lrp_addr: str | None, network: str,
              plen: int, gateway: str | None, is_src: bool, hint: str, discard: bool, ofs: int,
              src: str) -> None:
    if is_src:
        d, ofs = "src", 0
    else:
        d = "dst"
    prio = plen * ROUTE_PRIO_OFFSET_MULTIPLIER + ofs
    v = "6" if ":" in network else "4"
    m = ""
    if v == "6" and network.startswith("fe80:") and port is not None:
        # IPv6 link-local routes are scoped to the router port they belong to.
        m = f"inport == {json_key(port['name'])} && "
    if ofs == ROUTE_PRIO_OFFSET_STATIC:
        m += "reg7 == 0 && "
    m += f"ip{v}.{d} == {network}"
    if discard or port is None:
        actions = "drop;"
    else:
        nets = lrp_networks(port)
        assert nets is not None
        nh = gateway if gateway else f"ip{v}.dst"
        nh_reg, src_reg = ("reg0", "reg1") if v == "4" else ("xxreg0", "xxreg1")
        actions = (f"ip.ttl--; reg8[0..15] = 0; {nh_reg} = {nh}; {src_reg} = {lrp_addr}; "
                   f"eth.src = {nets.mac}; outport = {json_key(port['name'])}; "
                   "flags.loopback = 1; next;")
    out.add(dp, "lr_in_ip_routing", prio, m, actions, src, hint)


def arp_flow(out: FlowSink, dp: str, port_jk: str | None, ip: str, eth: str, extra: str | None,
              drop: bool, prio: int, hint: str | None, src: str) -> None:
    """build_lrouterarp_flow()."""
    m = f"inport == {port_jk} && " if port_jk else ""
    m += f"arp.op == 1 && arp.tpa == {ip}"
    if extra:
        m += f" && {extra}"
    if drop:
        a = "drop;"
    else:
        a = (f"eth.dst = eth.src; eth.src = {eth}; arp.op = 2; /* ARP reply */ "
             f"arp.tha = arp.sha; arp.sha = {eth}; arp.tpa <-> arp.spa; "
             "outport = inport; flags.loopback = 1; output;")
    out.add(dp, "lr_in_ip_input", prio, m, a, src, hint)


def gen_router_port(env: Env, lrp: Row, out: FlowSink) -> None:
    lr_uuid = env.idx.lr_of_lrp.get(lrp.uuid)
    nets = lrp_networks(lrp)
    if lr_uuid is None or nets is None:
        return
    ctx = env.router(lr_uuid)
    assert ctx is not None
    dp = lr_uuid
    h = lrp.uuid
    jk = json_key(lrp["name"])
    dgp = ctx.dgp
    is_dgp = dgp is not None and dgp.uuid == lrp.uuid
    cr_jk = json_key(dgp.cr) if dgp is not None else ""
    peer_lsp = env.peer_lsp(lrp)
    peer_has_localnet = False
    if peer_lsp is not None:
        sw = env.switch(env.idx.ls_of_lsp[peer_lsp.uuid])
        peer_has_localnet = sw is not None and bool(sw.localnet_ports)

    if not is_lrp_enabled(lrp):
        return
    # build_adm_ctrl_flows_for_lrouter_port
    src = "northd.c:build_adm_ctrl_flows_for_lrouter_port"
    act = f"{REG_INPORT_ETH_ADDR} = {nets.mac}; next;"
    gateway_mtu_flow(env, out, lrp, "lr_in_admission", 50, 55, f"eth.mcast && inport == {jk}",
                     act, h, src)
    m = f"eth.dst == {nets.mac} && inport == {jk}"
    if is_dgp:
        m += f" && is_chassis_resident({cr_jk})"
    gateway_mtu_flow(env, out, lrp, "lr_in_admission", 50, 55, m, act, h, src)
    _port_neigh_and_routes(ctx, lrp, nets, jk, cr_jk if is_dgp else None, out)
    # build_lrouter_ipv4_ip_input, build_ipv6_input_flows_for_lrouter_port
    _ipv4_ip_input(env, lr_uuid, ctx, lrp, nets, jk, is_dgp, cr_jk, peer_has_localnet, out)
    _ipv6_ip_input(ctx, lrp, nets, jk, is_dgp, cr_jk, out)
    gateway_mtu_flows(env, lr_uuid, lrp, nets, jk, out)
    # build_arp_resolve_flows_for_lrouter_port (router port half)
    src = "northd.c:build_arp_resolve_flows_for_lrouter_port"
    if is_dgp and lrp["options"].get("redirect-type", "").lower() == "bridged":
        out.add(dp, "lr_in_arp_resolve", 50, f"outport == {jk} && !is_chassis_resident({cr_jk})",
                f"eth.dst = {nets.mac}; next;", src, h)
    _drop_own_dest(out, dp, nets, ctx.snat_ips, "lr_in_arp_resolve", 1, True, h)
    # build_gateway_redirect_flows_for_lrouter (per DGP)
    if is_dgp and dgp is not None:
        out.add(dp, "lr_in_gw_redirect", 50, f"outport == {jk}", f"outport = {cr_jk}; next;",
                "northd.c:build_gateway_redirect_flows_for_lrouter", h)
    # build_egress_delivery_flows_for_lrouter_port
    out.add(dp, "lr_out_delivery", 100, f"outport == {jk}", "output;",
            "northd.c:build_egress_delivery_flows_for_lrouter_port", None)



def _port_neigh_and_routes(ctx: RouterCtx, lrp: Row, nets: LportAddresses, jk: str,
                           cr_jk: str | None, out: FlowSink) -> None:
    """build_neigh_learning_flows_for_lrouter_port and the port's connected routes
    (build_ip_routing_flows_for_lrouter_port); `cr_jk`: the chassisredirect port a
    gateway port's ARP is learnt on."""
    dp, h = ctx.uuid, lrp.uuid
    # build_neigh_learning_flows_for_lrouter_port
    src = "northd.c:build_neigh_learning_flows_for_lrouter_port"
    for ip in nets.ipv4:
        res = f" && is_chassis_resident({cr_jk})" if cr_jk else ""
        if not ctx.learn_from_arp_request:
            out.add(dp, "lr_in_lookup_neighbor", 110,
                    f"inport == {jk} && arp.spa == {network_str(ip)} && arp.tpa == {ip.ip} "
                    f"&& arp.op == 1{res}",
                    "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); reg9[3] = 1; next;", src, h)
        extra = "" if ctx.learn_from_arp_request else "reg9[3] = lookup_arp_ip(inport, arp.spa); "
        out.add(dp, "lr_in_lookup_neighbor", 100,
                f"inport == {jk} && arp.spa == {network_str(ip)} && arp.op == 1{res}",
                f"reg9[2] = lookup_arp(inport, arp.spa, arp.sha); {extra}next;", src, h)
    # build_ip_routing_flows_for_lrouter_port: connected routes
    for ip in nets.ipv4:
        add_route(out, dp, lrp, str(ip.ip), network_str(ip), ip.network.prefixlen, None, False, h,
                  False, ROUTE_PRIO_OFFSET_CONNECTED,
                  "northd.c:build_ip_routing_flows_for_lrouter_port")
    for ip6 in nets.ipv6:
        add_route(out, dp, lrp, ip6.addr_s, f"{ip6.network_s}/{ip6.plen}", ip6.plen, None, False,
                  h, False, ROUTE_PRIO_OFFSET_CONNECTED,
                  "northd.c:build_ip_routing_flows_for_lrouter_port")


def _drop_own_dest(out: FlowSink, dp: str, nets: LportAddresses, snat_ips: frozenset[str], stage: str,
                   prio: int, drop_snat_ip: bool, hint: str) -> None:
    ips = [str(ip.ip) for ip in nets.ipv4 if drop_snat_ip == (str(ip.ip) in snat_ips)]
    if ips:
        out.add(dp, stage, prio, "ip4.dst == {" + ", ".join(ips) + "}", "drop;",
                "northd.c:build_lrouter_drop_own_dest", hint)
    ips = [ip6.addr_s for ip6 in nets.ipv6 if drop_snat_ip == (ip6.addr_s in snat_ips)]
    if ips:
        out.add(dp, stage, prio, "ip6.dst == {" + ", ".join(ips) + "}", "drop;",
                "northd.c:build_lrouter_drop_own_dest", hint)


def _ipv4_ip_input(env: Env, dp: str, ctx: RouterCtx, lrp: Row, nets: LportAddresses, jk: str,
                   is_dgp: bool, cr_jk: str, peer_has_localnet: bool, out: FlowSink) -> None:
    src = "northd.c:build_lrouter_ipv4_ip_input"
    h = lrp.uuid
    if nets.ipv4:
        srcs = []
        for ip in nets.ipv4:
            srcs.append(str(ip.ip))
            if ip.network.prefixlen < 32:
                srcs.append(str(ip.network.broadcast_address))
        out.add(dp, "lr_in_ip_input", 100,
                "ip4.src == " + _set_or_one(srcs) + " && reg9[0] == 0", "drop;", src, h)
        dsts = [str(ip.ip) for ip in nets.ipv4]
        out.add(dp, "lr_in_ip_input", 90,
                "ip4.dst == " + _set_or_one(dsts) + " && icmp4.type == 8 && icmp4.code == 0",
                "ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ",
                src, h)
    for ip in nets.ipv4:
        ipds = ("ip4.dst <-> ip4.src" if is_dgp
                else f"ip4.dst = ip4.src; ip4.src = {ip.ip}")
        out.add(dp, "lr_in_ip_input", 31,
                f"inport == {jk} && ip4 && ip.ttl == {{0, 1}} && !ip.later_frag",
                "icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ "
                "icmp4.code = 0; /* TTL exceeded in transit */ "
                f"{ipds} ; ip.ttl = 254; outport = {jk}; flags.loopback = 1; output; }};",
                src, h)
    for ip in nets.ipv4:
        extra = f"arp.spa == {network_str(ip)}"
        if ctx.dgp is not None and peer_has_localnet:
            if is_dgp:
                extra += f" && is_chassis_resident({cr_jk})"
            elif lrp["options"].get("reside-on-redirect-chassis") == "true" and ctx.n_dgp == 1:
                extra += f" && is_chassis_resident({json_key(ctx.dgp.cr)})"
        arp_flow(out, dp, jk, str(ip.ip), REG_INPORT_ETH_ADDR, extra, False, 90, h,
                  "northd.c:build_lrouter_arp_flow")
    if not ctx.is_gw_router and ctx.dgp is None:
        _own_ip_unreachable(dp, nets, h, out)
    _drop_own_dest(out, dp, nets, ctx.snat_ips, "lr_in_ip_input", 60, False, h)
    if is_dgp:
        # SNAT external IPs (one per unique IP) answer ARP on the gateway chassis only;
        # dnat_and_snat ones are emitted by their NAT rows.
        for snat_ip in sorted(ctx.snat_ips):
            nat = _first_snat_with_ip(env, dp, snat_ip, ctx)
            arp_flow(out, dp, jk, snat_ip, REG_INPORT_ETH_ADDR, f"is_chassis_resident({cr_jk})",
                      False, 92, nat, "northd.c:build_lrouter_port_nat_arp_nd_flow")
            arp_flow(out, dp, jk, snat_ip, REG_INPORT_ETH_ADDR, None, True, 91, nat,
                      "northd.c:build_lrouter_port_nat_arp_nd_flow")



def _own_ip_unreachable(dp: str, nets: LportAddresses, h: str, out: FlowSink) -> None:
    """A router without a gateway answers traffic to its own IPs: TCP reset, SCTP abort,
    ICMP port/protocol unreachable (build_lrouter_ipv4_ip_input)."""
    src = "northd.c:build_lrouter_ipv4_ip_input"
    for ip in nets.ipv4:
        a = str(ip.ip)
        out.add(dp, "lr_in_ip_input", 80, f"ip4 && ip4.dst == {a} && !ip.later_frag && udp",
                "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; "
                "icmp4.type = 3; icmp4.code = 3; next; };", src, h)
        out.add(dp, "lr_in_ip_input", 80, f"ip4 && ip4.dst == {a} && !ip.later_frag && tcp",
                "tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", src, h)
        out.add(dp, "lr_in_ip_input", 80, f"ip4 && ip4.dst == {a} && !ip.later_frag && sctp",
                "sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", src, h)
        out.add(dp, "lr_in_ip_input", 70, f"ip4 && ip4.dst == {a} && !ip.later_frag",
                "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; "
                "icmp4.type = 3; icmp4.code = 2; next; };", src, h)


def _ipv6_ip_input(ctx: RouterCtx, lrp: Row, nets: LportAddresses, jk: str, is_dgp: bool,
                   cr_jk: str, out: FlowSink) -> None:
    """build_dhcpv6_reply_flows_for_lrouter_port() and
    build_ipv6_input_flows_for_lrouter_port() for the port's IPv6 addresses (its
    link-local one: echo, neighbour advertisements, DHCPv6 replies to the router)."""
    h = lrp.uuid
    for ip6 in nets.ipv6:
        out.add(ctx.uuid, "lr_in_ip_input", 100,
                f"ip6.dst == {ip6.addr_s} && udp.src == 547 && udp.dst == 546",
                "reg0 = 0; handle_dhcpv6_reply;",
                "northd.c:build_dhcpv6_reply_flows_for_lrouter_port", None)
    src = "northd.c:build_ipv6_input_flows_for_lrouter_port"
    if nets.ipv6:
        out.add(ctx.uuid, "lr_in_ip_input", 90,
                "ip6.dst == " + _set_or_one([a.addr_s for a in nets.ipv6])
                + " && icmp6.type == 128 && icmp6.code == 0",
                "ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ",
                src, h)
    for ip6 in nets.ipv6:
        # A gateway port answers on the gateway chassis only (upstream MAC learning).
        extra = f" && is_chassis_resident({cr_jk})" if is_dgp else ""
        out.add(ctx.uuid, "lr_in_ip_input", 90,
                f"inport == {jk} && ip6.dst == {{{ip6.addr_s}, {ip6.sn_addr_s}}} && nd_ns "
                f"&& nd.target == {ip6.addr_s}{extra}",
                f"nd_na_router {{ eth.src = {REG_INPORT_ETH_ADDR}; ip6.src = nd.target; "
                f"nd.tll = {REG_INPORT_ETH_ADDR}; outport = inport; flags.loopback = 1; "
                "output; };", "northd.c:build_lrouter_nd_flow", h)
    if not ctx.is_gw_router and ctx.dgp is None:
        for ip6 in nets.ipv6:
            a = ip6.addr_s
            out.add(ctx.uuid, "lr_in_ip_input", 80, f"ip6 && ip6.dst == {a} && !ip.later_frag && tcp",
                    "tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };", src, h)
            out.add(ctx.uuid, "lr_in_ip_input", 80, f"ip6 && ip6.dst == {a} && !ip.later_frag && sctp",
                    "sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };", src, h)
            out.add(ctx.uuid, "lr_in_ip_input", 80, f"ip6 && ip6.dst == {a} && !ip.later_frag && udp",
                    "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; "
                    "icmp6.type = 1; icmp6.code = 4; next; };", src, h)
            out.add(ctx.uuid, "lr_in_ip_input", 70, f"ip6 && ip6.dst == {a} && !ip.later_frag",
                    "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; "
                    "icmp6.type = 1; icmp6.code = 3; next; };", src, h)
    # ICMPv6 time exceeded is sent for global addresses only (none: link-local is skipped).


def _set_or_one(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "{" + ", ".join(items) + "}"


def _first_snat_with_ip(env: Env, lr_uuid: str, ip: str, ctx: RouterCtx) -> str | None:
    lr = env.row("Logical_Router", lr_uuid)
    assert lr is not None
    for u in lr["nat"]:
        nat = env.row("NAT", u)
        if nat is not None and nat["type"] == NatType.SNAT and nat["external_ip"] == ip:
            return nat.uuid
    return None


def snat_router_level_arp(env: Env, lr: Row, ctx: RouterCtx, out: FlowSink) -> None:
    """build_lrouter_arp_nd_for_datapath() for SNAT IPs (one per unique IP): router level."""
    for ip in sorted(ctx.snat_ips):
        nat = _first_snat_with_ip(env, lr.uuid, ip, ctx)
        arp_flow(out, lr.uuid, None, ip, REG_INPORT_ETH_ADDR, None, False, 90, nat,
                  "northd.c:build_lrouter_nat_arp_nd_flow")
