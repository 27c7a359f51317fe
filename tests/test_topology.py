import pytest

from ovnlab import topology
from ovnlab.errors import TopologyError


def test_seed_matches_design() -> None:
    topo = topology.load("seed")
    assert [n.hostname for n in topo.nodes] == ["network", "compute1", "compute2"]
    assert all(n.bridge_mappings == {"extnet0": "br-ex"} for n in topo.nodes)
    assert not any(n.is_gateway_flagged for n in topo.nodes)
    assert topo.neutron.ovn.enable_distributed_floating_ip is True


def test_gw_only_flags_only_the_network_node() -> None:
    topo = topology.load("gw-only")
    assert [n.hostname for n in topo.nodes if n.is_gateway_flagged] == ["network"]


def test_set_overrides_neutron_config() -> None:
    topo = topology.load("seed", ["ovn.enable_distributed_floating_ip=false"])
    assert topo.neutron.ovn.enable_distributed_floating_ip is False


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"neutron": {"ovn": {"enable_dvr": True}}}, "neutron.ovn.enable_dvr"),
        ({"neutron": {"ovn": {"ovn_l3_scheduler": "random"}}}, "neutron.ovn.ovn_l3_scheduler"),
    ],
)
def test_unknown_or_bad_keys_are_named(patch: dict, key: str) -> None:
    raw = topology.load_raw("seed")
    raw.update(patch)
    with pytest.raises(TopologyError, match=key.replace(".", r"\.")):
        topology.from_dict(raw)


def test_node_errors_name_the_key() -> None:
    raw = topology.load_raw("seed")
    raw["nodes"][1]["system_id"] = "not-a-uuid"
    with pytest.raises(TopologyError, match=r"nodes\[1\]\.system_id"):
        topology.from_dict(raw)
    raw = topology.load_raw("seed")
    raw["nodes"][2]["ovn_bridge_mappings"] = {"physnet9": "br-ex"}
    with pytest.raises(TopologyError, match=r"nodes\[2\]\.ovn_bridge_mappings"):
        topology.from_dict(raw)
    raw = topology.load_raw("seed")
    raw["nodes"][2]["hostname"] = "compute1"
    with pytest.raises(TopologyError, match="duplicate"):
        topology.from_dict(raw)


def test_bad_set_syntax() -> None:
    with pytest.raises(TopologyError, match="section.key=value"):
        topology.load("seed", ["enable_distributed_floating_ip"])
