"""Parsed views of NB rows (northd's ovn_datapath / ovn_port / ovn_nat facts), IPv4 only.

Pure functions of NB rows plus a small index (`NBIndex`) kept current from change lists, so
that an incremental run never rescans the whole database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Interface

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
class LportAddresses:
    """extract_lsp_addresses(): "MAC [IP...]" (IPs with their prefix; /32 when none)."""

    mac: str
    ipv4: tuple[IPv4Interface, ...]


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
    """extract_lrp_networks(): the LRP's MAC plus its IPv4 networks."""
    mac = parse_mac(lrp["mac"])
    if mac is None:
        return None
    ips = [ip for ip in (parse_ipv4_cidr(n) for n in lrp["networks"]) if ip is not None]
    return LportAddresses(mac, tuple(ips))


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


@dataclass(frozen=True, slots=True)
class NatEntry:
    """lrouter_check_nat_entry() results for one NAT row (IPv4)."""

    uuid: str
    type: str
    external_ip: str
    logical_ip: str
    cidr_bits: int
    external_mac: str | None
    logical_port: str | None
    distributed: bool
    stateless: bool
    external_port_range: str


def check_nat_entry(nat: Row, has_dgp: bool) -> NatEntry | None:
    """None where OVN logs a warning and skips the row."""
    if nat["allowed_ext_ips"] is not None and nat["exempted_ext_ips"] is not None:
        return None
    ext = parse_ipv4_cidr(nat["external_ip"])
    if ext is None or ext.network.prefixlen != 32:
        return None
    logical = parse_ipv4_cidr(nat["logical_ip"])
    if logical is None:
        return None
    if nat["type"] != "snat" and logical.network.prefixlen != 32:
        return None
    distributed = False
    mac: str | None = None
    if has_dgp and nat["type"] == "dnat_and_snat" and nat["logical_port"] and nat["external_mac"]:
        mac = parse_mac(nat["external_mac"])
        if mac is None:
            return None
        distributed = True
    stateless = (nat["type"] == "dnat_and_snat"
                 and nat["options"].get("stateless", "false") == "true")
    # northd prints the NB strings as they are (ds_put_format(..., nat->logical_ip)).
    return NatEntry(nat.uuid, nat["type"], nat["external_ip"], nat["logical_ip"],
                    logical.network.prefixlen, mac if distributed else nat["external_mac"],
                    nat["logical_port"], distributed, stateless, nat["external_port_range"])


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
    for s in (idx.router_lsps, idx.localnet_lsps, idx.unknown_lsps, idx.disabled_lsps):
        s.discard(u)
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
