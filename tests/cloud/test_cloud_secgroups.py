from __future__ import annotations

from cloud_helpers import RecordingDriver, fails

from ovnlab.cloud import Cloud, Context


def _rule_shape(rule: dict) -> tuple:
    return (rule["direction"], rule["ethertype"], rule["protocol"], rule["remote_group_id"],
            rule["remote_ip_prefix"])


def test_default_group_on_first_use(cloud: Cloud, demo: Context, driver: RecordingDriver) -> None:
    groups = cloud.security_groups.get_security_groups(demo)
    assert [g["name"] for g in groups] == ["default"]
    default = groups[0]
    assert default["description"] == "Default security group"
    assert sorted(_rule_shape(r) for r in default["security_group_rules"]) == sorted([
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", None, default["id"], None),
        ("ingress", "IPv6", None, default["id"], None)])
    assert all(r["project_id"] == demo.project_id for r in default["security_group_rules"])
    assert driver.names() == ["create_security_group"]
    assert len(driver.last("create_security_group")[0]["security_group_rules"]) == 4
    cloud.security_groups.get_security_groups(demo)
    assert driver.names() == ["create_security_group"]  # only once


def test_new_group_and_rules(cloud: Cloud, demo: Context, driver: RecordingDriver) -> None:
    sg = cloud.security_groups.create_security_group(demo, {"security_group": {"name": "allow-icmp-ssh",
                                                               "description": "allow-icmp-ssh"}})
    assert sorted(_rule_shape(r) for r in sg["security_group_rules"]) == [
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None)]
    icmp = cloud.security_groups.create_security_group_rule(demo, {"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
        "protocol": "icmp", "remote_ip_prefix": "0.0.0.0/0"}})
    ssh = cloud.security_groups.create_security_group_rule(demo, {
        "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": "22", "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"})
    assert (ssh["port_range_min"], ssh["port_range_max"], ssh["ethertype"]) == (22, 22, "IPv4")
    assert icmp["normalized_cidr"] == "0.0.0.0/0"
    assert driver.last("create_security_group_rule")[0]["id"] == ssh["id"]
    assert len(cloud.security_groups.get_security_group(demo, sg["id"])["security_group_rules"]) == 4
    fails(cloud, lambda: cloud.security_groups.create_security_group_rule(demo, {
        "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}),
        409, "SecurityGroupRuleExists", f"Security group rule already exists. Rule id is {ssh['id']}.")
    cloud.security_groups.delete_security_group_rule(demo, icmp["id"])
    assert driver.last("delete_security_group_rule")[0]["id"] == icmp["id"]


def test_rule_validation(cloud: Cloud, demo: Context) -> None:
    sg = cloud.security_groups.create_security_group(demo, {"name": "g"})
    base = {"security_group_id": sg["id"], "direction": "ingress"}
    cases = [
        ({"protocol": "foo"}, 400, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": "tcp", "port_range_min": 30, "port_range_max": 20}, 400,
         "SecurityGroupInvalidPortRange"),
        ({"port_range_min": 22, "port_range_max": 22}, 400, "SecurityGroupProtocolRequiredWithPorts"),
        ({"protocol": "icmp", "port_range_min": 300}, 400, "SecurityGroupInvalidIcmpValue"),
        ({"remote_ip_prefix": "::/0"}, 400, "SecurityGroupRuleParameterConflict"),
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": sg["id"]}, 400,
         "SecurityGroupRemoteGroupAndRemoteIpPrefix"),
        ({"remote_group_id": "nope"}, 404, "SecurityGroupNotFound"),
        ({"direction": "sideways"}, 400, "HTTPBadRequest"),
    ]
    for extra, status, type_ in cases:
        fails(cloud, lambda e=extra: cloud.security_groups.create_security_group_rule(demo, {**base, **e}),  # type: ignore[misc]
              status, type_)
    fails(cloud, lambda: cloud.security_groups.create_security_group_rule(demo, {
        "security_group_id": "nope", "direction": "ingress"}), 404, "SecurityGroupNotFound",
        "Security group nope does not exist")


def test_group_deletes(cloud: Cloud, admin: Context, demo: Context) -> None:
    net = cloud.create_network(demo, {"name": "n"})
    sg = cloud.security_groups.create_security_group(demo, {"name": "g"})
    port = cloud.create_port(demo, {"network_id": net["id"], "security_groups": [sg["id"]]})
    fails(cloud, lambda: cloud.security_groups.delete_security_group(demo, sg["id"]), 409, "SecurityGroupInUse",
          f"Security Group {sg['id']} in use.")
    default = cloud.security_groups.get_security_groups(demo, {"name": "default"})[0]
    fails(cloud, lambda: cloud.security_groups.delete_security_group(demo, default["id"]), 409,
          "SecurityGroupCannotRemoveDefault")
    fails(cloud, lambda: cloud.security_groups.create_security_group(demo, {"name": "default"}), 409,
          "SecurityGroupDefaultAlreadyExists")
    fails(cloud, lambda: cloud.security_groups.delete_security_group(admin, "nope"), 404, "SecurityGroupNotFound")
    stranger = Context("someone", "another-project")
    cloud.security_groups.get_security_groups(stranger)  # its own default group
    fails(cloud, lambda: cloud.security_groups.delete_security_group(stranger, sg["id"]), 404,
          "SecurityGroupNotFound")
    cloud.delete_port(demo, port["id"])
    cloud.security_groups.delete_security_group(demo, sg["id"])
    assert [g["name"] for g in cloud.security_groups.get_security_groups(demo)] == ["default"]
    assert cloud.security_groups.get_security_group_rules(demo, {"security_group_id": [sg["id"]]}) == []
