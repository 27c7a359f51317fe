"""Nova's part: servers with a Neutron port per NIC, placement on compute nodes, flavors,
images (Glance) and hypervisors. Server dicts are in microversion 2.100's format."""

from __future__ import annotations

import re
from typing import Any

from ovnlab.cloud import catalog, compute_quotas, keypairs, policy, server_states
from ovnlab.cloud.base import Doc, Filters
from ovnlab.cloud.context import Context
from ovnlab.cloud.nova_views import NovaViewOps
from ovnlab.cloud.server_states import VmState
from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound, OvnlabError
from ovnlab.owners import COMPUTE_PREFIX

AZ = "nova"
class NovaOps(NovaViewOps):
    # ------------------------------------------------------------ servers
    def get_server(self, ctx: Context, id: str) -> Doc:
        return self._server_view(ctx, self._server_doc(ctx, id))

    def get_servers(self, ctx: Context, filters: Filters | None = None) -> list[Doc]:
        """The caller's servers (an admin sees every project's); `name` is a regex, as Nova's."""
        wanted = dict(filters or {})
        pattern = wanted.pop("name", None)
        for key in ("all_tenants", "deleted", "is_public"):
            wanted.pop(key, None)
        if "host" in wanted:
            wanted["OS-EXT-SRV-ATTR:host"] = wanted.pop("host")
        if "project_id" in wanted:
            wanted["tenant_id"] = wanted.pop("project_id")
        out = []
        for s in self._core.store.all("server"):
            if not policy.owns(ctx, s):
                continue
            view = self._server_view(ctx, s)
            if pattern is not None and not _name_matches(view["name"], pattern):
                continue
            if self._core._matches(view, wanted):
                out.append(view)
        return out

    def create_servers(self, ctx: Context, body: object, count: int
                       ) -> tuple[str, list[Doc]]:
        """Nova's multi-create: its reservation id and `count` servers (max_count: ovnlab has no compute quota to
        stop short of it) sharing one reservation id, each with its launch index; with more
        than one, each name gets `-<n>` from 1 (the compute API's display-name suffix). A
        port or fixed IP cannot be given to several."""
        b = self._core._body(body, "server")
        raw = b.get("networks")
        nets: list[Any] = raw if isinstance(raw, list) else []
        if count > 1 and any(isinstance(n, dict) and n.get("port") for n in nets):
            raise BadRequest("Failed to launch instances: Unable to launch multiple instances "
                             "with a single configured port ID. Please launch your instance "
                             "one by one with different ports.",
                             type="MultiplePortsNotApplicable")
        if count > 1 and any(isinstance(n, dict) and n.get("fixed_ip") for n in nets):
            raise BadRequest("Failed to launch instances: max_count cannot be greater than 1 "
                             "if an fixed_ip is specified.",
                             type="InvalidFixedIpAndMaxCountRequest")
        reservation = f"r-{self._core.ids.uuid()[:8]}"
        with self._core._txn():
            return reservation, [self.create_server(ctx, {"server": {
                **b, "name": f"{b.get('name')}-{i + 1}" if count > 1 else b.get("name"),
                "reservation_id": reservation, "launch_index": i}}) for i in range(count)]

    def create_server(self, ctx: Context, body: object) -> Doc:
        b = self._core._body(body, "server")
        name = b.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("Invalid input for field/attribute server. Value: "
                             f"{b}. 'name' is a required property", type="ValidationError")
        flavor = catalog.find_flavor(b.get("flavorRef"))
        if flavor is None:
            raise BadRequest("Invalid flavorRef provided.", type="FlavorNotFound")
        image = catalog.find_image(b.get("imageRef"))
        if image is None:
            raise BadRequest(f"Image {b.get('imageRef')} could not be found.",
                             type="ImageNotFound")
        compute_quotas.check_metadata(self._core.store, ctx.project_id, dict(b.get("metadata") or {}))
        key_name = b.get("key_name")
        if key_name is not None and self._core.store.get(keypairs.KIND,
                                                   f"{ctx.user_id}/{key_name}") is None:
            raise BadRequest(f"Keypair {key_name} not found for user {ctx.user_id}",
                             type="KeypairNotFound")
        with self._core._txn():
            hints = dict(b.get("scheduler_hints") or {})
            host = self._schedule(ctx, b.get("availability_zone"), b.get("host"),
                                  self._hosts_for_hints(ctx, hints))
            counter = self._core.store.get("meta", "nova") or {"instances": 0}
            counter["instances"] += 1
            self._core.store.put("meta", "nova", counter)
            now = self._core._now()
            server: Doc = {
                "id": self._core.ids.uuid(), "name": name, "project_id": ctx.project_id,
                "user_id": ctx.user_id, "status": "BUILD", "vm_state": VmState.BUILDING.value,
                "host": host,
                "availability_zone": AZ, "flavor_id": flavor.id, "image_id": image.id,
                "instance_number": counter["instances"], "metadata": dict(b.get("metadata") or {}),
                "key_name": b.get("key_name"), "description": b.get("description"),
                "accessIPv4": b.get("accessIPv4"), "accessIPv6": b.get("accessIPv6"),
                "OS-DCF:diskConfig": b.get("OS-DCF:diskConfig") or "MANUAL",
                "reservation_id": b.get("reservation_id"),
                "launch_index": int(b.get("launch_index") or 0),
                "created": now, "updated": now, "launched_at": None, "nics": [],
                "scheduler_hints": hints, "server_group": hints.get("group"),
            }
            if host is None:  # NoValidHost: the conductor fails it before any port exists
                server_states.set_vm_state(server, VmState.ERROR)
                server["fault"] = {"code": 500, "created": now, "message": (
                    "No valid host was found. There are not enough hosts available.")}
                self._core._save("server", server)
                return self._server_view(ctx, server)
            self._core._save("server", server)
            groups = self._server_groups(ctx, b.get("security_groups"))
            for nic in self._nics(ctx, b.get("networks")):
                port = self._plug(ctx, server, nic, groups)
                server["nics"].append({"port_id": port["id"], "preexisting": "port" in nic})
            self._refresh_server(server)
            self._core._save("server", server)
        return self._server_view(ctx, server)

    def _hosts_for_hints(self, ctx: Context, hints: Doc) -> set[str] | None:
        """The hosts the request's scheduler hints leave (None: any): server groups'
        filters narrow it."""
        return self.server_groups.hosts_for_hints(ctx, hints)

    def _schedule(self, ctx: Context, az: Any, forced: Any,
                  allowed: set[str] | None = None) -> str | None:
        """Least-loaded compute node (fewest servers, then topology order) among `allowed`,
        or the host an admin asked for with `--availability-zone nova:HOST` (a forced
        host skips the filters, as in Nova); None when no host passes (NoValidHost)."""
        nodes = catalog.compute_nodes(self._core.topology)
        host = None
        if isinstance(az, str) and ":" in az:
            zone, _, rest = az.partition(":")
            host = rest.split(":")[0] or None
            az = zone or AZ
        if forced:
            host = str(forced)
        if az not in (None, "", AZ):
            raise BadRequest("The requested availability zone is not available",
                             type="InvalidRequest")
        if host is not None:
            if not ctx.is_admin:
                raise Forbidden("Policy doesn't allow os_compute_api:servers:create:forced_host "
                                "to be performed.", type="PolicyNotAuthorized")
            for node in nodes:
                if host in (node.hostname, node.system_id):
                    return node.hostname
            raise BadRequest(f"Compute host {host} could not be found.",
                             type="ComputeHostNotFound")
        load = {n.hostname: 0 for n in nodes if allowed is None or n.hostname in allowed}
        if not load:
            return None
        for s in self._core.store.all("server"):
            if s["host"] in load:
                load[s["host"]] += 1
        return min(load, key=lambda h: (load[h], list(load).index(h)))

    def _server_groups(self, ctx: Context, raw: Any) -> list[str]:
        self._security_groups.ensure_default_sg(ctx.project_id)
        names = [g.get("name") for g in raw] if isinstance(raw, list) else ["default"]
        return [self._resolve_sg(ctx.project_id, str(n), create=True)["id"] for n in names]

    def _resolve_sg(self, project: str, name_or_id: str, create: bool = False) -> Doc:
        sg = self._core._doc("security_group", name_or_id)
        if sg is not None and sg["project_id"] == project:
            return sg
        found = self._core.store.find("security_group", project_id=project, name=name_or_id)
        if len(found) > 1:
            raise Conflict(f"Multiple security groups found matching '{name_or_id}'. Use an ID "
                           "to be more specific.", type="NoUniqueMatch")
        if not found:
            if create:
                raise BadRequest(f"Security group {name_or_id} not found.",
                                 type="SecurityGroupNotFound")
            raise NotFound(f"Security group {name_or_id} not found for project {project}.",
                           type="SecurityGroupNotFoundForProject")
        return found[0]

    def _nics(self, ctx: Context, raw: Any) -> list[Doc]:
        if raw is None or raw == "auto":
            nets = [n for n in self._core.store.all("network") if policy.network_visible(ctx, n)
                    and not n["router:external"]]
            if len(nets) > 1:
                raise Conflict("Multiple possible networks found, use a Network ID to be more "
                               "specific.", type="NetworkAmbiguous")
            if not nets:
                if raw == "auto":
                    raise BadRequest("Unable to automatically allocate a network for project "
                                     f"{ctx.project_id}", type="UnableToAutoAllocateNetwork")
                return []
            return [{"uuid": nets[0]["id"]}]
        if raw == "none":
            return []
        if not isinstance(raw, list) or not all(isinstance(n, dict) for n in raw):
            raise BadRequest(f"Invalid input for field/attribute networks. Value: {raw}.",
                             type="ValidationError")
        return raw

    def _plug(self, ctx: Context, server: Doc, nic: Doc, groups: list[str]) -> Doc:
        binding = {"device_id": server["id"], "device_owner": f"{COMPUTE_PREFIX}{AZ}",
                   "binding:host_id": server["host"]}
        if nic.get("port"):
            try:
                port = self._neutron._port_doc(ctx, nic["port"])
            except NotFound as e:
                raise BadRequest(e.message, type=e.type) from None
            if port["device_id"]:
                raise Conflict(f"Port {port['id']} is still in use.", type="PortInUse")
            return self._neutron._update_port(ctx.elevated(), port, binding)
        try:
            net = self._neutron._network_doc(ctx, nic.get("uuid"))
        except NotFound:
            raise BadRequest(f"Network {nic.get('uuid')} could not be found.",
                             type="NetworkNotFound") from None
        if not ctx.is_admin and not net["shared"] and net["project_id"] != ctx.project_id:
            raise BadRequest(f"Network {net['id']} could not be found.", type="NetworkNotFound")
        fixed = nic.get("fixed_ip") or nic.get("v4-fixed-ip")
        body = {**binding, "network_id": net["id"], "name": "",
                "fixed_ips": [{"ip_address": fixed}] if fixed else None,
                "security_groups": groups if net["port_security_enabled"] else None}
        try:
            return self._neutron._create_port(ctx.elevated(), body, project=ctx.project_id, net=net)
        except OvnlabError as e:
            raise _nova_error(e, fixed, net["id"], self._core.store.all("port")) from None

    # ------------------------------------------------------------ interfaces
    def get_server_interfaces(self, ctx: Context, server_id: str) -> list[Doc]:
        """`os-interface` list: the server's interfaces as Nova records them."""
        return [_attachment(p) for p in self._server_ports(self._server_doc(ctx, server_id))]

    def server_add_interface(self, ctx: Context, server_id: str, *, port_id: str | None = None,
                             net_id: str | None = None, fixed_ip: str | None = None) -> Doc:
        """Nova's interface attach (`openstack server add port|network`): binds a free port
        the caller can see, or creates one on a network, and records it as the server's;
        nova-compute then plugs it. Errors as Nova's os-interface answers them."""
        if port_id and net_id:
            raise BadRequest("Must not input both network_id and port_id")
        if fixed_ip and not net_id:
            raise BadRequest("Must input network_id when request IP address")
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            state = server_states.vm_state(server)
            if state not in (VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED):
                raise server_states.invalid_state("attach_interface", server_id, state)
            # ports Nova creates belong to the server's project, whoever asks
            owner = Context(ctx.user_id, server["project_id"], ctx.is_admin)
            nic: Doc = ({"port": port_id} if port_id else {"uuid": net_id, "fixed_ip": fixed_ip}
                        if net_id else self._nics(owner, "auto")[0])
            try:
                port = self._plug(ctx if port_id else owner, server, nic,
                                  self._server_groups(owner, None))
            except BadRequest as e:  # boot's 400s are attach's 404s/409s
                if e.type in ("PortNotFound", "NetworkNotFound"):
                    raise NotFound(e.message, type=e.type) from None
                if e.type in ("FixedIpAlreadyInUse", "NoMoreFixedIps"):
                    raise Conflict(e.message, type=e.type) from None
                raise
            server["nics"].append({"port_id": port["id"], "preexisting": bool(port_id)})
            self._core._save("server", server)
        return _attachment(port)

    def server_remove_interface(self, ctx: Context, server_id: str, port_id: str) -> None:
        """Nova's interface detach: a port Nova created is deleted, one it was given is
        unbound; a port Nova did not attach is not its to detach."""
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            nic = next((n for n in server["nics"] if n["port_id"] == port_id), None)
            port = self._core._doc("port", port_id)
            if nic is None or port is None or port["device_id"] != server["id"]:
                raise NotFound(f"Port {port_id} is not attached", type="PortNotFound")
            self._release(ctx, port, nic["preexisting"])
            server["nics"] = [n for n in server["nics"] if n is not nic]
            self._core._save("server", server)

    def _release(self, ctx: Context, port: Doc, preexisting: bool) -> None:
        if preexisting:
            self._neutron._update_port(ctx.elevated(), port, {
                "device_id": "", "device_owner": "", "binding:host_id": ""})
        else:
            self._neutron._delete_port(port)

    def update_server(self, ctx: Context, id: str, changes: Doc) -> Doc:
        """`PUT /servers/{id}`: name, description and the access addresses (already
        validated by the API); nothing Neutron sees changes."""
        with self._core._txn():
            server = self._server_doc(ctx, id)
            for key in ("name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"):
                if key in changes:
                    server[key] = changes[key]
            server["updated"] = self._core._now()
            self._core._save("server", server)
        return self._server_view(ctx, server)

    def set_server_metadata(self, ctx: Context, id: str, metadata: dict[str, str],
                            *, replace: bool) -> dict[str, str]:
        """Nova's server metadata: merged into (POST, PUT of one item) or replacing (PUT)
        what the server has."""
        with self._core._txn():
            server = self._server_doc(ctx, id)
            merged = dict(metadata) if replace else {**server["metadata"], **metadata}
            compute_quotas.check_metadata(self._core.store, server["project_id"], merged)
            server["metadata"] = merged
            server["updated"] = self._core._now()
            self._core._save("server", server)
        return dict(server["metadata"])

    def delete_server_metadata(self, ctx: Context, id: str, key: str) -> None:
        with self._core._txn():
            server = self._server_doc(ctx, id)
            if key not in server["metadata"]:
                raise NotFound("Metadata item was not found", type="HTTPNotFound")
            del server["metadata"][key]
            server["updated"] = self._core._now()
            self._core._save("server", server)

    def delete_server(self, ctx: Context, id: str) -> None:
        with self._core._txn():
            server = self._server_doc(ctx, id)
            preexisting = {n["port_id"] for n in server["nics"] if n["preexisting"]}
            for port in self._server_ports(server):
                self._release(ctx, port, port["id"] in preexisting)
            self._core.store.delete("server", id)

    def _refresh_server(self, server: Doc) -> bool:
        """BUILD → ACTIVE once every port of the server is up (Nova waits for
        network-vif-plugged); an active server stays active when a port goes down."""
        if server["status"] != "BUILD":
            return False
        ports = self._server_ports(server)
        if ports and any(p["status"] != "ACTIVE" for p in ports):
            return False
        server_states.set_vm_state(server, VmState.ACTIVE)
        server.update(launched_at=self._core._now(), updated=self._core._now())
        return True

    # ------------------------------------------------------------ security groups
    def server_add_security_group(self, ctx: Context, server_id: str, name_or_id: str) -> None:
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            sg = self._resolve_sg(server["project_id"], name_or_id)
            ports = self._server_ports(server)
            if any(not p["port_security_enabled"] for p in ports):
                raise BadRequest("Network requires port_security_enabled and subnet associated "
                                 "in order to apply security groups.",
                                 type="SecurityGroupCannotBeApplied")
            if ports and all(sg["id"] in p["security_groups"] for p in ports):
                raise BadRequest(f"Security group {sg['name']} is already associated with the "
                                 f"instance {server['id']}", type="SecurityGroupExistsForInstance")
            for port in ports:
                if sg["id"] not in port["security_groups"]:
                    self._neutron._update_port(ctx.elevated(), port, {
                        "security_groups": [*port["security_groups"], sg["id"]]})

    def server_remove_security_group(self, ctx: Context, server_id: str,
                                     name_or_id: str) -> None:
        with self._core._txn():
            server = self._server_doc(ctx, server_id)
            sg = self._resolve_sg(server["project_id"], name_or_id)
            ports = [p for p in self._server_ports(server) if sg["id"] in p["security_groups"]]
            if not ports:
                raise BadRequest(f"Security group {sg['name']} not associated with the instance "
                                 f"{server['id']}", type="SecurityGroupNotExistsForInstance")
            for port in ports:
                self._neutron._update_port(ctx.elevated(), port, {
                    "security_groups": [g for g in port["security_groups"] if g != sg["id"]]})


def _attachment(port: Doc) -> Doc:
    """A port as Nova's os-interface shows it (an InterfaceAttachment)."""
    return {"port_id": port["id"], "net_id": port["network_id"],
            "mac_addr": port["mac_address"], "port_state": port["status"],
            "fixed_ips": [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
                          for ip in port["fixed_ips"]], "tag": None}


def _name_matches(name: str, pattern: Any) -> bool:
    patterns = pattern if isinstance(pattern, (list, tuple)) else [pattern]
    for p in patterns:
        try:
            if re.search(str(p), name):
                return True
        except re.error:
            if str(p) in name:
                return True
    return False


def _nova_error(e: OvnlabError, fixed: Any, net_id: str, ports: list[Doc]) -> OvnlabError:
    """Neutron's port errors as Nova reports them (400s on server create)."""
    if e.type == "IpAddressAlreadyAllocated":
        owner = next((p["device_id"] for p in ports
                      if any(ip["ip_address"] == fixed for ip in p["fixed_ips"])
                      and p["network_id"] == net_id), "")
        return BadRequest(f"Fixed IP address {fixed} is already in use on instance {owner}.",
                          type="FixedIpAlreadyInUse")
    if e.type == "IpAddressGenerationFailure":
        return BadRequest(f"No fixed IP addresses available for network: {net_id}",
                          type="NoMoreFixedIps")
    if isinstance(e, (NotFound, Conflict)):
        return BadRequest(e.message, type=e.type)
    return e



