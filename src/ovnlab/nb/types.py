"""Enumerated NB column values, as ovn-nb.ovsschema spells them (ovn-org/ovn branch-22.03)."""

from __future__ import annotations

from enum import StrEnum


class NatType(StrEnum):
    """`NAT.type`."""

    DNAT_AND_SNAT = "dnat_and_snat"
    SNAT = "snat"
    DNAT = "dnat"


class LspType(StrEnum):
    """`Logical_Switch_Port.type` (the empty string is a VIF)."""

    VIF = ""
    ROUTER = "router"
    LOCALNET = "localnet"
    LOCALPORT = "localport"
    L2GATEWAY = "l2gateway"
    VTEP = "vtep"
    EXTERNAL = "external"
    VIRTUAL = "virtual"
    REMOTE = "remote"
