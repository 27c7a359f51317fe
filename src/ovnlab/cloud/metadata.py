"""Nova's metadata API as an instance sees it at http://169.254.169.254/
(nova/api/metadata/base.py `InstanceMetadata`, handler.py), for the instance behind a
(network, fixed IP) pair: what the ovn-metadata-agent resolves from the request's
X-OVN-Network-ID and source address before it proxies to Nova.

Served: the version lists, the EC2-style `<version>/meta-data/` tree (ami-id,
ami-launch-index, ami-manifest-path, block-device-mapping/, hostname, instance-action,
instance-id, instance-type, local-hostname, local-ipv4, placement/availability-zone,
public-hostname, public-ipv4, reservation-id, security-groups) and
`openstack/<version>/meta_data.json`. Not served: user-data, public keys, vendor and
network data, the password; meta_data.json has no `random_seed` (Nova's is random bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ovnlab.cloud import catalog
from ovnlab.errors import NotFound

EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04")
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14")
DHCP_DOMAIN = "novalocal"  # nova.conf [api] dhcp_domain
TEXT = "text/plain; charset=UTF-8"
JSON = "application/json"
NOT_FOUND_BODY = ("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                  "  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n"
                  " </body>\n</html>")


class Status(IntEnum):
    OK = 200
    NOT_FOUND = 404


@dataclass(frozen=True, slots=True)
class Reply:
    status: Status
    content_type: str
    body: bytes

    @classmethod
    def text(cls, text: str, content_type: str = TEXT) -> Reply:
        return cls(Status.OK, content_type, text.encode())


NOT_FOUND = Reply(Status.NOT_FOUND, "text/html; charset=UTF-8", NOT_FOUND_BODY.encode())


@dataclass(frozen=True, slots=True)
class InstanceMetadata:
    """What Nova knows of one instance, as its metadata service shows it."""

    uuid: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str
    instance_number: int
    image_number: int
    reservation_id: str
    flavor: str
    local_ipv4: str
    public_ipv4: str
    security_groups: tuple[str, ...]

    @classmethod
    def from_server(cls, server: dict[str, Any], port: dict[str, Any],
                    local_ipv4: str) -> InstanceMetadata:
        """From Nova's admin view of the server and the port the request came from."""
        floating = next((a["addr"] for net in server.get("addresses", {}).values() for a in net
                         if a.get("OS-EXT-IPS:type") == "floating"
                         and a.get("OS-EXT-IPS-MAC:mac_addr") == port["mac_address"]), "")
        image_id = (server.get("image") or {}).get("id")
        image_number = next((i + 1 for i, img in enumerate(catalog.IMAGES) if img.id == image_id), 0)
        instance_name = str(server.get("OS-EXT-SRV-ATTR:instance_name", "instance-0"))
        return cls(uuid=server["id"], name=server["name"],
                   hostname=f"{server.get('OS-EXT-SRV-ATTR:hostname') or 'server'}.{DHCP_DOMAIN}",
                   project_id=server["tenant_id"],
                   availability_zone=server.get("OS-EXT-AZ:availability_zone") or "nova",
                   instance_number=int(instance_name.rsplit("-", 1)[-1], 16),
                   image_number=image_number,
                   reservation_id=server.get("OS-EXT-SRV-ATTR:reservation_id") or "",
                   flavor=(server.get("flavor") or {}).get("original_name", ""),
                   local_ipv4=local_ipv4, public_ipv4=floating,
                   security_groups=tuple(g["name"] for g in server.get("security_groups", [])))

    # ------------------------------------------------------------ documents
    def ec2(self) -> dict[str, Any]:
        """get_ec2_metadata (the 2009-04-04 tree; `latest` is the newest)."""
        return {
            "ami-id": f"ami-{self.image_number:08x}", "ami-launch-index": 0,
            "ami-manifest-path": "FIXME", "instance-id": f"i-{self.instance_number:08x}",
            "hostname": self.hostname, "local-ipv4": self.local_ipv4,
            "reservation-id": self.reservation_id,
            "security-groups": list(self.security_groups),
            "local-hostname": self.hostname, "public-hostname": self.hostname,
            "public-ipv4": self.public_ipv4, "instance-type": self.flavor,
            "block-device-mapping": {"ami": "vda", "root": "/dev/vda"},
            "placement": {"availability-zone": self.availability_zone},
            "instance-action": "none",
        }

    def meta_data_json(self) -> str:
        """_metadata_as_json, in Nova's key order."""
        return json.dumps({
            "uuid": self.uuid, "hostname": self.hostname, "name": self.name,
            "launch_index": 0, "availability_zone": self.availability_zone,
            "project_id": self.project_id, "devices": [], "dedicated_cpus": [],
        })

    def get(self, path: str) -> Reply:
        """handler.py: a GET of `path` (leading slash optional)."""
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if not parts:
            return Reply.text("\n".join((*EC2_VERSIONS, "latest")))
        if parts[0] == "openstack":
            return self._openstack(parts[1:])
        if parts[0] not in (*EC2_VERSIONS, "latest"):
            return NOT_FOUND
        if len(parts) == 1:
            return Reply.text("meta-data/")
        if parts[1] != "meta-data":
            return NOT_FOUND
        return _walk(self.ec2(), parts[2:])

    def _openstack(self, parts: list[str]) -> Reply:
        if not parts:
            return Reply.text("\n".join((*OPENSTACK_VERSIONS, "latest")))
        if parts[0] not in (*OPENSTACK_VERSIONS, "latest"):
            return NOT_FOUND
        if len(parts) == 1:
            return Reply.text("meta_data.json")
        if parts[1:] == ["meta_data.json"]:
            return Reply.text(self.meta_data_json(), JSON)
        return NOT_FOUND


def _walk(tree: Any, parts: list[str]) -> Reply:
    """The EC2 tree: a dict lists its keys (sub-trees with a slash), a list its items."""
    node = tree
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return NOT_FOUND
        node = node[part]
    if isinstance(node, dict):
        return Reply.text("\n".join(k + "/" if isinstance(v, dict) else k
                                    for k, v in sorted(node.items())))
    if isinstance(node, list):
        return Reply.text("\n".join(str(v) for v in node))
    return Reply.text(str(node))


def lookup(cloud: Any, ctx: Any, network_id: str, address: str) -> InstanceMetadata | None:
    """The agent's `_get_instance_and_project_id`: the compute port on `network_id` with
    `address`, then Nova's record of its instance."""
    for port in cloud.get_ports(ctx):
        if port["network_id"] != network_id or \
                not str(port.get("device_owner") or "").startswith("compute:"):
            continue
        if any(ip["ip_address"] == address for ip in port["fixed_ips"]):
            try:
                server = cloud.nova.get_server(ctx, port["device_id"])
            except NotFound:  # a port whose server is gone: no metadata
                return None
            return InstanceMetadata.from_server(server, port, address)
    return None
