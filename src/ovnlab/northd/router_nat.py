"""Logical router NAT flows (northd.c build_lrouter_nat_defrag_and_lb and friends for
22.03), owned by one NAT row: on the router, and on the switches of its ports (ARP for the
external IP; with a distributed NAT, its external MAC switched to the router only where
the logical port lives). What makes a NAT distributed is its NatFact (nat.py)."""

from __future__ import annotations

from ovnlab.nb import NatType
from ovnlab.northd.context import Dgp
from ovnlab.northd.env import Env
from ovnlab.northd.lflow import FlowSink, json_key
from ovnlab.northd.model import is_lrp_enabled
from ovnlab.northd.nat import NatEntry
from ovnlab.northd.router import MFF_N_LOG_REGS, REG_INPORT_ETH_ADDR, arp_flow
from ovnlab.northd.router_mtu import (
    REGBIT_EGRESS_LOOPBACK,
    REGBIT_PKT_LARGER,
    gateway_mtu,
    gateway_mtu_flow,
)
from ovnlab.northd.switch import rport_arp_req_flow
from ovnlab.ovsdb import Row


def gen_nat(env: Env, nat: Row, out: FlowSink) -> None:
    lr_uuid = env.idx.lr_of_nat.get(nat.uuid)
    if lr_uuid is None:
        return
    ctx = env.router(lr_uuid)
    assert ctx is not None
    if ctx.n_dgp > 1:
        return
    e = env.nat_fact(nat, ctx.dgp is not None).entry
    if e is None:
        return
    dp = lr_uuid
    h = nat.uuid
    dgp = ctx.dgp
    # build_lrouter_arp_nd_for_datapath (dnat / dnat_and_snat; snat handled per unique IP)
    if e.type is not NatType.SNAT:
        arp_flow(out, dp, None, e.external_ip, REG_INPORT_ETH_ADDR, None, False, 90, h,
                  "northd.c:build_lrouter_nat_arp_nd_flow")
        _rport_nat_arp_req(env, dp, e, h, out)
        if dgp is not None:
            _port_nat_arp(out, dp, dgp, e, h)
            _ext_switch_flows(env, dgp, e, out)
    if not ctx.is_gw_router and dgp is None:
        return
    if ctx.is_gw_router:
        _gw_router_nat(out, dp, e, h)
        return
    assert dgp is not None
    _unsnat(out, dp, dgp, e, h)
    _dnat(out, dp, dgp, e, h)
    _arp_resolve(out, dp, dgp, e, h)
    _dnat_local(out, dp, dgp, e, h)
    _undnat(out, dp, dgp, e, h)
    _snat(out, dp, dgp, e, h)
    _ingress(env, out, dp, dgp, e, h)
    if e.distributed:
        m = f"ip4.src == {e.logical_ip} && outport == {json_key(dgp.name)}"
        lsp = env.lsp_named(e.logical_port or "")
        if lsp is not None and lsp["type"] == "virtual":
            out.add(dp, "lr_in_gw_redirect", 80, m, "drop;", "northd.c:build_lrouter_nat_defrag_and_lb", h)
        out.add(dp, "lr_in_gw_redirect", 100, f"{m} && {e.resident(json_key(dgp.cr))}",
                f"eth.src = {e.external_mac}; reg1 = {e.external_ip}; next;",
                "northd.c:build_lrouter_nat_defrag_and_lb", h)
    # Egress loopback
    m = (f"ip4.dst == {e.external_ip} && outport == {json_key(dgp.name)} && "
         + e.resident(json_key(dgp.cr)))
    regs = " ".join(f"reg{j} = 0;" for j in range(MFF_N_LOG_REGS))
    out.add(dp, "lr_out_egr_loop", 100, m,
            "clone { ct_clear; inport = outport; outport = \"\"; eth.dst <-> eth.src; "
            "flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; "
            f"{regs} reg9[0] = 1; next(pipeline=ingress, table=0); }};",
            "northd.c:build_lrouter_nat_defrag_and_lb", h)


def _port_nat_arp(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    """build_lrouter_port_nat_arp_nd_flow() on the DGP for a dnat(_and_snat) IP."""
    src = "northd.c:build_lrouter_port_nat_arp_nd_flow"
    mac = e.external_mac if e.distributed and e.external_mac else REG_INPORT_ETH_ADDR
    extra = e.resident(json_key(dgp.cr))
    jk = json_key(dgp.name)
    arp_flow(out, dp, jk, e.external_ip, mac, extra, False, 92, h, src)
    arp_flow(out, dp, jk, e.external_ip, mac, None, True, 91, h, src)


def _ext_switch_flows(env: Env, dgp: Dgp, e: NatEntry, out: FlowSink) -> None:
    """On the switch behind the DGP, when distributed, frames to the external MAC are
    switched to the router only where the VM lives (build_lswitch_ip_unicast_lookup)."""
    lsp = env.peer_lsp(env.row("Logical_Router_Port", dgp.uuid) or _missing())
    if lsp is None:
        return
    ls_uuid = env.idx.ls_of_lsp.get(lsp.uuid)
    sw = env.switch(ls_uuid) if ls_uuid is not None else None
    if sw is None or ls_uuid is None or lsp["type"] != "router":
        return
    jk = json_key(lsp["name"])
    if e.distributed and "router" in lsp["addresses"]:
        out.add(ls_uuid, "ls_in_l2_lkup", 50,
                f"eth.dst == {e.external_mac} && {e.resident(jk)}",
                f"outport = {jk}; output;", "northd.c:build_lswitch_ip_unicast_lookup", lsp.uuid)


def _rport_nat_arp_req(env: Env, lr_uuid: str, e: NatEntry, h: str, out: FlowSink) -> None:
    """build_lswitch_rport_arp_req_flows() for a dnat(_and_snat) external IP: on the switch
    of every enabled router port (not only the external one), ARP requests for it go to
    the router port."""
    lr = env.row("Logical_Router", lr_uuid)
    for u in (lr["ports"] if lr is not None else ()):
        lrp = env.row("Logical_Router_Port", u)
        if lrp is None or not is_lrp_enabled(lrp):
            continue
        for lsp_u in sorted(env.idx.router_lsps_by_peer.get(lrp["name"], ())):
            ls_uuid = env.idx.ls_of_lsp.get(lsp_u)
            lsp = env.row("Logical_Switch_Port", lsp_u)
            sw = env.switch(ls_uuid) if ls_uuid is not None else None
            if lsp is not None and sw is not None and ls_uuid is not None:
                rport_arp_req_flow(e.external_ip, ls_uuid, json_key(lsp["name"]),
                                   sw.all_router_ports, lsp_u, out)


def _missing() -> Row:
    raise LookupError("distributed gateway port row vanished")


def _gw_router_nat(out: FlowSink, dp: str, e: NatEntry, h: str) -> None:
    src = "northd.c:build_lrouter_nat_defrag_and_lb"
    if e.snats:
        out.add(dp, "lr_in_unsnat", 90, f"ip && ip4.dst == {e.external_ip}",
                "next;" if e.stateless else "ct_snat;", src, h)
    if e.dnats:
        rng = f",{e.external_port_range}" if e.external_port_range else ""
        a = (f"flags.loopback = 1; ip4.dst={e.logical_ip}; next;" if e.stateless
             else f"flags.loopback = 1; ct_dnat({e.logical_ip}{rng});")
        out.add(dp, "lr_in_dnat", 100, f"ip && ip4.dst == {e.external_ip}", a, src, h)
    if e.snats:
        if e.type is NatType.DNAT_AND_SNAT and e.stateless:
            out.add(dp, "lr_out_snat", e.cidr_bits + 1, f"ip && ip4.src == {e.logical_ip}",
                    f"ip4.src={e.external_ip}; next;", src, h)
        else:
            rng = f",{e.external_port_range}" if e.external_port_range else ""
            out.add(dp, "lr_out_snat", e.cidr_bits + 1,
                    f"ip && ip4.src == {e.logical_ip} && (!ct.trk || !ct.rpl)",
                    f"ct_snat({e.external_ip}{rng});", src, h)


def _central(dgp: Dgp, e: NatEntry) -> str:
    return "" if e.distributed else f" && is_chassis_resident({json_key(dgp.cr)})"


def _unsnat(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    if not e.snats:
        return
    src = "northd.c:build_lrouter_in_unsnat_flow"
    jk = json_key(dgp.name)
    out.add(dp, "lr_in_unsnat", 100,
            f"ip && ip4.dst == {e.external_ip} && inport == {jk} && flags.loopback == 0"
            + _central(dgp, e), "next;" if e.stateless else "ct_snat_in_czone;", src, h)
    if not e.stateless:
        out.add(dp, "lr_in_unsnat", 100,
                f"ip && ip4.dst == {e.external_ip} && inport == {jk} && flags.loopback == 1 "
                "&& flags.use_snat_zone == 1" + _central(dgp, e), "ct_snat;", src, h)


def _dnat(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    if not e.dnats:
        return
    m = f"ip && ip4.dst == {e.external_ip} && inport == {json_key(dgp.name)}" + _central(dgp, e)
    if e.type is NatType.DNAT_AND_SNAT and e.stateless:
        a = f"ip4.dst={e.logical_ip}; next;"
    else:
        rng = f",{e.external_port_range}" if e.external_port_range else ""
        a = f"ct_dnat_in_czone({e.logical_ip}{rng});"
    out.add(dp, "lr_in_dnat", 100, m, a, "northd.c:build_lrouter_in_dnat_flow", h)


def _arp_resolve(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    """Loop guard and E/W next-hop resolution for NAT IPs (northd emits them once per
    external IP; here every NAT row emits them and the SB sync merges identical flows)."""
    src = "northd.c:build_lrouter_nat_defrag_and_lb"
    jk = json_key(dgp.name)
    out.add(dp, "lr_in_arp_resolve", 150,
            f"inport == {jk} && outport == {jk} && ip4.dst == {e.external_ip}", "drop;", src, h)
    out.add(dp, "lr_in_arp_resolve", 100, f"outport == {jk} && reg0 == {e.external_ip}",
            f"eth.dst = {e.external_mac if e.distributed else dgp.networks.mac}; next;", src, h)
    if e.distributed and dict(dgp.options).get("redirect-type", "").lower() == "bridged":
        out.add(dp, "lr_in_arp_resolve", 90,
                f'outport == {jk} && ip4.src == {e.logical_ip} && '
                f"{e.resident(jk)}", "get_arp(outport, reg0); next;", src, h)


def _dnat_local(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    m = f"ip && ip4.dst == {e.external_ip} && " + e.resident(json_key(dgp.cr))
    out.add(dp, "lr_out_chk_dnat_local", 50, m, "reg9[4] = 1; next;",
            "northd.c:build_lrouter_out_is_dnat_local", h)


def _undnat(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    if not e.dnats:
        return
    m = f"ip && ip4.src == {e.logical_ip} && outport == {json_key(dgp.name)}" + _central(dgp, e)
    a = f"eth.src = {e.external_mac}; " if e.distributed else ""
    a += "next;" if e.stateless else "ct_dnat_in_czone;"
    out.add(dp, "lr_out_undnat", 100, m, a, "northd.c:build_lrouter_out_undnat_flow", h)


def _snat(out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    if not e.snats:
        return
    src = "northd.c:build_lrouter_out_snat_flow"
    prio = e.cidr_bits + 1 + 128
    m = (f"ip && ip4.src == {e.logical_ip} && outport == {json_key(dgp.name)} && "
         + e.resident(json_key(dgp.cr)))
    mac = f"eth.src = {e.external_mac}; " if e.distributed else ""
    rng = f",{e.external_port_range}" if e.external_port_range else ""
    if e.stateless:
        a = mac + f"ip4.src={e.external_ip}; next;"
    else:
        a = mac + f"ct_snat_in_czone({e.external_ip}{rng});"
    out.add(dp, "lr_out_snat", prio, m, a, src, h)
    if not e.stateless:
        out.add(dp, "lr_out_snat", prio + 1, m + " && reg9[4] == 1",
                mac + f"reg9[4] = 0; ct_snat({e.external_ip}{rng});", src, h)


def _ingress(env: Env, out: FlowSink, dp: str, dgp: Dgp, e: NatEntry, h: str) -> None:
    """build_lrouter_ingress_flow()."""
    src = "northd.c:build_lrouter_ingress_flow"
    jk = json_key(dgp.name)
    if e.type is NatType.SNAT:
        out.add(dp, "lr_in_ip_input", 120, f"inport == {jk} && ip4.src == {e.external_ip}",
                "next;", src, h)
    if e.distributed:
        lrp = env.row("Logical_Router_Port", dgp.uuid)
        assert lrp is not None
        gateway_mtu_flow(env, out, lrp, "lr_in_admission", 50, 55,
                         f'eth.dst == {e.external_mac} && inport == {jk} && '
                         + e.resident(jk),
                         f"{REG_INPORT_ETH_ADDR} = {dgp.networks.mac}; next;", h, src)
        mtu = gateway_mtu(lrp)
        if mtu:
            # build_lrouter_ingress_nat_check_pkt_len()
            out.add(dp, "lr_in_ip_input", 160,
                    f"inport == {jk} && {REGBIT_PKT_LARGER} && {REGBIT_EGRESS_LOOPBACK} == 0 "
                    f"&& ip4 && ip4.dst == {e.external_ip}",
                    f"icmp4_error {{{REGBIT_EGRESS_LOOPBACK} = 1; {REGBIT_PKT_LARGER} = 0; "
                    f"eth.dst = eth.src; eth.src = {e.external_mac}; ip4.dst = ip4.src; "
                    f"ip4.src = {e.external_ip}; ip.ttl = 254; icmp4.type = 3; "
                    "/* Destination Unreachable. */ icmp4.code = 4; "
                    f"/* Frag Needed and DF was Set. */ icmp4.frag_mtu = {mtu}; "
                    f"outport = {jk}; flags.loopback = 1; output; }};",
                    "northd.c:build_lrouter_ingress_nat_check_pkt_len", h)
