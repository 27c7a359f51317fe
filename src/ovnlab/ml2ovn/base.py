"""What the driver's resource families share: the NB they write, the Neutron resources they
read (`plugin`, a read-only `View` of the caller's own resources), the `[ovn]` options as a value, and the few operations one family
asks of another (declared here for the type checker, implemented by their family)."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ovnlab.ml2ovn import scheduler as sched
from ovnlab.ml2ovn.view import Resource, View
from ovnlab.nb.api import NbApi
from ovnlab.ovsdb import Database, Row, Transaction
from ovnlab.topology import OvnConfig

PortStatusCallback = Callable[[str, bool], None]


class DriverBase:
    nb: Database
    sb: Database
    config: OvnConfig
    emit_need_to_frag: bool
    api: NbApi
    scheduler: sched.Scheduler
    plugin: View  # Neutron's resources, read where they live (`self._plugin` in Neutron)
    _mac_rng: random.Random
    # Where `up` and the existing gateway chassis are read: the NB itself, except for the
    # scratch driver `sync` replays the cloud into.
    _live: Database
    _live_api: NbApi
    _syncing: bool

    @property
    def distributed(self) -> bool:
        """`[ovn] enable_distributed_floating_ip`, as the cloud last set it."""
        return self.config.enable_distributed_floating_ip

    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[Transaction]: ...
        def _lsp_up(self, port_id: str) -> bool: ...  # ports
        def _create_lsp(self, port: Resource) -> Row: ...  # ports
        def _update_lsp(self, port: Resource) -> None: ...  # ports
        def _port_dhcpv4(self, port: Resource) -> str | None: ...  # networks
        def _drop_port_dhcp_rows(self, port_id: str) -> None: ...  # networks
        def _sync_subnet_dhcp(self, subnet: Resource) -> None: ...  # networks
        def _sync_default_routes(self, router: Resource) -> None: ...  # routers
        def _router_port_options(self, port: Resource) -> dict[str, str]: ...  # routers
