"""The ovn-metadata-agent's namespaces (neutron/agent/ovn/metadata/agent.py): on each chassis
that hosts a VM of a network with a metadata port, a namespace `ovnmeta-<network id>`
joined to br-int by a veth pair, `tap<port id[:10]>0` in br-int (external_ids:iface-id =
the metadata localport) and `tap<port id[:10]>1` inside, which holds the port's MAC, its
addresses and 169.254.169.254/32; haproxy listens there on port 80 and the agent answers
with Nova's metadata for the instance that has the request's source address on that
network. Nothing crosses to another chassis: the port is a localport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ovnlab.fabric.clock import Clock
from ovnlab.fabric.nodes import IpNode, Record
from ovnlab.packet import Packet, ip_str, mac

METADATA_IP = "169.254.169.254"
HTTP_PORT = 80
HEADER_END = b"\r\n\r\n"
VIF_TYPES = ("", "external", "virtual")  # the ports whose binding makes a datapath local
REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}


@dataclass(frozen=True, slots=True)
class MetadataPort:
    """A network's metadata localport as the agent reads it from the Southbound."""

    network_id: str
    port_id: str
    mac: int
    cidrs: tuple[str, ...]  # its addresses with their prefix, "172.16.100.2/24"

    @property
    def namespace(self) -> str:
        return f"ovnmeta-{self.network_id}"

    @property
    def veth(self) -> tuple[str, str]:
        """(the br-int end, the namespace end): `tap<port id[:10]>0`, `...1`."""
        return f"tap{self.port_id[:10]}0", f"tap{self.port_id[:10]}1"


class Reply(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def body(self) -> bytes: ...


class Instance(Protocol):
    def get(self, path: str) -> Reply: ...


# (network id, the request's source address) -> that instance's metadata, None if none
MetadataSource = Callable[[str, str], Instance | None]


class MetadataNamespace(IpNode):
    """`ip netns ovnmeta-<network>` on one chassis, with its haproxy."""

    kind = "metadata"

    def __init__(self, chassis: str, port: MetadataPort, clock: Clock, record: Record,
                 source: MetadataSource) -> None:
        super().__init__(f"{port.namespace}@{chassis}", clock, record)
        self.chassis = chassis
        self.port = port
        self.source = source
        self.requests = 0

    def configure(self) -> None:
        """The agent's provisioning: addresses on the inner veth, haproxy on :80."""
        inner = self.port.veth[1]
        for cidr in self.port.cidrs:
            self.stack.add_address(inner, cidr)
        self.stack.add_address(inner, f"{METADATA_IP}/32")
        self.stack.listen_tcp(HTTP_PORT)
        self.stack.tcp.apps[HTTP_PORT] = self._http

    def _http(self, segment: Packet, data: bytes) -> bytes | None:
        """haproxy (X-OVN-Network-ID added) → the agent → Nova, as one HTTP/1.1 reply."""
        if HEADER_END not in data:
            return None
        self.requests += 1
        head = data.split(HEADER_END, 1)[0].decode("latin-1")
        parts = head.split("\r\n", 1)[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return _response(400, "text/html", b"<html><body><h1>400 Bad request</h1>\n"
                             b"Your browser sent an invalid request.\n</body></html>\n")
        method, path = parts[0], parts[1]
        if method not in ("GET", "HEAD"):
            return _response(405, "text/plain; charset=UTF-8", b"")
        instance = self.source(self.port.network_id, ip_str(segment.ip_src))
        if instance is None:  # the agent found no port with that address on the network
            return _response(404, "text/plain", b"")
        reply = instance.get(path)
        body = b"" if method == "HEAD" else reply.body
        return _response(reply.status, reply.content_type, body, len(reply.body))


def _response(status: int, content_type: str, body: bytes, length: int | None = None) -> bytes:
    head = (f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n")
    return head.encode() + body


def agent_view(sb: Any) -> dict[tuple[str, str], MetadataPort]:
    """What every chassis's agent provisions, from the Southbound (agent.py
    `sync` / `provision_datapath`): for each chassis (by hostname), each datapath with a
    VIF bound there whose metadata localport has addresses (`neutron:cidrs`)."""
    metadata: dict[str, MetadataPort] = {}
    for pb in sb.rows("Port_Binding"):
        ext = pb["external_ids"]
        if pb["type"] != "localport" or not ext.get("neutron:device_id", "").startswith(
                "ovnmeta-") or not ext.get("neutron:cidrs") or not pb["mac"]:
            continue
        dp = sb.lookup("Datapath_Binding", pb["datapath"])
        name = dp["external_ids"].get("name", "") if dp is not None else ""
        metadata[pb["datapath"]] = MetadataPort(
            network_id=name.removeprefix("neutron-"), port_id=pb["logical_port"],
            mac=mac(pb["mac"][0].split()[0]),
            cidrs=tuple(c for c in ext["neutron:cidrs"].split() if ":" not in c))
    if not metadata:
        return {}
    hostnames = {ch.uuid: ch["hostname"] or ch["name"] for ch in sb.rows("Chassis")}
    wanted: dict[tuple[str, str], MetadataPort] = {}
    for pb in sb.rows("Port_Binding"):
        port = metadata.get(pb["datapath"])
        if port is not None and pb["type"] in VIF_TYPES and pb["chassis"] in hostnames:
            wanted[(hostnames[pb["chassis"]], port.network_id)] = port
    return wanted
