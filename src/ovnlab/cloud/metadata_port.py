"""The metadata port Neutron's OVN driver keeps on every network when `[ovn]
ovn_metadata_enabled` is on (ovn_client.py `create_metadata_port` /
`update_metadata_port`): a `network:distributed` port, device_id `ovnmeta-<network id>`,
with an address on each IPv4 subnet with DHCP. The ML2/OVN driver makes it a `localport`;
the ovn-metadata-agent serves 169.254.169.254 behind it on each chassis. It goes with its
network (AUTO_DELETE_PORT_OWNERS) and gives its address back when a subnet goes."""

from __future__ import annotations

from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import admin_context
from ovnlab.cloud.ports import PortOps
from ovnlab.owners import DeviceOwner

OWNER_DISTRIBUTED = DeviceOwner.DISTRIBUTED
METADATA_PREFIX = "ovnmeta-"


class MetadataPortService:
    """The OVN driver's metadata ports (`ovnmeta-<network id>`), made and kept through the
    core plugin's port operations, as Neutron's OVN driver does through `self._plugin`."""

    def __init__(self, core: CloudBase, ports: PortOps) -> None:
        self._core = core
        self._ports = ports

    def _metadata_enabled(self) -> bool:
        return self._core.topology.neutron.ovn.ovn_metadata_enabled

    def _metadata_port(self, network_id: str) -> Doc | None:
        """`_find_metadata_port`."""
        for port in self._core.store.find("port", network_id=network_id,
                                          device_owner=OWNER_DISTRIBUTED):
            return port
        return None

    def sync_metadata_port(self, net: Doc | None) -> None:
        if net is None or not self._metadata_enabled():
            return
        subnets = [s["id"] for s in self._core.store.find("subnet", network_id=net["id"])
                   if s["enable_dhcp"] and s["ip_version"] == 4]
        port = self._metadata_port(net["id"])
        ctx = admin_context()
        if port is None:
            self._ports._create_port(ctx, {"device_owner": OWNER_DISTRIBUTED,
                                           "device_id": METADATA_PREFIX + net["id"],
                                           "fixed_ips": [{"subnet_id": s} for s in subnets]},
                                     project=net["project_id"], net=net)
            return
        have = [ip for ip in port["fixed_ips"] if ip["subnet_id"] in subnets]
        missing = [s for s in subnets if s not in {ip["subnet_id"] for ip in have}]
        if missing or len(have) != len(port["fixed_ips"]):
            self._ports._update_port(ctx, port, {"fixed_ips": [
                *({"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in have),
                *({"subnet_id": s} for s in missing)]})

    def delete_service_port(self, port: Doc) -> None:
        self._ports._delete_port(port)
