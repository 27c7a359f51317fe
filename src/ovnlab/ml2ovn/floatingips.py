"""Floating IPs: one dnat_and_snat NAT row each (its uuid is the FIP id), kept distributed or
centralized by `ovnlab.ml2ovn.fip` on create, on port up/down
(mech_driver.py `_update_dnat_entry_if_needed`) and when the option changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ovnlab.errors import OvnlabError
from ovnlab.ml2ovn import fip as fip_rules
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.base import DriverBase
from ovnlab.ml2ovn.view import Kind, Resource
from ovnlab.nb.api import merged
from ovnlab.nb.types import NatType
from ovnlab.ovsdb import Row


class FloatingIPDriver(DriverBase):
    """Floating IP NAT rows and their external_mac."""

    def create_floatingip(self, fip: Resource) -> None:
        """`OVNClient.create_floatingip`."""
        with self.transaction():
            self._create_or_update_floatingip(fip)

    def update_floatingip(self, fip: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_floatingip`: the NAT row is re-created (and external_mac
        recomputed) whenever the FIP changes."""
        with self.transaction():
            self._delete_floatingip(fip["id"])
            if fip.get("port_id"):
                self._create_or_update_floatingip(fip)

    def delete_floatingip(self, fip: Resource) -> None:
        with self.transaction():
            self._delete_floatingip(fip["id"])

    def _fip_nat_row(self, fip_id: str) -> Row | None:
        row = self.nb.tables["NAT"].get(fip_id)
        if row is not None:
            return row
        for nat in self.nb.rows("NAT"):
            if nat["external_ids"].get(n.FIP_ID) == fip_id:
                return nat
        return None

    def _create_or_update_floatingip(self, fip: Resource) -> None:
        """`_create_or_update_floatingip`: one dnat_and_snat row, uuid = FIP id."""
        router_id = fip.get("router_id")
        if not router_id or fip.get("fixed_ip_address") is None or not fip.get("port_id"):
            return
        mac = fip.get("floating_port_mac")
        if not mac:
            fport = self.plugin.get(Kind.PORTS, fip.get("floating_port_id"))
            if fport is None:
                raise OvnlabError(f"floating IP {fip['id']} has no floating_port_mac")
            mac = fport["mac_address"]
        cols = fip_rules.nat_columns(fip, router_id, str(mac), distributed=self.distributed,
                                     port_up=self._lsp_up(fip["port_id"]),
                                     current_mac=self._live_fip_mac(fip["id"]))
        self.api.lr_nat_add(n.ovn_name(router_id), uuid=fip["id"], **cols)
        lsp = self.api.by_name("Logical_Switch_Port", fip["port_id"])
        if lsp is not None:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.PORT_FIP: fip["floating_ip_address"]}))

    def _live_fip_mac(self, fip_id: str) -> str | None:
        """During sync, the external_mac the live row already has (a DVR port that went
        down keeps it, as `set_port_status_down` does); a new row has none."""
        if not self._syncing:
            return None
        row = self._live.tables["NAT"].get(fip_id)
        return row["external_mac"] if row is not None else None

    def _delete_floatingip(self, fip_id: str) -> None:
        """`_delete_floatingip`: the NAT row and the VM LSP's neutron:port_fip."""
        nat = self._fip_nat_row(fip_id)
        if nat is None:
            return
        port_id = nat["external_ids"].get(n.FIP_PORT_ID)
        self.api.delete("NAT", nat.uuid)
        lsp = self.api.by_name("Logical_Switch_Port", port_id) if port_id else None
        if lsp is not None and n.PORT_FIP in lsp["external_ids"]:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.PORT_FIP: None}))

    def _update_dnat_entry_if_needed(self, port_id: str, up: bool) -> None:
        """`_update_dnat_entry_if_needed`: external_mac as `ovnlab.ml2ovn.fip.external_mac`
        decides it for the port's new state (older rows get `neutron:fip_external_mac`)."""
        nats = self.nb.find("NAT", logical_port=port_id, type=NatType.DNAT_AND_SNAT.value)
        if not nats:
            return
        nat = nats[0]
        if not nat["external_ids"].get(n.FIP_EXTERNAL_MAC) and nat["external_mac"]:
            nat = self.api.set(nat, external_ids=merged(nat["external_ids"],
                                                        {n.FIP_EXTERNAL_MAC: nat["external_mac"]}))
        mac = fip_rules.external_mac(distributed=self.distributed, port_up=up,
                                     fip_mac=nat["external_ids"].get(n.FIP_EXTERNAL_MAC),
                                     current=nat["external_mac"])
        self._set_external_mac(nat, mac)

    def _set_external_mac(self, nat: Row, mac: str | None) -> None:
        if mac != (nat["external_mac"] or None):
            self.api.set(nat, external_mac=mac)

    def set_distributed_floating_ip(self, enabled: bool, lsp_up: Callable[[str], bool] | None = None) -> None:
        """`[ovn] enable_distributed_floating_ip` changed and neutron-server restarted: the
        replayed port up/down events set (distributed, port up) or clear (centralized)
        every FIP's external_mac, and gateway ports' redirect options are re-aligned
        (`check_redirect_type_router_gateway_ports`)."""
        is_up = lsp_up or self._lsp_up
        with self.transaction():
            self.config = replace(self.config, enable_distributed_floating_ip=enabled)
            for nat in self.nb.rows("NAT"):
                if not fip_rules.is_fip_nat(nat):
                    continue
                mac = fip_rules.external_mac(
                    distributed=enabled, port_up=is_up(nat["logical_port"]),
                    fip_mac=nat["external_ids"].get(n.FIP_EXTERNAL_MAC) or nat["external_mac"],
                    current=nat["external_mac"])
                self._set_external_mac(nat, mac)
            for router in self.plugin.values(Kind.ROUTERS):
                lr = self.api.by_name("Logical_Router", n.ovn_name(router["id"]))
                for lrp in self.api.children(lr, "ports") if lr is not None else []:
                    port = self.plugin.get(Kind.PORTS, n.port_id_from_lrp(lrp["name"]))
                    if port is not None:
                        self.api.set(lrp, options=self._router_port_options(port))
