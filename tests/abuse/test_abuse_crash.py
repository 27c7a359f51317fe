"""kill -9 in the middle of a stream of creates: 0 acknowledged creates lost, 0 half-made.

tests/cloud/test_cloud_crash.py kills the cloud inside chosen driver hooks (one operation,
half done), and tests/cli/test_cli_crash.py kills the daemon under a network/subnet/port
stream through the REST API, then restarts it. This one completes them with the rest of
the article's resources: a stream of networks, subnets, routers with gateways and
interfaces, servers and floating IPs, killed after a varying number of acknowledgements,
then reopened and checked whole."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ovnlab import topology
from ovnlab.cloud import Cloud

CHILD = """
import sys
from ovnlab import topology
from ovnlab.cloud import Cloud

cloud = Cloud({path!r}, topology.load("seed"))
admin = cloud.admin_context()

def ack(kind, id):
    print(kind, id, flush=True)

ext = cloud.create_network(admin, {{"network": {{"name": "ext", "router:external": True,
    "provider:network_type": "flat", "provider:physical_network": "extnet0"}}}})["id"]
cloud.create_subnet(admin, {{"subnet": {{"network_id": ext, "cidr": "172.30.0.0/16",
    "ip_version": 4, "enable_dhcp": False}}}})
for i in range(10000):
    net = cloud.create_network(admin, {{"network": {{"name": f"n{{i}}"}}}})["id"]
    ack("network", net)
    sub = cloud.create_subnet(admin, {{"subnet": {{"network_id": net, "ip_version": 4,
        "cidr": f"10.{{i // 250}}.{{i % 250}}.0/24"}}}})["id"]
    ack("subnet", sub)
    router = cloud.l3.create_router(admin, {{"router": {{"name": f"r{{i}}",
        "external_gateway_info": {{"network_id": ext}}}}}})["id"]
    ack("router", router)
    cloud.l3.add_router_interface(admin, router, {{"subnet_id": sub}})
    ack("interface", router + "/" + sub)
    server = cloud.nova.create_server(admin, {{"server": {{"name": f"vm{{i}}", "imageRef": "cirros",
        "flavorRef": "42", "networks": [{{"uuid": net}}]}}}})["id"]
    ack("server", server)
    port = cloud.get_ports(admin, filters={{"device_id": [server]}})[0]["id"]
    fip = cloud.l3.create_floatingip(admin, {{"floatingip": {{"floating_network_id": ext,
        "port_id": port}}}})["id"]
    ack("floatingip", fip)
"""


@pytest.mark.parametrize("acks", [3, 10, 17, 26])
def test_killed_during_a_create_stream_loses_no_ack_and_leaves_nothing_half_made(
        tmp_path: Path, acks: int) -> None:
    path = tmp_path / "cloud.db"
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(path=str(path))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged: list[tuple[str, str]] = []
    for line in proc.stdout:
        kind, rid = line.split()
        acknowledged.append((kind, rid))
        if len(acknowledged) == acks:
            proc.send_signal(signal.SIGKILL)  # the next operation is under way
            break
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    assert len(acknowledged) == acks

    cloud = Cloud(path, topology.load("seed"))
    admin = cloud.admin_context()
    nets = {n["id"]: n for n in cloud.get_networks(admin)}
    subnets = {s["id"]: s for s in cloud.get_subnets(admin)}
    routers = {r["id"]: r for r in cloud.l3.get_routers(admin)}
    servers = {s["id"]: s for s in cloud.nova.get_servers(admin)}
    fips = {f["id"]: f for f in cloud.l3.get_floatingips(admin)}
    ports = cloud.get_ports(admin)
    interfaces = {(p["device_id"], ip["subnet_id"]) for p in ports
                  if p["device_owner"] == "network:router_interface" for ip in p["fixed_ips"]}
    found = {"network": nets, "subnet": subnets, "router": routers, "server": servers,
             "floatingip": fips}
    for kind, rid in acknowledged:  # 0 acknowledged creates lost
        if kind == "interface":
            assert tuple(rid.split("/")) in interfaces
        else:
            assert rid in found[kind], (kind, rid)
    # 0 half-made: every part of every resource is there, whichever one was cut short
    for port in ports:
        owner, device = port["device_owner"], port["device_id"]
        assert port["network_id"] in nets
        assert all(ip["subnet_id"] in subnets for ip in port["fixed_ips"])
        if owner.startswith("network:router"):
            assert device in routers
        elif owner == "network:floatingip":
            assert device in fips
        elif owner.startswith("compute:"):
            assert device in servers
    for router in routers.values():
        gw = router["external_gateway_info"]
        assert gw and any(p["device_id"] == router["id"] and
                          p["device_owner"] == "network:router_gateway" for p in ports)
    for server in servers.values():  # Nova's record and Neutron's port agree
        assert cloud.get_ports(admin, filters={"device_id": [server["id"]]})
        assert server["addresses"]
    for fip in fips.values():
        assert fip["port_id"] is None or fip["port_id"] in {p["id"] for p in ports}
    for subnet in subnets.values():
        assert subnet["network_id"] in nets
        assert subnet["id"] in nets[subnet["network_id"]]["subnets"]
    addresses = [(p["network_id"], ip["ip_address"]) for p in ports for ip in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses))
    # and the cloud carries on from there
    assert cloud.create_network(admin, {"network": {"name": "after"}})["id"] not in nets
    cloud.close()
