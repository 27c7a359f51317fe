"""encaps.c (OVN 22.03): one Geneve tunnel port on br-int per remote chassis."""

from __future__ import annotations

from typing import Any

from ovnlab.ovsdb import Database


def _remote_encaps(sb: Database, me: str) -> list[tuple[str, str]]:
    """(chassis name, Geneve IP) of every other chassis, by name."""
    remote: list[tuple[str, str]] = []
    for ch in sorted(sb.rows("Chassis"), key=lambda c: c["name"]):
        if ch["name"] == me:
            continue
        for eu in ch["encaps"]:
            enc = sb.lookup("Encap", eu)
            if enc and enc["type"] == "geneve":
                remote.append((ch["name"], enc["ip"]))
                break
    return remote


def _tunnel_names(remote: list[tuple[str, str]],
                  current: dict[str, str]) -> dict[str, tuple[str, str]]:
    """`ovn-<id[:6]>-<n>` with the first free n (tunnel_create_name), so chassis ids
    sharing 6 characters still differ; chassis that have a port keep its name."""
    want: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    for ch_name, ip in remote:
        if ch_name in current:
            want[ch_name] = (current[ch_name], ip)
            taken.add(current[ch_name])
    for ch_name, ip in remote:
        if ch_name not in want:
            n = 0
            while f"ovn-{ch_name[:6]}-{n}" in taken:
                n += 1
            want[ch_name] = (f"ovn-{ch_name[:6]}-{n}", ip)
            taken.add(want[ch_name][0])
    return want


def sync_tunnels(br: Any, sb: Database, me: str) -> dict[str, int]:
    """encaps_run: the tunnel ports br-int should have, added, changed and removed;
    returns chassis name → ofport."""
    existing = {p.name: p for p in br.ports.values()
                if (getattr(p, "external_ids", None) or {}).get("ovn-chassis-id")}
    current = {p.external_ids["ovn-chassis-id"]: name for name, p in existing.items()}
    want = _tunnel_names(_remote_encaps(sb, me), current)
    out: dict[str, int] = {}
    names = {n for n, _ip in want.values()}
    for pname in list(existing):
        if pname not in names:
            br.del_port(pname)
    for ch_name, (pname, ip) in sorted(want.items()):
        port = br.ports.get(pname)
        opts = {"remote_ip": ip, "key": "flow", "csum": "true"}
        if port is None or dict(getattr(port, "options", {}) or {}) != opts:
            if port is not None:
                br.del_port(pname)
            port = br.add_port(pname, type="geneve", options=opts,
                               external_ids={"ovn-chassis-id": ch_name})
        out[ch_name] = int(port.ofport)
    return out
