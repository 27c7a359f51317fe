"""ovn-northd: NB → SB (datapaths, port bindings, logical flows), on the incremental
engine (ovnlab.incproc, OVN's lib/inc-proc-eng).

Where each northd concept lives (OVN's file or function in brackets):

- engine.py      `Northd`: the engine's wiring (northd/inc-proc-northd.c), the DB listeners
                 that only push into the source nodes, run / recompute / check / provenance.
- en_northd.py   en_northd (en-northd.c, ovnnb_db_run): the NB parsed, and the SB
                 structure derived from it; its change handlers and full recompute.
- handlers.py    what one NB row change dirties, one handler per NB table family; status-only
                 column changes (northd's own NB writes) dirty nothing; datapath contexts.
- en_lflow.py    en_lflow (en-lflow.c of later releases): flows regenerated per dirty owner.
- lflow_table.py owners' flows ↔ SB Logical_Flow rows (ovn_lflow_add's merging), provenance.
- owners.py      `OwnerKind`: the generators by NB table (the unit of regeneration).
- status.py      NB_Global/SB_Global sync; Port_Binding → LSP `up`, LRP hosting-chassis
                 (ovnsb_db_run / en-sync-from-sb) as the port_status node.
- model.py       NB parsing (extract_lsp_addresses, extract_lrp_networks) and `NBIndex`.
- nat.py         `NatFact`: the one place that decides whether a NAT is distributed, where it
                 is resident, what it announces (lrouter_check_nat_entry, get_nat_addresses).
- context.py     per-datapath facts (ovn_datapath): `SwitchCtx`, `RouterCtx`, `Dgp`.
- env.py         what generators read: rows, index, cached contexts, NAT facts per router.
- bindings.py    Datapath_Binding, Port_Binding (incl. chassisredirect), Multicast_Group,
                 HA_Chassis_Group, Port_Group / Address_Set (build_datapaths, build_ports...).
- switch.py, switch_acl.py, switch_dhcp.py
                 logical switch flows (build_lswitch_*, build_acls, consider_acl, DHCPv4).
- router.py, router_nat.py, router_mtu.py
                 logical router flows (build_lrouter_*, NAT, gateway_mtu).
- stages.py      the pipeline stages, declared once (PIPELINE_STAGE); lflow.py the LFlow.
- features.py    chassis features that respell flows (ct_no_masked_label...).
- samples.py     NB fixtures (the seed, FIP clouds) for tests and benchmarks.
"""

from ovnlab.northd.engine import Northd, Provenance, RunStats
from ovnlab.northd.stages import STAGES, Stage, stage

__all__ = ["STAGES", "Northd", "Provenance", "RunStats", "Stage", "stage"]
