"""The REAL python-openstackclient against the served API: the article's commands verbatim
(shared/DESIGN.md §1), the follow-ups, and the negative paths with their messages/exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from api_helpers import PROJECTS, Client

from ovnlab import api

OPENSTACK = Path(sys.executable).parent / "openstack"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not OPENSTACK.exists(), reason="python-openstackclient missing")]


class Osc:
    def __init__(self, clouds_file: Path, home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(clouds_file), HOME=str(home))
        self.wall: list[float] = []

    def __call__(self, command: str, cloud: str = "ovnlab-admin",
                 expect_rc: int = 0) -> subprocess.CompletedProcess[str]:
        t0 = time.perf_counter()
        proc = subprocess.run([str(OPENSTACK), *command.split()], env={
            **self.env, "OS_CLOUD": cloud}, capture_output=True, text=True, timeout=60)
        self.wall.append(time.perf_counter() - t0)
        assert proc.returncode == expect_rc, (command, proc.stdout, proc.stderr)
        return proc

    def json(self, command: str, cloud: str = "ovnlab-admin") -> Any:
        return json.loads(self(command, cloud).stdout)


@pytest.fixture
def app(cloud: Any) -> api.App:
    """Real clock here: the client re-authenticates before each call if tokens look expired."""
    return api.make_app(cloud)


@pytest.fixture
def osc(served: api.ApiServer, tmp_path: Path) -> Iterator[Osc]:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(api.clouds_yaml(served.url, PROJECTS))
    yield Osc(clouds, tmp_path)


def test_article_scenario_with_the_real_client(osc: Osc, app: api.App) -> None:
    osc("network create --provider-network-type geneve --provider-segment 123 n1")
    osc("subnet create --subnet-range 172.16.100.0/24 --network n1 n1subnet")
    osc("network create --provider-network-type flat --provider-physical-network extnet0 "
        "ext_n2 --external")
    osc("subnet create --subnet-range 10.0.2.0/24 --network ext_n2 extsubnet --no-dhcp "
        "--gateway 10.0.2.2 --allocation-pool start=10.0.2.210,end=10.0.2.220")
    image_id = osc.json("image show cirros --format json")["id"]
    osc(f"server create --nic net-id=n1,v4-fixed-ip=172.16.100.10 --flavor m1.nano "
        f"--image {image_id} vm_1")
    osc("router create r")
    osc("router add subnet r n1subnet")
    osc("router set r --external-gateway ext_n2")
    osc("floating ip create ext_n2")
    fip = osc.json("floating ip list --format json")[0]["Floating IP Address"]
    assert fip.startswith("10.0.2.2")
    osc(f"server add floating ip vm_1 {fip}")
    osc("security group create allow-icmp-ssh")
    osc("security group rule create --protocol icmp allow-icmp-ssh")
    osc("security group rule create --protocol tcp --dst-port 22 allow-icmp-ssh")
    osc("server add security group vm_1 allow-icmp-ssh")

    # read-only checks, in parallel (each client run is ~1 s of CPU)
    reads = ("server show vm_1 -f json", "router show r -f json", "port list -f json",
             "network list -f json", "server list -f json", "hypervisor list -f json")
    with ThreadPoolExecutor(max_workers=3) as pool:
        server, router, ports, nets, servers, hypervisors = pool.map(osc.json, reads)
    assert server["name"] == "vm_1" and server["flavor"]["name"] == "m1.nano"
    assert server["image"] == f"cirros ({image_id})"
    assert server["addresses"]["n1"] == ["172.16.100.10", fip]
    assert {"name": "allow-icmp-ssh"} in server["security_groups"]
    assert [i["ip_address"] for i in router["interfaces_info"]] == ["172.16.100.1"]
    assert router["external_gateway_info"]["network_id"]
    assert any(p["Fixed IP Addresses"][0]["ip_address"] == "172.16.100.10" for p in ports)
    networks = {n["Name"]: n for n in nets}
    assert set(networks) == {"n1", "ext_n2"} and len(networks["n1"]["Subnets"]) == 1
    assert [(s["Name"], s["Image"], s["Flavor"], s["Status"]) for s in servers] == [
        ("vm_1", "cirros", "m1.nano", server["status"])]
    assert [h["Hypervisor Hostname"] for h in hypervisors] == ["compute1", "compute2"]
    c = Client(app)
    c.login()
    osc(f"server remove floating ip vm_1 {fip}")
    assert c.get("/networking/v2.0/floatingips").body["floatingips"][0]["port_id"] is None
    osc(f"floating ip delete {fip}")
    assert c.get("/networking/v2.0/floatingips").body["floatingips"] == []
    slowest = max(t.seconds for t in app.timings)
    for route, st in app.stats().items():
        print(f"  {route:60} {st['count']:4.0f} x {st['mean_ms']:6.2f} ms (max {st['max_ms']:.2f})")
    print(f"\n{len(osc.wall)} openstack commands in {sum(osc.wall):.1f} s wall; "
          f"{len(app.timings)} requests, server time total "
          f"{sum(t.seconds for t in app.timings) * 1e3:.1f} ms, max {slowest * 1e3:.2f} ms")
    assert sum(t.method == "POST" and t.route.endswith("/auth/tokens")
               for t in app.timings) == len(osc.wall) + 1  # one login per command (+ c)
    assert slowest < 0.5


def test_negative_paths_with_the_real_client(osc: Osc, app: api.App) -> None:
    # State set up in-process (fast); the client only runs the failing commands.
    c = Client(app)
    c.login()
    n = "/networking/v2.0"
    ext = c.post(f"{n}/networks", {"network": {"name": "ext_n2", "router:external": True}})
    ext_id = ext.body["network"]["id"]
    c.post(f"{n}/subnets", {"subnet": {"name": "extsubnet", "network_id": ext_id,
                                       "cidr": "10.0.2.0/24", "ip_version": 4}})
    for name, cidr in (("n1", "172.16.100.0/24"), ("n3", "172.16.0.0/16")):
        nid = c.post(f"{n}/networks", {"network": {"name": name}}).body["network"]["id"]
        c.post(f"{n}/subnets", {"subnet": {"name": name + "subnet", "network_id": nid,
                                           "cidr": cidr, "ip_version": 4}})
    rid = c.post(f"{n}/routers", {"router": {"name": "r"}}).body["router"]["id"]
    c.put(f"{n}/routers/{rid}/add_router_interface",
          {"subnet_id": c.get(f"{n}/subnets?name=n1subnet").body["subnets"][0]["id"]})
    c.put(f"{n}/routers/{rid}", {"router": {"external_gateway_info": {"network_id": ext_id}}})
    n3 = c.get(f"{n}/networks?name=n3").body["networks"][0]["id"]
    image = c.get("/image/v2/images?name=cirros").body["images"][0]["id"]
    c.post("/compute/v2.1/servers", {"server": {"name": "vm_3", "imageRef": image,
                                                "flavorRef": "42",
                                                "networks": [{"uuid": n3}]}})
    fip = c.post(f"{n}/floatingips", {"floatingip": {"floating_network_id": ext_id}})
    fip_ip = fip.body["floatingip"]["floating_ip_address"]

    bad_pw = osc.env.copy()
    clouds = Path(osc.env["OS_CLIENT_CONFIG_FILE"])
    wrong = clouds.with_name("wrong.yaml")
    wrong.write_text(clouds.read_text().replace("password: secret", "password: wrong"))
    bad_pw["OS_CLIENT_CONFIG_FILE"] = str(wrong)

    cases = [
        ("network list", "ovnlab-admin", bad_pw,
         "The request you have made requires authentication. (HTTP 401)"),
        ("subnet create --subnet-range 10.9.0.0/24 --network x xsubnet", "ovnlab-admin", None,
         "No Network found for x"),
        ("router add subnet r n3subnet", "ovnlab-admin", None,
         "BadRequestException: 400"),
        (f"server add floating ip vm_3 {fip_ip}", "ovnlab-admin", None,
         "NotFoundException: 404"),
        ("network create --provider-network-type flat --provider-physical-network extnet0 "
         "demo_ext", "ovnlab-demo", None, "ForbiddenException: 403"),
        ("router set r --name mine", "ovnlab-demo", None, "No Router found for r"),
        (f"router set {rid} --name mine", "ovnlab-demo", None, "No Router found for"),
    ]

    def run(case: tuple[str, str, dict[str, str] | None, str]) -> tuple[str, str, int]:
        command, cloud, env, _ = case
        proc = subprocess.run([str(OPENSTACK), *command.split()],
                              env={**(env or osc.env), "OS_CLOUD": cloud},
                              capture_output=True, text=True, timeout=60)
        return command, proc.stderr, proc.returncode

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, cases))
    for (command, stderr, rc), (_, _, _, message) in zip(results, cases, strict=True):
        assert rc == 1, (command, stderr)
        assert message in stderr, (command, stderr)
    overlap = results[2][1]
    assert "overlaps with cidr 172.16.100.0/24" in overlap
    assert "is not reachable from subnet" in results[3][1]
    assert "Traceback" not in "".join(r[1] for r in results)
    # nothing changed on the failures
    assert c.get(f"{n}/routers/{rid}").body["router"]["name"] == "r"
    assert c.get(f"{n}/floatingips").body["floatingips"][0]["port_id"] is None
    assert len(c.get(f"{n}/networks").body["networks"]) == 3


def test_server_add_and_remove_port_and_network_with_the_real_client(tmp_path: Path) -> None:
    """Interface attach/detach (Nova's os-interface) against a whole lab: the real client's
    `server add port`, `server remove port` and `server add network`."""
    import threading

    from ovnlab.lab import Lab

    lab = Lab.build("seed")
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    server = api.serve(app, "127.0.0.1", 0, background=True)
    try:
        clouds = tmp_path / "clouds.yaml"
        clouds.write_text(api.clouds_yaml(server.url, PROJECTS))
        osc = Osc(clouds, tmp_path)
        c = Client(app)
        c.login()
        n = "/networking/v2.0"
        net = c.post(f"{n}/networks", {"network": {"name": "n1"}}).body["network"]["id"]
        c.post(f"{n}/subnets", {"subnet": {"network_id": net, "cidr": "10.1.0.0/24",
                                           "ip_version": 4}})
        image = c.get("/image/v2/images").body["images"][0]["id"]
        c.post("/compute/v2.1/servers", {"server": {"name": "vm1", "imageRef": image,
                                                    "flavorRef": "42",
                                                    "networks": [{"uuid": net}]}})
        port = c.post(f"{n}/ports", {"port": {"network_id": net, "name": "p1"}}).body["port"]
        osc("server add port vm1 p1")
        addresses = osc.json("server show vm1 -c addresses -f json")["addresses"]["n1"]
        assert port["fixed_ips"][0]["ip_address"] in addresses and len(addresses) == 2
        osc("server remove port vm1 p1")
        assert c.get(f"{n}/ports/{port['id']}").body["port"]["device_id"] == ""
        osc("server add network vm1 n1")
        assert len(osc.json("server show vm1 -c addresses -f json")["addresses"]["n1"]) == 2
        assert "No Port found for nope" in osc("server remove port vm1 nope",
                                               expect_rc=1).stderr
    finally:
        server.close()
        lab.close()


def test_issue_16_commands_with_the_real_client(osc: Osc) -> None:
    """The commands beyond the article that issue 16 names: Keystone's admin verbs, the
    gateway unset, agents and paging."""
    assert osc.json("project create p1 -f json")["name"] == "p1"
    assert osc.json("user create --password pw --project p1 u1 -f json")["name"] == "u1"
    osc("role add --project p1 --user u1 member")
    rows = osc.json("role assignment list --project p1 --names -f json")
    assert [(r["Role"], r["User"], r["Project"]) for r in rows] == [
        ("member", "u1@Default", "p1@Default")]
    osc("network create --external --provider-network-type flat "
        "--provider-physical-network extnet0 ext")
    osc("subnet create --network ext --subnet-range 10.0.2.0/24 --no-dhcp es")
    osc("router create r")
    osc("router set r --external-gateway ext")
    osc("router unset --external-gateway r")
    assert osc.json("router show r -f json")["external_gateway_info"] is None
    assert osc.json("network agent list -f json") == []  # no chassis behind this cloud
    assert len(osc.json("network list --limit 1 -f json")) == 1


def test_server_actions_keypairs_groups_and_pools_with_the_real_client(tmp_path: Path) -> None:
    """What issue 16's second round added, as `openstack` drives it on a whole lab: server
    stop/start/reboot/rebuild/lock, keypairs, server groups, subnet pools."""
    import threading

    from ovnlab.lab import Lab

    lab = Lab.build("seed")
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    server = api.serve(app, "127.0.0.1", 0, background=True)
    try:
        clouds = tmp_path / "clouds.yaml"
        clouds.write_text(api.clouds_yaml(server.url, PROJECTS))
        osc = Osc(clouds, tmp_path)
        osc("subnet pool create --pool-prefix 10.50.0.0/16 --default-prefix-length 24 pool")
        osc("network create n1")
        subnet = osc.json("subnet create --network n1 --subnet-pool pool s1 -f json")
        assert subnet["cidr"] == "10.50.0.0/24"
        assert "PRIVATE KEY" in osc("keypair create k1").stdout  # made by the client, imported
        key = osc.json("keypair show k1 -f json")
        assert key["name"] == "k1" and key["fingerprint"].count(":") == 15
        group = osc.json("server group create --policy anti-affinity g1 -f json")
        image = osc.json("image list -f json")[0]["ID"]
        for name in ("vm1", "vm2"):
            osc(f"server create --image {image} --flavor 42 --network n1 --key-name k1 "
                f"--hint group={group['id']} --wait {name}")
        hosts = {osc.json(f"server show {n} -f json")["OS-EXT-SRV-ATTR:host"]
                 for n in ("vm1", "vm2")}
        assert len(hosts) == 2  # anti-affinity
        osc("server stop vm1")
        assert osc.json("server show vm1 -f json")["status"] == "SHUTOFF"
        osc("server start vm1")
        osc("server reboot --hard vm1")
        osc("server lock vm1")
        shown = osc.json("--os-compute-api-version 2.9 server show vm1 -f json")
        assert shown["locked"] is True
        osc("server unlock vm1")
        osc(f"server rebuild --image {image} vm1")
        assert osc.json("server show vm1 -f json")["status"] == "ACTIVE"
        actions = osc.json("server event list vm1 -f json")
        assert [a["Action"] for a in actions][:1] == ["rebuild"]
        osc("quota set --networks 5 --key-pairs 7 demo")  # Neutron's and Nova's quotas
        limits = {r["Resource"]: r["Limit"] for r in osc.json("quota show demo -f json")}
        assert (limits["networks"], limits["key-pairs"], limits["ports"]) == (5, 7, -1)
    finally:
        server.close()
        lab.close()
