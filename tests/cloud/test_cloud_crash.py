"""A process killed in the middle of a cloud operation leaves the state whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ovnlab import topology
from ovnlab.cloud import Cloud

CHILD = """
import os, sys
sys.path.insert(0, {tests!r})
from cloud_helpers import RecordingDriver, article
from ovnlab import topology
from ovnlab.cloud import Cloud

class Dying(RecordingDriver):
    def __getattr__(self, name):
        if name == {hook!r}:
            def die(*args):
                os._exit(9)
            return die
        return super().__getattr__(name)

cloud = Cloud({path!r}, topology.load("seed"), Dying())
article(cloud, cloud.admin_context())
"""


@pytest.mark.parametrize("hook", ["create_floatingip", "add_router_interface", "update_router",
                                  "create_security_group_rule"])
def test_killed_mid_operation(tmp_path: Path, hook: str) -> None:
    path = tmp_path / "cloud.db"
    code = CHILD.format(tests=str(Path(__file__).parent), hook=hook, path=str(path))
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    cloud = Cloud(path, topology.load("seed"))
    admin = cloud.admin_context()
    ports = cloud.get_ports(admin)
    routers = {r["id"]: r for r in cloud.l3.get_routers(admin)}
    fips = {f["id"] for f in cloud.l3.get_floatingips(admin)}
    servers = {s["id"] for s in cloud.nova.get_servers(admin)}
    for port in ports:  # every port's device exists: no half-made FIP, interface or gateway
        owner = port["device_owner"]
        if owner == "network:floatingip":
            assert port["device_id"] in fips
        elif owner.startswith("network:router"):
            assert port["device_id"] in routers
        elif owner.startswith("compute:"):
            assert port["device_id"] in servers
    for router in routers.values():
        gw = router["external_gateway_info"]
        if gw:
            ip = gw["external_fixed_ips"][0]["ip_address"]
            assert any(p["fixed_ips"][0]["ip_address"] == ip for p in ports
                       if p["device_owner"] == "network:router_gateway")
    if hook == "create_floatingip":
        assert fips == set() and routers  # everything before the FIP is there
    # the cloud carries on where it stopped
    net = cloud.create_network(admin, {"name": "after"})
    assert net["id"] not in {p["id"] for p in ports}
    cloud.close()
