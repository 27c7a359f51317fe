"""One fact per router NAT row: the only place northd decides whether a NAT is distributed,
on which port's chassis it is handled, and what it announces (northd.c
lrouter_check_nat_entry(), get_nat_addresses(), od->has_distributed_nat).

A NAT is *distributed* (handled on the chassis of its logical port, with its own
external MAC) iff the router has a distributed gateway port, the row is `dnat_and_snat`,
and `logical_port` and `external_mac` are set (the MAC must parse). Everything else is
*centralized*: handled where the chassisredirect port `cr-<gateway port>` is resident.
Every stage (router flows, switch flows, Port_Binding nat_addresses, the chassisredirect
port's always-redirect) reads a `NatFact`; none re-tests the row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovnlab.nb import NatType
from ovnlab.northd.model import parse_ipv4_cidr, parse_mac
from ovnlab.ovsdb import Row


@dataclass(frozen=True, slots=True)
class NatEntry:
    """lrouter_check_nat_entry() results for one valid NAT row (IPv4)."""

    uuid: str
    type: NatType
    external_ip: str
    logical_ip: str
    cidr_bits: int
    external_mac: str | None
    logical_port: str | None
    distributed: bool
    stateless: bool
    external_port_range: str

    @property
    def snats(self) -> bool:
        """Whether the rule rewrites the source address (snat, dnat_and_snat)."""
        return self.type is not NatType.DNAT

    @property
    def dnats(self) -> bool:
        """Whether the rule rewrites the destination address (dnat, dnat_and_snat)."""
        return self.type is not NatType.SNAT

    def resident(self, cr_json_key: str) -> str:
        """The residency test of the NAT's flows: its logical port's chassis when
        distributed, else the gateway chassis (where `cr_json_key`'s port is bound)."""
        if self.distributed:
            return f'is_chassis_resident("{self.logical_port}")'
        return f"is_chassis_resident({cr_json_key})"


@dataclass(frozen=True, slots=True)
class NatFact:
    """What every northd stage reads about one NAT row of a router."""

    uuid: str
    entry: NatEntry | None  # None where OVN logs a warning and skips the row's flows
    requests_distribution: bool  # what od->has_distributed_nat tests (row columns only)
    garp: str | None  # get_nat_addresses(): "MAC IP is_chassis_resident(\"lport\")"
    central_ip: str | None  # an external IP announced from the gateway chassis
    self_orig_mac: str | None  # external MAC the self-originated ARP flows list

    @property
    def distributed(self) -> bool:
        return self.entry is not None and self.entry.distributed


def requests_distribution(nat: Row) -> bool:
    """A dnat_and_snat row naming its logical port and an external MAC."""
    return bool(nat["type"] == NatType.DNAT_AND_SNAT and nat["logical_port"]
                and nat["external_mac"])


def nat_fact(nat: Row, has_dgp: bool) -> NatFact:
    """The fact for `nat` on a router that has (`has_dgp`) a distributed gateway port."""
    requested = requests_distribution(nat)
    entry = _check_nat_entry(nat, has_dgp, requested)
    garp = central = None
    ext = parse_ipv4_cidr(nat["external_ip"])
    if ext is not None and ext.network.prefixlen == 32:
        if not requested:
            central = nat["external_ip"]
        elif (mac := parse_mac(nat["external_mac"])) is not None:
            garp = f'{mac} {nat["external_ip"]} is_chassis_resident("{nat["logical_port"]}")'
    own_mac = entry is not None and entry.type is not NatType.SNAT and nat["external_mac"]
    return NatFact(nat.uuid, entry, requested, garp, central,
                   nat["external_mac"] if own_mac else None)


def _check_nat_entry(nat: Row, has_dgp: bool, requested: bool) -> NatEntry | None:
    try:
        typ = NatType(nat["type"])
    except ValueError:  # not a value the schema allows
        return None
    if nat["allowed_ext_ips"] is not None and nat["exempted_ext_ips"] is not None:
        return None
    ext = parse_ipv4_cidr(nat["external_ip"])
    if ext is None or ext.network.prefixlen != 32:
        return None
    logical = parse_ipv4_cidr(nat["logical_ip"])
    if logical is None:
        return None
    if typ is not NatType.SNAT and logical.network.prefixlen != 32:
        return None
    distributed = has_dgp and requested
    mac = parse_mac(nat["external_mac"]) if distributed else None
    if distributed and mac is None:
        return None
    stateless = (typ is NatType.DNAT_AND_SNAT
                 and nat["options"].get("stateless", "false") == "true")
    # northd prints the NB strings as they are (ds_put_format(..., nat->logical_ip)).
    return NatEntry(nat.uuid, typ, nat["external_ip"], nat["logical_ip"],
                    logical.network.prefixlen, mac if distributed else nat["external_mac"],
                    nat["logical_port"], distributed, stateless, nat["external_port_range"])
