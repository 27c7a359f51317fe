from ovnlab.sb import SB_SCHEMA, new_sb


def test_port_binding_columns_are_ovn_22_03s() -> None:
    assert set(SB_SCHEMA["Port_Binding"]) == {
        "logical_port", "type", "gateway_chassis", "ha_chassis_group", "options", "datapath",
        "tunnel_key", "parent_port", "tag", "virtual_parent", "chassis", "encap", "mac",
        "nat_addresses", "up", "external_ids", "requested_chassis"}


def test_references_point_at_existing_tables() -> None:
    for table, cols in SB_SCHEMA.items():
        for name, col in cols.items():
            if col.ref_table is not None:
                assert col.ref_table in SB_SCHEMA, (table, name)


def test_insert_fills_defaults() -> None:
    sb = new_sb()
    with sb.transaction() as txn:
        dp = txn.insert("Datapath_Binding", tunnel_key=1, external_ids={"name": "n"})
        pb = txn.insert("Port_Binding", logical_port="p", datapath=dp.uuid, tunnel_key=1)
    assert pb["chassis"] is None and pb["up"] is None
    assert pb["mac"] == () and pb["options"] == {}
    assert sb.get("Port_Binding", pb.uuid)["datapath"] == dp.uuid
