"""`OVNClient` for networks and subnets: Logical_Switch `neutron-<id>`, the localnet port of
a provider network, and a subnet's DHCP_Options (ovn_client.py `create_network`,
`create_provnet_port`, `create_subnet`, `_get_ovn_dhcp_options`)."""

from __future__ import annotations

import ipaddress

from ovnlab.ml2ovn import dhcp_opts, l3
from ovnlab.ml2ovn import lsp as lsp_rules
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn.base import DriverBase
from ovnlab.ml2ovn.view import Kind, Resource
from ovnlab.ovsdb import Database, Row
from ovnlab.owners import NETWORK_PREFIX, NEUTRON_PREFIX, DeviceOwner


class NetworkDriver(DriverBase):
    """Networks, provider networks, subnets and their DHCP options."""

    def create_network(self, net: Resource) -> None:
        """`OVNClient.create_network`: LS `neutron-<id>` + localnet port for provider nets."""
        with self.transaction():
            self.api.ls_add(n.ovn_name(net["id"]), **lsp_rules.network_columns(net))
            self._sync_provnet(net)

    def update_network(self, net: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            ls = self.api.by_name("Logical_Switch", n.ovn_name(net["id"]))
            if ls is None:
                self.api.ls_add(n.ovn_name(net["id"]), **lsp_rules.network_columns(net))
            else:
                self.api.set(ls, **lsp_rules.network_columns(net))
            self._sync_provnet(net)
            for subnet in self.plugin.find(Kind.SUBNETS, network_id=net["id"]):
                self._sync_subnet_dhcp(subnet)  # DHCP `mtu` follows the network
            if original is not None and original.get("mtu") != net.get("mtu") \
                    and net.get("router:external"):
                self._set_gateway_mtu(net)

    def _set_gateway_mtu(self, net: Resource) -> None:
        """`set_gateway_mtu`: the gateway ports on an external network re-derive their
        options (`gateway_mtu`) when its MTU changes."""
        for port in self.plugin.find(Kind.PORTS, network_id=net["id"], device_owner=DeviceOwner.ROUTER_GW):
            lrp = self.api.by_name("Logical_Router_Port", n.lrp_name(port["id"]))
            if lrp is not None:
                self.api.set(lrp, options=self._router_port_options(port))

    def delete_network(self, net: Resource) -> None:
        with self.transaction():
            self.api.ls_del(n.ovn_name(net["id"]))

    def _sync_provnet(self, net: Resource) -> None:
        """`create_provnet_port`: localnet LSP for a flat/vlan segment (named after the
        network: the API does not expose segment ids, Neutron accepts this legacy name)."""
        name = n.provnet_name(net["id"])
        cols = lsp_rules.provnet_columns(net)
        existing = self.api.by_name("Logical_Switch_Port", name)
        if cols is None:
            if existing is not None:
                self.api.lsp_del(name)
        elif existing is None:
            self.api.lsp_add(n.ovn_name(net["id"]), name, **cols)
        else:
            self.api.set(existing, **cols)

    def create_subnet(self, subnet: Resource) -> None:
        """`OVNClient.create_subnet`: a DHCP_Options row for a DHCP-enabled subnet."""
        with self.transaction():
            self._sync_subnet_dhcp(subnet)

    def update_subnet(self, subnet: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_subnet` (`_modify_subnet_dhcp_options`)."""
        with self.transaction():
            self._sync_subnet_dhcp(subnet)
            # A new gateway_ip on an external subnet moves the routers' default routes.
            for router in self.plugin.values(Kind.ROUTERS):
                if any(g.subnet_id == subnet["id"] for g in l3.gw_info(self.plugin, router)):
                    self._sync_default_routes(router)

    def delete_subnet(self, subnet: Resource) -> None:
        """The subnet's DHCP_Options rows go, its ports' own ones too."""
        with self.transaction():
            for row in list(self.nb.rows("DHCP_Options")):
                if row["external_ids"].get("subnet_id") == subnet["id"]:
                    self.api.delete("DHCP_Options", row.uuid)

    def _subnet_dhcp_row(self, subnet_id: str, db: Database | None = None) -> Row | None:
        for row in (db or self.nb).rows("DHCP_Options"):
            ids = row["external_ids"]
            if ids.get("subnet_id") == subnet_id and "port_id" not in ids:
                return row
        return None

    def _metadata_port_ip(self, subnet: Resource) -> str | None:
        """`_find_metadata_port_ip`, with `[ovn] ovn_metadata_enabled`."""
        if not self.config.ovn_metadata_enabled:
            return None
        return lsp_rules.metadata_port_ip(self.plugin, subnet)

    def _new_mac(self) -> str:
        """`get_random_mac(base_mac)` from a seeded generator."""
        return "fa:16:3e:" + ":".join(f"{self._mac_rng.randrange(256):02x}" for _ in range(3))

    def _sync_subnet_dhcp(self, subnet: Resource) -> None:
        row = self._subnet_dhcp_row(subnet["id"])
        old = row or self._subnet_dhcp_row(subnet["id"], self._live)
        cols = lsp_rules.dhcp_columns(self.plugin, subnet, old["options"].get("server_mac") if old else None,
                                      self._new_mac, self._metadata_port_ip(subnet))
        if cols is None and row is None:
            return
        if cols is None:
            assert row is not None
            self.api.delete("DHCP_Options", row.uuid)
        elif row is None:
            self.api.insert("DHCP_Options", **cols)
        else:
            self.api.set(row, **cols)
        for port in self.plugin.find(Kind.PORTS, network_id=subnet.get("network_id")):
            if any(f.get("subnet_id") == subnet["id"] for f in port.get("fixed_ips", [])) \
                    and self.api.by_name("Logical_Switch_Port", port["id"]) is not None:
                self._update_lsp(port)

    def _port_dhcpv4(self, port: Resource) -> str | None:
        """`_get_port_dhcp_options`: the first v4 subnet's row; none for network devices."""
        owner = str(port.get("device_owner") or "")
        if owner.startswith((NETWORK_PREFIX, NEUTRON_PREFIX)):
            return None
        for fixed in port.get("fixed_ips", []):
            if ipaddress.ip_address(fixed["ip_address"]).version != 4:
                continue
            row = self._subnet_dhcp_row(fixed["subnet_id"])
            if row is not None:
                return self._port_dhcp_row(port, row)
        return None

    def _port_dhcp_row(self, port: Resource, subnet_row: Row) -> str | None:
        """`_get_port_dhcp_options`: with extra DHCP options, a row of the port's own (the
        subnet's options plus them); `dhcp_disabled`: none at all."""
        disabled, extra = dhcp_opts.lsp_options(port.get("extra_dhcp_opts") or [])
        subnet_id = subnet_row["external_ids"]["subnet_id"]
        own = [r for r in self.nb.rows("DHCP_Options")
               if r["external_ids"].get("port_id") == port["id"]
               and r["external_ids"].get("subnet_id") == subnet_id]
        if disabled or not extra:
            for row in own:
                self.api.delete("DHCP_Options", row.uuid)
            return None if disabled else subnet_row.uuid
        cols = {"cidr": subnet_row["cidr"], "options": {**subnet_row["options"], **extra},
                "external_ids": {**subnet_row["external_ids"], "port_id": port["id"]}}
        if own:
            return self.api.set(own[0], **cols).uuid
        return self.api.insert("DHCP_Options", **cols).uuid

    def _drop_port_dhcp_rows(self, port_id: str) -> None:
        for row in list(self.nb.rows("DHCP_Options")):
            if row["external_ids"].get("port_id") == port_id:
                self.api.delete("DHCP_Options", row.uuid)
