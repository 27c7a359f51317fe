"""Nova flavors, Glance images and hypervisors: fixed data (devstack's defaults) and the
topology's compute nodes. Ids are derived from names, so they are stable across labs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovnlab.cloud.identity import project_id
from ovnlab.cloud.ids import stable_uuid
from ovnlab.topology import NodeSpec, Topology

EPOCH = "2024-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Flavor:
    id: str
    name: str
    ram: int
    disk: int
    vcpus: int


# devstack's flavors (m1.nano/micro are what devstack creates for cirros).
FLAVORS = (
    Flavor("42", "m1.nano", 128, 1, 1),
    Flavor("84", "m1.micro", 192, 1, 1),
    Flavor("1", "m1.tiny", 512, 1, 1),
    Flavor("2", "m1.small", 2048, 20, 1),
    Flavor("3", "m1.medium", 4096, 40, 2),
)


@dataclass(frozen=True, slots=True)
class Image:
    name: str
    size: int
    virtual_size: int

    @property
    def id(self) -> str:
        return stable_uuid("image", self.name)


IMAGES = (Image("cirros", 21692416, 117440512),)


def flavor_dict(f: Flavor) -> dict[str, Any]:
    return {"id": f.id, "name": f.name, "ram": f.ram, "disk": f.disk, "vcpus": f.vcpus,
            "swap": 0, "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": True, "rxtx_factor": 1.0, "description": None,
            "extra_specs": {},
            "links": [{"rel": "bookmark", "href": f"/flavors/{f.id}"}]}


def embedded_flavor(f: Flavor) -> dict[str, Any]:
    """The server's `flavor` from microversion 2.47 on."""
    return {"vcpus": f.vcpus, "ram": f.ram, "disk": f.disk, "ephemeral": 0, "swap": 0,
            "original_name": f.name, "extra_specs": {}}


def image_dict(image: Image) -> dict[str, Any]:
    iid = image.id
    return {"id": iid, "name": image.name, "status": "active", "visibility": "public",
            "protected": False, "container_format": "bare", "disk_format": "qcow2",
            "min_disk": 0, "min_ram": 0, "size": image.size, "virtual_size": image.virtual_size,
            "checksum": stable_uuid("checksum", image.name).replace("-", ""),
            "os_hash_algo": "sha512", "os_hash_value": None, "os_hidden": False,
            "owner": project_id("admin"), "tags": [], "created_at": EPOCH, "updated_at": EPOCH,
            "file": f"/v2/images/{iid}/file", "self": f"/v2/images/{iid}",
            "schema": "/v2/schemas/image"}


def find_flavor(ref: object) -> Flavor | None:
    return next((f for f in FLAVORS if ref in (f.id, f.name)), None)


def find_image(ref: object) -> Image | None:
    return next((i for i in IMAGES if ref in (i.id, i.name)), None)


def compute_nodes(topology: Topology) -> tuple[NodeSpec, ...]:
    """Nova's hypervisors: the compute nodes (every node in an all-in-one topology)."""
    return topology.compute_nodes or topology.nodes


def hypervisor_dict(node: NodeSpec) -> dict[str, Any]:
    hid = stable_uuid("hypervisor", node.system_id)
    return {"id": hid, "hypervisor_hostname": node.hostname, "hypervisor_type": "QEMU",
            "hypervisor_version": 8002000, "host_ip": node.tunnel_ip, "state": "up",
            "status": "enabled", "uptime": None,
            "service": {"host": node.hostname, "id": stable_uuid("service", node.system_id),
                        "disabled_reason": None}}
