"""OVN 22.03's logical pipeline stages, declared once (northd/northd.c `PIPELINE_STAGE`).

ovn-controller 22.03 maps logical ingress table N to OpenFlow table 8+N and egress table N
to 40+N (controller/lflow.h OFTABLE_LOG_INGRESS_PIPELINE / OFTABLE_LOG_EGRESS_PIPELINE).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

OFTABLE_LOG_INGRESS_PIPELINE = 8
OFTABLE_LOG_EGRESS_PIPELINE = 40


class Pipeline(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    datapath_type: str  # "switch" | "router"
    pipeline: Pipeline
    table: int

    @property
    def of_table(self) -> int:
        base = (OFTABLE_LOG_INGRESS_PIPELINE if self.pipeline is Pipeline.INGRESS
                else OFTABLE_LOG_EGRESS_PIPELINE)
        return base + self.table


_IN, _OUT = Pipeline.INGRESS, Pipeline.EGRESS

_LAYOUT: tuple[tuple[str, Pipeline, tuple[str, ...]], ...] = (
    ("switch", _IN, (
        "ls_in_port_sec_l2", "ls_in_port_sec_ip", "ls_in_port_sec_nd", "ls_in_lookup_fdb",
        "ls_in_put_fdb", "ls_in_pre_acl", "ls_in_pre_lb", "ls_in_pre_stateful",
        "ls_in_acl_hint", "ls_in_acl", "ls_in_qos_mark", "ls_in_qos_meter", "ls_in_lb",
        "ls_in_pre_hairpin", "ls_in_nat_hairpin", "ls_in_hairpin", "ls_in_acl_after_lb",
        "ls_in_stateful", "ls_in_arp_rsp", "ls_in_dhcp_options", "ls_in_dhcp_response",
        "ls_in_dns_lookup", "ls_in_dns_response", "ls_in_external_port", "ls_in_l2_lkup",
        "ls_in_l2_unknown")),
    ("switch", _OUT, (
        "ls_out_pre_acl", "ls_out_pre_lb", "ls_out_pre_stateful", "ls_out_acl_hint",
        "ls_out_acl", "ls_out_qos_mark", "ls_out_qos_meter", "ls_out_stateful",
        "ls_out_port_sec_ip", "ls_out_port_sec_l2")),
    ("router", _IN, (
        "lr_in_admission", "lr_in_lookup_neighbor", "lr_in_learn_neighbor", "lr_in_ip_input",
        "lr_in_unsnat", "lr_in_defrag", "lr_in_dnat", "lr_in_ecmp_stateful",
        "lr_in_nd_ra_options", "lr_in_nd_ra_response", "lr_in_ip_routing_pre",
        "lr_in_ip_routing", "lr_in_ip_routing_ecmp", "lr_in_policy", "lr_in_policy_ecmp",
        "lr_in_arp_resolve", "lr_in_chk_pkt_len", "lr_in_larger_pkts", "lr_in_gw_redirect",
        "lr_in_arp_request")),
    ("router", _OUT, (
        "lr_out_chk_dnat_local", "lr_out_undnat", "lr_out_post_undnat", "lr_out_snat",
        "lr_out_post_snat", "lr_out_egr_loop", "lr_out_delivery")),
)

STAGES: dict[str, Stage] = {
    name: Stage(name, dp_type, pipeline, n)
    for dp_type, pipeline, names in _LAYOUT
    for n, name in enumerate(names)
}


def stage(name: str) -> Stage:
    try:
        return STAGES[name]
    except KeyError:
        raise KeyError(f"unknown logical stage {name!r}") from None


def stage_at(datapath_type: str, pipeline: Pipeline | str, table: int) -> Stage:
    """The stage a Logical_Flow's (pipeline, table_id) means on a switch or router."""
    p = Pipeline(pipeline)
    for st in STAGES.values():
        if st.datapath_type == datapath_type and st.pipeline is p and st.table == table:
            return st
    raise KeyError(f"no {datapath_type} {p.value} stage {table}")
