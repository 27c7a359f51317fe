"""Metadata as Neutron's ML2/OVN deploys it (`[ovn] ovn_metadata_enabled = True`): one
`ovnmeta-<network>` localport per network holding an address of each DHCP subnet, the
subnet's DHCP options routing 169.254.169.254 through it (option 121), and on each chassis
that hosts a VM of the network the ovn-metadata-agent's namespace behind that localport,
answering http://169.254.169.254/ with Nova's metadata for the asking VM, on its own
chassis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ovnlab.lab import Lab
from ovnlab.scenario import run_article
from ovnlab.tools.files import LocalFiles

MD = "http://169.254.169.254"


@pytest.fixture(scope="module")
def lab() -> Lab:
    lab = Lab.build("seed", ["ovn.ovn_metadata_enabled=true"])
    run_article(lab.openstack)
    return lab


def _metadata_port(lab: Lab, network: str) -> dict:
    net = next(n for n in lab.cloud.get_networks(lab.admin) if n["name"] == network)
    ports = [p for p in lab.cloud.get_ports(lab.admin)
             if p["network_id"] == net["id"] and p["device_owner"] == "network:distributed"]
    assert len(ports) == 1
    return ports[0]


def _curl(lab: Lab, vm: str, path: str) -> str:
    r = lab.exec(vm, f"curl -s {MD}{path}")
    assert r.rc == 0, r
    return r.stdout


def test_each_network_gets_a_metadata_localport(lab: Lab) -> None:
    n1 = _metadata_port(lab, "n1")
    assert n1["device_id"].startswith("ovnmeta-") and n1["device_id"].endswith(n1["network_id"])
    assert [ip["ip_address"] for ip in n1["fixed_ips"]] == ["172.16.100.2"]
    ext = _metadata_port(lab, "ext_n2")
    assert ext["fixed_ips"] == []  # its only subnet has no DHCP
    lsp = lab.exec("network", f"ovn-nbctl --bare --columns=type,addresses list "
                              f"Logical_Switch_Port {n1['id']}").stdout.split()
    assert lsp == ["localport", n1["mac_address"], "172.16.100.2"]
    options = lab.exec("network", "ovn-nbctl --bare --columns=options list DHCP_Options").stdout
    assert "classless_static_route={169.254.169.254/32,172.16.100.2, 0.0.0.0/0,172.16.100.1}" \
        in options


def test_the_lease_routes_metadata_through_the_port(lab: Lab) -> None:
    routes = lab.exec("vm_1", "ip route").stdout.splitlines()
    assert "169.254.169.254 via 172.16.100.2 dev eth0 " in routes
    assert routes[0] == "default via 172.16.100.1 dev eth0 "


def test_ec2_metadata_of_vm_1(lab: Lab) -> None:
    server = next(s for s in lab.cloud.nova.get_servers(lab.admin) if s["name"] == "vm_1")
    listing = _curl(lab, "vm_1", "/latest/meta-data/").split("\n")
    assert {"instance-id", "hostname", "local-ipv4", "public-ipv4", "placement/"} <= set(listing)
    number = int(server["OS-EXT-SRV-ATTR:instance_name"].split("-")[1], 16)
    assert _curl(lab, "vm_1", "/latest/meta-data/instance-id") == f"i-{number:08x}"
    assert _curl(lab, "vm_1", "/latest/meta-data/hostname") == "vm-1.novalocal"
    assert _curl(lab, "vm_1", "/latest/meta-data/local-ipv4") == "172.16.100.10"
    assert _curl(lab, "vm_1", "/latest/meta-data/public-ipv4") == "10.0.2.211"  # its FIP
    assert _curl(lab, "vm_1", "/latest/meta-data/placement/availability-zone") == "nova"
    doc = json.loads(_curl(lab, "vm_1", "/openstack/latest/meta_data.json"))
    assert {k: doc[k] for k in ("uuid", "name", "hostname", "project_id", "availability_zone")} \
        == {"uuid": server["id"], "name": "vm_1", "hostname": "vm-1.novalocal",
            "project_id": server["tenant_id"], "availability_zone": "nova"}


def test_served_on_the_vms_own_chassis(lab: Lab) -> None:
    port = _metadata_port(lab, "n1")
    veth = f"tap{port['id'][:10]}0"
    assert f"Port {veth}" in lab.exec("compute1", "ovs-vsctl show").stdout
    for other in ("network", "compute2"):  # no VM of n1 there: no namespace
        assert f"Port {veth}" not in lab.exec(other, "ovs-vsctl show").stdout
    lab.exec("vm_1", f"curl -s -o /dev/null {MD}/latest/meta-data/instance-id")
    seen = lab.exec("compute1", f"tcpdump -n -i {veth} --history tcp port 80").stdout
    assert "172.16.100.10" in seen and "169.254.169.254.80: Flags [S]" in seen
    for chassis in ("network", "compute1", "compute2"):  # nothing crossed the underlay
        assert "169.254.169.254" not in lab.exec(
            chassis, "tcpdump -n -v -i eth1 --history").stdout


def test_a_second_vm_elsewhere_gets_its_own(lab: Lab) -> None:
    lab.openstack.server_create("vm_2", network="n1", host="compute2")
    assert _curl(lab, "vm_2", "/latest/meta-data/local-ipv4") == "172.16.100.3"
    assert _curl(lab, "vm_2", "/latest/meta-data/public-ipv4") == ""  # no FIP
    port = _metadata_port(lab, "n1")
    assert f"Port tap{port['id'][:10]}0" in lab.exec("compute2", "ovs-vsctl show").stdout


def test_the_namespace_goes_with_the_last_vm_of_the_network_there(lab: Lab) -> None:
    lab.openstack.server_create("vm_3", network="n1", host="compute2")
    port = _metadata_port(lab, "n1")
    veth = f"Port tap{port['id'][:10]}0"
    assert veth in lab.exec("compute2", "ovs-vsctl show").stdout
    lab.openstack.server_delete("vm_3")
    assert veth in lab.exec("compute2", "ovs-vsctl show").stdout  # vm_2 is still there
    lab.openstack.server_delete("vm_2")
    assert veth not in lab.exec("compute2", "ovs-vsctl show").stdout
    assert veth in lab.exec("compute1", "ovs-vsctl show").stdout


def test_curl_output_and_write_out(lab: Lab, tmp_path: Path) -> None:
    r = lab.exec("vm_1", f"curl -s -o hostname.txt -w '%{{http_code}}' "
                         f"{MD}/latest/meta-data/hostname", files=LocalFiles(tmp_path))
    assert (r.rc, r.stdout) == (0, "200")
    assert (tmp_path / "hostname.txt").read_text() == "vm-1.novalocal"
    r = lab.exec("vm_1", f"curl -s -w '%{{http_code}}\\n' -o - {MD}/latest/nothing")
    assert r.rc == 0 and r.stdout.endswith("</html>404\n")


@pytest.mark.parametrize(("argv", "rc", "stderr"), [
    (f"curl -f {MD}/latest/nothing", 22,
     "curl: (22) The requested URL returned error: 404\n"),
    (f"curl -sf {MD}/latest/nothing", 22, ""),
    ("curl http://no-such-host.example/", 6,
     "curl: (6) Could not resolve host: no-such-host.example\n"),
    ("curl -m 2 http://10.0.2.99/", 28, "curl: (28) Connection timed out after 2000 "
                                         "milliseconds\n"),
    ("curl ftp://169.254.169.254/", 1,
     'curl: (1) Protocol "ftp" not supported or disabled in libcurl\n'),
    ("curl", 2, "curl: no URL specified!\n"
                "curl: try 'curl --help' or 'curl --manual' for more information\n"),
])
def test_curl_exit_codes(lab: Lab, argv: str, rc: int, stderr: str) -> None:
    r = lab.exec("vm_1", argv)
    assert (r.rc, r.stdout, r.stderr) == (rc, "", stderr)


def test_connection_refused_is_seven(lab: Lab) -> None:
    r = lab.exec("vm_1", "curl -sS http://10.0.2.100/")  # exthost: only ssh listens
    assert r.rc == 7
    assert r.stderr.startswith("curl: (7) Failed to connect to 10.0.2.100 port 80 after ")
    assert r.stderr.endswith(" ms: Connection refused\n")


def test_without_metadata_enabled_nothing_answers() -> None:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    assert not [p for p in lab.cloud.get_ports(lab.admin)
                if p["device_owner"] == "network:distributed"]
    assert "169.254" not in lab.exec("vm_1", "ip route").stdout
    r = lab.exec("vm_1", f"curl -sS -m 3 -w '%{{http_code}}' {MD}/")
    # the default route takes it out through the router to extgw, which has no route to
    # 169.254.0.0/16 and says so (ICMP net unreachable)
    assert (r.rc, r.stdout) == (7, "000")
    assert r.stderr.endswith(" ms: No route to host\n")


def test_subnet_and_network_deletion_take_the_metadata_port_along(lab: Lab) -> None:
    os = lab.openstack
    os.network_create("scratch", provider_network_type="geneve")
    subnet = os.subnet_create("scratch-subnet", network="scratch", subnet_range="10.77.0.0/24")
    port = _metadata_port(lab, "scratch")
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == ["10.77.0.2"]
    os.cloud.delete_subnet(os.ctx, subnet["id"])  # its address goes (AUTO_DELETE_PORT_OWNERS)
    assert _metadata_port(lab, "scratch")["fixed_ips"] == []
    assert "10.77.0.0/24" not in lab.exec("network", "ovn-nbctl list DHCP_Options").stdout
    os.cloud.delete_network(os.ctx, port["network_id"])
    assert port["id"] not in lab.exec("network", "ovn-nbctl show").stdout
    assert not [p for p in lab.cloud.get_ports(lab.admin) if p["id"] == port["id"]]
