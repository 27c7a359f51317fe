import pytest

from ovnlab.northd.stages import STAGES, Pipeline, stage, stage_at


def test_article_tables() -> None:
    assert stage("lr_in_dnat").table == 6 and stage("lr_in_dnat").of_table == 14
    assert stage("lr_out_snat").table == 3 and stage("lr_out_snat").of_table == 43
    assert stage("ls_in_l2_lkup").table == 24 and stage("ls_out_port_sec_l2").table == 9
    assert stage("lr_in_gw_redirect").table == 18 and stage("lr_in_arp_request").table == 19


def test_tables_are_dense_per_pipeline() -> None:
    for dp in ("switch", "router"):
        for p in Pipeline:
            tables = sorted(s.table for s in STAGES.values()
                            if s.datapath_type == dp and s.pipeline is p)
            assert tables == list(range(len(tables)))


def test_lookup_errors() -> None:
    assert stage_at("router", "egress", 3).name == "lr_out_snat"
    with pytest.raises(KeyError):
        stage("lr_in_nope")
    with pytest.raises(KeyError):
        stage_at("router", "egress", 30)
