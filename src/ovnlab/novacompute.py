"""nova-compute's part of the emulated lab, for every hypervisor at once: each server's
ports plugged on its host, deleted (and powered-off) ones unplugged, paused guests frozen.

Only the cloud decides these, so only the servers whose documents (or whose ports') the
cloud's store wrote since the last look are looked at again: a boot costs one server,
not a pass over the whole cloud."""

from __future__ import annotations

from ovnlab.cloud import Cloud
from ovnlab.cloud.base import Doc
from ovnlab.cloud.context import Context
from ovnlab.fabric import Fabric

Vif = tuple[Doc, Doc, str | None]  # (server, port, host)


class NovaCompute:
    def __init__(self, cloud: Cloud, admin: Context, fabric: Fabric) -> None:
        self.cloud = cloud
        self.admin = admin
        self.fabric = fabric
        self._seen = -1  # the store's write count at the last look
        self._vifs: dict[str, Vif] = {}  # port id -> what was plugged for it

    def sync(self) -> bool:
        """Plug and unplug what changed; True if any VIF was."""
        store = self.cloud.store
        writes = store.writes
        if writes == self._seen:
            return False
        touched = store.written_since(self._seen)
        if touched is None:  # the first time, or further back than the store remembers
            fresh = self._vifs = self._wanted(None)
        else:
            servers = {i for kind, i in touched if kind == "server"}
            servers |= {self._vifs[i][0]["id"] for kind, i in touched
                        if kind == "port" and i in self._vifs}
            fresh = self._wanted(servers) if servers else {}
            if servers:
                self._vifs = {p: v for p, v in self._vifs.items() if v[0]["id"] not in servers}
                self._vifs.update(fresh)
        changed = bool(self.fabric.sync_vms(self._vifs))
        for port_id, (server, _, _) in fresh.items():  # a paused guest runs nothing
            self.fabric.freeze_vm(port_id, server.get("OS-EXT-STS:vm_state") == "paused")
        self._seen = writes
        return changed

    def _wanted(self, servers: set[str] | None) -> dict[str, Vif]:
        """The servers' VIFs (every server's: None)."""
        return {port["id"]: (server, port, server.get("OS-EXT-SRV-ATTR:host"))
                for server, port in self.cloud.get_vifs(self.admin, servers)}
