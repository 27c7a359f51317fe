"""Chassis features (northd.c build_chassis_features): the ct_mark / ct_lb_mark /
ct_commit_nat forms only while every chassis advertises them, as real 22.03 northd."""

from __future__ import annotations

from ovnlab.northd import Northd
from ovnlab.northd.samples import seed_nb
from ovnlab.ovsdb import Database
from ovnlab.sb import new_sb
from ovnlab.sb.features import advertised


def _flows(sb: Database, stage: str) -> set[tuple[int, str, str]]:
    return {(f["priority"], f["match"], f["actions"]) for f in sb.rows("Logical_Flow")
            if f["external_ids"]["stage-name"] == stage}


def _chassis(sb: Database, name: str, other_config: dict[str, str]) -> None:
    with sb.transaction() as txn:
        txn.insert("Chassis", name=name, hostname=name, other_config=other_config)


def _set_config(sb: Database, name: str, other_config: dict[str, str]) -> None:
    with sb.transaction() as txn:
        txn.update("Chassis", sb.get("Chassis", name).uuid, other_config=other_config)


RELATED = "!ct.est && ct.rel && !ct.new && !ct.inv && {} == 0"


def test_all_chassis_capable_gives_ct_mark_forms() -> None:
    sb = new_sb()
    _chassis(sb, "a", advertised())
    _chassis(sb, "b", advertised())
    Northd(seed_nb(), sb).run()
    acl = _flows(sb, "ls_in_acl")
    assert (65532, RELATED.format("ct_mark.blocked"), "ct_commit_nat;") in acl
    assert not any("ct_label.blocked" in m for _p, m, _a in acl)
    assert (110, "reg0[2] == 1", "ct_lb_mark;") in _flows(sb, "ls_in_pre_stateful")
    assert (50, "ip && ct_mark.natted == 1", "reg9[4] = 1; next;") in \
        _flows(sb, "lr_out_chk_dnat_local")
    assert (100, "reg0[1] == 1 && reg0[13] == 0", "ct_commit { ct_mark.blocked = 0; }; next;") \
        in _flows(sb, "ls_out_stateful")


def test_one_old_chassis_keeps_ct_label_until_it_upgrades() -> None:
    sb = new_sb()
    _chassis(sb, "a", advertised())
    _chassis(sb, "old", {"ovn-bridge-mappings": ""})
    northd = Northd(seed_nb(), sb)
    northd.run()
    acl = _flows(sb, "ls_in_acl")
    assert (65532, RELATED.format("ct_label.blocked"), "next;") in acl
    assert not any("ct_mark" in m for _p, m, _a in acl)
    assert (110, "reg0[2] == 1", "ct_lb;") in _flows(sb, "ls_in_pre_stateful")
    assert (50, "ip && ct_label.natted == 1", "reg9[4] = 1; next;") in \
        _flows(sb, "lr_out_chk_dnat_local")

    _set_config(sb, "old", advertised())  # its ovn-controller is upgraded
    northd.run()
    acl = _flows(sb, "ls_in_acl")
    assert (65532, RELATED.format("ct_mark.blocked"), "ct_commit_nat;") in acl
    assert not any("ct_label.blocked" in m for _p, m, _a in acl)

    with sb.transaction() as txn:  # a chassis without ovn-ct-lb-related joins
        txn.insert("Chassis", name="c", hostname="c",
                   other_config={"ct-no-masked-label": "true"})
    northd.run()
    acl = _flows(sb, "ls_in_acl")
    assert (65532, RELATED.format("ct_mark.blocked"), "next;") in acl
