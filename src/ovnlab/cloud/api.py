"""`Cloud`: Neutron's core plugin with the services composed around it (Neutron's L3
plugin, the Nova/Glance parts networking needs, Keystone's projects...), the `[ovn]`
config, and the hooks the lab's control loop calls."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from ovnlab.cloud import identity
from ovnlab.cloud.app_credentials import AppCredentialService
from ovnlab.cloud.base import Doc
from ovnlab.cloud.compute_quotas import ComputeQuotaService
from ovnlab.cloud.context import Context
from ovnlab.cloud.driver import Driver
from ovnlab.cloud.driver_view import STORE_KINDS, DriverView, Form
from ovnlab.cloud.floatingips import FloatingIPOps
from ovnlab.cloud.identity import IdentityOps
from ovnlab.cloud.ids import META
from ovnlab.cloud.keypairs import KeypairService
from ovnlab.cloud.metadata_port import MetadataPortService
from ovnlab.cloud.ports import PortOps
from ovnlab.cloud.quotas import NetworkQuotaService
from ovnlab.cloud.secgroups import SecurityGroupService
from ovnlab.cloud.server_actions import ServerActionOps
from ovnlab.cloud.servergroups import ServerGroupService
from ovnlab.cloud.store import Store
from ovnlab.cloud.subnetpools import SubnetPoolService
from ovnlab.cloud.tags import Taggable, TagService
from ovnlab.errors import BadRequest, NotFound
from ovnlab.owners import COMPUTE_PREFIX
from ovnlab.topology import Topology

PORT_STATUSES = ("ACTIVE", "DOWN", "BUILD")


class Cloud(PortOps):
    """`Cloud(store_path | None, topology, driver)`; every operation is one transaction.

    `Cloud` itself is Neutron's core plugin API (networks, subnets, ports), over the
    cloud's core (`base.CloudBase`: store, driver, transaction, clock). The other families
    are services of their own composed over that core: `security_groups` (a project's
    default group is made on first use), the OVN driver's metadata ports (over the core
    plugin's ports), `identity` (Keystone: a new project gets its default group),
    `l3` (routers, floating IPs: Neutron's L3 service plugin, over the core plugin's ports),
    `nova` (servers, their actions, the catalog: over Neutron's ports, as Nova calls
    Neutron), `server_groups` (Nova's scheduler asks it for its group filters),
    `keypairs`, `compute_quotas`, `subnetpools`, `quotas`, `tags`, `app_credentials`."""

    # The composed services, by attribute (what a proxy of the cloud proxies as well).
    SERVICES = frozenset({"security_groups", "identity", "l3", "nova", "server_groups",
                          "keypairs", "compute_quotas", "subnetpools", "quotas", "tags",
                          "app_credentials"})

    def __init__(self, store: Store | str | Path | None, topology: Topology,
                 driver: Driver | None = None, **kwargs: Any) -> None:
        # The services keep references only: they exist before the core opens the store
        # (its start-up already reads routers and floating IPs through the driver's view).
        self.security_groups = SecurityGroupService(self)
        self._security_groups = self.security_groups
        self._service_ports = MetadataPortService(self, self)
        self.identity = IdentityOps(self, self.security_groups)
        self.l3 = FloatingIPOps(self, self)
        self._l3 = self.l3
        self.server_groups = ServerGroupService(self)
        self.nova = ServerActionOps(self, self, self.security_groups, self.server_groups)
        self.keypairs = KeypairService(self)
        self.compute_quotas = ComputeQuotaService(self)
        self.subnetpools = SubnetPoolService(self)
        self.quotas = NetworkQuotaService(self)
        self.app_credentials = AppCredentialService(self, self.identity)
        self.tags = TagService(self, {
            Taggable.NETWORK: self.get_network, Taggable.SUBNET: self.get_subnet,
            Taggable.PORT: self.get_port, Taggable.ROUTER: self.l3.get_router,
            Taggable.FLOATINGIP: self.l3.get_floatingip,
            Taggable.SECURITY_GROUP: self.security_groups.get_security_group,
            Taggable.SUBNETPOOL: self.subnetpools.get_subnetpool})
        super().__init__(store, topology, driver, **kwargs)
        self.identity.seed(topology)

    def _driver_forms(self) -> dict[str, Form]:
        return {"router": self.l3._router_driver_dict, "floatingip": self.l3._fip_driver_dict,
                "security_group": self.security_groups.sg_dict}

    def admin_context(self) -> Context:
        """The topology's first admin user, scoped to its project."""
        for project in self.topology.projects:
            for user in project.users:
                if user.admin:
                    return self.identity.scope(identity.user_id(user.name),
                                      identity.project_id(project.name))
        raise BadRequest("the topology has no admin user")

    # ------------------------------------------------------------ config
    def get_config(self) -> Doc:
        return self.config()

    def set_config(self, *, enable_distributed_floating_ip: bool) -> None:
        """Change `[ovn] enable_distributed_floating_ip` and apply it as a neutron-server
        restart does (the driver rewrites the existing FIP NAT rows)."""
        if not isinstance(enable_distributed_floating_ip, bool):
            raise BadRequest("enable_distributed_floating_ip: expected true or false")
        with self._txn():
            config = self.config()
            config["enable_distributed_floating_ip"] = enable_distributed_floating_ip
            self.store.put(META, "config", config)
            self.driver.set_distributed_floating_ip(enable_distributed_floating_ip,
                                                    self._port_active)

    # ------------------------------------------------------------ agents
    def get_agents(self, ctx: Context) -> list[Doc]:
        """The mechanism driver's agents. `get_agent` is admin_only and Neutron filters a
        list by policy: anyone else gets an empty list. Listing them asks every chassis
        for a heartbeat first, as ML2/OVN's get_agents does (`get_agent` does not)."""
        if ctx.is_admin:
            self.driver.ping_all_chassis()
        return self._agents(ctx)

    def _agents(self, ctx: Context) -> list[Doc]:
        return self.driver.agents(self._now()) if ctx.is_admin else []

    def get_agent(self, ctx: Context, id: str) -> Doc:
        for agent in self._agents(ctx):
            if agent["id"] == id:
                return agent
        raise NotFound(f"Agent {id} could not be found", type="AgentNotFound")

    # ------------------------------------------------------------ control loop hooks
    def update_port_status(self, port_id: str, status: str) -> None:
        """The driver saw the port's LSP go up or down: the port, its server and its floating
        IPs follow. Not announced back to the driver (it is where the news came from)."""
        if status not in PORT_STATUSES:
            raise BadRequest(f"port status must be one of {', '.join(PORT_STATUSES)}")
        with self.store.transaction():
            port = self._doc("port", port_id)
            if port is None or port["status"] == status:
                return
            port["status"] = status
            self._save("port", self._touch(port))
            for fip in self.store.find("floatingip", port_id=port_id):
                fip["status"] = self.l3._fip_status(port_id)
                self._save("floatingip", self._touch(fip))
            if port["device_owner"].startswith(COMPUTE_PREFIX) and port["device_id"]:
                server = self._doc("server", port["device_id"])
                if server is not None and self.nova._refresh_server(server):
                    self._save("server", server)

    def get_vifs(self, ctx: Context, servers: Collection[str] | None = None
                 ) -> list[tuple[Doc, Doc]]:
        """Every server's VIF ports, or just `servers`' (what the lab's hypervisors plug),
        from Nova."""
        return self.nova.get_vifs(ctx, servers)

    def resources(self) -> dict[str, list[Doc]]:
        """Everything the driver needs to resync the NB (neutron-server's start-up sync), in
        the driver's form, and the config (the driver takes its option from `sync_driver`,
        not from here: it is listed so a snapshot of the cloud is whole)."""
        view = DriverView(self.store, self._driver_forms())
        return {**{kind: view.values(kind) for kind in STORE_KINDS},
                "security_group_rules": self.store.all("security_group_rule"),
                "config": [self.config()]}

    def sync_driver(self) -> None:
        """Neutron's resync, with the `[ovn]` option as this cloud holds it (a rolled-back
        `set_config` may have left the driver ahead of it)."""
        with self._txn():
            self.driver.sync(distributed=bool(
                self.config().get("enable_distributed_floating_ip")))



