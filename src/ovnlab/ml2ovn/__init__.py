"""ML2/OVN: what Neutron's OVN mechanism driver and L3 plugin write into the OVN NB.

Where each decision lives (one hop from here):
- `driver`: `OVNMechanismDriver`, the hooks the cloud calls: construction, the transaction
  a cloud operation runs in, LSP up/down events, SB chassis events, resync (`sync`);
  it is composed of one class per resource family over `base.DriverBase`:
  `networks` (Logical_Switch, localnet port, DHCP_Options), `ports` (Logical_Switch_Port,
  port groups), `routers` (Logical_Router, its ports, gateway, SNAT, routes, Gateway_Chassis
  scheduling), `floatingips` (dnat_and_snat NAT rows), `secgroups` (Port_Group + ACL).
- What the families write is decided by functions of the Neutron resources, with no NB
  writes: `lsp` (network, provnet, DHCP and VIF port columns), `l3` (router columns,
  gateway info, router port networks/options), `fip` (**the one rule for distributed
  floating IPs**: `external_mac`, and a FIP's NAT columns), `acl` (security group rules),
  `scheduler` (gateway chassis candidates and priorities).
- `view`: the Neutron resources as the driver reads them, where they live (the cloud's
  store, read-only, in its transaction: no copy); `names`: Neutron's NB names and external_ids keys.
- `sync`: `ovn_db_sync` (replay into a scratch NB, then reconcile); `agents`: `agent list`;
  `scenario`: `MiniNeutron`, a driver's caller without the cloud (tests, benchmarks).
- `[ovn] enable_distributed_floating_ip` lives in the cloud's config; the driver holds it as
  a value (`OvnConfig`) set at construction and by `set_distributed_floating_ip`.
"""

from __future__ import annotations

from ovnlab.ml2ovn.driver import OVNMechanismDriver, new_nb

__all__ = ["OVNMechanismDriver", "new_nb"]
