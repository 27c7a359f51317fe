import re
from pathlib import Path

from ovnlab.northd import Northd
from ovnlab.northd.samples import SEED, seed_nb
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.tools.ovn_sbctl import run

GOLDEN = Path(__file__).parent / "golden"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def seed_sb() -> Database:
    sb = new_sb()
    Northd(seed_nb(), sb).run()
    return sb


def masked(text: str) -> str:
    """Name each distinct UUID by order of first appearance (stable across runs)."""
    seen: dict[str, str] = {}
    return UUID.sub(lambda m: seen.setdefault(m.group(0), f"<uuid{len(seen)}>"), text)


def test_lflow_list_golden() -> None:
    out = run(seed_sb(), ["lflow-list"])
    assert out.rc == 0
    golden = GOLDEN / "seed-lflow-list.txt"
    assert masked(out.stdout) == golden.read_text()


def test_lflow_list_line_format() -> None:
    out = run(seed_sb(), ["lflow-list", "r"]).stdout
    lines = out.splitlines()
    assert re.fullmatch(r'Datapath: "neutron-[0-9a-f-]+" aka "r" \([0-9a-f-]{36}\)  '
                        r"Pipeline: ingress", lines[0])
    dnat = [line for line in lines if "ct_dnat_in_czone(172.16.100.10)" in line]
    assert dnat == [f'  table=6 (lr_in_dnat         ), priority=100  , match=(ip && ip4.dst == '
                    f'10.0.2.216 && inport == "lrp-{SEED.gw_port}"), '
                    f'action=(ct_dnat_in_czone(172.16.100.10);)']
    assert "Pipeline: egress" in out and "ls_in_" not in out


def test_lflow_list_datapath_filters() -> None:
    sb = seed_sb()
    dp = next(d for d in sb.rows("Datapath_Binding") if d["external_ids"].get("name2") == "n1")
    by_uuid = run(sb, ["lflow-list", dp.uuid]).stdout
    assert by_uuid == run(sb, ["lflow-list", dp["external_ids"]["name"]]).stdout
    assert by_uuid == run(sb, ["lflow-list", "n1"]).stdout
    assert by_uuid.count("Datapath:") == 2
    bad = run(sb, ["lflow-list", "nosuchdp"])
    assert bad.rc == 1 and bad.stderr == "ovn-sbctl: nosuchdp is not a UUID or the beginning of a UUID\n"
    flow = sb.rows("Logical_Flow")[0]
    one = run(sb, ["--uuid", "lflow-list", flow.uuid[:8]]).stdout.splitlines()
    assert len(one) == 2 and one[1].startswith(f"  uuid=0x{flow.uuid[:8]}, table=")


def test_show_lists_bound_ports() -> None:
    sb = seed_sb()
    with sb.transaction() as txn:
        enc = txn.insert("Encap", type="geneve", ip="192.168.50.11", options={"csum": "true"},
                         chassis_name=SEED.chassis[1])
        ch = txn.insert("Chassis", name=SEED.chassis[1], hostname="compute1", encaps=(enc.uuid,))
        pb = sb.find("Port_Binding", logical_port=SEED.vm_port)[0]
        txn.update("Port_Binding", pb.uuid, chassis=ch.uuid)
    assert run(sb, ["show"]).stdout == (
        f'Chassis "{SEED.chassis[1]}"\n'
        "    hostname: compute1\n"
        "    Encap geneve\n"
        '        ip: "192.168.50.11"\n'
        '        options: {csum="true"}\n'
        f'    Port_Binding "{SEED.vm_port}"\n')
    # ovnlab names chassis by hostname too (DESIGN.md §3)
    assert run(sb, ["get", "Chassis", "compute1", "encaps"]).stdout == f"[{enc.uuid}]\n"


def test_database_commands() -> None:
    sb = seed_sb()
    cr = f"cr-lrp-{SEED.gw_port}"
    out = run(sb, ["--columns=logical_port,type", "find", "Port_Binding", "type=chassisredirect"])
    assert out.stdout == f"logical_port        : {cr}\ntype                : chassisredirect\n"
    got = run(sb, ["get", "Port_Binding", cr, "options:distributed-port"]).stdout
    assert got == f"lrp-{SEED.gw_port}\n"
    assert run(sb, ["list", "Nope"]).rc == 1
    assert run(sb, ["frobnicate"]).stderr == \
        "ovn-sbctl: unknown command 'frobnicate'; use --help for help\n"
