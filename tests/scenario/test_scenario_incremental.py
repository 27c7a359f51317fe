"""Incremental processing equals a full recompute, on whole labs driven through the API.

Random sequences of cloud operations (boots and deletes, FIPs, security groups with
remote-group rules, router interfaces, the DVR toggle) run on the seed's three chassis;
after each one every controller's desired table, and what it installed on br-int, must
equal what a from-scratch recompute builds. This is the oracle for the controller's
incremental processing of port bindings, address sets, port groups and multicast groups,
and for the compiled flows the chassis share (each recomputes alone).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_clouds import CloudSpec, make_cloud

from ovnlab.errors import OvnlabError
from ovnlab.flows.format import format_flow_mod
from ovnlab.lab import Lab

HOSTS = ("compute1", "compute2")
OPS = ("boot", "boot", "boot", "delete", "fip_add", "fip_remove", "sg_web", "sg_remote",
       "router_iface", "dvr")


def _cloud() -> Lab:
    lab = Lab.build("seed")
    make_cloud(lab, CloudSpec(networks=2, gateway=True, vms=()))
    return lab


def _apply(lab: Lab, op: str, arg: int, state: dict[str, Any]) -> None:
    os = lab.openstack
    vms: list[str] = state["vms"]
    vm = vms[arg % len(vms)] if vms else None
    if op == "boot":
        name = f"vm{state['next']}"
        state["next"] += 1
        os.server_create(name, network=f"n{arg % 2}", host=HOSTS[arg % len(HOSTS)])
        vms.append(name)
    elif op == "delete" and vm is not None:
        os.server_delete(vm)
        vms.remove(vm)
        state["fips"].pop(vm, None)
    elif op == "fip_add" and vm is not None and vm not in state["fips"]:
        fip = os.floating_ip_create("ext")["floating_ip_address"]
        os.server_add_floating_ip(vm, fip)
        state["fips"][vm] = fip
    elif op == "fip_remove" and vm is not None and vm in state["fips"]:
        os.server_remove_floating_ip(state["fips"].pop(vm))
    elif op in ("sg_web", "sg_remote") and vm is not None:
        group = f"{op}-{arg % 2}"
        if group not in state["groups"]:
            os.security_group_create(group)
            if op == "sg_web":
                os.security_group_rule_create(group, protocol="tcp", dst_port=22)
            else:  # a remote-group rule: an ACL over the group's address set
                lab.cloud.security_groups.create_security_group_rule(lab.admin, {
                    "security_group_id": os.find("security_group", group)["id"],
                    "direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
                    "remote_group_id": os.find("security_group", group)["id"]})
            state["groups"].add(group)
        try:
            os.server_add_security_group(vm, group)
        except OvnlabError:
            pass  # already a member: Neutron refuses, nothing changes
    elif op == "router_iface":
        subnet = f"n{arg % 2}-subnet"
        if subnet in state["detached"]:
            os.router_add_subnet("r", subnet)
            state["detached"].discard(subnet)
        else:
            try:
                os.router_remove_subnet("r", subnet)
                state["detached"].add(subnet)
            except OvnlabError:
                pass  # a FIP still needs the interface: Neutron refuses
    elif op == "dvr":
        lab.config_set("ovn.enable_distributed_floating_ip", "false" if arg % 2 else "true")


def _tables(lab: Lab) -> dict[str, tuple[list[str], list[str]]]:
    """Per chassis: (desired flows, flows installed on br-int), both sorted."""
    out = {}
    for host, c in lab.controllers.items():
        desired = sorted(format_flow_mod(f) for f in c.flows())
        installed = sorted(lab.vswitches[host].bridges["br-int"].dump_flows(stats=False))
        out[host] = (desired, installed)
    return out


def _assert_equals_recompute(lab: Lab, when: str) -> None:
    incremental = _tables(lab)
    for c in lab.controllers.values():
        lab.compiles.clear()  # each chassis compiles alone: what the others shared is checked
        c.recompute()
    full = _tables(lab)
    for host in incremental:
        assert incremental[host][0] == full[host][0], f"{host} desired flows differ {when}"
        assert incremental[host][1] == full[host][1], f"{host} br-int flows differ {when}"


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 5)), min_size=3, max_size=12),
       st.booleans())
def test_incremental_equals_recompute(ops: list[tuple[str, int]], every_step: bool) -> None:
    lab = _cloud()
    state: dict[str, Any] = {"vms": [], "next": 0, "fips": {}, "groups": set(),
                             "detached": set()}
    for i, (op, arg) in enumerate(ops):
        _apply(lab, op, arg, state)
        if every_step:
            _assert_equals_recompute(lab, f"after step {i} ({op} {arg})")
    _assert_equals_recompute(lab, "at the end")


def test_address_set_change_patches_only_its_addresses() -> None:
    """A VM joining the default group adds its address to the group's address set: the
    other chassis add the flows of that one address (lflow_handle_addr_set_update) rather
    than compiling the remote-group ACLs again, and the result equals a recompute."""
    lab = _cloud()
    state: dict[str, Any] = {"vms": [], "next": 0, "fips": {}, "groups": set(),
                             "detached": set()}
    for arg in (0, 0, 1):  # vm0, vm1 on compute1 and vm2 on compute2, network n0
        _apply(lab, "boot", arg * 2, state)
    compute1 = lab.controllers["compute1"]
    compute1.run_if_pending()  # what it left for an observer is not counted below
    patches = compute1.stats["address_set_patches"]
    _apply(lab, "boot", 1, state)  # vm3 on compute2, network n1
    server = lab.openstack.find("server", "vm3")
    port = lab.cloud.get_ports(lab.admin, filters={"device_id": [server["id"]]})[0]
    new_ip = port["fixed_ips"][0]["ip_address"]
    acl = [f for f in lab.vswitches["compute1"].bridges["br-int"].dump_flows(stats=False)
           if f"nw_src={new_ip}" in f and "table=44" in f]
    assert acl, "compute1's to-lport ACLs admit the new member of the default group"
    assert compute1.stats["address_set_patches"] > patches
    _assert_equals_recompute(lab, "after the fourth boot")


def test_a_fip_patches_the_fip_mac_set() -> None:
    """A third FIP adds its MAC to ls_in_l2_lkup's flood of ARP requests and NS from
    the router's MACs: every chassis adds the flows of that MAC alone instead of
    compiling the set again, and the result equals a recompute."""
    lab = _cloud()
    state: dict[str, Any] = {"vms": [], "next": 0, "fips": {}, "groups": set(),
                             "detached": set()}
    for arg in range(3):
        _apply(lab, "boot", arg, state)
    for arg in range(2):
        _apply(lab, "fip_add", arg, state)
    for c in lab.controllers.values():
        c.run_if_pending()  # what it left for an observer is not counted below
    before = {h: (c.stats["inline_set_patches"], c.stats["lflows_compiled"])
              for h, c in lab.controllers.items()}
    _apply(lab, "fip_add", 2, state)
    fip = state["fips"]["vm2"]
    mac = next(r["external_mac"] for r in lab.nb.rows("NAT") if r["external_ip"] == fip)
    for host, c in lab.controllers.items():
        # reading br-int first: a chassis may have left the change until observed
        flood = [f for f in lab.vswitches[host].bridges["br-int"].dump_flows(stats=False)
                 if f"dl_src={mac}" in f and "arp_op=1" in f]
        assert flood, f"{host} floods ARP requests from the new FIP's MAC"
        patches, compiled = before[host]
        assert c.stats["inline_set_patches"] > patches, host
        assert c.stats["lflows_compiled"] - compiled < 40, host
    _assert_equals_recompute(lab, "after the third FIP")


def test_a_third_local_port_patches_the_remote_group_acls() -> None:
    """A third VM of the default security group on compute1: its remote-group ACLs
    (`outport == @pg && ip4.src == $as`) get the flows of that one port, from a compile
    with placeholder ports and addresses, and the result equals a recompute."""
    lab = _cloud()
    state: dict[str, Any] = {"vms": [], "next": 0, "fips": {}, "groups": set(),
                             "detached": set()}
    for _ in range(2):
        _apply(lab, "boot", 0, state)  # vm0, vm1: network n0, compute1
    compute1 = lab.controllers["compute1"]
    compute1.run_if_pending()
    patches = compute1.stats["port_group_patches"]
    _apply(lab, "boot", 0, state)  # vm2
    assert compute1.stats["port_group_patches"] > patches
    _assert_equals_recompute(lab, "after the third boot")
