"""What the web view draws, read from the lab the CLI reads: the topology as Cytoscape.js
elements (chassis, bridges, NICs, VMs, hosts, segments, networks, routers, FIPs, gateway
chassis) and a trace's journey as a path over those elements.

Nothing here keeps a model of its own: every call reads the lab's cloud, NB, SB and
fabric as they are now.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from ovnlab.fabric import trace as trace_mod
from ovnlab.fabric.journey import Hop, Journey
from ovnlab.fabric.link import Segment
from ovnlab.fabric.nodes import VM, Chassis, ExternalHost, ExternalRouter, InternetHost
from ovnlab.owners import DeviceOwner
from ovnlab.packet import ETH_ARP, ip_str

Element = dict[str, Any]


class Kind(StrEnum):
    """An element's kind: the page's style sheet keys on it."""

    CHASSIS = "chassis"
    BRIDGE = "bridge"
    NIC = "nic"
    VM = "vm"
    ROUTER_HOST = "external-router"
    HOST = "host"
    SEGMENT = "segment"
    NETWORK = "network"
    ROUTER = "router"
    FIP = "fip"
    WIRE = "wire"
    LOGICAL = "logical"
    GATEWAY = "gateway-chassis"


SHORT = ("routed", "SNAT", "DNAT", "encap", "decap", "dropped", "drop", "deliver", "forward")


class Leg(StrEnum):
    REQUEST = "request"
    REPLY = "reply"


def version(lab: Any) -> str:
    """Changes whenever anything drawn may have: the NB and SB sequence numbers (every
    cloud change and its convergence moves one) and the config."""
    cfg = lab.cloud.get_config()
    return f"{lab.nb.seqno}.{lab.sb.seqno}.{int(bool(cfg['enable_distributed_floating_ip']))}"


# ---------------------------------------------------------------- topology


def topology(lab: Any) -> dict[str, Any]:
    elements = _unique([*_physical(lab), *_logical(lab)])
    return {
        "version": version(lab),
        "name": lab.topology.name,
        "config": lab.cloud.get_config(),
        "elements": elements,
        "nodes": _node_interfaces(lab),
        "bridges": {h: sorted(vs.bridges) for h, vs in lab.vswitches.items()},
        "datapaths": sorted(_datapath_name(r) for r in lab.sb.rows("Datapath_Binding")),
        "tables": {"nb": sorted(lab.nb.schema), "sb": sorted(lab.sb.schema)},
    }


def _unique(elements: list[Element]) -> list[Element]:
    """One element per id (Cytoscape refuses duplicates): a router with two subnets on one
    network is one edge labelled with both addresses."""
    seen: dict[str, Element] = {}
    for el in elements:
        first = seen.setdefault(el["data"]["id"], el)
        if first is not el and el["data"].get("label"):
            first["data"]["label"] = ", ".join(x for x in (first["data"]["label"],
                                                           el["data"]["label"]) if x)
    return list(seen.values())


def _node(id_: str, label: str, kind: Kind, parent: str | None = None,
          **extra: Any) -> Element:
    data = {"id": id_, "label": label, "kind": kind.value, **extra}
    if parent is not None:
        data["parent"] = parent
    return {"group": "nodes", "data": data, "classes": kind.value}


def _edge(source: str, target: str, kind: Kind, label: str = "", **extra: Any) -> Element:
    id_ = f"{kind.value}:{source}->{target}"
    return {"group": "edges", "classes": kind.value, "data": {
        "id": id_, "source": source, "target": target, "label": label, "kind": kind.value,
        **extra}}


def _physical(lab: Any) -> Iterator[Element]:
    fabric = lab.fabric
    for spec in lab.topology.nodes:
        host = spec.hostname
        yield _node(host, f"{host} ({spec.role}) {spec.tunnel_ip}", Kind.CHASSIS,
                    system_id=spec.system_id)
        vswitch = lab.vswitches[host]
        for name in vswitch.bridges:
            yield _node(f"{host}/{name}", name, Kind.BRIDGE, parent=host, node=host)
        chassis = fabric.node(host)
        for name, iface in chassis.interfaces.items():
            if isinstance(iface.medium, Segment):
                role = "underlay" if name == "eth1" else "provider"
                yield _node(f"{host}/{name}", f"{name} {role}", Kind.NIC, parent=host,
                            node=host, iface=name)
                bridge = vswitch.bridge_of_port(name)
                if bridge is not None:
                    yield _edge(f"{host}/{bridge.name}", f"{host}/{name}", Kind.WIRE)
        bridges = set(vswitch.bridges)
        if "br-int" in bridges:
            for other in sorted(bridges - {"br-int"}):
                yield _edge(f"{host}/br-int", f"{host}/{other}", Kind.WIRE, "patch")
    for name, node in fabric.nodes.items():
        if isinstance(node, VM):
            host = node.chassis
            yield _node(name, f"{name} {_addresses(node)}", Kind.VM, parent=host, node=name)
            yield _edge(name, f"{host}/br-int", Kind.WIRE, node.tap)
        elif isinstance(node, ExternalRouter):
            yield _node(name, f"{name} (external router)", Kind.ROUTER_HOST, node=name)
        elif isinstance(node, ExternalHost | InternetHost):
            yield _node(name, f"{name} {_addresses(node)}", Kind.HOST, node=name)
    for seg_name, segment in fabric.segments.items():
        seg_id = f"segment:{seg_name}"
        yield _node(seg_id, seg_name, Kind.SEGMENT)
        for iface in segment.ports:
            yield _edge(_iface_place(iface.node, iface.name), seg_id, Kind.WIRE, iface.name)


def _addresses(node: Any) -> str:
    return " ".join(ip_str(a.ip) for a in node.stack.addresses)


def _iface_place(node: Any, iface: str) -> str:
    return f"{node.name}/{iface}" if isinstance(node, Chassis) else node.name


def _logical(lab: Any) -> Iterator[Element]:
    cloud, ctx = lab.cloud, lab.admin
    networks = {n["id"]: n for n in cloud.get_networks(ctx)}
    subnets = {s["id"]: s for s in cloud.get_subnets(ctx)}
    for net in networks.values():
        cidrs = ", ".join(subnets[s]["cidr"] for s in net["subnets"] if s in subnets)
        kind = "provider" if net.get("router:external") else "tenant"
        yield _node(f"net:{net['id']}", f"{net['name']} {cidrs} ({kind})", Kind.NETWORK,
                    network_type=kind)
        physnet = net.get("provider:physical_network")
        if physnet and physnet in lab.fabric.segments:
            yield _edge(f"net:{net['id']}", f"segment:{physnet}", Kind.LOGICAL, "flat")
    for router in cloud.l3.get_routers(ctx):
        yield _node(f"router:{router['id']}", f"router {router['name']}", Kind.ROUTER)
    for port in cloud.get_ports(ctx):
        owner = port["device_owner"]
        ips = ", ".join(ip["ip_address"] for ip in port["fixed_ips"])
        if owner in (DeviceOwner.ROUTER_INTF, DeviceOwner.ROUTER_GW):
            yield _edge(f"router:{port['device_id']}", f"net:{port['network_id']}",
                        Kind.LOGICAL, ips)
    vms = {n.port["id"]: name for name, n in lab.fabric.nodes.items() if isinstance(n, VM)}
    for name in vms.values():
        net_id = lab.fabric.node(name).port["network_id"]
        yield _edge(name, f"net:{net_id}", Kind.LOGICAL)
    for fip in cloud.l3.get_floatingips(ctx):
        fid = f"fip:{fip['id']}"
        yield _node(fid, f"FIP {fip['floating_ip_address']}", Kind.FIP,
                    address=fip["floating_ip_address"], associated=bool(fip["port_id"]))
        if fip["port_id"] in vms:
            yield _edge(fid, vms[fip["port_id"]], Kind.LOGICAL, fip["fixed_ip_address"] or "")
    yield from _gateways(lab)


def _gateways(lab: Any) -> Iterator[Element]:
    """Each router's gateway chassis (NB Gateway_Chassis, priority) and the active one
    (the SB chassis that claimed its `cr-lrp-` port)."""
    hostnames = {r["name"]: r["hostname"] for r in lab.sb.rows("Chassis")}
    active = {pb["logical_port"].removeprefix("cr-"): hostnames.get(_chassis_name(lab, pb))
              for pb in lab.sb.rows("Port_Binding") if pb["type"] == "chassisredirect"}
    for router in lab.nb.rows("Logical_Router"):
        router_id = router["name"].removeprefix("neutron-")
        for lrp_uuid in router["ports"]:
            lrp = lab.nb.get("Logical_Router_Port", lrp_uuid)
            for gc_uuid in lrp["gateway_chassis"]:
                gc = lab.nb.get("Gateway_Chassis", gc_uuid)
                host = hostnames.get(gc["chassis_name"])
                if host is None:
                    continue
                is_active = active.get(lrp["name"]) == host
                yield _edge(f"router:{router_id}", host, Kind.GATEWAY,
                            f"prio {gc['priority']}" + (" active" if is_active else ""),
                            priority=gc["priority"], active=is_active)


def _chassis_name(lab: Any, pb: Any) -> str | None:
    ref = pb["chassis"]
    return lab.sb.get("Chassis", ref)["name"] if ref else None


def _datapath_name(row: Any) -> str:
    ext = row["external_ids"]
    return str(ext.get("name") or ext.get("name2") or row.uuid)


def _node_interfaces(lab: Any) -> dict[str, list[str]]:
    return {name: list(node.interfaces) for name, node in lab.fabric.nodes.items()}


# ---------------------------------------------------------------- trace


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of a journey, placed on the topology."""

    index: int
    time_ms: float
    node: str
    kind: str
    where: str
    place: str
    leg: Leg
    arp: bool
    packet: str
    label: str
    flows: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathEdge:
    """Consecutive places of one leg, labelled with what the first of them did."""

    source: str
    target: str
    leg: Leg
    label: str
    steps: tuple[int, ...] = field(default_factory=tuple)

    @property
    def short(self) -> str:
        """The label's headline for the drawing: routing, NAT, tunnels, drops."""
        return "; ".join(p for p in self.label.split("; ")
                         if p.startswith(SHORT) or "(FIP " in p)


def journey_view(lab: Any, journey: Journey) -> dict[str, Any]:
    taps = {n.tap: name for name, n in lab.fabric.nodes.items() if isinstance(n, VM)}
    steps = [_named_macs(s, mac_names(lab)) for s in _steps(journey, taps)]
    return {
        "src": journey.src, "dst": journey.dst, "proto": journey.proto, "port": journey.port,
        "disposition": journey.disposition,
        "steps": [asdict(s) for s in steps],
        "path": [asdict(e) | {"short": e.short} for e in _path(steps)],
        "text": trace_mod.render(journey, "summary"),
        "version": version(lab),  # after the trace's own changes (learned MAC bindings)
    }


def _steps(journey: Journey, taps: dict[str, str]) -> Iterator[Step]:
    leg = Leg.REQUEST
    for i, hop in enumerate(journey.hops):
        arp = _inner_eth_type(hop) == ETH_ARP
        yield Step(i, round((hop.time - journey.started) * 1000, 3), hop.node, hop.kind,
                   hop.where, _place(hop, taps), leg, arp, trace_mod.describe(hop.packet),
                   hop_label(hop),
                   tuple(trace_mod.flow_lines(hop.trace, journey.resolver))
                   if hop.kind == "bridge" and hop.trace is not None else ())
        if not arp and hop.kind == "host" and hop.note.startswith("deliver") \
                and hop.packet.geneve is None:
            leg = Leg.REPLY


def mac_names(lab: Any) -> dict[str, str]:
    """Whose each OVN MAC is, from the NB: a FIP's (NAT external_mac), a router port's,
    a VM's port; so a label says `eth.src -> fa:16:3e:.. (FIP 10.0.2.211's MAC)`."""
    names = {}
    for lrp in lab.nb.rows("Logical_Router_Port"):
        names[lrp["mac"]] = f"router port {', '.join(lrp['networks'])}"
    for name, node in lab.fabric.nodes.items():
        if isinstance(node, VM):
            names[node.port["mac_address"]] = name
    for nat in lab.nb.rows("NAT"):
        if nat["external_mac"]:
            names[nat["external_mac"]] = f"FIP {nat['external_ip']}'s MAC"
    return names


def _named_macs(step: Step, names: dict[str, str]) -> Step:
    label = step.label
    for mac, name in names.items():
        label = label.replace(f"-> {mac}", f"-> {mac} ({name})")
    return replace(step, label=label)


def _inner_eth_type(hop: Hop) -> int:
    packet = hop.packet.geneve.inner if hop.packet.geneve is not None else hop.packet
    return packet.eth_type


def _place(hop: Hop, taps: dict[str, str]) -> str:
    """The topology element a hop happened at."""
    if hop.chassis is None:
        return hop.node
    if hop.kind in ("bridge", "controller"):
        return f"{hop.node}/{hop.where}"
    if hop.kind in ("encap", "decap"):
        return f"{hop.node}/eth1"  # the underlay NIC carries the tunnel
    if hop.where in taps:
        return taps[hop.where]
    return f"{hop.node}/{hop.where}"


def hop_label(hop: Hop) -> str:
    """What happened to the packet at this hop, in a few words."""
    if hop.kind == "bridge":
        changes = trace_mod.hop_changes(hop)
        parts = (["routed"] if any(c.startswith("ttl") for c in changes) else []) + [
            c for c in changes if not c.startswith("ttl")]
        if trace_mod.is_drop(hop):
            parts.append("dropped")
        if hop.note:
            parts.append(hop.note)
        return "; ".join(parts)
    if hop.kind == "host" and hop.packet.geneve is not None:
        return ""  # the underlay stack handing a tunnel packet on: the decap says it
    if hop.kind in ("encap", "decap", "host", "controller"):
        return f"{hop.kind}: {hop.note}" if hop.kind in ("encap", "decap") else hop.note
    return ""


def _path(steps: list[Step]) -> Iterator[PathEdge]:
    """The traced flow's places in order (its ARP left out), one edge per change of
    place; the reply leg starts where the request was delivered."""
    flow = [s for s in steps if not s.arp]
    prev: Step | None = None
    labels: list[str] = []
    indices: list[int] = []
    for step in flow:
        if prev is not None and step.place != prev.place:
            yield PathEdge(prev.place, step.place, step.leg,
                           "; ".join(dict.fromkeys(x for x in labels if x)), tuple(indices))
            labels, indices = [], []
        labels.append(step.label)
        indices.append(step.index)
        prev = step
