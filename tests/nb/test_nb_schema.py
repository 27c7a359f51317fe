from ovnlab.nb.schema import NB_INDEXES, NB_ROOT_TABLES, NB_SCHEMA
from ovnlab.ovsdb import Database


def test_schema_has_the_tables_and_columns_ovn_names() -> None:
    assert NB_SCHEMA["Logical_Switch_Port"]["up"].optional
    assert NB_SCHEMA["Logical_Switch_Port"]["tag"].kind == "integer"
    assert NB_SCHEMA["Logical_Router_Port"]["gateway_chassis"].ref_table == "Gateway_Chassis"
    assert NB_SCHEMA["NAT"]["gateway_port"].ref_table == "Logical_Router_Port"
    assert NB_SCHEMA["NAT"]["external_mac"].optional
    assert set(NB_ROOT_TABLES) <= set(NB_SCHEMA)
    assert all(c in NB_SCHEMA[t] for t, idx in NB_INDEXES.items() for cols in idx for c in cols)


def test_insert_fills_defaults() -> None:
    db = Database("OVN_Northbound", NB_SCHEMA)
    with db.transaction() as txn:
        row = txn.insert("NAT", type="snat", external_ip="10.0.2.211", logical_ip="10.0.0.0/24")
    assert row["external_mac"] is None
    assert row["options"] == {}
    assert row["allowed_ext_ips"] is None
    with db.transaction() as txn:
        lsp = txn.insert("Logical_Switch_Port", name="p1")
    assert lsp["addresses"] == ()
    assert lsp["up"] is None
