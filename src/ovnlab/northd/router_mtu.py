"""A router port's options:gateway_mtu (northd.c build_gateway_mtu_flow,
build_check_pkt_len_flows_for_lrp, build_icmperr_pkt_big_flows for 22.03): frames are
length-checked on admission and routed-out packets that are too big get ICMP
"fragmentation needed" / "packet too big" back."""

from __future__ import annotations

from ovnlab.northd.env import Env
from ovnlab.northd.lflow import FlowSink, json_key
from ovnlab.northd.model import LportAddresses, lrp_networks
from ovnlab.northd.stages import stage as stage_of
from ovnlab.ovsdb import Row

REGBIT_PKT_LARGER = "reg9[1]"
REGBIT_EGRESS_LOOPBACK = "reg9[0]"
ETH_HEADER_LEN = 14
VLAN_ETH_HEADER_LEN = 18


def gateway_mtu(lrp: Row) -> int:
    """smap_get_int(options, "gateway_mtu", 0): 0 when absent or not a number."""
    try:
        return int(lrp["options"].get("gateway_mtu", "0"))
    except ValueError:
        return 0


def _l2_hdr_size(env: Env, lrp: Row) -> int:
    """build_gateway_get_l2_hdr_size(): 18 when a localnet port of the peer switch is
    VLAN-tagged, else 14."""
    peer = env.peer_lsp(lrp)
    ls_uuid = env.idx.ls_of_lsp.get(peer.uuid) if peer is not None else None
    ctx = env.switch(ls_uuid) if ls_uuid is not None else None
    for name in (ctx.localnet_ports if ctx is not None else ()):
        lsp = env.lsp_named(name)
        if lsp is not None and lsp["tag_request"] is not None:
            return VLAN_ETH_HEADER_LEN
    return ETH_HEADER_LEN


def gateway_mtu_flow(env: Env, out: FlowSink, lrp: Row, stage: str, prio_low: int,
                     prio_high: int, match: str, actions: str, hint: str | None,
                     src: str) -> None:
    """build_gateway_mtu_flow(): with options:gateway_mtu the port's admission flows check
    the frame length (gateway_mtu + L2 header) into REGBIT_PKT_LARGER; gateway_mtu_bypass
    matches skip the check at the higher priority."""
    mtu = gateway_mtu(lrp)
    pre = f"{REGBIT_PKT_LARGER} = check_pkt_larger({mtu + _l2_hdr_size(env, lrp)}); " \
        if mtu > 0 else ""
    out.add(env.idx.lr_of_lrp[lrp.uuid], stage, prio_low, match, pre + actions, src, hint)
    bypass = lrp["options"].get("gateway_mtu_bypass")
    if mtu > 0 and bypass:
        out.add(env.idx.lr_of_lrp[lrp.uuid], stage, prio_high, f"{match} && ({bypass})", actions,
                src, hint)


def gateway_mtu_flows(env: Env, dp: str, lrp: Row, nets: LportAddresses, jk: str,
                       out: FlowSink) -> None:
    """build_check_pkt_len_flows_for_lrp(): packets routed out of a port with gateway_mtu
    have their length checked; too big ones get ICMP "fragmentation needed" / "packet too
    big" from the port they came in on (lr_in_larger_pkts) or, coming in on this port
    itself, from this port (lr_in_ip_input)."""
    mtu = gateway_mtu(lrp)
    if mtu <= 0:
        return
    gateway_mtu_flow(env, out, lrp, "lr_in_chk_pkt_len", 50, 55, f"outport == {jk}", "next;",
                     lrp.uuid, "northd.c:build_check_pkt_len_flows_for_lrp")
    _icmperr_pkt_big(out, dp, lrp, nets, mtu, "lr_in_ip_input", None)
    lr = env.row("Logical_Router", dp)
    for u in (lr["ports"] if lr is not None else ()):
        rp = env.row("Logical_Router_Port", u)
        rp_nets = lrp_networks(rp) if rp is not None and rp.uuid != lrp.uuid else None
        if rp is not None and rp_nets is not None:
            _icmperr_pkt_big(out, dp, rp, rp_nets, mtu, "lr_in_larger_pkts", (lrp, nets))


def _icmperr_pkt_big(out: FlowSink, dp: str, lrp: Row, nets: LportAddresses, mtu: int,
                     stage: str, outport: tuple[Row, LportAddresses] | None) -> None:
    """build_icmperr_pkt_big_flows()."""
    src = "northd.c:build_icmperr_pkt_big_flows"
    om = f"outport == {json_key(outport[0]['name'])} && " if outport is not None else ""
    onets = outport[1] if outport is not None else None
    head = f"inport == {json_key(lrp['name'])} && {om}"
    tail = f" && {REGBIT_PKT_LARGER} && {REGBIT_EGRESS_LOOPBACK} == 0"
    admission = stage_of("lr_in_admission").table
    ip4_src = (str(onets.ipv4[0].ip) if onets is not None and onets.ipv4
               else str(nets.ipv4[0].ip) if nets.ipv4 else None)
    if ip4_src is not None:
        out.add(dp, stage, 150, f"{head}ip4{tail}",
                f"icmp4_error {{{REGBIT_EGRESS_LOOPBACK} = 1; {REGBIT_PKT_LARGER} = 0; "
                f"eth.dst = {nets.mac}; ip4.dst = ip4.src; ip4.src = {ip4_src}; "
                "ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ "
                "icmp4.code = 4; /* Frag Needed and DF was Set. */ "
                f"icmp4.frag_mtu = {mtu}; next(pipeline=ingress, table={admission}); }};",
                src, lrp.uuid)
    ip6_src = (onets.ipv6[0].addr_s if onets is not None and onets.ipv6
               else nets.ipv6[0].addr_s if nets.ipv6 else None)
    if ip6_src is not None:
        out.add(dp, stage, 150, f"{head}ip6{tail}",
                f"icmp6_error {{{REGBIT_EGRESS_LOOPBACK} = 1; {REGBIT_PKT_LARGER} = 0; "
                f"eth.dst = {nets.mac}; ip6.dst = ip6.src; ip6.src = {ip6_src}; "
                "ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; "
                f"icmp6.frag_mtu = {mtu}; next(pipeline=ingress, table={admission}); }};",
                src, lrp.uuid)
