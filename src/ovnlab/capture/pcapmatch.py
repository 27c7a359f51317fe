"""The packet tests pcap-filter primitives compile to (libpcap's gencode.c gen_* checks,
on Packet rather than BPF): link and network protocols, the encapsulated view after `vlan`
and `geneve`, hosts, ethernet addresses and ports."""

from __future__ import annotations

import re
from collections.abc import Callable

from ovnlab.capture.filtergrammar import (
    IP_PROTO_BY_NAME,
    FilterError,
)
from ovnlab.packet import (
    ETH_ARP,
    ETH_IP,
    ETH_IPV6,
    ETH_VLAN,
    GENEVE_PORT,
    PROTO_UDP,
    Packet,
)

Predicate = Callable[[Packet], bool]


def _ethertype(p: Packet) -> int:
    """The type field at the link header's type offset (0x8100 for a tagged frame)."""
    return ETH_VLAN if p.vlan_tci else p.eth_type


def _is_ip(p: Packet) -> bool:
    return _ethertype(p) == ETH_IP


def _is_arp(p: Packet) -> bool:
    return _ethertype(p) == ETH_ARP


def _is_geneve(p: Packet) -> bool:
    if not (_is_ip(p) and p.ip_proto == PROTO_UDP and p.tp_dst == GENEVE_PORT):
        return False
    if p.geneve is not None:
        return True
    return bool(p.payload) and p.payload[0] >> 6 == 0


def _geneve_vni(p: Packet) -> int:
    if p.geneve is not None:
        return p.geneve.vni
    return int.from_bytes(p.payload[4:7], "big") if len(p.payload) >= 8 else -1


def _view(p: Packet, layer: tuple[str, ...]) -> Packet | None:
    """The frame the primitives after `vlan`/`geneve` look at."""
    for step in layer:
        if step == "vlan":
            if not p.vlan_tci:
                return None
            p = p.with_(vlan_tci=0)
        else:
            if not _is_geneve(p) or p.geneve is None:
                return None
            p = p.geneve.inner
    return p


def _layered(layer: tuple[str, ...], predicate: Predicate) -> Predicate:
    if not layer:
        return predicate

    def on_inner(p: Packet) -> bool:
        view = _view(p, layer)
        return view is not None and predicate(view)
    return on_inner


def _proto_check(name: str) -> Predicate:
    if name in ("ether", "link"):
        return lambda p: True
    if name == "ip":
        return _is_ip
    if name == "arp":
        return _is_arp
    if name == "rarp":
        return lambda p: _ethertype(p) == 0x8035
    if name == "ip6":
        return lambda p: _ethertype(p) == ETH_IPV6
    if name == "icmp6":
        return lambda p: False  # IPv6 is not modelled
    number = IP_PROTO_BY_NAME[name]
    return lambda p: _is_ip(p) and p.ip_proto == number


def _direction(dir_: str | None, src: bool, dst: bool) -> bool:
    if dir_ == "src":
        return src
    if dir_ == "dst":
        return dst
    if dir_ == "src and dst":
        return src and dst
    return src or dst


def _host_match(proto: str | None, dir_: str | None, network: int, mask: int) -> Predicate:
    def ip_match(p: Packet) -> bool:
        return _is_ip(p) and _direction(dir_, p.ip_src & mask == network,
                                        p.ip_dst & mask == network)

    def arp_match(p: Packet) -> bool:
        return _is_arp(p) and _direction(dir_, p.arp_spa & mask == network,
                                         p.arp_tpa & mask == network)

    if proto == "ip":
        return ip_match
    if proto in ("arp", "rarp"):
        return arp_match if proto == "arp" else (lambda p: False)
    if proto is None:
        return lambda p: ip_match(p) or arp_match(p)
    if proto == "ip6":
        raise FilterError("'ip6' modifier applied to ip host")
    raise FilterError(f"'{proto}' modifier applied to host")


def _ether_match(dir_: str | None, address: int) -> Predicate:
    return lambda p: _direction(dir_, p.eth_src == address, p.eth_dst == address)


def _port_match(protos: tuple[int, ...], dir_: str | None,
                test: Callable[[int], bool]) -> Predicate:
    return lambda p: (_is_ip(p) and p.ip_proto in protos
                      and _direction(dir_, test(p.tp_src), test(p.tp_dst)))


def _parse_mac(text: str) -> int:
    digits = re.split(r"[:.-]", text)
    if len(digits) == 3:  # xxxx.xxxx.xxxx
        return int("".join(digits), 16)
    return int("".join(d.zfill(2) for d in digits), 16)
