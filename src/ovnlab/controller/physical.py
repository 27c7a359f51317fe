"""Physical flows of br-int (controller/physical.c, OVN 22.03): table 0 classification,
37 remote output, 38 local output, 39 loopback check, 64 save in_port, 65 logical to
physical, and the MAC_Binding tables 66/67 (lflow.c `consider_neighbor_flow`).

Pure functions of a `PhysCtx` snapshot; each port binding / multicast group yields its own
list of flows so the controller can recompute one row at a time.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ovnlab.controller.encode import (
    OFTABLE_CHECK_LOOPBACK,
    OFTABLE_LOCAL_OUTPUT,
    OFTABLE_LOG_EGRESS_PIPELINE,
    OFTABLE_LOG_INGRESS_PIPELINE,
    OFTABLE_LOG_TO_PHY,
    OFTABLE_MAC_BINDING,
    OFTABLE_MAC_LOOKUP,
    OFTABLE_REMOTE_OUTPUT,
    OFTABLE_SAVE_INPORT,
)
from ovnlab.controller.lflow import cookie_of
from ovnlab.controller.ovshash import sset_order
from ovnlab.controller.symtab import (
    MLF_ALLOW_LOOPBACK_BIT,
    MLF_LOCAL_ONLY_BIT,
    MLF_LOCALPORT_BIT,
    MLF_LOOKUP_MAC_BIT,
    MLF_RCV_FROM_RAMP_BIT,
)
from ovnlab.flows.actions import (
    Action,
    Bundle,
    Clone,
    Conjunction,
    CtClear,
    Move,
    Output,
    Pop,
    Push,
    Resubmit,
    StripVlan,
    SubField,
    set_field,
    to_of10,
)
from ovnlab.flows.model import Flow, Match, canonical_match

OFPP_NONE = 0xFFFF
N_LOG_REGS = 10
FULL64 = (1 << 64) - 1
FULL32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class PortInfo:
    """The parts of a SB Port_Binding the physical tables need."""

    uuid: str
    name: str
    type: str
    dp_uuid: str
    dp_key: int
    key: int
    chassis: str | None  # chassis name it is bound to
    peer: str = ""  # patch options:peer
    mac: str = ""  # a patch port's MAC (a router port's, on the router side)
    distributed_port: str = ""  # chassisredirect options:distributed-port
    chassis_redirect_port: str = ""  # a distributed gateway port's chassisredirect port
    always_redirect: bool = False  # chassisredirect options:always-redirect
    tag: int | None = None
    ha_chassis: tuple[str, ...] = ()  # HA chassis names, highest priority first


@dataclass
class PhysCtx:
    chassis: str  # this chassis's name (system-id)
    ports: Mapping[str, PortInfo]  # by logical port name
    local_dps: frozenset[str]  # datapath uuids
    vif_ofports: Mapping[str, int]  # logical port → ofport of a VIF on br-int bound here
    patch_ofports: Mapping[str, int]  # localnet logical port → ofport of its patch port
    tunnels: Mapping[str, int]  # remote chassis name → tunnel ofport
    ct_zones: Mapping[str, int]  # lport name / "<dp uuid>_dnat|snat" → zone
    active_cr: frozenset[str]  # chassisredirect ports active on this chassis
    localnet_of_dp: Mapping[str, str] = field(default_factory=dict)  # dp uuid → localnet port
    peer_router_macs: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def _m(**slots: tuple[int, int]) -> Match:
    return canonical_match(slots)


def _flow(table: int, priority: int, match: Match, actions: tuple[Action, ...],
           cookie: int = 0) -> Flow:
    """A physical flow, its set_fields as the switch gives them back (mod_*, load:)."""
    return Flow(table, priority, cookie, match, to_of10(actions))


def _zone_loads(ctx: PhysCtx, p: PortInfo) -> list[Action]:
    acts: list[Action] = []
    ct = ctx.ct_zones.get(p.name)
    dnat = ctx.ct_zones.get(f"{p.dp_uuid}_dnat")
    snat = ctx.ct_zones.get(f"{p.dp_uuid}_snat")
    if ct:
        acts.append(set_field("reg13", ct))
    if dnat:
        acts.append(set_field("reg11", dnat))
    if snat:
        acts.append(set_field("reg12", snat))
    return acts


def _ingress_metadata(ctx: PhysCtx, p: PortInfo) -> list[Action]:
    return [*_zone_loads(ctx, p), set_field("metadata", p.dp_key), set_field("reg14", p.key)]


def _local_common(ctx: PhysCtx, p: PortInfo, cookie: int) -> list[Flow]:
    dpm = (p.dp_key, FULL64)
    out = [
        _flow(OFTABLE_LOCAL_OUTPUT, 100, _m(metadata=dpm, reg15=(p.key, FULL32)),
              (*_zone_loads(ctx, p), Resubmit(None, OFTABLE_CHECK_LOOPBACK)), cookie),
        _flow(OFTABLE_CHECK_LOOPBACK, 100,
              _m(metadata=dpm, reg10=(0, 1 << MLF_ALLOW_LOOPBACK_BIT), reg14=(p.key, FULL32),
                 reg15=(p.key, FULL32)), (), cookie),
        _flow(OFTABLE_SAVE_INPORT, 100,
              _m(metadata=dpm, reg10=(1 << MLF_ALLOW_LOOPBACK_BIT, 1 << MLF_ALLOW_LOOPBACK_BIT),
                 reg15=(p.key, FULL32)),
              (Push(SubField.whole("in_port")), set_field("in_port", OFPP_NONE),
               Resubmit(None, OFTABLE_LOG_TO_PHY), Pop(SubField.whole("in_port"))), cookie),
    ]
    return out


def port_flows(ctx: PhysCtx, p: PortInfo) -> list[Flow]:
    """consider_port_binding()."""
    if p.dp_uuid not in ctx.local_dps:
        return []
    cookie = cookie_of(p.uuid)
    if p.type == "patch" or (p.type == "l3gateway" and p.chassis == ctx.chassis):
        return _patch_flows(ctx, p, cookie)
    if p.type == "chassisredirect" and (p.chassis == ctx.chassis or p.name in ctx.active_cr):
        dist = ctx.ports.get(p.distributed_port)
        acts: tuple[Action, ...] = ()
        if dist is not None and dist.dp_uuid == p.dp_uuid:
            acts = (set_field("reg15", dist.key), *_zone_loads(ctx, dist),
                    Resubmit(None, OFTABLE_CHECK_LOOPBACK))
        return [_flow(OFTABLE_LOCAL_OUTPUT, 100,
                      _m(metadata=(p.dp_key, FULL64), reg15=(p.key, FULL32)), acts, cookie)]
    ofport = 0
    if p.type in ("localnet", "l2gateway"):
        ofport = ctx.patch_ofports.get(p.name, 0)
    elif p.type not in ("chassisredirect", "patch", "l3gateway"):
        ofport = ctx.vif_ofports.get(p.name, 0) \
            if p.chassis == ctx.chassis or p.type == "localport" else 0
    if ofport:
        return _local_port_flows(ctx, p, ofport, cookie)
    # a localport plugged elsewhere goes to the localnet port; it is never tunnelled
    if p.type in ("localnet", "l2gateway"):
        return []
    return _remote_port_flows(ctx, p, cookie)


def _patch_flows(ctx: PhysCtx, p: PortInfo, cookie: int) -> list[Flow]:
    """A patch (or local l3gateway) port: output clones the packet into its peer's
    datapath, as if it entered there."""
    peer = ctx.ports.get(p.peer)
    if peer is None or peer.type != p.type or peer.peer != p.name:
        return []
    flows = _local_common(ctx, p, cookie)
    inner: list[Action] = [CtClear(), set_field("reg11", 0), set_field("reg12", 0),
                           set_field("reg13", 0), *_ingress_metadata(ctx, peer),
                           set_field("reg10", 0), set_field("reg15", 0)]
    inner += [set_field(f"reg{i}", 0) for i in range(N_LOG_REGS)]
    inner.append(Resubmit(None, OFTABLE_LOG_INGRESS_PIPELINE))
    flows.append(_flow(OFTABLE_LOG_TO_PHY, 100,
                       _m(metadata=(p.dp_key, FULL64), reg15=(p.key, FULL32)),
                       (Clone(tuple(inner)),), cookie))
    return flows


def _local_port_flows(ctx: PhysCtx, p: PortInfo, ofport: int, cookie: int) -> list[Flow]:
    """A port with an ofport here (a VIF bound here, a localnet or l2gateway patch):
    table 0 classifies what enters from it, table 65 outputs to it."""
    dpm = (p.dp_key, FULL64)
    flows = _local_common(ctx, p, cookie)
    meta = _ingress_metadata(ctx, p)
    if p.type == "localport":
        meta.append(set_field("reg10", 1, MLF_LOCALPORT_BIT, 1))
    meta.append(Resubmit(None, OFTABLE_LOG_INGRESS_PIPELINE))
    if p.type in ("localnet", "l2gateway") or p.tag:
        tag = p.tag or 0
        flows.append(_flow(0, 150 if tag else 100,
                           _m(in_port=(ofport, 0xFFFF), vlan_tci=(0x1000 | tag, 0x1FFF)),
                           (StripVlan(), *meta), cookie))
        if not tag:
            flows.append(_flow(0, 100, _m(in_port=(ofport, 0xFFFF), vlan_tci=(0, 0x1000)),
                               tuple(meta), cookie))
        if p.type == "localnet":
            flows.extend(_replace_chassis_mac(ctx, p, ofport, meta))
    else:
        flows.append(_flow(0, 100, _m(in_port=(ofport, 0xFFFF)), tuple(meta), cookie))
    flows.append(_flow(OFTABLE_LOG_TO_PHY, 100, _m(metadata=dpm, reg15=(p.key, FULL32)),
                       (Output(ofport),), cookie))
    if p.type == "localnet":
        for bit in (MLF_LOCALPORT_BIT, MLF_LOCAL_ONLY_BIT):
            flows.append(_flow(OFTABLE_CHECK_LOOPBACK, 160,
                               _m(metadata=dpm, reg10=(1 << bit, 1 << bit),
                                  reg15=(p.key, FULL32)), (), cookie))
    if p.type == "localport":
        flows.append(_flow(OFTABLE_REMOTE_OUTPUT, 150,
                           _m(metadata=dpm, reg14=(p.key, FULL32)),
                           (Resubmit(None, OFTABLE_LOCAL_OUTPUT),), cookie))
    return flows


def _remote_port_flows(ctx: PhysCtx, p: PortInfo, cookie: int) -> list[Flow]:
    """A port elsewhere: through the localnet port if the datapath has one, else a
    tunnel (a bundle over the HA chassis of a distributed gateway port)."""
    dpm = (p.dp_key, FULL64)
    localnet = ctx.localnet_of_dp.get(p.dp_uuid)
    if localnet and localnet in ctx.patch_ofports:
        ln = ctx.ports[localnet]
        return [_flow(OFTABLE_LOCAL_OUTPUT, 100, _m(metadata=dpm, reg15=(p.key, FULL32)),
                      (set_field("reg15", ln.key), Resubmit(None, OFTABLE_LOCAL_OUTPUT)), cookie)]
    if localnet or p.type == "localport":
        return []
    out: Action
    if len(p.ha_chassis) >= 2:
        # Distributed over an HA chassis group: the datapath's bundle picks the first
        # tunnel (by priority) whose BFD says it forwards.
        members = tuple(ctx.tunnels[c] for c in p.ha_chassis if c in ctx.tunnels)
        if not members:
            return []
        out = Bundle("eth_src", 0, "active_backup", members)
    elif p.chassis is not None and p.chassis in ctx.tunnels:
        out = Output(ctx.tunnels[p.chassis])
    else:
        return []
    return [_flow(OFTABLE_REMOTE_OUTPUT, 100, _m(metadata=dpm, reg15=(p.key, FULL32)),
                  (*_encap(p.dp_key, p.key), out), cookie)]


CHASSIS_MAC_TO_ROUTER_MAC_CONJID = 100


def _replace_chassis_mac(ctx: PhysCtx, p: PortInfo, ofport: int,
                         meta: list[Action]) -> list[Flow]:
    """put_replace_chassis_mac_flows: a frame from the localnet port whose source is a
    remote chassis MAC (ovn-chassis-mac-mappings, the conjunction's other clause) was
    routed there; it enters with the router port's MAC instead."""
    tag = p.tag or 0
    vlan = (0x1000 | tag, 0x1FFF) if tag else (0, 0x1000)
    strip: tuple[Action, ...] = (StripVlan(),) if tag else ()
    flows = []
    for uuid, mac in ctx.peer_router_macs.get(p.dp_uuid, ()):
        cookie = cookie_of(uuid)
        flows.append(_flow(0, 180, _m(in_port=(ofport, 0xFFFF), vlan_tci=vlan,
                                      conj_id=(CHASSIS_MAC_TO_ROUTER_MAC_CONJID, FULL32)),
                           (*strip, *meta[:-1], set_field("eth_src", _mac_int(mac)), meta[-1]),
                           cookie))
        flows.append(_flow(0, 180, _m(vlan_tci=vlan),
                           (Conjunction(CHASSIS_MAC_TO_ROUTER_MAC_CONJID, 2, 2),), cookie))
    return flows


def _mac_int(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def _encap(dp_key: int, outport: int) -> list[Action]:
    return [set_field("tun_id", dp_key, 0, 24), set_field("tun_metadata0", outport, 0, 32),
            Move(SubField("reg14", 0, 15), SubField("tun_metadata0", 16, 15))]


@dataclass(frozen=True, slots=True)
class McGroup:
    """A Multicast_Group as its flows name it."""

    uuid: str
    dp_uuid: str
    dp_key: int
    key: int


@dataclass(frozen=True, slots=True)
class McMember:
    """One member port's part in its group's flows on this chassis (the body of
    consider_mc_group's loop): actions for the local and the remote output table, and
    the remote chassis to tunnel to."""

    local: tuple[Action, ...] = ()
    remote: tuple[Action, ...] = ()
    chassis: str | None = None


NO_PART = McMember()


def mc_member(ctx: PhysCtx, dp_uuid: str, p: PortInfo | None) -> McMember:
    """What member `p` of a group on `dp_uuid` adds to the group's flows here."""
    if p is None or p.dp_uuid != dp_uuid:
        return NO_PART
    zone = ctx.ct_zones.get(p.name)
    local: tuple[Action, ...] = (set_field("reg13", zone),) if zone else ()
    out = (set_field("reg15", p.key), Resubmit(None, OFTABLE_CHECK_LOOPBACK))
    if p.type in ("patch", "localport"):
        return McMember(local, out)
    if p.chassis == ctx.chassis and (p.name in ctx.vif_ofports or p.type == "l3gateway") \
            or p.name in ctx.patch_ofports:
        return McMember(local + out)
    if p.type == "chassisredirect" and p.chassis == ctx.chassis:
        dist = ctx.ports.get(p.distributed_port)
        if dist is not None and dist.dp_uuid == p.dp_uuid:
            local += (set_field("reg15", dist.key), Resubmit(None, OFTABLE_CHECK_LOOPBACK))
        return McMember(local)
    if p.chassis and dp_uuid not in ctx.localnet_of_dp and p.chassis != ctx.chassis:
        return McMember(local, (), p.chassis) if local else _tunnel_to(p.chassis)
    return McMember(local) if local else NO_PART


@functools.lru_cache(maxsize=4096)
def _tunnel_to(chassis: str) -> McMember:
    """The part of a member on a remote chassis: one object per chassis, held by every
    group of every chassis (most members of a large network are such)."""
    return McMember((), (), chassis)


def mc_flows(ctx: PhysCtx, mc: McGroup, parts: Iterable[McMember],
             remote_chassis: Iterable[str]) -> list[Flow]:
    """consider_mc_group(): `parts` are the members' parts in the IDL's order (a set of
    UUIDs: sorted), `remote_chassis` the chassis to tunnel to in sset_add() order (that of
    their first member)."""
    if mc.dp_uuid not in ctx.local_dps:
        return []
    local = [a for part in parts for a in part.local]
    remote = [a for part in parts for a in part.remote]
    cookie = cookie_of(mc.uuid)
    match = _m(metadata=(mc.dp_key, FULL64), reg15=(mc.key, FULL32))
    flows: list[Flow] = []
    has_local = any(isinstance(a, Resubmit) for a in local)
    if has_local:
        flows.append(_flow(OFTABLE_LOCAL_OUTPUT, 100, match,
                           (*local, set_field("reg15", mc.key)), cookie))
    # fanout_to_chassis: SSET_FOR_EACH, the hash order of the chassis names
    tunnels = [ctx.tunnels[c] for c in sset_order(remote_chassis) if c in ctx.tunnels]
    if tunnels or remote:
        acts: list[Action] = list(remote)
        if remote:
            acts.append(set_field("reg15", mc.key))
        if tunnels:
            acts += _encap(mc.dp_key, mc.key)
            acts += [Output(t) for t in tunnels]
        if has_local:
            acts.append(Resubmit(None, OFTABLE_LOCAL_OUTPUT))
        flows.append(_flow(OFTABLE_REMOTE_OUTPUT, 100, match, tuple(acts), cookie))
    return flows


def tunnel_flows(ctx: PhysCtx) -> list[Flow]:
    acts: tuple[Action, ...] = (
        Move(SubField("tun_id", 0, 24), SubField("metadata", 0, 24)),
        Move(SubField("tun_metadata0", 16, 15), SubField("reg14", 0, 15)),
        Move(SubField("tun_metadata0", 0, 16), SubField("reg15", 0, 16)),
        Resubmit(None, OFTABLE_LOCAL_OUTPUT))
    return [_flow(0, 100, _m(in_port=(ofport, 0xFFFF)), acts, 0)
            for _ch, ofport in sorted(ctx.tunnels.items(), key=lambda kv: kv[1])]


def fixed_flows() -> list[Flow]:
    ramp = 1 << MLF_RCV_FROM_RAMP_BIT
    local_only = 1 << MLF_LOCAL_ONLY_BIT
    return [
        _flow(OFTABLE_REMOTE_OUTPUT, 150, _m(reg10=(ramp, ramp)),
              (Resubmit(None, OFTABLE_LOCAL_OUTPUT),)),
        _flow(OFTABLE_REMOTE_OUTPUT, 150, _m(reg10=(local_only, local_only)),
              (Resubmit(None, OFTABLE_LOCAL_OUTPUT),)),
        _flow(OFTABLE_REMOTE_OUTPUT, 0, (), (Resubmit(None, OFTABLE_LOCAL_OUTPUT),)),
        _flow(OFTABLE_CHECK_LOOPBACK, 0, (),
              (*(set_field(f"reg{i}", 0) for i in range(N_LOG_REGS)),
               Resubmit(None, OFTABLE_LOG_EGRESS_PIPELINE))),
        _flow(OFTABLE_SAVE_INPORT, 0, (), (Resubmit(None, OFTABLE_LOG_TO_PHY),)),
    ]


def neighbor_flows(uuid: str, dp_key: int, port_key: int, ip: str, mac: str) -> list[Flow]:
    """MAC_Binding → tables 66 (get_arp) and 67 (lookup_arp)."""
    try:
        addr = ipaddress.ip_address(ip)
        macv = int(mac.replace(":", ""), 16)
    except ValueError:
        return []
    if addr.version != 4:
        return []
    cookie = cookie_of(uuid)
    ipv = int(addr)
    get = _m(reg0=(ipv, FULL32), reg15=(port_key, FULL32), metadata=(dp_key, FULL64))
    look = _m(dl_type=(0x0806, 0xFFFF), reg0=(ipv, FULL32), reg14=(port_key, FULL32),
              metadata=(dp_key, FULL64), dl_src=(macv, (1 << 48) - 1))
    found = set_field("reg10", 1, MLF_LOOKUP_MAC_BIT, 1)
    return [_flow(OFTABLE_MAC_BINDING, 100, get, (set_field("eth_dst", macv), found), cookie),
            _flow(OFTABLE_MAC_LOOKUP, 100, look, (found,), cookie)]

