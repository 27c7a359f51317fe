"""`OVNClient` for ports: a Logical_Switch_Port per Neutron port (its id is the name) and its
Port_Group memberships (ovn_client.py `create_port`, `update_port`, `delete_port`)."""

from __future__ import annotations

from ovnlab.errors import NotFound
from ovnlab.ml2ovn import dhcp_opts
from ovnlab.ml2ovn import lsp as lsp_rules
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.base import DriverBase
from ovnlab.ml2ovn.view import Kind, Resource
from ovnlab.nb.types import LspType
from ovnlab.ovsdb import Row


class PortDriver(DriverBase):
    """Ports: Logical_Switch_Port rows and their port groups."""

    def create_port(self, port: Resource) -> None:
        """`OVNClient.create_port`; floating IP ports get no LSP (`is_lsp_ignored`)."""
        self._write_port(port)

    def update_port(self, port: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_port`."""
        self._write_port(port)

    def _write_port(self, port: Resource) -> None:
        """The port's LSP created or brought up to date (create and update alike, as a
        resync finds either)."""
        dhcp_opts.check_supported(port["id"], port.get("extra_dhcp_opts") or [])
        with self.transaction():
            if port.get("device_owner") == n.OWNER_FLOATINGIP:
                return
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            else:
                self._update_lsp(port)
            self._metadata_port_changed(port)

    def delete_port(self, port: Resource) -> None:
        """`OVNClient.delete_port`; a router port's LRP cannot outlive it either, nor its
        own DHCP_Options rows."""
        with self.transaction():
            self.api.lsp_del(port["id"])
            self._drop_port_dhcp_rows(port["id"])
            if port.get("device_owner") == n.OWNER_ROUTER_INTF:
                self.api.lrp_del(n.lrp_name(port["id"]))
            self._metadata_port_changed(port)

    def _metadata_port_changed(self, port: Resource) -> None:
        """The metadata port's addresses are its network's DHCP servers and 169.254.169.254
        routes: the network's DHCP_Options follow it (`update_metadata_port` then
        `_update_subnet_dhcp_options`)."""
        if not n.is_metadata_port(port) or not self.config.ovn_metadata_enabled:
            return
        for subnet in self.plugin.find(Kind.SUBNETS, network_id=port["network_id"]):
            self._sync_subnet_dhcp(subnet)

    def _create_lsp(self, port: Resource) -> Row:
        ls_name = n.ovn_name(port["network_id"])
        if self.api.by_name("Logical_Switch", ls_name) is None:
            raise NotFound(f"Logical Switch {ls_name} does not exist")
        cols = lsp_rules.lsp_columns(self.plugin, port, dhcpv4=self._port_dhcpv4(port),
                                     up=self._lsp_up(port["id"]))
        lsp = self.api.lsp_add(ls_name, port["id"], **cols)
        self._sync_port_groups(port, lsp)
        return lsp

    def _update_lsp(self, port: Resource) -> None:
        lsp = self.api.must("Logical_Switch_Port", port["id"])
        cols = lsp_rules.lsp_columns(self.plugin, port, dhcpv4=self._port_dhcpv4(port),
                                     up=self._lsp_up(port["id"]))
        # Keys Neutron did not write this time (neutron:port_fip) are kept.
        cols["external_ids"] = {**lsp["external_ids"], **cols["external_ids"]}
        if lsp["type"] == LspType.ROUTER:
            # `is_lsp_router_port`: keep what set_lrouter_port_in_lswitch_port wrote.
            for key in ("type", "addresses", "options"):
                cols.pop(key)
        lsp = self.api.set(lsp, **cols)
        self._sync_port_groups(port, lsp)

    def _sync_port_groups(self, port: Resource, lsp: Row) -> None:
        """Port_Group membership: `pg_<sg>` per security group, `neutron_pg_drop` when port
        security is on and the port is not network-owned."""
        wanted = {n.port_group_name(sg) for sg in lsp_rules.lsp_security_groups(port)}
        secured = not n.is_trusted(port) and bool(port.get("port_security_enabled", True))
        if secured:
            wanted.add(n.DROP_PORT_GROUP)
        for pg in self.nb.rows("Port_Group"):
            member = lsp.uuid in pg["ports"]
            if pg["name"] in wanted and not member:
                self.api.add_ref(pg, "ports", lsp.uuid)
            elif pg["name"] not in wanted and member:
                if pg["name"] == n.DROP_PORT_GROUP and not secured and not n.is_trusted(port) \
                        and lsp_rules.lsp_security_groups(port):
                    continue  # Neutron leaves it there in this corner
                self.api.remove_ref(pg, "ports", lsp.uuid)
        missing = wanted - {pg["name"] for pg in self.nb.rows("Port_Group")}
        if missing:
            raise NotFound(f"Port group {sorted(missing)[0]} does not exist")

    def _lsp_up(self, port_id: str) -> bool:
        lsp = self._live_api.by_name("Logical_Switch_Port", port_id)
        return lsp is not None and lsp["up"] is True
