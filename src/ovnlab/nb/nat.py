"""A NAT rule checked when it is built, for every writer of the NB: the ML2 driver (through
`NbApi.lr_nat_add`, as ovsdbapp's LrNatAddCommand checks in its constructor) and
`ovn-nbctl lr-nat-add` (whose messages these are, ovn-nbctl.c nbctl_lr_nat_add)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ovnlab.nb.types import NatType

MAC = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")


class NatError(ValueError):
    """A NAT rule OVN would not take; the message is ovn-nbctl's."""


def normalize_addr(text: str, version: int | None = None) -> str | None:
    """normalize_ipv{4,6}_addr_str: the address, of `version` if given."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(ip) if version in (None, ip.version) else None


def normalize_prefix(text: str) -> str | None:
    """normalize_prefix_str: `a.b.c.d` for a host prefix, else the masked network."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


@dataclass(frozen=True, slots=True)
class NatAddresses:
    """TYPE EXTERNAL_IP LOGICAL_IP, checked and normalized: an IP outside, and inside an
    IP of the same family (a network too, for an SNAT)."""

    type: NatType
    external_ip: str
    logical_ip: str

    @classmethod
    def checked(cls, nat_type: str, external_ip: str, logical_ip: str) -> NatAddresses:
        if nat_type not in set(NatType):
            raise NatError(f'{nat_type}: type must be one of "dnat", "snat" and '
                           '"dnat_and_snat".')
        ext = normalize_addr(external_ip)
        if ext is None:
            raise NatError(f"{external_ip}: Not a valid IPv4 or IPv6 address.")
        version = ipaddress.ip_address(ext).version
        family = "IPv6" if version == 6 else "IPv4"
        if nat_type != NatType.SNAT:
            log = normalize_addr(logical_ip, version)
            if log is None:
                raise NatError(f"{logical_ip}: Not a valid {family} address.")
        else:
            log = normalize_prefix(logical_ip)
            if log is None or ipaddress.ip_network(log).version != version:
                raise NatError(f"{logical_ip}: should be an {family} address or network.")
        return cls(NatType(nat_type), ext, log)

    @property
    def key_ips(self) -> tuple[str, str]:
        """(the IP that names the NAT for its type, the other): SNATs by their logical IP."""
        if self.type == NatType.SNAT:
            return self.logical_ip, self.external_ip
        return self.external_ip, self.logical_ip


def check_port_and_mac(nat_type: str, logical_port: str | None,
                       external_mac: str | None) -> None:
    """LOGICAL_PORT and EXTERNAL_MAC belong to a dnat_and_snat (a distributed one has
    both; a centralized FIP of Neutron's has the port alone)."""
    if logical_port is None and external_mac is None:
        return
    if nat_type != NatType.DNAT_AND_SNAT:
        raise NatError('logical_port and external_mac are only valid when type is '
                       '"dnat_and_snat".')
    if external_mac is not None and not MAC.fullmatch(external_mac):
        raise NatError(f"invalid mac address {external_mac}.")


def check_stateless(nat_type: str, stateless: bool) -> None:
    if stateless and nat_type != NatType.DNAT_AND_SNAT:
        raise NatError("stateless is not applicable to dnat or snat types")


def check_nat_columns(cols: Mapping[str, Any]) -> None:
    """A NAT row's columns as a writer gives them, checked as ovn-nbctl checks its
    arguments (the addresses are kept as given: Neutron writes them normalized)."""
    nat_type = str(cols.get("type", ""))
    NatAddresses.checked(nat_type, str(cols.get("external_ip", "")),
                         str(cols.get("logical_ip", "")))
    check_port_and_mac(nat_type, cols.get("logical_port"), cols.get("external_mac"))
    check_stateless(nat_type, dict(cols.get("options") or {}).get("stateless") == "true")
