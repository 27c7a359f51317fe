"""What the cloud asks of its mechanism driver (ML2's MechanismDriver + the OVN L3 hooks).

The cloud calls these inside the operation's transaction, after its own checks, with
resource dicts in API representation plus a few internal keys Neutron's DB has and the API
hides:
- router: `gw_port_id` and `gw_port` (the `network:router_gateway` port dict or None),
  `interfaces` ([{port_id, subnet_id, ip_address, cidr, network_id, mac_address}]).
- floating IP: `floating_port_id` and `floating_port_mac` (its `network:floatingip` port).
- security group: `security_group_rules` embedded (a new group's rules are not announced
  one by one).
The driver reads the resources back through `bind`'s view (`ovnlab.cloud.driver_view`, in
this same form), never from a copy of its own; the cloud writes its store before it calls a
hook, so what the driver reads is the operation's outcome (`remove_router_interface` comes
after the interface port's `delete_port`, as in Neutron's L3 DB).
Every port is announced (`create_port`), including the `network:floatingip` ports, which
Neutron's OVN driver ignores (`is_lsp_ignored`). Port status changes reported back through
`Cloud.update_port_status` are not announced again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

Resource = dict[str, Any]


class ResourceView(Protocol):
    """The cloud's resources, read only, as the driver reads them (`networks`, `subnets`,
    `ports`, `routers`, `floatingips`, `security_groups`)."""

    def get(self, kind: str, rid: str | None) -> Resource | None: ...
    def values(self, kind: str) -> list[Resource]: ...
    def find(self, kind: str, **attrs: Any) -> list[Resource]: ...


class Driver(Protocol):
    def bind(self, plugin: ResourceView) -> None: ...
    def transaction(self) -> AbstractContextManager[Any]: ...

    def create_network(self, net: Resource) -> None: ...
    def update_network(self, net: Resource, original: Resource) -> None: ...
    def delete_network(self, net: Resource) -> None: ...

    def create_subnet(self, subnet: Resource) -> None: ...
    def update_subnet(self, subnet: Resource, original: Resource) -> None: ...
    def delete_subnet(self, subnet: Resource) -> None: ...

    def create_port(self, port: Resource) -> None: ...
    def update_port(self, port: Resource, original: Resource) -> None: ...
    def delete_port(self, port: Resource) -> None: ...

    def create_router(self, router: Resource) -> None: ...
    def update_router(self, router: Resource, original: Resource) -> None: ...
    def delete_router(self, router: Resource) -> None: ...
    def add_router_interface(self, router: Resource, port: Resource,
                             subnet: Resource) -> None: ...
    def remove_router_interface(self, router: Resource, port: Resource,
                                subnet: Resource) -> None: ...

    def create_floatingip(self, fip: Resource) -> None: ...
    def update_floatingip(self, fip: Resource, original: Resource) -> None: ...
    def delete_floatingip(self, fip: Resource) -> None: ...

    def create_security_group(self, sg: Resource) -> None: ...
    def update_security_group(self, sg: Resource, original: Resource) -> None: ...
    def delete_security_group(self, sg: Resource) -> None: ...
    def create_security_group_rule(self, rule: Resource) -> None: ...
    def delete_security_group_rule(self, rule: Resource) -> None: ...

    def set_distributed_floating_ip(self, enabled: bool,
                                    lsp_up: Callable[[str], bool]) -> None: ...
    def sync(self, snapshot: dict[str, list[Resource]] | None = None, *,
             distributed: bool | None = None) -> None: ...
    def agents(self, now: str) -> list[Resource]: ...
    def ping_all_chassis(self) -> bool: ...


class NullDriver:
    """No backend: the cloud model alone (unit tests, model-only tools)."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield None

    def agents(self, now: str) -> list[Resource]:
        return []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


class WriteCounting:
    """The driver as the cloud holds it: every call but `bind`, `transaction` and `agents` writes
    to the backend (the NB) and is counted, so the cloud knows whether an operation's
    transaction wrote anything there (a read-only one needs no resync when its request
    is rolled back)."""

    READS = frozenset({"bind", "transaction", "agents"})

    def __init__(self, driver: Any) -> None:
        self.wrapped = driver
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.wrapped, name)
        if name in self.READS or name.startswith("_") or not callable(attr):
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            return attr(*args, **kwargs)

        return write
