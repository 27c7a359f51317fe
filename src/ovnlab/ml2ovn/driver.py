"""Neutron's OVN mechanism driver and OVN L3 service plugin: Neutron API dicts -> OVN NB rows.

Follows openstack/neutron (2023.1, the Gateway_Chassis era):
neutron/plugins/ml2/drivers/ovn/mech_driver/ovsdb/ovn_client.py (`OVNClient`), commands.py,
mech_driver.py (`set_port_status_up/down`, `_update_dnat_entry_if_needed`),
neutron/services/ovn_l3/plugin.py (`schedule_unhosted_gateways`). Function names in the
comments point at the Neutron code each method mirrors.

Not modelled: DHCPv6, extra DHCP options, DNS records, QoS, allowed-address-pair virtual ports,
IPv6 RA configs, availability zones, port forwarding, OVN load balancers.
`NAT.gateway_port` stays empty: OVN 22.03 has no such column, and Neutron master only sets
it for routers using an HA_Chassis_Group (ovnlab schedules with Gateway_Chassis rows).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from ovnlab.errors import NotFound, OvnlabError
from ovnlab.ml2ovn import acl as acls
from ovnlab.ml2ovn import dhcp_opts
from ovnlab.ml2ovn import names as n
from ovnlab.ml2ovn import scheduler as sched
from ovnlab.ml2ovn.agents import agents as agent_list
from ovnlab.ml2ovn.agents import ping_all_chassis
from ovnlab.ml2ovn.store import Resource, Store
from ovnlab.nb.api import NbApi, merged
from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.ovsdb import Change, Database, Row, Transaction
from ovnlab.topology import OvnConfig

PortStatusCallback = Callable[[str, bool], None]
_PROVIDER_TYPES = ("flat", "vlan")


@dataclass(frozen=True, slots=True)
class GwInfo:
    """`ovn_client.GW_INFO`: one external fixed IP of a router gateway."""

    network_id: str
    subnet_id: str
    router_ip: str
    gateway_ip: str | None
    ip_version: int
    ip_prefix: str


class OVNMechanismDriver:
    """The ML2/OVN driver the cloud calls inside each of its transactions.

    `on_port_status(port_id, up)` is called after an NB `Logical_Switch_Port.up` change has
    been handled (the lead wires it to `cloud.update_port_status`).
    """

    def __init__(self, nb: Database, sb: Database, config: OvnConfig, *, seed: int = 0,
                 emit_need_to_frag: bool = False, _live: Database | None = None) -> None:
        self.nb = nb
        self.sb = sb
        self.config = config
        self.emit_need_to_frag = emit_need_to_frag or config.ovn_emit_need_to_frag
        self.api = NbApi(nb)
        self.scheduler = sched.Scheduler(config.ovn_l3_scheduler, seed)
        self.on_port_status: PortStatusCallback | None = None
        self.defer_port_events = False
        self._pending_status: list[tuple[str, bool]] = []
        self.clock: Callable[[], float] = lambda: 0.0  # the lab's virtual seconds
        self.store = Store()
        self._seed = seed
        self._mac_rng = random.Random(f"ovn-dhcp-server-mac:{seed}")
        self._depth = 0
        # Where `up` and the existing gateway chassis are read: the NB itself, except for
        # the scratch driver `sync` replays the cloud into.
        self._live = _live or nb
        self._live_api = NbApi(_live) if _live is not None else self.api
        self._syncing = _live is not None
        if _live is None:
            nb.subscribe(self._on_nb_changes)
            sb.subscribe(self._on_sb_changes)
        with self.transaction():
            if not nb.rows("NB_Global"):  # `ovn-nbctl init`, which ovn-ctl runs at start
                self.api.insert("NB_Global")
            self._ensure_drop_port_group()

    # ================================================================ agents
    def agents(self, now: str) -> list[Resource]:
        """The agents Neutron's OVN driver reports from the SB chassis (`agent list`)."""
        return agent_list(self._live, self.sb, now, self.clock())

    def ping_all_chassis(self) -> bool:
        """Bump NB_Global.nb_cfg unless done under agent_down_time // 2 ago (the reports
        it asks for come when the chassis next run)."""
        return ping_all_chassis(self._live, self.clock())

    # ================================================================ transactions
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The NB transaction a cloud operation runs in; nested calls join it."""
        if self._depth:
            self._depth += 1
            try:
                with self.nb.transaction() as txn:
                    yield txn
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self.store.begin()
        config = self.config
        try:
            with self.nb.transaction() as txn:
                yield txn
                # Commit the journal before the NB commits: its listeners may call back.
                self._depth = 0
                self.store.commit()
        except BaseException:
            self.store.rollback()
            self.api.reset()
            self.config = config
            raise
        finally:
            self._depth = 0

    @property
    def distributed(self) -> bool:
        return self.config.enable_distributed_floating_ip

    # ================================================================ networks
    def create_network(self, net: Resource) -> None:
        """`OVNClient.create_network`: LS `neutron-<id>` + localnet port for provider nets."""
        with self.transaction():
            self.store.put("networks", net)
            self.api.ls_add(n.ovn_name(net["id"]), **self._network_columns(net))
            self._sync_provnet(net)

    def update_network(self, net: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            self.store.put("networks", net)
            ls = self.api.by_name("Logical_Switch", n.ovn_name(net["id"]))
            if ls is None:
                self.api.ls_add(n.ovn_name(net["id"]), **self._network_columns(net))
            else:
                self.api.set(ls, **self._network_columns(net))
            self._sync_provnet(net)
            for subnet in self.store.values("subnets"):  # DHCP `mtu` follows the network
                if subnet.get("network_id") == net["id"]:
                    self._sync_subnet_dhcp(subnet)
            if original is not None and original.get("mtu") != net.get("mtu") \
                    and net.get("router:external"):
                self._set_gateway_mtu(net)

    def _set_gateway_mtu(self, net: Resource) -> None:
        """`set_gateway_mtu`: the gateway ports on an external network re-derive their
        options (`gateway_mtu`) when its MTU changes."""
        for port in self.store.values("ports"):
            if port.get("network_id") == net["id"] and port.get("device_owner") == n.OWNER_ROUTER_GW:
                lrp = self.api.by_name("Logical_Router_Port", n.lrp_name(port["id"]))
                if lrp is not None:
                    self.api.set(lrp, options=self._router_port_options(port))

    def delete_network(self, net: Resource) -> None:
        with self.transaction():
            self.api.ls_del(n.ovn_name(net["id"]))
            self.store.drop("networks", net["id"])

    def _network_columns(self, net: Resource) -> dict[str, Any]:
        """`_gen_network_parameters`."""
        return {
            "external_ids": {
                n.NETWORK_NAME: str(net.get("name") or ""),
                n.MTU: str(net.get("mtu", 1500)),
                n.REVISION: _rev(net),
                n.AZ_HINTS: ",".join(net.get("availability_zone_hints") or []),
            },
            "other_config": {
                "mcast_snoop": "false",
                "mcast_flood_unregistered": "false",
                "vlan-passthru": "true" if net.get("vlan_transparent") else "false",
            },
        }

    def _sync_provnet(self, net: Resource) -> None:
        """`create_provnet_port`: localnet LSP for a flat/vlan segment (named after the
        network: the API does not expose segment ids, Neutron accepts this legacy name)."""
        name = n.provnet_name(net["id"])
        physnet = net.get("provider:physical_network")
        existing = self.api.by_name("Logical_Switch_Port", name)
        if not physnet:
            if existing is not None:
                self.api.lsp_del(name)
            return
        seg = net.get("provider:segmentation_id")
        cols = {
            "type": "localnet",
            "addresses": (n.UNKNOWN_ADDR,),
            "options": {"network_name": str(physnet), "mcast_flood_reports": "true",
                        "mcast_flood": "false"},
            "tag": int(seg) if net.get("provider:network_type") == "vlan" and seg else None,
            "external_ids": {},
        }
        if existing is None:
            self.api.lsp_add(n.ovn_name(net["id"]), name, **cols)
        else:
            self.api.set(existing, **cols)

    # ================================================================ subnets
    def create_subnet(self, subnet: Resource) -> None:
        """`OVNClient.create_subnet`: a DHCP_Options row for a DHCP-enabled subnet."""
        with self.transaction():
            self.store.put("subnets", subnet)
            self._sync_subnet_dhcp(subnet)

    def update_subnet(self, subnet: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_subnet` (`_modify_subnet_dhcp_options`)."""
        with self.transaction():
            self.store.put("subnets", subnet)
            self._sync_subnet_dhcp(subnet)
            # A new gateway_ip on an external subnet moves the routers' default routes.
            for router in self.store.values("routers"):
                if any(g.subnet_id == subnet["id"] for g in self._gw_info(router)):
                    self._sync_default_routes(router)

    def delete_subnet(self, subnet: Resource) -> None:
        """The subnet's DHCP_Options rows go, its ports' own ones too."""
        with self.transaction():
            for row in list(self.nb.rows("DHCP_Options")):
                if row["external_ids"].get("subnet_id") == subnet["id"]:
                    self.api.delete("DHCP_Options", row.uuid)
            self.store.drop("subnets", subnet["id"])

    # ---------------------------------------------------------------- DHCP
    def _subnet_dhcp_row(self, subnet_id: str, db: Database | None = None) -> Row | None:
        for row in (db or self.nb).rows("DHCP_Options"):
            ids = row["external_ids"]
            if ids.get("subnet_id") == subnet_id and "port_id" not in ids:
                return row
        return None

    def _dhcp_columns(self, subnet: Resource) -> dict[str, Any] | None:
        """`_get_ovn_dhcp_options` / `_get_ovn_dhcpv4_opts` for an IPv4 subnet: the server is
        the gateway, else the metadata port's address (no options without either); the
        metadata port's address carries the route to 169.254.169.254 (option 121, first,
        then the host routes and, as RFC 3442 makes clients ignore option 3, the default
        route). DNS servers come from the subnet only."""
        version = int(subnet.get("ip_version") or ipaddress.ip_network(subnet["cidr"]).version)
        if not subnet.get("enable_dhcp", True) or version != 4:
            return None
        options: dict[str, str] = {}
        gw = subnet.get("gateway_ip")
        metadata_ip = self._metadata_port_ip(subnet)
        server = gw or metadata_ip
        if server:
            net = self.store.get("networks", subnet.get("network_id")) or {}
            old = self._subnet_dhcp_row(subnet["id"]) or self._subnet_dhcp_row(subnet["id"], self._live)
            mac = old["options"].get("server_mac") if old is not None else None
            options = {"server_id": server, "lease_time": "43200",
                       "mtu": str(net.get("mtu", 1500))}
            if gw:
                options["router"] = gw
            options["server_mac"] = mac or self._new_mac()
            dns = [d for d in subnet.get("dns_nameservers") or [] if ipaddress.ip_address(d).version == 4]
            if dns:
                options["dns_server"] = "{" + ", ".join(dns) + "}"
            routes = [f"{n.METADATA_V4_CIDR},{metadata_ip}"] if metadata_ip else []
            routes += [f"{r['destination']},{r['nexthop']}" for r in subnet.get("host_routes") or []]
            if routes:
                if gw:
                    routes.append(f"0.0.0.0/0,{gw}")
                options["classless_static_route"] = "{" + ", ".join(routes) + "}"
        return {"cidr": subnet["cidr"], "options": options,
                "external_ids": {"subnet_id": subnet["id"], n.REVISION: _rev(subnet)}}

    def _metadata_port_ip(self, subnet: Resource) -> str | None:
        """`_find_metadata_port_ip`: the network's metadata port's address on `subnet`."""
        if not self.config.ovn_metadata_enabled:
            return None
        for port in self.store.values("ports"):
            if port.get("network_id") == subnet.get("network_id") and n.is_metadata_port(port):
                for fixed in port.get("fixed_ips", []):
                    if fixed.get("subnet_id") == subnet["id"]:
                        return str(fixed["ip_address"])
        return None

    def _new_mac(self) -> str:
        """`get_random_mac(base_mac)` from a seeded generator."""
        return "fa:16:3e:" + ":".join(f"{self._mac_rng.randrange(256):02x}" for _ in range(3))

    def _sync_subnet_dhcp(self, subnet: Resource) -> None:
        cols = self._dhcp_columns(subnet)
        row = self._subnet_dhcp_row(subnet["id"])
        if cols is None and row is None:
            return
        if cols is None:
            assert row is not None
            self.api.delete("DHCP_Options", row.uuid)
        elif row is None:
            self.api.insert("DHCP_Options", **cols)
        else:
            self.api.set(row, **cols)
        for port in self.store.values("ports"):
            if any(f.get("subnet_id") == subnet["id"] for f in port.get("fixed_ips", [])) \
                    and self.api.by_name("Logical_Switch_Port", port["id"]) is not None:
                self._update_lsp(port)

    def _port_dhcpv4(self, port: Resource) -> str | None:
        """`_get_port_dhcp_options`: the first v4 subnet's row; none for network devices."""
        owner = str(port.get("device_owner") or "")
        if owner.startswith(("network:", "neutron:")):
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

    def _subnet(self, subnet_id: str) -> Resource:
        subnet = self.store.get("subnets", subnet_id)
        if subnet is None:
            raise NotFound(f"Subnet {subnet_id} could not be found.", type="SubnetNotFound")
        return subnet

    # ================================================================ ports
    def create_port(self, port: Resource) -> None:
        """`OVNClient.create_port`; floating IP ports get no LSP (`is_lsp_ignored`)."""
        dhcp_opts.check_supported(port["id"], port.get("extra_dhcp_opts") or [])
        with self.transaction():
            self.store.put("ports", port)
            if port.get("device_owner") == n.OWNER_FLOATINGIP:
                return
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            else:
                self._update_lsp(port)
            self._metadata_port_changed(port)

    def update_port(self, port: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_port`."""
        dhcp_opts.check_supported(port["id"], port.get("extra_dhcp_opts") or [])
        with self.transaction():
            self.store.put("ports", port)
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
            self.store.drop("ports", port["id"])
            self._metadata_port_changed(port)

    def _metadata_port_changed(self, port: Resource) -> None:
        """The metadata port's addresses are its network's DHCP servers and 169.254.169.254
        routes: the network's DHCP_Options follow it (`update_metadata_port` then
        `_update_subnet_dhcp_options`)."""
        if not n.is_metadata_port(port) or not self.config.ovn_metadata_enabled:
            return
        for subnet in self.store.values("subnets"):
            if subnet.get("network_id") == port["network_id"]:
                self._sync_subnet_dhcp(subnet)

    def _port_security(self, port: Resource) -> list[str]:
        """`_get_allowed_addresses_from_port` (first list)."""
        if not port.get("port_security_enabled", True) or n.is_trusted(port):
            return []
        addrs = [str(port["mac_address"]), *(ip["ip_address"] for ip in port.get("fixed_ips", []))]
        entries: list[str] = []
        for pair in port.get("allowed_address_pairs") or []:
            if pair.get("mac_address", port["mac_address"]) == port["mac_address"]:
                addrs.append(pair["ip_address"])
            else:
                entries.append(f"{pair['mac_address']} {pair['ip_address']}")
        return [" ".join(addrs), *sorted(set(entries))]

    def _lsp_columns(self, port: Resource) -> dict[str, Any]:
        """`_get_port_options` + `get_external_ids_from_port` for a VIF / plain port."""
        address = str(port["mac_address"])
        cidrs = []
        for ip in port.get("fixed_ips", []):
            subnet = self.store.get("subnets", ip.get("subnet_id"))
            if subnet is None:
                continue
            address += f" {ip['ip_address']}"
            cidrs.append(f"{ip['ip_address']}/{subnet['cidr'].split('/')[1]}")
        port_security = self._port_security(port)
        dhcpv4 = self._port_dhcpv4(port)
        # OVN >= 21.03 learns MACs (FDB): without port security or DHCP, Neutron lists no
        # address, only "unknown".
        new_macs = sorted({p["mac_address"] for p in port.get("allowed_address_pairs") or []
                           if p.get("mac_address", port["mac_address"]) != port["mac_address"]}) \
            if port_security else []
        port_type = n.LSP_TYPE_LOCALPORT if n.is_metadata_port(port) else ""
        addresses = [address, *new_macs] if port_security or port_type or dhcpv4 else []
        if not port_security and not port_type:
            addresses.append(n.UNKNOWN_ADDR)
        # a localport's MTU is the network's
        mtu = str((self.store.get("networks", port["network_id"]) or {}).get("mtu", "")) \
            if port_type else ""
        sg_ids = _lsp_security_groups(port)
        host_id = {n.HOST_ID: str(port["binding:host_id"])} \
            if port.get("binding:host_id") and self._lsp_up(port["id"]) else {}
        return {
            "type": port_type,
            "addresses": tuple(addresses),
            "port_security": tuple(port_security),
            "enabled": port.get("admin_state_up", True),
            "options": {"requested-chassis": str(port.get("binding:host_id") or "")},
            "dhcpv4_options": dhcpv4,
            "external_ids": {
                n.PORT_NAME: str(port.get("name") or ""),
                n.DEVICE_ID: str(port.get("device_id") or ""),
                n.PROJECT_ID: str(port.get("project_id") or port.get("tenant_id") or ""),
                n.CIDRS: " ".join(cidrs),
                n.DEVICE_OWNER: str(port.get("device_owner") or ""),
                n.ADDR_SCOPE4: "",
                n.ADDR_SCOPE6: "",
                n.NETWORK_NAME: n.ovn_name(port["network_id"]),
                n.SG_IDS: " ".join(sg_ids),
                n.REVISION: _rev(port),
                n.VNIC_TYPE: str(port.get("binding:vnic_type") or "normal"),
                n.PORT_CAPABILITIES: "",
                n.MTU: mtu,
                **host_id,
            },
        }

    def _create_lsp(self, port: Resource) -> Row:
        ls_name = n.ovn_name(port["network_id"])
        if self.api.by_name("Logical_Switch", ls_name) is None:
            raise NotFound(f"Logical Switch {ls_name} does not exist")
        cols = self._lsp_columns(port)
        lsp = self.api.lsp_add(ls_name, port["id"], **cols)
        self._sync_port_groups(port, lsp)
        return lsp

    def _update_lsp(self, port: Resource) -> None:
        lsp = self.api.must("Logical_Switch_Port", port["id"])
        cols = self._lsp_columns(port)
        # Keys Neutron did not write this time (neutron:port_fip) are kept.
        cols["external_ids"] = {**lsp["external_ids"], **cols["external_ids"]}
        if lsp["type"] == "router":
            # `is_lsp_router_port`: keep what set_lrouter_port_in_lswitch_port wrote.
            for key in ("type", "addresses", "options"):
                cols.pop(key)
        lsp = self.api.set(lsp, **cols)
        self._sync_port_groups(port, lsp)

    def _sync_port_groups(self, port: Resource, lsp: Row) -> None:
        """Port_Group membership: `pg_<sg>` per security group, `neutron_pg_drop` when port
        security is on and the port is not network-owned."""
        wanted = {n.port_group_name(sg) for sg in _lsp_security_groups(port)}
        secured = not n.is_trusted(port) and bool(port.get("port_security_enabled", True))
        if secured:
            wanted.add(n.DROP_PORT_GROUP)
        for pg in self.nb.rows("Port_Group"):
            member = lsp.uuid in pg["ports"]
            if pg["name"] in wanted and not member:
                self.api.add_ref(pg, "ports", lsp.uuid)
            elif pg["name"] not in wanted and member:
                if pg["name"] == n.DROP_PORT_GROUP and not secured and not n.is_trusted(port) \
                        and _lsp_security_groups(port):
                    continue  # Neutron leaves it there in this corner
                self.api.remove_ref(pg, "ports", lsp.uuid)
        missing = wanted - {pg["name"] for pg in self.nb.rows("Port_Group")}
        if missing:
            raise NotFound(f"Port group {sorted(missing)[0]} does not exist")

    def _lsp_up(self, port_id: str) -> bool:
        lsp = self._live_api.by_name("Logical_Switch_Port", port_id)
        return lsp is not None and lsp["up"] is True

    # ================================================================ routers
    def create_router(self, router: Resource) -> None:
        """`OVNClient.create_router`."""
        with self.transaction():
            self.store.put("routers", router)
            self.api.lr_add(n.ovn_name(router["id"]), **self._router_columns(router))
            if router.get("external_gateway_info"):
                self._add_router_ext_gw(router, self._router_v4_networks(router["id"]))

    def update_router(self, router: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_router`: gateway set / cleared / changed, SNAT toggled."""
        with self.transaction():
            self.store.put("routers", router)
            name = n.ovn_name(router["id"])
            lr = self.api.by_name("Logical_Router", name)
            if lr is None:
                lr = self.api.lr_add(name, **self._router_columns(router))
            gw_new = router.get("external_gateway_info")
            gw_lrps = self._gw_lrps(lr)
            networks = self._router_v4_networks(router["id"])
            if not gw_new:
                self._delete_router_ext_gw(lr)
            elif not gw_lrps or self._external_ips_changed(lr, router):
                self._delete_router_ext_gw(lr)
                self._add_router_ext_gw(router, networks)
            else:
                snat = bool(gw_new.get("enable_snat", True))
                has_snat = any(nat["type"] == "snat" for nat in self.api.children(lr, "nat"))
                if has_snat != snat and networks:
                    self._update_nat_rules(router, networks, snat)
            lr = self.nb.tables["Logical_Router"][lr.uuid]
            self.api.set(lr, external_ids=self._router_columns(router)["external_ids"],
                         enabled=bool(router.get("admin_state_up", True)))
            self._sync_extra_routes(router)

    def delete_router(self, router: Resource) -> None:
        with self.transaction():
            self.api.lr_del(n.ovn_name(router["id"]))
            self.store.drop("routers", router["id"])

    def _router_columns(self, router: Resource) -> dict[str, Any]:
        """`_gen_router_ext_ids` + create_router's options."""
        gw = router.get("external_gateway_info") or {}
        gw_port = self._gw_port(router) if gw else None
        return {
            "external_ids": {
                n.ROUTER_NAME: str(router.get("name") or "no_router_name"),
                n.GW_PORT_ID: gw_port["id"] if gw_port else "",
                n.REVISION: _rev(router),
                n.AZ_HINTS: ",".join(router.get("availability_zone_hints") or []),
                n.GW_NETWORK_ID: str(gw.get("network_id") or ""),
            },
            "enabled": bool(router.get("admin_state_up", True)),
            "options": {"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
        }

    def _gw_port(self, router: Resource) -> Resource:
        """The router's `network:router_gateway` port (`router['gw_port_id']`)."""
        port = self.store.get("ports", router.get("gw_port_id")) or router.get("gw_port")
        if port is None:
            for p in self.store.values("ports"):
                if p.get("device_owner") == n.OWNER_ROUTER_GW and p.get("device_id") == router["id"]:
                    port = p
                    break
        if port is None:
            raise OvnlabError(f"gateway port of router {router['id']} is unknown to the OVN driver "
                              "(create_port must be called for it first)")
        return port

    def _gw_info(self, router: Resource) -> list[GwInfo]:
        """`_get_gw_info`."""
        gw = router.get("external_gateway_info") or {}
        out = []
        for fixed in gw.get("external_fixed_ips") or []:
            subnet = self._subnet(fixed["subnet_id"])
            version = int(subnet.get("ip_version") or ipaddress.ip_network(subnet["cidr"]).version)
            out.append(GwInfo(str(gw.get("network_id") or subnet.get("network_id")), subnet["id"],
                              fixed["ip_address"], subnet.get("gateway_ip"), version,
                              "0.0.0.0/0" if version == 4 else "::/0"))
        return out

    def _interface_ports(self, router_id: str) -> list[Resource]:
        return [p for p in self.store.values("ports")
                if p.get("device_owner") == n.OWNER_ROUTER_INTF and p.get("device_id") == router_id]

    def _router_v4_networks(self, router_id: str) -> list[str]:
        """`_get_v4_network_of_all_router_ports`: the v4 CIDR of each interface port."""
        networks = []
        for port in self._interface_ports(router_id):
            cidr = None
            for fixed in port.get("fixed_ips", []):
                subnet = self.store.get("subnets", fixed.get("subnet_id"))
                if subnet is not None and ipaddress.ip_network(subnet["cidr"]).version == 4:
                    cidr = subnet["cidr"]
            if cidr:
                networks.append(cidr)
        return networks

    def _gw_lrps(self, lr: Row) -> list[Row]:
        return [p for p in self.api.children(lr, "ports") if p["external_ids"].get(n.IS_EXT_GW) == "True"]

    def _external_ips_changed(self, lr: Row, router: Resource) -> bool:
        """`_check_external_ips_changed`."""
        gws = self._gw_info(router)
        routes = self.api.children(lr, "static_routes")
        gw_subnets = [r["external_ids"].get(n.SUBNET_ID) for r in routes]
        snats = [nat for nat in self.api.children(lr, "nat") if nat["type"] == "snat"]
        gw_port = self._gw_port(router)
        if not any(p["name"] == n.lrp_name(gw_port["id"]) for p in self._gw_lrps(lr)):
            return True
        for gw in gws:
            if any(gw_subnets) and gw.subnet_id not in gw_subnets:
                return True
            if gw.ip_version == 6:
                continue
            if any(s["external_ip"] != gw.router_ip for s in snats):
                return True
        return False

    def _add_router_ext_gw(self, router: Resource, networks: list[str]) -> None:
        """`_add_router_ext_gw`: gateway LRP, default route, SNAT per attached subnet."""
        self._create_lrouter_port(router, self._gw_port(router))
        self._sync_default_routes(router)
        if _snat_enabled(router) and networks:
            self._update_nat_rules(router, networks, True)

    def _sync_default_routes(self, router: Resource) -> None:
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) == "true":
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for gw in self._gw_info(router):
            if gw.gateway_ip is None:
                continue
            self.api.lr_route_add(lr["name"], ip_prefix=gw.ip_prefix, nexthop=gw.gateway_ip,
                                  external_ids={n.IS_EXT_GW: "true", n.SUBNET_ID: gw.subnet_id})

    def _delete_router_ext_gw(self, lr: Row) -> None:
        """`DelLRouterExtGwCommand`: gateway routes, SNAT rows and gateway LRPs (each
        may already be gone: the cloud deletes the gateway port first)."""
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) == "true":
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for nat in self.api.children(lr, "nat"):
            if nat["type"] == "snat":
                self.api.delete("NAT", nat.uuid)
        for lrp in self._gw_lrps(lr):
            self.api.delete("Logical_Router_Port", lrp.uuid)
            port_id = n.port_id_from_lrp(lrp["name"])
            lsp = self.api.by_name("Logical_Switch_Port", port_id)
            if lsp is not None and lsp["type"] == "router":
                # The Neutron gateway port goes with the gateway.
                self.api.delete("Logical_Switch_Port", lsp.uuid)
            self.store.drop("ports", port_id)

    def _update_nat_rules(self, router: Resource, networks: list[str], enable_snat: bool) -> None:
        """`update_nat_rules`: one snat row per (v4 gateway IP, attached v4 CIDR)."""
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        for gw in self._gw_info(router):
            if gw.ip_version == 6:
                continue
            for cidr in networks:
                rows = self.api.lr_nat_find(lr, type="snat", external_ip=gw.router_ip, logical_ip=cidr)
                if enable_snat and not rows:
                    self.api.lr_nat_add(lr["name"], type="snat", external_ip=gw.router_ip, logical_ip=cidr)
                elif not enable_snat:
                    for row in rows:
                        self.api.delete("NAT", row.uuid)

    def _sync_extra_routes(self, router: Resource) -> None:
        """`update_router_routes`: the router's `routes` attribute as static routes."""
        lr = self.api.must("Logical_Router", n.ovn_name(router["id"]))
        wanted = {(r["destination"], r["nexthop"]) for r in router.get("routes") or []}
        have = {}
        for route in self.api.children(lr, "static_routes"):
            if route["external_ids"].get(n.IS_EXT_GW) != "true":
                have[(route["ip_prefix"], route["nexthop"])] = route
        for key, route in have.items():
            if key not in wanted:
                self.api.delete("Logical_Router_Static_Route", route.uuid)
        for dest, nexthop in sorted(wanted - set(have)):
            self.api.lr_route_add(lr["name"], ip_prefix=dest, nexthop=nexthop)

    # ---------------------------------------------------------------- router ports
    def add_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.create_router_port`."""
        with self.transaction():
            self.store.put("routers", router)
            if subnet is not None:
                self.store.put("subnets", subnet)
            self.store.put("ports", port)
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            lrp = self.api.by_name("Logical_Router_Port", n.lrp_name(port["id"]))
            if lrp is None:
                self._create_lrouter_port(router, port)
            else:
                self._update_lrouter_port(port)
            if router.get("external_gateway_info"):
                cidr = None
                for fixed in port.get("fixed_ips", []):
                    s = self.store.get("subnets", fixed.get("subnet_id"))
                    if s is None or (subnet is not None and s["id"] != subnet["id"]):
                        continue
                    if ipaddress.ip_network(s["cidr"]).version == 4:
                        cidr = s["cidr"]
                if _snat_enabled(router) and cidr:
                    self._update_nat_rules(router, [cidr], True)
                self._refresh_gw_port_options(router)

    def remove_router_interface(self, router: Resource, port: Resource, subnet: Resource | None = None) -> None:
        """`OVNClient.delete_router_port`. `port` is the interface port as it was; with a
        `subnet`, only that subnet's address leaves it, else the whole port goes."""
        with self.transaction():
            self.store.put("routers", router)
            remaining = [f for f in port.get("fixed_ips", [])
                         if subnet is not None and f.get("subnet_id") != subnet["id"]]
            removed = [f for f in port.get("fixed_ips", []) if f not in remaining]
            if router.get("external_gateway_info") and _snat_enabled(router):
                for fixed in removed:
                    s = self.store.get("subnets", fixed.get("subnet_id"))
                    if s is not None and ipaddress.ip_network(s["cidr"]).version == 4:
                        self._update_nat_rules(router, [s["cidr"]], False)
                        break
            if remaining:
                updated = {**port, "fixed_ips": remaining}
                self.store.put("ports", updated)
                self._update_lrouter_port(updated)
            else:
                self.api.lrp_del(n.lrp_name(port["id"]))
                self.api.lsp_del(port["id"])
                self.store.drop("ports", port["id"])
            if router.get("external_gateway_info"):
                self._refresh_gw_port_options(router)

    def _lrp_networks(self, port: Resource) -> tuple[str, ...]:
        nets = []
        for fixed in port.get("fixed_ips", []):
            subnet = self._subnet(fixed["subnet_id"])
            nets.append(f"{fixed['ip_address']}/{ipaddress.ip_network(subnet['cidr']).prefixlen}")
        return tuple(nets)

    def _lrp_external_ids(self, port: Resource) -> dict[str, str]:
        """`_gen_router_port_ext_ids`."""
        ext = {
            n.REVISION: _rev(port),
            n.SUBNET_IDS: " ".join(f["subnet_id"] for f in port.get("fixed_ips", [])),
            n.NETWORK_NAME: n.ovn_name(port["network_id"]),
            n.IS_EXT_GW: str(port.get("device_owner") == n.OWNER_ROUTER_GW),
        }
        if port.get("device_id"):
            ext[n.ROUTER_NAME] = str(port["device_id"])
        return ext

    def _network_type(self, network_id: str) -> str | None:
        net = self.store.get("networks", network_id)
        return net.get("provider:network_type") if net else None

    def _router_port_options(self, port: Resource) -> dict[str, str]:
        """`_gen_router_port_options`."""
        options: dict[str, str] = {}
        net = self.store.get("networks", port["network_id"]) or {}
        router_id = str(port.get("device_id") or "")
        if net.get("provider:network_type") == "vlan":
            options["reside-on-redirect-chassis"] = self._reside_redir(router_id)
        if port.get("device_owner") == n.OWNER_ROUTER_GW and (self.distributed or self.emit_need_to_frag):
            nets = [self.store.get("networks", p["network_id"]) or {} for p in self._interface_ports(router_id)]
            if self.emit_need_to_frag:
                for other in nets:
                    if int(other.get("mtu", 1500)) > int(net.get("mtu", 1500)):
                        options["gateway_mtu"] = str(net.get("mtu", 1500))
                        break
            if self.distributed and nets and all(o.get("provider:network_type") in _PROVIDER_TYPES for o in nets):
                options["redirect-type"] = "bridged"
        return options

    def _reside_redir(self, router_id: str) -> str:
        """`_get_reside_redir_for_gateway_port`."""
        if not self.distributed:
            return "true"
        types = [self._network_type(p["network_id"]) for p in self._interface_ports(router_id)]
        if not types:
            return "false"
        return "true" if any(t not in _PROVIDER_TYPES for t in types) else "false"

    def _create_lrouter_port(self, router: Resource, port: Resource) -> Row:
        """`_create_lrouter_port`: LRP `lrp-<port id>`, gateway chassis for the gateway port."""
        name = n.lrp_name(port["id"])
        lrp = self.api.by_name("Logical_Router_Port", name)
        is_gw = port.get("device_owner") == n.OWNER_ROUTER_GW
        if lrp is None:  # may_exist=True: an existing LRP is left as it is
            if self.api.by_name("Logical_Switch_Port", port["id"]) is None:
                self._create_lsp(port)
            lrp = self.api.lrp_add(n.ovn_name(router["id"]), name, mac=str(port["mac_address"]),
                                   networks=self._lrp_networks(port), options=self._router_port_options(port),
                                   external_ids=self._lrp_external_ids(port))
            if is_gw:
                lrp = self._schedule(lrp, self._physnet(port["network_id"]))
        self._set_lsp_router(port, name, is_gw)
        return lrp

    def _update_lrouter_port(self, port: Resource) -> None:
        """`_update_lrouter_port`."""
        lrp = self.api.must("Logical_Router_Port", n.lrp_name(port["id"]))
        self.api.set(lrp, networks=self._lrp_networks(port), external_ids=self._lrp_external_ids(port),
                     options=self._router_port_options(port))
        self._set_lsp_router(port, lrp["name"], port.get("device_owner") == n.OWNER_ROUTER_GW)

    def _refresh_gw_port_options(self, router: Resource) -> None:
        """Distributed FIPs: interface changes re-derive the gateway port's options."""
        if not (self.distributed or self.emit_need_to_frag):
            return
        lr = self.api.by_name("Logical_Router", n.ovn_name(router["id"]))
        if lr is None:
            return
        for lrp in self._gw_lrps(lr):
            port = self.store.get("ports", n.port_id_from_lrp(lrp["name"]))
            if port is not None:
                self.api.set(lrp, options=self._router_port_options(port))

    def _set_lsp_router(self, port: Resource, lrp: str, is_gw: bool) -> None:
        """`SetLRouterPortInLSwitchPortCommand`."""
        lsp = self.api.by_name("Logical_Switch_Port", port["id"])
        if lsp is None:
            lsp = self._create_lsp(port)
        options = {"router-port": lrp}
        if is_gw:
            options["nat-addresses"] = "router"
            options["exclude-lb-vips-from-garp"] = "true"
        self.api.set(lsp, type="router", options=options, addresses=(n.ROUTER_ADDR,))

    def _physnet(self, network_id: str) -> str | None:
        """`_get_physnet`: only flat/vlan networks have one."""
        net = self.store.get("networks", network_id) or {}
        if net.get("provider:network_type") in _PROVIDER_TYPES:
            return net.get("provider:physical_network")
        return None

    # ================================================================ gateway scheduling
    def _schedule(self, lrp: Row, physnet: str | None) -> Row:
        chassis = sched.all_chassis(self.sb)
        by_name = {c.name: c for c in chassis}
        existing = []
        live_lrp = self._live.find("Logical_Router_Port", name=lrp["name"]) if self._syncing else []
        if live_lrp:
            gwcs = NbApi(self._live).gateway_chassis(live_lrp[0])
            existing = [g["chassis_name"] for g in gwcs
                        if not sched.is_invalid(g["chassis_name"], by_name, physnet)]
        selected = self.scheduler.select(self.nb, sched.candidates(chassis, physnet), existing)
        return self.api.set_gateway_chassis(lrp, selected)

    def schedule_unhosted_gateways(self) -> None:
        """`OVNL3RouterPlugin.schedule_unhosted_gateways`: drop gateway chassis that are gone
        or lost the physnet, add new candidates, keep the current primary on top."""
        with self.transaction():
            chassis = sched.all_chassis(self.sb)
            by_name = {c.name: c for c in chassis}
            for lrp in self.nb.rows("Logical_Router_Port"):
                if lrp["external_ids"].get(n.IS_EXT_GW) != "True":
                    continue
                net_name = lrp["external_ids"].get(n.NETWORK_NAME, "")
                physnet = self._physnet(net_name[len("neutron-"):])
                current = [g["chassis_name"] for g in self.api.gateway_chassis(lrp)]
                valid = [c for c in current if not sched.is_invalid(c, by_name, physnet)]
                if len(valid) >= n.MAX_GW_CHASSIS:
                    continue
                gw_flagged = [c.name for c in chassis if c.is_gateway]
                pool = gw_flagged or [c.name for c in chassis if c.physnets]
                available = {c for c in pool if not sched.is_invalid(c, by_name, physnet)}
                if available == set(current) or not available:
                    continue
                selected = self.scheduler.select(self.nb, sched.candidates(chassis, physnet), valid)
                primary = current[0] if current else None
                if primary and selected and primary in selected and selected[0] != primary:
                    i = selected.index(primary)
                    selected[0], selected[i] = selected[i], selected[0]
                self.api.set_gateway_chassis(lrp, selected)

    def _on_sb_changes(self, changes: list[Change]) -> None:
        """`ChassisEvent`: chassis added/removed or their mappings/cms options changed."""
        relevant = False
        for ch in changes:
            if ch.table != "Chassis":
                continue
            if ch.op != "update" or ch.old is None or ch.new is None:
                relevant = True
            elif sched.chassis_info(ch.old) != sched.chassis_info(ch.new):
                relevant = True
        if relevant and self._depth == 0:
            self.schedule_unhosted_gateways()

    # ================================================================ floating IPs
    def create_floatingip(self, fip: Resource) -> None:
        """`OVNClient.create_floatingip`."""
        with self.transaction():
            self.store.put("floatingips", fip)
            self._create_or_update_floatingip(fip)

    def update_floatingip(self, fip: Resource, original: Resource | None = None) -> None:
        """`OVNClient.update_floatingip`: the NAT row is re-created (and external_mac
        recomputed) whenever the FIP changes."""
        with self.transaction():
            self.store.put("floatingips", fip)
            self._delete_floatingip(fip["id"])
            if fip.get("port_id"):
                self._create_or_update_floatingip(fip)

    def delete_floatingip(self, fip: Resource) -> None:
        with self.transaction():
            self._delete_floatingip(fip["id"])
            self.store.drop("floatingips", fip["id"])

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
            fport = self.store.get("ports", fip.get("floating_port_id"))
            if fport is None:
                raise OvnlabError(f"floating IP {fip['id']} has no floating_port_mac")
            mac = fport["mac_address"]
        cols: dict[str, Any] = {
            "type": "dnat_and_snat",
            "logical_ip": fip["fixed_ip_address"],
            "external_ip": fip["floating_ip_address"],
            "logical_port": fip["port_id"],
            "external_ids": {
                n.FIP_ID: fip["id"],
                n.REVISION: _rev(fip),
                n.FIP_PORT_ID: fip["port_id"],
                n.ROUTER_NAME: n.ovn_name(router_id),
                n.FIP_EXTERNAL_MAC: str(mac),
                n.FIP_NETWORK_ID: str(fip.get("floating_network_id") or ""),
            },
        }
        if self.distributed and (self._lsp_up(fip["port_id"]) or self._live_fip_mac(fip["id"]) == mac):
            cols["external_mac"] = str(mac)
        self.api.lr_nat_add(n.ovn_name(router_id), uuid=fip["id"], **cols)
        lsp = self.api.by_name("Logical_Switch_Port", fip["port_id"])
        if lsp is not None:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.PORT_FIP: fip["floating_ip_address"]}))

    def _live_fip_mac(self, fip_id: str) -> str | None:
        """During sync, an external_mac the live row already has is kept (a DVR port that
        went down keeps it, as `set_port_status_down` does)."""
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

    # ================================================================ port status
    def set_port_status_up(self, port_id: str) -> None:
        """`OVNMechanismDriver.set_port_status_up`."""
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=True)
            self._update_lsp_host_info(port_id, up=True)
        if self.on_port_status is not None:
            self.on_port_status(port_id, True)

    def set_port_status_down(self, port_id: str) -> None:
        with self.transaction():
            self._update_dnat_entry_if_needed(port_id, up=False)
            self._update_lsp_host_info(port_id, up=False)
        if self.on_port_status is not None:
            self.on_port_status(port_id, False)

    def _update_lsp_host_info(self, port_id: str, up: bool) -> None:
        """`update_lsp_host_info` (LP#2020058): `neutron:host_id` while the port is up."""
        lsp = self.api.by_name("Logical_Switch_Port", port_id)
        port = self.store.get("ports", port_id)
        if lsp is None or _lsp_on(lsp) != up:
            return
        host = str((port or {}).get("binding:host_id") or "")
        if up and host:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: host}))
        elif not up and n.HOST_ID in lsp["external_ids"]:
            self.api.set(lsp, external_ids=merged(lsp["external_ids"], {n.HOST_ID: None}))

    def _update_dnat_entry_if_needed(self, port_id: str, up: bool) -> None:
        """Distributed: port up copies the FIP port MAC into external_mac, port down keeps
        it (LP#2025264); centralized: external_mac is cleared."""
        nats = self.nb.find("NAT", logical_port=port_id, type="dnat_and_snat")
        if not nats:
            return
        nat = nats[0]
        if not nat["external_ids"].get(n.FIP_EXTERNAL_MAC) and nat["external_mac"]:
            nat = self.api.set(nat, external_ids=merged(nat["external_ids"],
                                                        {n.FIP_EXTERNAL_MAC: nat["external_mac"]}))
        if self.distributed:
            mac = nat["external_ids"].get(n.FIP_EXTERNAL_MAC)
            if up and mac and nat["external_mac"] != mac:
                self.api.set(nat, external_mac=mac)
        elif nat["external_mac"]:
            self.api.set(nat, external_mac=None)

    def _on_nb_changes(self, changes: list[Change]) -> None:
        """`LogicalSwitchPortUpdateUpEvent` / `...DownEvent` (ovsdb_monitor.py).

        Neutron handles these on its own thread, after the writer's transaction. With
        `defer_port_events` set they wait for `run()` (the lab's control loop); otherwise
        they are handled at once, from inside the NB commit that reported them."""
        for ch in changes:
            if ch.table != "Logical_Switch_Port" or ch.op != "update" or ch.old is None or ch.new is None:
                continue
            old_on, new_on = _lsp_on(ch.old), _lsp_on(ch.new)
            if new_on != old_on:
                self._pending_status.append((ch.uuid, new_on))
        if not self.defer_port_events:
            self.run()

    def run(self) -> bool:
        """Handle the port up/down events seen so far; True if any was handled.

        Listener calls arrive out of order when commits nest, so: every event updates the
        NAT rows in arrival order (the result does not depend on it: distributed, up sets
        external_mac and down keeps it; centralized, both clear it), then Neutron is told
        each port's current state once."""
        handled = False
        while self._pending_status:
            pending, self._pending_status = self._pending_status, []
            names: dict[str, str] = {}
            with self.transaction():
                for uuid, up in pending:
                    row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                    if row is not None:
                        names[uuid] = row["name"]
                        self._update_dnat_entry_if_needed(row["name"], up)
                        self._update_lsp_host_info(row["name"], up)
            for uuid, name in names.items():
                row = self.nb.tables["Logical_Switch_Port"].get(uuid)
                if row is not None and self.on_port_status is not None:
                    self.on_port_status(name, _lsp_on(row))
            handled = handled or bool(names)
        return handled

    def set_distributed_floating_ip(self, enabled: bool, lsp_up: Callable[[str], bool] | None = None) -> None:
        """`[ovn] enable_distributed_floating_ip` changed and neutron-server restarted: the
        replayed port up/down events set (distributed, port up) or clear (centralized)
        every FIP's external_mac, and gateway ports' redirect options are re-aligned
        (`check_redirect_type_router_gateway_ports`)."""
        is_up = lsp_up or self._lsp_up
        with self.transaction():
            self.config = replace(self.config, enable_distributed_floating_ip=enabled)
            for nat in self.nb.rows("NAT"):
                if nat["type"] != "dnat_and_snat" or not nat["logical_port"]:
                    continue
                mac = nat["external_ids"].get(n.FIP_EXTERNAL_MAC) or nat["external_mac"]
                if enabled and is_up(nat["logical_port"]) and mac:
                    self.api.set(nat, external_mac=mac)
                elif not enabled and nat["external_mac"]:
                    self.api.set(nat, external_mac=None)
            for router in self.store.values("routers"):
                lr = self.api.by_name("Logical_Router", n.ovn_name(router["id"]))
                for lrp in self.api.children(lr, "ports") if lr is not None else []:
                    port = self.store.get("ports", n.port_id_from_lrp(lrp["name"]))
                    if port is not None:
                        self.api.set(lrp, options=self._router_port_options(port))

    # ================================================================ security groups
    def _ensure_drop_port_group(self) -> None:
        """`_create_neutron_pg_drop` (done at neutron-server start)."""
        pg = self.api.pg_add(n.DROP_PORT_GROUP, external_ids={})
        for cols in acls.drop_acls():
            self.api.pg_acl_add(pg, **cols)

    def create_security_group(self, sg: Resource) -> None:
        """`OVNClient.create_security_group`: Port_Group `pg_<id>` + one ACL per rule."""
        with self.transaction():
            self.store.put("security_groups", sg)
            pg = self.api.pg_add(n.port_group_name(sg["id"]), external_ids={n.SG_ID: sg["id"]})
            for rule in sg.get("security_group_rules") or []:
                self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))

    def update_security_group(self, sg: Resource, original: Resource | None = None) -> None:
        with self.transaction():
            self.store.put("security_groups", sg)
            if self.api.by_name("Port_Group", n.port_group_name(sg["id"])) is None:
                self.create_security_group(sg)

    def delete_security_group(self, sg: Resource) -> None:
        with self.transaction():
            self.api.pg_del(n.port_group_name(sg["id"]))
            self.store.drop("security_groups", sg["id"])

    def create_security_group_rule(self, rule: Resource) -> None:
        with self.transaction():
            sg = self.store.get("security_groups", rule["security_group_id"]) or {}
            pg = self.api.must("Port_Group", n.port_group_name(rule["security_group_id"]))
            self.api.pg_acl_add(pg, **acls.rule_acl(pg["name"], rule, _stateful(sg)))
            if sg:
                rules = [r for r in sg.get("security_group_rules") or [] if r["id"] != rule["id"]]
                self.store.put("security_groups", {**sg, "security_group_rules": [*rules, rule]})

    def delete_security_group_rule(self, rule: Resource) -> None:
        """`pg_acl_del` by (direction, priority, match), as Neutron deletes it."""
        with self.transaction():
            sg = self.store.get("security_groups", rule["security_group_id"]) or {}
            pg = self.api.by_name("Port_Group", n.port_group_name(rule["security_group_id"]))
            if pg is not None:
                want = acls.rule_acl(pg["name"], rule, _stateful(sg))
                for acl in self.api.children(pg, "acls"):
                    if (acl["direction"], acl["priority"], acl["match"]) == \
                            (want["direction"], want["priority"], want["match"]):
                        self.api.delete("ACL", acl.uuid)
            if sg:
                rules = [r for r in sg.get("security_group_rules") or [] if r["id"] != rule["id"]]
                self.store.put("security_groups", {**sg, "security_group_rules": rules})

    # ================================================================ resync
    def sync(self, snapshot: Mapping[str, Any]) -> None:
        """`ovn_db_sync` (mode repair): rebuild what the NB must hold for the cloud's full
        state, then apply only the differences (row UUIDs, LSP `up` and kept gateway
        chassis survive). See `ovnlab.ml2ovn.sync`."""
        from ovnlab.ml2ovn.sync import build, reconcile

        config = (snapshot.get("config") or [{}])[0]
        with self.transaction():
            if "enable_distributed_floating_ip" in config:
                self.config = replace(self.config, enable_distributed_floating_ip=bool(
                    config["enable_distributed_floating_ip"]))
            scratch = build(snapshot, self.sb, self.config, live=self.nb, seed=self._seed,
                            emit_need_to_frag=self.emit_need_to_frag)
            reconcile(self.nb, scratch.nb)
            self.api.reset()
            self.store.clear()
            for kind in ("networks", "subnets", "ports", "routers", "floatingips", "security_groups"):
                for res in scratch.store.values(kind):
                    self.store.put(kind, res)


def _lsp_on(lsp: Row) -> bool:
    """`is_lsp_up and is_lsp_enabled`."""
    return lsp["up"] is True and lsp["enabled"] is not False


def _rev(resource: Mapping[str, Any]) -> str:
    return str(resource.get("revision_number", 0))


def _snat_enabled(router: Mapping[str, Any]) -> bool:
    return bool((router.get("external_gateway_info") or {}).get("enable_snat", True))


def _stateful(sg: Mapping[str, Any]) -> bool:
    return bool(sg.get("stateful", True))


def _lsp_security_groups(port: Mapping[str, Any]) -> list[str]:
    """`get_lsp_security_groups`: trusted (network-owned) ports get none."""
    return [] if n.is_trusted(dict(port)) else list(port.get("security_groups") or [])


def new_nb(seed: int = 0) -> Database:
    """An empty Northbound database named as ovsdb-server names it."""
    return Database("OVN_Northbound", NB_SCHEMA, seed=seed)
