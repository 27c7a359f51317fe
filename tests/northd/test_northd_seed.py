"""The seed scenario's NB compiled by northd: the flows real OVN prints (real-ovn-lab.md)."""

from ovnlab.northd import Northd
from ovnlab.northd.samples import FIP_MAC, GW_MAC, SEED, VM_MAC, seed_nb
from ovnlab.ovsdb import Database, Row
from ovnlab.sb import new_sb

VM = SEED.vm_port
GW = f"lrp-{SEED.gw_port}"
CR = f"cr-lrp-{SEED.gw_port}"


def compile_seed(**kw: bool) -> tuple[Database, Database]:
    nb = seed_nb(**kw)
    sb = new_sb()
    Northd(nb, sb).run()
    return nb, sb


def flows(sb: Database, stage: str) -> list[Row]:
    return [f for f in sb.rows("Logical_Flow") if f["external_ids"]["stage-name"] == stage]


def one(sb: Database, stage: str, prio: int, needle: str) -> Row:
    found = [f for f in flows(sb, stage) if f["priority"] == prio and needle in f["match"]]
    assert len(found) == 1, (stage, prio, needle, [f["match"] for f in flows(sb, stage)])
    return found[0]


def test_distributed_fip_flows() -> None:
    _, sb = compile_seed()
    dnat = one(sb, "lr_in_dnat", 100, "10.0.2.216")
    assert dnat["match"] == f'ip && ip4.dst == 10.0.2.216 && inport == "{GW}"'
    assert dnat["actions"] == "ct_dnat_in_czone(172.16.100.10);"
    assert dnat["table_id"] == 6 and dnat["pipeline"] == "ingress"
    snat = one(sb, "lr_out_snat", 161, "172.16.100.10")
    assert snat["match"] == (f'ip && ip4.src == 172.16.100.10 && outport == "{GW}" && '
                             f'is_chassis_resident("{VM}")')
    assert snat["actions"] == f"eth.src = {FIP_MAC}; ct_snat_in_czone(10.0.2.216);"
    assert snat["table_id"] == 3 and snat["pipeline"] == "egress"
    one(sb, "lr_out_snat", 162, "reg9[4] == 1")
    subnet = one(sb, "lr_out_snat", 153, "172.16.100.0/24")
    assert subnet["match"].endswith(f'is_chassis_resident("{CR}")')
    assert subnet["actions"] == "ct_snat_in_czone(10.0.2.211);"
    redirect = one(sb, "lr_in_gw_redirect", 100, "172.16.100.10")
    assert redirect["actions"] == f"eth.src = {FIP_MAC}; reg1 = 10.0.2.216; next;"
    assert one(sb, "lr_in_gw_redirect", 50, GW)["actions"] == f'outport = "{CR}"; next;'
    arp = one(sb, "lr_in_ip_input", 92, "arp.tpa == 10.0.2.216")
    assert arp["match"].endswith(f'is_chassis_resident("{VM}")') and FIP_MAC in arp["actions"]
    assert one(sb, "lr_in_ip_input", 91, "arp.tpa == 10.0.2.216")["actions"] == "drop;"
    adm = one(sb, "lr_in_admission", 50, f"eth.dst == {FIP_MAC}")
    assert adm["actions"] == f"xreg0[0..47] = {GW_MAC}; next;"
    l2 = one(sb, "ls_in_l2_lkup", 50, f"eth.dst == {FIP_MAC}")
    assert l2["match"] == f'eth.dst == {FIP_MAC} && is_chassis_resident("{VM}")'
    assert l2["actions"] == f'outport = "{SEED.gw_port}"; output;'
    gw_l2 = one(sb, "ls_in_l2_lkup", 50, f"eth.dst == {GW_MAC}")
    assert gw_l2["match"].endswith(f'is_chassis_resident("{CR}")')
    assert snat["external_ids"]["source"] == "northd.c:build_lrouter_out_snat_flow"


def test_centralized_fip_goes_through_cr_lrp() -> None:
    _, sb = compile_seed(distributed=False)
    snat = one(sb, "lr_out_snat", 161, "172.16.100.10")
    assert snat["match"].endswith(f'is_chassis_resident("{CR}")')
    assert snat["actions"] == "ct_snat_in_czone(10.0.2.216);"
    dnat = one(sb, "lr_in_dnat", 100, "10.0.2.216")
    assert dnat["match"].endswith(f'is_chassis_resident("{CR}")')
    assert not [f for f in flows(sb, "lr_in_gw_redirect") if f["priority"] == 100]
    assert not [f for f in sb.rows("Logical_Flow") if f'is_chassis_resident("{VM}")' in f["match"]]
    arp = one(sb, "lr_in_ip_input", 92, "arp.tpa == 10.0.2.216")
    assert "xreg0[0..47]" in arp["actions"]
    cr = sb.find("Port_Binding", logical_port=CR)[0]
    assert cr["options"]["always-redirect"] == "true"


def test_port_bindings_and_ha_group() -> None:
    nb, sb = compile_seed()
    cr = sb.find("Port_Binding", logical_port=CR)[0]
    assert cr["type"] == "chassisredirect" and cr["options"] == {"distributed-port": GW}
    grp = sb.get("HA_Chassis_Group", cr["ha_chassis_group"])
    assert grp["name"] == GW
    prios = sorted((sb.get("HA_Chassis", u)["priority"],
                    sb.get("HA_Chassis", u)["external_ids"]["chassis-name"])
                   for u in grp["ha_chassis"])
    assert prios == [(1, SEED.chassis[2]), (2, SEED.chassis[1]), (3, SEED.chassis[0])]
    gw_lsp = sb.find("Port_Binding", logical_port=SEED.gw_port)[0]
    assert gw_lsp["type"] == "patch" and gw_lsp["options"] == {"peer": GW}
    assert f'{FIP_MAC} 10.0.2.216 is_chassis_resident("{VM}")' in gw_lsp["nat_addresses"]
    ln = [p for p in sb.rows("Port_Binding") if p["type"] == "localnet"]
    assert len(ln) == 1 and ln[0]["options"]["network_name"] == "extnet0"
    keys = sorted(d["tunnel_key"] for d in sb.rows("Datapath_Binding"))
    assert keys == [1, 2, 3]
    for dp in sb.rows("Datapath_Binding"):
        names = {m["name"]: m["tunnel_key"] for m in sb.find("Multicast_Group", datapath=dp.uuid)}
        if "logical-switch" in dp["external_ids"]:
            assert names["_MC_flood"] == 32768 and names["_MC_flood_l2"] == 32773


def test_every_stage_has_a_default_flow() -> None:
    """Each switch/router stage must let packets through somewhere (priority-0 or catch-all)."""
    from ovnlab.northd.stages import STAGES
    _, sb = compile_seed()
    for dp in sb.rows("Datapath_Binding"):
        kind = "switch" if "logical-switch" in dp["external_ids"] else "router"
        have = {(f["pipeline"], f["table_id"]) for f in sb.find("Logical_Flow",
                                                                 logical_datapath=dp.uuid)}
        for st in STAGES.values():
            if st.datapath_type == kind and st.name != "lr_out_delivery":
                assert (st.pipeline.value, st.table) in have, st.name


def test_lsp_up_follows_port_binding() -> None:
    """northd's loop, woken by the SB update, reflects it into the NB (its listener only
    queues the change: nothing is written until it runs)."""
    nb = seed_nb()
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    with sb.transaction() as txn:
        ch = txn.insert("Chassis", name="compute1", hostname="compute1")
    pb = sb.find("Port_Binding", logical_port=VM)[0]
    with sb.transaction() as txn:
        txn.update("Port_Binding", pb.uuid, chassis=ch.uuid, up=True)
    assert northd.pending and nb.get("Logical_Switch_Port", VM)["up"] is False
    northd.run()
    assert nb.get("Logical_Switch_Port", VM)["up"] is True
    cr = sb.find("Port_Binding", logical_port=CR)[0]
    with sb.transaction() as txn:
        txn.update("Port_Binding", cr.uuid, chassis=ch.uuid)
    northd.run()
    assert nb.get("Logical_Router_Port", GW)["status"]["hosting-chassis"] == "compute1"


def test_ha_chassis_resolved_when_chassis_register_later() -> None:
    nb = seed_nb()
    sb = new_sb()
    northd = Northd(nb, sb)
    northd.run()
    assert all(h["chassis"] is None for h in sb.rows("HA_Chassis"))
    with sb.transaction() as txn:
        for name in SEED.chassis:
            txn.insert("Chassis", name=name, hostname=name[:8])
    northd.run()
    names = {sb.get("Chassis", h["chassis"])["name"]: h["priority"] for h in sb.rows("HA_Chassis")}
    assert names == {SEED.chassis[0]: 3, SEED.chassis[1]: 2, SEED.chassis[2]: 1}


def test_initial_lsp_up() -> None:
    nb, sb = compile_seed()
    assert nb.get("Logical_Switch_Port", VM)["up"] is False
    assert nb.get("Logical_Switch_Port", SEED.gw_port)["up"] is True
    assert all(pb["up"] is False for pb in sb.rows("Port_Binding"))


def test_globals_and_svc_monitor_mac() -> None:
    nb, sb = compile_seed()
    nbg = nb.rows("NB_Global")[0]
    sbg = sb.rows("SB_Global")[0]
    mac = nbg["options"]["svc_monitor_mac"]
    assert sbg["options"] == nbg["options"] and nbg["options"]["max_tunid"] == "16711679"
    assert int(mac.split(":")[0], 16) & 0x03 == 0x02  # locally administered unicast
    assert sb.find("Address_Set", name="svc_monitor_mac")[0]["addresses"] == (mac,)
    with nb.transaction() as txn:
        txn.update("NB_Global", nbg.uuid, nb_cfg=7)
    Northd(nb, new_sb()).run()
    assert nb.rows("NB_Global")[0]["sb_cfg"] == 7


def test_duplicate_logical_port_name_is_ignored() -> None:
    nb, sb = seed_nb(), new_sb()
    northd = Northd(nb, sb)
    northd.run()
    ls = nb.get("Logical_Switch", f"neutron-{SEED.net_n1}")
    with nb.transaction() as txn:
        dup = txn.insert("Logical_Switch_Port", name=VM, addresses=("fa:16:3e:00:00:99 172.16.100.99",))
        txn.update("Logical_Switch", ls.uuid, ports=(*ls["ports"], dup.uuid))
    northd.run()
    pbs = sb.find("Port_Binding", logical_port=VM)
    assert len(pbs) == 1 and pbs[0]["mac"] == (f"{VM_MAC} 172.16.100.10",)
    for mc in sb.rows("Multicast_Group"):
        assert all(p in sb.tables["Port_Binding"] for p in mc["ports"])


def test_restart_adopts_existing_southbound() -> None:
    """A new northd on a populated SB (ovn-northd restarting) converges to the same rows."""
    nb, sb = compile_seed()
    before = {(f["logical_datapath"], f["pipeline"], f["table_id"], f["priority"], f["match"],
               f["actions"]): f.uuid for f in sb.rows("Logical_Flow")}
    pbs = {p["logical_port"]: (p.uuid, p["tunnel_key"]) for p in sb.rows("Port_Binding")}
    with nb.transaction() as txn:  # a change while no northd was running
        lr = nb.rows("Logical_Router")[0]
        fip = [u for u in lr["nat"] if nb.get("NAT", u)["type"] == "dnat_and_snat"][0]
        txn.update("Logical_Router", lr.uuid, nat=tuple(u for u in lr["nat"] if u != fip))
        txn.delete("NAT", fip)
    Northd(nb, sb).run()
    after = {(f["logical_datapath"], f["pipeline"], f["table_id"], f["priority"], f["match"],
              f["actions"]): f.uuid for f in sb.rows("Logical_Flow")}
    assert len(after) == len(sb.rows("Logical_Flow"))  # no duplicates
    assert all(before[k] == u for k, u in after.items() if k in before)  # rows kept
    assert not [k for k in after if "10.0.2.216" in k[4]]
    assert {p["logical_port"]: (p.uuid, p["tunnel_key"]) for p in sb.rows("Port_Binding")} == pbs
