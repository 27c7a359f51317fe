"""patch.c (OVN 22.03): a patch pair between br-int and the provider bridge for each
localnet port of a local datapath whose network has a bridge mapping here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovnlab.controller.chassis import BR_INT
from ovnlab.controller.physical import PortInfo
from ovnlab.ovsdb import Database


def _wanted(sb: Database, vswitch: Any, special: Iterable[PortInfo],
            local_dps: frozenset[str], mappings: Mapping[str, str]) -> dict[str, str]:
    """localnet port → the provider bridge it is patched to."""
    want: dict[str, str] = {}
    for p in special:
        if p.type != "localnet" or p.dp_uuid not in local_dps:
            continue
        row = sb.lookup("Port_Binding", p.uuid)
        net = row["options"].get("network_name", "") if row else ""
        if net in mappings and mappings[net] in vswitch.bridges:
            want[p.name] = mappings[net]
    return want


def sync_patches(sb: Database, vswitch: Any, special: Iterable[PortInfo],
                 local_dps: frozenset[str], mappings: Mapping[str, str]) -> dict[str, int]:
    """patch_run: returns localnet port → ofport of its patch port on br-int."""
    want = _wanted(sb, vswitch, special, local_dps, mappings)
    br = vswitch.bridges[BR_INT]
    out: dict[str, int] = {}
    for pname, port in list(br.ports.items()):
        lport = (getattr(port, "external_ids", None) or {}).get("ovn-localnet-port")
        if lport and lport not in want:
            br.del_port(pname)
            peer = (getattr(port, "options", None) or {}).get("peer", "")
            for other in vswitch.bridges.values():
                if peer in other.ports:
                    other.del_port(peer)
    for lport, brname in sorted(want.items()):
        n1, n2 = f"patch-{BR_INT}-to-{lport}", f"patch-{lport}-to-{BR_INT}"
        ext = {"ovn-localnet-port": lport}
        port = br.ports.get(n1)
        if port is None:
            port = br.add_port(n1, type="patch", options={"peer": n2}, external_ids=ext)
        other = vswitch.bridges[brname]
        if n2 not in other.ports:
            other.add_port(n2, type="patch", options={"peer": n1}, external_ids=ext)
        out[lport] = int(port.ofport)
    return out
