"""Parsed views of NB rows (northd's ovn_datapath / ovn_port / ovn_nat facts): IPv4, plus the
IPv6 link-local address every router port has (IPv6 networks are not modelled).

Pure functions of NB rows plus a small index (`NBIndex`) kept current from change lists, so
that an incremental run never rescans the whole database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Interface, IPv6Address

from ovnlab.ovsdb import Change, Database, Row

_MAC_HEX = set("0123456789abcdefABCDEF")


def parse_mac(text: str | None) -> str | None:
    return _parse_mac(text) if text else None


@lru_cache(maxsize=1 << 18)
def _parse_mac(text: str) -> str | None:
    """An Ethernet address in northd's ETH_ADDR_FMT (lower case), or None if invalid."""
    if not text:
        return None
    parts = text.split(":")
    if len(parts) != 6 or any(len(p) not in (1, 2) or not set(p) <= _MAC_HEX for p in parts):
        return None
    return ":".join(p.lower().zfill(2) for p in parts)


def parse_ipv4(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text)
    except ValueError:
        return None


@lru_cache(maxsize=1 << 18)
def parse_ipv4_cidr(text: str) -> IPv4Interface | None:
    """`a.b.c.d[/n]` (ip_parse_masked / ip_parse_cidr); host bits allowed."""
    try:
        iface = IPv4Interface(text)
    except ValueError:
        return None
    return iface


@dataclass(frozen=True, slots=True)
class Ipv6NetAddr:
    """struct ipv6_netaddr: an address with its prefix length, as northd prints them."""

    addr: IPv6Address
    plen: int

    @property
    def addr_s(self) -> str:
        return str(self.addr)

    @property
    def network_s(self) -> str:
        mask = ((1 << 128) - 1) ^ ((1 << (128 - self.plen)) - 1)
        return str(IPv6Address(int(self.addr) & mask))

    @property
    def sn_addr_s(self) -> str:
        """in6_addr_solicited_node(): ff02::1:ff00:0/104 plus the address's low 24 bits."""
        return str(IPv6Address(int(IPv6Address("ff02::1:ff00:0")) | (int(self.addr) & 0xFFFFFF)))

    @property
    def is_lla(self) -> bool:
        return self.addr.is_link_local


def lla_of_mac(mac: str) -> Ipv6NetAddr:
    """in6_generate_lla(): fe80::/64 with the modified EUI-64 interface id of `mac`."""
    b = [int(x, 16) for x in mac.split(":")]
    eui = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return Ipv6NetAddr(IPv6Address(bytes.fromhex("fe80000000000000") + eui), 64)


@dataclass(frozen=True, slots=True)
class LportAddresses:
    """extract_lsp_addresses(): "MAC [IP...]" (IPs with their prefix; /32 when none).
    `ipv6` is filled for router ports only (their link-local address)."""

    mac: str
    ipv4: tuple[IPv4Interface, ...]
    ipv6: tuple[Ipv6NetAddr, ...] = ()


def extract_lsp_addresses(text: str) -> LportAddresses | None:
    words = text.split()
    if not words:
        return None
    mac = parse_mac(words[0])
    if mac is None:
        return None
    ips: list[IPv4Interface] = []
    for w in words[1:]:
        ip = parse_ipv4_cidr(w)
        if ip is not None:
            ips.append(ip)
    return LportAddresses(mac, tuple(ips))


def lrp_networks(lrp: Row) -> LportAddresses | None:
    """extract_lrp_networks(): the LRP's MAC, its IPv4 networks and, always, the IPv6
    link-local address derived from the MAC."""
    mac = parse_mac(lrp["mac"])
    if mac is None:
        return None
    return _lrp_networks(mac, tuple(lrp["networks"]))


@lru_cache(maxsize=1 << 16)
def _lrp_networks(mac: str, networks: tuple[str, ...]) -> LportAddresses:
    ips = [ip for ip in (parse_ipv4_cidr(n) for n in networks) if ip is not None]
    return LportAddresses(mac, tuple(ips), (lla_of_mac(mac),))


def is_lsp_enabled(lsp: Row) -> bool:
    return lsp["enabled"] is not False


def is_lrp_enabled(lrp: Row) -> bool:
    return lrp["enabled"] is not False


def is_dgp(lr: Row, lrp: Row) -> bool:
    """A distributed gateway port: gateway_chassis/ha_chassis_group on a non-gateway router."""
    if lr["options"].get("chassis"):
        return False
    return bool(lrp["gateway_chassis"]) or lrp["ha_chassis_group"] is not None


def cr_name(lrp_name: str) -> str:
    """ovn_chassis_redirect_name()."""
    return f"cr-{lrp_name}"


@dataclass
class NBIndex:
    """Reverse references northd needs (port → datapath, NAT → router...), kept current."""

    ls_of_lsp: dict[str, str] = field(default_factory=dict)
    lr_of_lrp: dict[str, str] = field(default_factory=dict)
    lr_of_nat: dict[str, str] = field(default_factory=dict)
    lr_of_route: dict[str, str] = field(default_factory=dict)
    lsp_by_name: dict[str, str] = field(default_factory=dict)
    lrp_by_name: dict[str, str] = field(default_factory=dict)
    nats_by_lport: dict[str, set[str]] = field(default_factory=dict)
    pgs_of_lsp: dict[str, set[str]] = field(default_factory=dict)
    pgs_of_acl: dict[str, set[str]] = field(default_factory=dict)
    ls_of_acl: dict[str, str] = field(default_factory=dict)
    router_lsps_by_peer: dict[str, set[str]] = field(default_factory=dict)
    # Switch-port facts by LSP UUID, so that per-switch questions become C-speed set
    # operations on the switch's `ports` (no Python loop over every port).
    router_lsps: set[str] = field(default_factory=set)
    localnet_lsps: set[str] = field(default_factory=set)
    unknown_lsps: set[str] = field(default_factory=set)  # enabled, with "unknown"
    disabled_lsps: set[str] = field(default_factory=set)
    name_of_lsp: dict[str, str] = field(default_factory=dict)
    ips_of_lsp: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lsps_of_dhcp: dict[str, set[str]] = field(default_factory=dict)  # DHCP_Options → LSPs
    mcast_flood_lsps: set[str] = field(default_factory=set)  # options:mcast_flood=true
    mcast_flood_reports_lsps: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, nb: Database) -> NBIndex:
        idx = cls()
        changes = [Change(t, "insert", r.uuid, None, r)
                   for t in ("Logical_Switch_Port", "Logical_Router_Port", "NAT",
                             "Logical_Switch", "Logical_Router", "Port_Group")
                   for r in nb.rows(t)]
        idx.apply(changes)
        return idx

    def apply(self, changes: Iterable[Change]) -> None:
        for ch in changes:
            handler = _HANDLERS.get(ch.table)
            if handler is not None:
                handler(self, ch)


def _names(idx: dict[str, str], ch: Change) -> None:
    if ch.old is not None and idx.get(ch.old["name"]) == ch.uuid:
        del idx[ch.old["name"]]
    if ch.new is not None:
        idx[ch.new["name"]] = ch.uuid


def _members(idx: dict[str, str], ch: Change, column: str) -> None:
    old = set(ch.old[column]) if ch.old is not None else set()
    new = set(ch.new[column]) if ch.new is not None else set()
    for m in old - new:
        if idx.get(m) == ch.uuid:
            del idx[m]
    for m in (new - old) if ch.op == "update" else new:
        idx[m] = ch.uuid


def _on_lsp(idx: NBIndex, ch: Change) -> None:
    _names(idx.lsp_by_name, ch)
    u = ch.uuid
    for s in (idx.router_lsps, idx.localnet_lsps, idx.unknown_lsps, idx.disabled_lsps,
              idx.mcast_flood_lsps, idx.mcast_flood_reports_lsps):
        s.discard(u)
    if ch.old is not None and ch.old["dhcpv4_options"]:
        idx.lsps_of_dhcp.get(ch.old["dhcpv4_options"], set()).discard(u)
    if ch.new is not None and ch.new["dhcpv4_options"]:
        idx.lsps_of_dhcp.setdefault(ch.new["dhcpv4_options"], set()).add(u)
    idx.name_of_lsp.pop(u, None)
    idx.ips_of_lsp.pop(u, None)
    if ch.new is not None:
        new = ch.new
        if new["type"] == "router":
            idx.router_lsps.add(u)
        elif new["type"] == "localnet":
            idx.localnet_lsps.add(u)
        enabled = new["enabled"] is not False
        if not enabled:
            idx.disabled_lsps.add(u)
        if enabled and "unknown" in new["addresses"]:
            idx.unknown_lsps.add(u)
        # init_mcast_port_info() (smap_get_bool: only "true" counts)
        if new["options"].get("mcast_flood", "").lower() == "true":
            idx.mcast_flood_lsps.add(u)
        if new["options"].get("mcast_flood_reports", "").lower() == "true":
            idx.mcast_flood_reports_lsps.add(u)
        idx.name_of_lsp[u] = new["name"]
        ips: list[str] = []
        for a in (*new["addresses"], *new["port_security"]):
            for w in a.split()[1:]:
                ip = w.split("/")[0]
                if "." in ip and ip not in ips:
                    ips.append(ip)
        idx.ips_of_lsp[u] = tuple(ips)
    if ch.old is not None and ch.old["type"] == "router":
        idx.router_lsps_by_peer.get(ch.old["options"].get("router-port", ""), set()).discard(ch.uuid)
    if ch.new is not None and ch.new["type"] == "router":
        peer = ch.new["options"].get("router-port", "")
        idx.router_lsps_by_peer.setdefault(peer, set()).add(ch.uuid)


def _on_lrp(idx: NBIndex, ch: Change) -> None:
    _names(idx.lrp_by_name, ch)


def _on_nat(idx: NBIndex, ch: Change) -> None:
    if ch.old is not None and ch.old["logical_port"]:
        s = idx.nats_by_lport.get(ch.old["logical_port"])
        if s is not None:
            s.discard(ch.uuid)
    if ch.new is not None and ch.new["logical_port"]:
        idx.nats_by_lport.setdefault(ch.new["logical_port"], set()).add(ch.uuid)


def _on_ls(idx: NBIndex, ch: Change) -> None:
    _members(idx.ls_of_lsp, ch, "ports")
    _members(idx.ls_of_acl, ch, "acls")


def _on_lr(idx: NBIndex, ch: Change) -> None:
    _members(idx.lr_of_lrp, ch, "ports")
    _members(idx.lr_of_nat, ch, "nat")
    _members(idx.lr_of_route, ch, "static_routes")


def _on_pg(idx: NBIndex, ch: Change) -> None:
    for column, index in (("ports", idx.pgs_of_lsp), ("acls", idx.pgs_of_acl)):
        old = set(ch.old[column]) if ch.old is not None else set()
        new = set(ch.new[column]) if ch.new is not None else set()
        for m in old - new:
            index.get(m, set()).discard(ch.uuid)
        for m in new - old:
            index.setdefault(m, set()).add(ch.uuid)


_HANDLERS = {
    "Logical_Switch_Port": _on_lsp,
    "Logical_Router_Port": _on_lrp,
    "NAT": _on_nat,
    "Logical_Switch": _on_ls,
    "Logical_Router": _on_lr,
    "Port_Group": _on_pg,
}


def network_str(ip: IPv4Interface) -> str:
    return f"{ip.network.network_address}/{ip.network.prefixlen}"


def ip_in_networks(ip: str, nets: Iterable[IPv4Interface]) -> bool:
    addr = ipaddress.IPv4Address(ip)
    return any(addr in n.network for n in nets)
