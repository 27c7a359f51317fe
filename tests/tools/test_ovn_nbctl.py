"""ovn-nbctl against the seed scenario's NB, compared with what the real tool prints.

Golden outputs mask the UUIDs the run generates: known ones by role (<ROUTER>, <VM_PORT>...),
the rest as <uuid1>, <uuid2>... in order of first appearance. Chassis system-ids come from
the topology and stay literal.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ovnlab import topology
from ovnlab.ml2ovn import OVNMechanismDriver, new_nb
from ovnlab.ml2ovn.scenario import MiniNeutron, register_chassis, seed_scenario
from ovnlab.sb.schema import new_sb
from ovnlab.tools.ovn_nbctl import run

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NET = "a807ec5c-1f4e-4b47-9a53-0c2a6d1e5f01"
C1 = "1d03fd7e-8c1b-4f6e-b0a4-2f9c3e7d5a02"
C2 = "3c2e2741-6d9a-4c3b-8e15-7b4f0a9c6d03"


class Seed:
    def __init__(self, *overrides: str) -> None:
        self.topo = topology.load("seed", list(overrides))
        self.nb, self.sb = new_nb(), new_sb()
        register_chassis(self.sb, self.topo)
        self.driver = OVNMechanismDriver(self.nb, self.sb, self.topo.neutron.ovn)
        self.neutron = MiniNeutron(self.driver)
        self.s: dict[str, Any] = seed_scenario(self.neutron)
        s = self.s
        self.roles = {s["router"]["id"]: "<ROUTER>", s["vm_port"]["id"]: "<VM_PORT>",
                      s["gw_port"]["id"]: "<GW_PORT>", s["interface"]["id"]: "<IF_PORT>",
                      s["n1"]["id"]: "<N1>", s["ext_n2"]["id"]: "<EXT_N2>", s["fip"]["id"]: "<FIP>",
                      s["allow-icmp-ssh"]["id"]: "<SG>", s["default"]["id"]: "<DEFAULT_SG>"}
        for k, v in list(self.roles.items()):
            self.roles[k.replace("-", "_")] = v.replace("<", "<_")  # port group names

    @property
    def router(self) -> str:
        return f"neutron-{self.s['router']['id']}"

    def nbctl(self, *argv: str) -> tuple[int, str, str]:
        res = run(self.nb, list(argv))
        return res.rc, self.mask(res.stdout), res.stderr

    def mask(self, text: str) -> str:
        for real, role in self.roles.items():
            text = text.replace(real, role)
        seen: dict[str, str] = {}

        def label(m: re.Match[str]) -> str:
            u = m.group(0)
            if u in (NET, C1, C2):
                return u
            return seen.setdefault(u, f"<uuid{len(seen) + 1}>")
        return UUID.sub(label, text)


@pytest.fixture(scope="module")
def seed() -> Seed:
    return Seed()


def test_observation_1_list_gateway_chassis(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("--columns=name,chassis_name,priority", "list", "gateway_chassis")
    assert rc == 0
    assert out.splitlines()[:3] == [f"{c:<20}: " + out.splitlines()[i].split(": ", 1)[1]
                                    for i, c in enumerate(("name", "chassis_name", "priority"))]
    records = [{k.strip(): v for k, v in (line.split(": ", 1) for line in block.splitlines())}
               for block in out.split("\n\n")]
    got = sorted(((r["name"], r["chassis_name"], r["priority"]) for r in records),
                 key=lambda r: r[2], reverse=True)
    assert got == [(f"lrp-<GW_PORT>_{NET}", f'"{NET}"', "3"), (f"lrp-<GW_PORT>_{C1}", f'"{C1}"', "2"),
                   (f"lrp-<GW_PORT>_{C2}", f'"{C2}"', "1")]


def test_observation_2_lr_nat_list(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("lr-nat-list", seed.router)
    assert rc == 0
    assert out == (
        "TYPE             GATEWAY_PORT          EXTERNAL_IP        EXTERNAL_PORT    LOGICAL_IP          EXTERNAL_MAC         LOGICAL_PORT\n"
        "dnat_and_snat                          10.0.2.216                          172.16.100.10       fa:16:3e:9f:84:ff    <VM_PORT>\n"
        "snat                                   10.0.2.211                          172.16.100.0/24\n")
    # The router's UUID works as well as its name.
    lr_uuid = seed.driver.api.must("Logical_Router", seed.router).uuid
    assert run(seed.nb, ["lr-nat-list", lr_uuid]).stdout == run(seed.nb, ["lr-nat-list", seed.router]).stdout


def test_lr_nat_list_without_external_mac_when_centralized() -> None:
    seed = Seed("ovn.enable_distributed_floating_ip=false")
    rc, out, _ = seed.nbctl("lr-nat-list", seed.router)
    assert out.splitlines()[1] == "dnat_and_snat                          10.0.2.216                          172.16.100.10"


def test_lrp_get_gateway_chassis(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("lrp-get-gateway-chassis", f"lrp-{seed.s['gw_port']['id']}")
    assert out == (f"lrp-<GW_PORT>_{NET}     3\n"
                   f"lrp-<GW_PORT>_{C1}     2\n"
                   f"lrp-<GW_PORT>_{C2}     1\n")


def test_show(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("show", seed.router)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "router <uuid1> (neutron-<ROUTER>) (aka r)"
    assert "        gateway chassis: [" + f"{NET} {C1} {C2}]" in lines
    assert '        networks: ["10.0.2.211/24"]' in lines
    assert '        networks: ["172.16.100.1/24"]' in lines
    nat = out[out.index("    nat <FIP>"):]
    assert nat.splitlines()[:4] == ["    nat <FIP>", '        external ip: "10.0.2.216"',
                                    '        logical ip: "172.16.100.10"', '        type: "dnat_and_snat"']
    rc, out, _ = seed.nbctl("show", f"neutron-{seed.s['ext_n2']['id']}")
    blocks = out.split("    port ")
    assert blocks[0] == "switch <uuid1> (neutron-<EXT_N2>) (aka ext_n2)\n"
    assert sorted(blocks[1:]) == sorted([
        "<GW_PORT>\n        type: router\n        router-port: lrp-<GW_PORT>\n",
        "provnet-<EXT_N2>\n        type: localnet\n        addresses: [\"unknown\"]\n"])


def test_full_show_lists_switches_then_routers(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("show")
    heads = [line.split(" ")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert heads == ["switch", "switch", "router"]
    assert f'        addresses: ["{seed.s["vm_port"]["mac_address"]} 172.16.100.10"]' in out


def test_lr_route_list(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("lr-route-list", seed.router)
    assert out == ("IPv4 Routes\n"
                   "Route Table <main>:\n"
                   "                0.0.0.0/0                  10.0.2.2 dst-ip\n")


def test_acl_list(seed: Seed) -> None:
    pg = "pg_" + seed.s["allow-icmp-ssh"]["id"].replace("-", "_")
    rc, out, _ = seed.nbctl("acl-list", pg)
    assert out == (
        "from-lport  1002 (inport == @pg_<_SG> && ip4) allow-related\n"
        "from-lport  1002 (inport == @pg_<_SG> && ip6) allow-related\n"
        "  to-lport  1002 (outport == @pg_<_SG> && ip4 && ip4.src == 0.0.0.0/0 && icmp4) allow-related\n"
        "  to-lport  1002 (outport == @pg_<_SG> && ip4 && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22) allow-related\n")
    rc, out, _ = seed.nbctl("acl-list", "neutron_pg_drop")
    assert out == ("from-lport  1001 (inport == @neutron_pg_drop && ip) drop\n"
                   "  to-lport  1001 (outport == @neutron_pg_drop && ip) drop\n")


def test_name_lists(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("lr-list")
    assert out == "<uuid1> (neutron-<ROUTER>)\n"
    rc, out, _ = seed.nbctl("ls-list")
    assert sorted(line.split(" ", 1)[1] for line in out.splitlines()) == ["(neutron-<EXT_N2>)", "(neutron-<N1>)"]
    rc, out, _ = seed.nbctl("lsp-list", f"neutron-{seed.s['n1']['id']}")
    assert sorted(line.split(" ", 1)[1] for line in out.splitlines()) == ["(<IF_PORT>)", "(<VM_PORT>)"]
    rc, out, _ = seed.nbctl("lrp-list", seed.router)
    assert sorted(line.split(" ", 1)[1] for line in out.splitlines()) == ["(lrp-<GW_PORT>)", "(lrp-<IF_PORT>)"]
    assert seed.nbctl("lsp-get-up", seed.s["vm_port"]["id"])[1] == "up\n"


def test_list_record_formats(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("list", "NAT", seed.s["fip"]["id"])
    assert out == (
        "_uuid               : <FIP>\n"
        "allowed_ext_ips     : []\n"
        "exempted_ext_ips    : []\n"
        'external_ids        : {"neutron:fip_external_mac"="fa:16:3e:9f:84:ff", "neutron:fip_id"="<FIP>", '
        '"neutron:fip_network_id"="<EXT_N2>", "neutron:fip_port_id"="<VM_PORT>", "neutron:revision_number"="1", '
        '"neutron:router_name"=neutron-<ROUTER>}\n'
        'external_ip         : "10.0.2.216"\n'
        'external_mac        : "fa:16:3e:9f:84:ff"\n'
        'external_port_range : ""\n'
        "gateway_port        : []\n"
        'logical_ip          : "172.16.100.10"\n'
        'logical_port        : "<VM_PORT>"\n'
        "options             : {}\n"
        "type                : dnat_and_snat\n")


def test_find_get_and_bare(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("--bare", "--columns=logical_port,external_mac", "find", "nat", "type=dnat_and_snat")
    assert out == "<VM_PORT>\nfa:16:3e:9f:84:ff\n"
    rc, out, _ = seed.nbctl("--bare", "--columns=name", "find", "Logical_Switch_Port", "type=localnet")
    assert out == "provnet-<EXT_N2>\n"
    rc, out, _ = seed.nbctl("--bare", "--columns=external_ip", "find", "NAT", "external_ids:neutron:fip_id=" + seed.s["fip"]["id"])
    assert out == "10.0.2.216\n"
    rc, out, _ = seed.nbctl("get", "Logical_Router_Port", f"lrp-{seed.s['gw_port']['id']}", "networks", "mac",
                            "external_ids:neutron:is_ext_gw")
    assert out == f'["10.0.2.211/24"]\n"{seed.s["gw_port"]["mac_address"]}"\nTrue\n'
    rc, out, _ = seed.nbctl("get", "Logical_Router", "r", "name")  # neutron:router_name is a row id
    assert out == "neutron-<ROUTER>\n"
    rc, out, _ = seed.nbctl("-f", "table", "--columns=type,external_ip", "find", "NAT", "type=snat")
    assert out == "type external_ip\n---- ------------\nsnat \"10.0.2.211\"\n"


def test_multiple_commands(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("--bare", "lr-list", "--", "--columns=priority", "list", "Gateway_Chassis")
    assert rc == 0
    assert out.splitlines()[0] == "<uuid1> (neutron-<ROUTER>)"
    assert sorted(out.split("\n")[1:]) == ["", "", "", "1", "2", "3"]
    res = run(seed.nb, ["lr-list", "--", "--bare", "list", "NAT"])
    assert res.stderr == "ovn-nbctl: 'list' command has no '--bare' option\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["lr-nat-list", "foo"], "ovn-nbctl: foo: router name not found\n"),
    (["lr-nat-list", "0f0f0f0f-0000-4000-8000-000000000000"],
     "ovn-nbctl: 0f0f0f0f-0000-4000-8000-000000000000: router UUID not found\n"),
    (["lrp-get-gateway-chassis", "lrp-nope"], "ovn-nbctl: lrp-nope: port name not found\n"),
    (["lsp-list", "nope"], "ovn-nbctl: nope: switch name not found\n"),
    (["acl-list", "nope"], "ovn-nbctl: 'nope' is not found for port-group or switch.\n"),
    (["frobnicate"], "ovn-nbctl: unknown command 'frobnicate'; use --help for help\n"),
    (["lr-nat-list"], "ovn-nbctl: 'lr-nat-list' command requires at least 1 arguments\n"),
    (["lr-list", "x"], "ovn-nbctl: 'lr-list' command takes at most 0 arguments\n"),
    (["list", "Nope"], 'ovn-nbctl: unknown table "Nope"\n'),
    (["list", "Logical"], 'ovn-nbctl: "Logical" matches multiple table names: Logical_Router, '
     "Logical_Router_Policy, Logical_Router_Port, Logical_Router_Static_Route, Logical_Switch, "
     "Logical_Switch_Port\n"),
    (["get", "NAT", "1.2.3.4", "type"], 'ovn-nbctl: no row "1.2.3.4" in table NAT\n'),
    (["--columns=bogus", "list", "NAT"], 'ovn-nbctl: NAT does not contain a column whose name matches "bogus"\n'),
    ([], "ovn-nbctl: missing command name (use --help for help)\n"),
])
def test_errors_like_ovn_nbctl(seed: Seed, argv: list[str], message: str) -> None:
    res = run(seed.nb, argv)
    assert (res.rc, res.stdout, res.stderr) == (1, "", message)


def test_lr_nat_del_as_in_observation_6() -> None:
    seed = Seed()
    res = run(seed.nb, ["lr-nat-del", seed.router, "dnat_and_snat", "10.0.2.216"])
    assert (res.rc, res.stdout) == (0, "")
    rc, out, _ = seed.nbctl("lr-nat-list", seed.router)
    assert out.splitlines()[1:] == ["snat                                   10.0.2.211                          172.16.100.0/24"]
    res = run(seed.nb, ["lr-nat-del", seed.router, "bogus"])
    assert res.stderr == 'ovn-nbctl: bogus: type must be one of "dnat", "snat" and "dnat_and_snat".\n'


def test_lsp_and_lrp_getters(seed: Seed) -> None:
    vm = seed.s["vm_port"]["id"]
    mac = seed.s["vm_port"]["mac_address"]
    assert seed.nbctl("lsp-get-type", vm)[1] == "\n"
    assert seed.nbctl("lsp-get-type", seed.s["gw_port"]["id"])[1] == "router\n"
    assert seed.nbctl("lsp-get-options", vm)[1] == "requested-chassis=compute1\n"
    assert seed.nbctl("lsp-get-port-security", vm)[1] == f"{mac} 172.16.100.10\n"
    assert seed.nbctl("lsp-get-addresses", vm)[1] == f"{mac} 172.16.100.10\n"
    assert seed.nbctl("lsp-get-enabled", vm)[1] == "enabled\n"
    assert seed.nbctl("lsp-get-tag", vm)[1] == ""
    assert seed.nbctl("lsp-get-ls", vm)[1] == "<uuid1> (neutron-<N1>)\n"
    assert seed.nbctl("lsp-get-dhcpv4-options", vm)[1] == "<uuid1> (172.16.100.0/24)\n"
    assert seed.nbctl("lrp-get-enabled", f"lrp-{seed.s['gw_port']['id']}")[1] == "enabled\n"
    assert seed.nbctl("lr-policy-list", seed.router)[1] == ""


def test_dhcp_options_commands(seed: Seed) -> None:
    rc, out, _ = seed.nbctl("dhcp-options-list")
    [uuid] = out.split()
    res = run(seed.nb, ["dhcp-options-get-options", seed.nb.rows("DHCP_Options")[0].uuid])
    keys = [line.split("=", 1)[0] for line in res.stdout.splitlines()]
    assert keys == ["lease_time", "mtu", "router", "server_id", "server_mac"]
    assert "router=172.16.100.1" in res.stdout.splitlines()
    bad = run(seed.nb, ["dhcp-options-get-options", "nope"])
    assert bad.stderr == "ovn-nbctl: nope: dhcp options UUID not found\n"


def test_version(seed: Seed) -> None:
    res = run(seed.nb, ["--version"])
    assert res.rc == 0 and res.stdout.splitlines()[-1] == "DB Schema 6.1.0"


def test_find_operators_and_record_lookup(seed: Seed) -> None:
    mac = seed.s["vm_port"]["mac_address"]
    rc, out, err = seed.nbctl("--bare", "--columns=name", "find", "Logical_Switch_Port",
                              f'addresses{{>=}}"{mac} 172.16.100.10"')
    assert (rc, out) == (0, "<VM_PORT>\n"), err
    rc, out, _ = seed.nbctl("--bare", "--columns=type", "find", "Logical_Switch_Port", "up=true", "type!=router")
    assert out == "\n"
    rc, out, _ = seed.nbctl("--bare", "--columns=priority", "find", "Gateway_Chassis", "priority>=2")
    assert sorted(out.split()) == ["2", "3"]
    rc, out, _ = seed.nbctl("--bare", "--columns=type", "find", "NAT", "external_mac=[]")
    assert out == "snat\n"
    # A record by UUID prefix, by name, and --if-exists.
    lr = seed.driver.api.must("Logical_Router", seed.router)
    assert seed.nbctl("get", "Logical_Router", lr.uuid[:8], "name")[1] == "neutron-<ROUTER>\n"
    assert seed.nbctl("--if-exists", "get", "NAT", "9.9.9.9", "type") == (0, "", "")
    res = run(seed.nb, ["get", "Logical_Router", seed.router, "external_ids:nope"])
    assert res.stderr == f'ovn-nbctl: no key "nope" in Logical_Router record "{seed.router}" column external_ids\n'


def test_lr_nat_add_after_del_restores_the_distributed_fip() -> None:
    seed = Seed()
    vm = seed.s["vm_port"]["id"]
    assert run(seed.nb, ["lr-nat-del", seed.router, "dnat_and_snat", "10.0.2.216"]).rc == 0
    res = run(seed.nb, ["lr-nat-add", seed.router, "dnat_and_snat", "10.0.2.216", "172.16.100.10",
                        vm, "fa:16:3e:9f:84:ff"])
    assert (res.rc, res.stderr) == (0, "")
    rc, out, _ = seed.nbctl("lr-nat-list", seed.router)
    assert out.splitlines()[1].split() == ["dnat_and_snat", "10.0.2.216", "172.16.100.10",
                                           "fa:16:3e:9f:84:ff", "<VM_PORT>"]
    nat = seed.nb.find("NAT", external_ip="10.0.2.216")[0]
    assert nat["options"] == {"stateless": "false"}


@pytest.mark.parametrize(("args", "message"), [
    (["dnat", "1.2.3.4", "10.0.0.1"], None),
    (["nat", "1.2.3.4", "10.0.0.1"], 'nat: type must be one of "dnat", "snat" and "dnat_and_snat".'),
    (["snat", "1.2.3", "10.0.0.0/24"], "1.2.3: Not a valid IPv4 or IPv6 address."),
    (["dnat", "1.2.3.4", "10.0.0.0/24"], "10.0.0.0/24: Not a valid IPv4 address."),
    (["snat", "10.0.2.211", "172.16.100.0/24"],
     "10.0.2.211, 172.16.100.0/24: a NAT with this external_ip and logical_ip already exists"),
    (["snat", "10.0.2.99", "172.16.100.0/24"],
     "a NAT with this type (snat), logical_ip (172.16.100.0/24) already exists"),
    (["snat", "10.0.2.99", "172.16.101.0/24", "p", "fa:16:3e:00:00:01"],
     'logical_port and external_mac are only valid when type is "dnat_and_snat".'),
    (["dnat_and_snat", "10.0.2.99", "172.16.100.99", "nope", "fa:16:3e:00:00:01"],
     "nope: port name not found"),
    (["dnat_and_snat", "10.0.2.99", "172.16.100.99", "<VM>", "zz:16:3e:00:00:01"],
     "invalid mac address zz:16:3e:00:00:01."),
    (["dnat_and_snat", "10.0.2.99", "172.16.100.99", "<VM>"],
     "lr-nat-add with logical_port must also specify external_mac."),
])
def test_lr_nat_add_validation(args: list[str], message: str | None) -> None:
    seed = Seed()
    args = [a.replace("<VM>", seed.s["vm_port"]["id"]) for a in args]
    before = len(seed.nb.rows("NAT"))
    res = run(seed.nb, ["lr-nat-add", seed.router, *args])
    if message is None:
        assert res.rc == 0 and len(seed.nb.rows("NAT")) == before + 1
    else:
        assert (res.rc, res.stderr) == (1, f"ovn-nbctl: {message}\n")
        assert len(seed.nb.rows("NAT")) == before


def test_json_and_csv_formats(seed: Seed) -> None:
    import json
    res = run(seed.nb, ["--format=json", "--columns=_uuid,type,external_mac,logical_port,external_ids", "find",
                        "NAT", "type=dnat_and_snat"])
    doc = json.loads(res.stdout)
    assert doc["headings"] == ["_uuid", "type", "external_mac", "logical_port", "external_ids"]
    [[uuid, typ, mac, port, ids]] = doc["data"]
    assert uuid == ["uuid", seed.s["fip"]["id"]]
    assert (typ, mac, port) == ("dnat_and_snat", "fa:16:3e:9f:84:ff", seed.s["vm_port"]["id"])
    assert ids[0] == "map" and ["neutron:fip_id", seed.s["fip"]["id"]] in ids[1]
    assert res.stdout.startswith('{"data":[[["uuid",')
    res = run(seed.nb, ["--format=json", "--columns=gateway_chassis", "list", "Logical_Router_Port",
                        f"lrp-{seed.s['gw_port']['id']}"])
    assert json.loads(res.stdout)["data"][0][0][0] == "set"
    rc, out, _ = seed.nbctl("-f", "csv", "--columns=type,external_ip", "find", "NAT", "type=snat")
    assert out == 'type,external_ip\nsnat,"""10.0.2.211"""\n'


def test_acl_add_as_nbctl_acl_add() -> None:
    seed = Seed()
    pg = "pg_" + seed.s["allow-icmp-ssh"]["id"].replace("-", "_")
    match = f"outport == @{pg} && ip4 && udp.dst == 81"
    before = seed.nbctl("acl-list", pg)[1]
    for argv, message in (
            (["acl-add", "nosuch", "to-lport", "1003", "ip", "drop"],
             "ovn-nbctl: 'nosuch' is not found for port-group or switch.\n"),
            (["acl-add", pg, "sideways", "1003", match, "reject"],
             'ovn-nbctl: sideways: direction must be "to-lport" or "from-lport"\n'),
            (["acl-add", pg, "to-lport", "40000", match, "reject"],
             "ovn-nbctl: 40000: priority must in range 0...32767\n"),
            (["acl-add", pg, "to-lport", "1003", match, "bounce"],
             'ovn-nbctl: bounce: action must be one of "allow", "allow-related", '
             '"allow-stateless", "drop", and "reject"\n'),
            (["--severity=loud", "acl-add", pg, "to-lport", "1003", match, "reject"],
             "ovn-nbctl: bad severity: loud\n")):
        res = run(seed.nb, argv)
        assert (res.rc, res.stdout, res.stderr) == (1, "", message)
    assert seed.nbctl("acl-list", pg)[1] == before  # refused commands change nothing

    # only the direction's first letter counts, as in parse_direction
    assert seed.nbctl("--type=port-group", "--name=rej", "acl-add", pg, "t", "1003", match,
                      "reject") == (0, "", "")
    out = seed.nbctl("acl-list", pg)[1]
    assert "  to-lport  1003 (outport == @pg_<_SG> && ip4 && udp.dst == 81) reject " \
           "log(name=rej)\n" in out
    assert len(out.splitlines()) == len(before.splitlines()) + 1
    res = run(seed.nb, ["acl-add", pg, "to-lport", "1003", match, "drop"])
    assert (res.rc, res.stderr) == (1, f"ovn-nbctl: Same ACL already existed on the ls {pg}.\n")
    assert seed.nbctl("--may-exist", "acl-add", pg, "to-lport", "1003", match, "drop") == \
        (0, "", "")
    assert seed.nbctl("acl-list", pg)[1] == out
