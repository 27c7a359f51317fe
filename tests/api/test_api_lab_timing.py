"""Server time per request with the whole lab behind the API (cloud + ML2/OVN driver +
northd + controllers converging after each change), for the article's requests."""

from __future__ import annotations

import threading
import time

import pytest
from api_helpers import Client

from ovnlab import api
from ovnlab.lab import Lab

N = "/networking/v2.0"
C = "/compute/v2.1"


@pytest.mark.slow
def test_article_requests_through_the_real_lab_are_fast_and_converge() -> None:
    t0 = time.perf_counter()
    lab = Lab.build("seed")
    build = time.perf_counter() - t0
    app = api.make_app(lab.locked_cloud(threading.Lock()))
    c = Client(app)
    assert c.login().status == 201
    n1 = c.post(f"{N}/networks", {"network": {"name": "n1", "admin_state_up": True,
                                              "provider:network_type": "geneve",
                                              "provider:segmentation_id": "123"}})
    n1_id = n1.body["network"]["id"]
    sub = c.post(f"{N}/subnets", {"subnet": {"name": "n1subnet", "network_id": n1_id,
                                             "cidr": "172.16.100.0/24", "ip_version": 4}})
    ext = c.post(f"{N}/networks", {"network": {
        "name": "ext_n2", "admin_state_up": True, "provider:network_type": "flat",
        "provider:physical_network": "extnet0", "router:external": True}})
    ext_id = ext.body["network"]["id"]
    assert c.post(f"{N}/subnets", {"subnet": {
        "name": "extsubnet", "network_id": ext_id, "cidr": "10.0.2.0/24", "ip_version": 4,
        "enable_dhcp": False, "gateway_ip": "10.0.2.2",
        "allocation_pools": [{"start": "10.0.2.210", "end": "10.0.2.220"}]}}).status == 201
    image = c.get("/image/v2/images?name=cirros").body["images"][0]["id"]
    vm = c.post(f"{C}/servers", {"server": {
        "name": "vm_1", "imageRef": image, "flavorRef": "42", "min_count": 1, "max_count": 1,
        "networks": [{"uuid": n1_id, "fixed_ip": "172.16.100.10"}],
        "block_device_mapping_v2": [{"uuid": image, "boot_index": 0, "source_type": "image",
                                     "destination_type": "local",
                                     "delete_on_termination": True}]}})
    assert vm.status == 202
    rid = c.post(f"{N}/routers", {"router": {"name": "r", "admin_state_up": True}}).body[
        "router"]["id"]
    assert c.put(f"{N}/routers/{rid}/add_router_interface",
                 {"subnet_id": sub.body["subnet"]["id"]}).status == 200
    assert c.put(f"{N}/routers/{rid}", {"router": {"external_gateway_info": {
        "network_id": ext_id}}}).status == 200
    fip = c.post(f"{N}/floatingips", {"floatingip": {"floating_network_id": ext_id}})
    vm_id = vm.body["server"]["id"]
    port = c.get(f"{N}/ports?device_id={vm_id}").body["ports"][0]
    assert c.put(f"{N}/floatingips/{fip.body['floatingip']['id']}",
                 {"floatingip": {"port_id": port["id"]}}).status == 200
    sg = c.post(f"{N}/security-groups", {"security_group": {
        "name": "allow-icmp-ssh", "description": "allow-icmp-ssh"}}).body["security_group"]
    for extra in ({"protocol": "icmp"}, {"protocol": "tcp", "port_range_min": 22,
                                         "port_range_max": 22}):
        assert c.post(f"{N}/security-group-rules", {"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
            "remote_ip_prefix": "0.0.0.0/0", **extra}}).status == 201
    assert c.post(f"{C}/servers/{vm_id}/action",
                  {"addSecurityGroup": {"name": "allow-icmp-ssh"}}).status == 202

    server = c.get(f"{C}/servers/{vm_id}").body["server"]
    assert server["status"] == "ACTIVE"  # the lab converged: the VIF is bound and up
    fip_ip = fip.body["floatingip"]["floating_ip_address"]
    assert [a["addr"] for a in server["addresses"]["n1"]] == ["172.16.100.10", fip_ip]
    nat = lab.exec("network", ["ovn-nbctl", "lr-nat-list", f"neutron-{rid}"]).stdout
    assert ["dnat_and_snat", fip_ip, "172.16.100.10"] in [line.split()[:3]
                                                         for line in nat.splitlines()]

    stats = app.stats()
    total = sum(s["count"] * s["mean_ms"] for s in stats.values())
    print(f"\nlab build {build * 1e3:.0f} ms; {sum(int(s['count']) for s in stats.values())} "
          f"requests, server time {total:.0f} ms")
    for route, s in stats.items():
        print(f"  {route:58} {s['count']:3.0f} x {s['mean_ms']:7.2f} ms (max {s['max_ms']:.2f})")
    assert max(s["max_ms"] for s in stats.values()) < 1000
    lab.close()
