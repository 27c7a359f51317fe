from ovnlab.ml2ovn import new_nb
from ovnlab.nb.api import NbApi, merged


def test_deleting_a_switch_collects_its_ports_and_drops_weak_references() -> None:
    nb = new_nb()
    api = NbApi(nb)
    with nb.transaction():
        api.ls_add("ls1")
        p1 = api.lsp_add("ls1", "p1")
        api.lsp_add("ls1", "p2")
        pg = api.pg_add("pg1")
        api.add_ref(pg, "ports", p1.uuid)
        api.pg_acl_add(pg, direction="to-lport", priority=1002, match="outport == @pg1 && ip4",
                       action="allow-related")
    api.ls_del("ls1")
    assert nb.rows("Logical_Switch_Port") == []
    assert api.must("Port_Group", "pg1")["ports"] == ()
    assert len(nb.rows("ACL")) == 1  # owned by the port group, which lives on
    api.pg_del("pg1")
    assert nb.rows("ACL") == []


def test_router_port_gateway_chassis_and_nat_gateway_port() -> None:
    nb = new_nb()
    api = NbApi(nb)
    with nb.transaction():
        api.lr_add("r")
        lrp = api.lrp_add("r", "lrp-gw", mac="fa:16:3e:00:00:01", networks=("10.0.0.2/24",))
        lrp = api.set_gateway_chassis(lrp, ["a", "b", "c"])
        nat = api.lr_nat_add("r", type="snat", external_ip="10.0.0.2", logical_ip="192.168.0.0/24",
                             gateway_port=lrp.uuid)
    assert [(g["name"], g["priority"]) for g in api.gateway_chassis(lrp)] == \
        [("lrp-gw_a", 3), ("lrp-gw_b", 2), ("lrp-gw_c", 1)]
    lrp = api.set_gateway_chassis(lrp, ["c", "a"])
    assert [(g["name"], g["priority"]) for g in api.gateway_chassis(lrp)] == [("lrp-gw_c", 2), ("lrp-gw_a", 1)]
    assert len(nb.rows("Gateway_Chassis")) == 2
    api.lrp_del("lrp-gw")
    assert nb.rows("Gateway_Chassis") == []
    assert nb.tables["NAT"][nat.uuid]["gateway_port"] is None
    api.lr_del("r")
    assert nb.rows("NAT") == []


def test_name_lookup_sees_rows_written_by_other_writers_and_rollbacks() -> None:
    nb = new_nb()
    api = NbApi(nb)
    api.ls_add("a")
    assert api.by_name("Logical_Switch", "b") is None
    with nb.transaction() as txn:  # not through NbApi (ovn-nbctl, northd, a resync)
        txn.insert("Logical_Switch", name="b")
    assert api.by_name("Logical_Switch", "b") is not None
    try:
        with nb.transaction():
            api.ls_add("c")
            raise RuntimeError
    except RuntimeError:
        pass
    assert api.by_name("Logical_Switch", "c") is None


def test_merged() -> None:
    assert merged({"a": "1", "b": "2"}, {"b": None, "c": "3"}) == {"a": "1", "c": "3"}
