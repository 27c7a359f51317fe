from pathlib import Path

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


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_yaml_aliases_are_refused_before_anything_is_built(tmp_path: Path) -> None:
    """A 'billion laughs' file: ten levels of nine aliases each would be 10^9 strings."""
    lines = ['a0: &a0 "lol"']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = _write(tmp_path / "bomb.yaml", "\n".join(lines) + "\nnodes: *a9\n")
    with pytest.raises(TopologyError, match=r"bomb\.yaml: line 2: YAML aliases \(\*a0\)"):
        topology.load_raw(bomb)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    big = _write(tmp_path / "big.yaml", "# padding\n" * (topology.MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(TopologyError, match="larger than"):
        topology.load_raw(big)


def test_base_cycles_are_reported(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    _write(a, f"base: {b}\nname: a\n")
    _write(b, f"base: {a}\nname: b\n")
    with pytest.raises(TopologyError, match=rf"base: cycle: {a} -> {b} -> {a}"):
        topology.load_raw(str(a))
    _write(a, f"base: {a}\n")
    with pytest.raises(TopologyError, match="base: cycle"):
        topology.load_raw(str(a))


def test_a_base_chain_still_merges(tmp_path: Path) -> None:
    mid = _write(tmp_path / "mid.yaml", "base: seed\nname: mid\n")
    top = _write(tmp_path / "top.yaml", f"base: {mid}\nneutron:\n  ovn:\n"
                 "    enable_distributed_floating_ip: false\n")
    topo = topology.from_dict(topology.load_raw(top))
    assert topo.name == "mid" and len(topo.nodes) == 3
    assert topo.neutron.ovn.enable_distributed_floating_ip is False


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("nodes", 0, "hostname"), 12, r"nodes\[0\]\.hostname: expected a string, got 12"),
        (("nodes", 1, "tunnel_ip"), ["10.0.0.1"], r"nodes\[1\]\.tunnel_ip: expected a string"),
        (("nodes", 2, "ovn_cms_options"), 5, r"ovn_cms_options: expected a string or a list"),
        (("name",), 3.5, r"name: expected a string, got 3\.5"),
    ],
)
def test_field_types_are_checked(where: tuple, value: object, message: str) -> None:
    raw = topology.load_raw("seed")
    target = raw
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(TopologyError, match=message):
        topology.from_dict(raw)


def test_project_fields_are_checked() -> None:
    raw = topology.load_raw("seed")
    raw["projects"] = [{"name": "admin", "users": [{"name": "admin", "password": 1234,
                                                    "admin": True}]}]
    with pytest.raises(TopologyError, match=r"projects\[0\]\.users\[0\]\.password: expected a"):
        topology.from_dict(raw)
    raw["projects"] = [{"name": "admin", "users": [{"name": "admin", "password": "x",
                                                    "admin": "yes"}]}]
    with pytest.raises(TopologyError, match=r"admin: expected true or false, got 'yes'"):
        topology.from_dict(raw)


def test_a_topology_needs_an_admin_user() -> None:
    raw = topology.load_raw("seed")
    raw["projects"] = [{"name": "demo", "users": [{"name": "demo", "password": "secret"}]}]
    with pytest.raises(TopologyError, match="projects: no user has `admin: true`"):
        topology.from_dict(raw)
    raw["projects"].append({"name": "demo", "users": [{"name": "root", "password": "x",
                                                       "admin": True}]})
    with pytest.raises(TopologyError, match="projects: duplicate project name 'demo'"):
        topology.from_dict(raw)


@pytest.mark.parametrize("text", [
    "base: seed\nnodes: [{hostname: [1]}]",
    "base: seed\nnodes: [5]",
    "base: seed\nneutron: {ovn: 5}",
    "base: seed\nnodes: [{hostname: network, ovn_bridge_mappings: 'nocolon'}]",
    "base: seed\nnodes: [{hostname: network, ovn_bridge_mappings: {extnet0: [1]}}]",
    "base: seed\nnodes: [{hostname: network, ovn_cms_options: [[1]]}]",
    "!!python/object/apply:os.system [echo]",
    "{",
])
def test_malformed_files_are_topology_errors(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path / "t.yaml", text)
    with pytest.raises(TopologyError):
        topology.from_dict(topology.load_raw(path))


@pytest.mark.parametrize("item", ["ovn.enable_distributed_floating_ip=[",
                                  "ovn.enable_distributed_floating_ip=*a",
                                  "ovn.enable_distributed_floating_ip=!!python/name:os.system"])
def test_bad_set_values_are_topology_errors(item: str) -> None:
    with pytest.raises(TopologyError, match="not a YAML value"):
        topology.load("seed", [item])
