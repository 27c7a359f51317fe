"""Neutron's and Nova's resources with their real semantics, stored in SQLite.

    from ovnlab.cloud import Cloud, Context
    cloud = Cloud(None, topology.load("seed"), driver)
    admin = cloud.admin_context()
    net = cloud.create_network(admin, {"name": "n1"})
    vm = cloud.nova.create_server(admin, {...})

The REST API sees it through `ovnlab.cloud.services`: one Protocol per resource family
(networks, subnets, ports, routers, floating IPs, security groups, tags, agents, servers,
images, identity), checked by mypy. `Cloud` is Neutron's core plugin API (networks,
subnets, ports) over the core of `base.py` (store, driver, one transaction per
operation); the other families are services composed over that core:
`cloud.security_groups`, the OVN driver's metadata ports (`metadata_port.py`), `cloud.l3`
(routers, floating IPs: Neutron's L3 plugin, over the core plugin's ports), `cloud.nova`
(servers, their actions, the catalog; it plugs servers into Neutron's ports),
`cloud.identity` (Keystone), `cloud.keypairs`, `cloud.server_groups`,
`cloud.compute_quotas`, `cloud.subnetpools`, `cloud.quotas`, `cloud.tags`,
`cloud.app_credentials`. The driver below it is the `Driver` protocol of
`ovnlab.cloud.driver`; it reads the store through `driver_view.DriverView` (no copy).
"""

from ovnlab.cloud.api import Cloud
from ovnlab.cloud.context import Context, admin_context
from ovnlab.cloud.driver import Driver, NullDriver
from ovnlab.cloud.store import Store

__all__ = ["Cloud", "Context", "Driver", "NullDriver", "Store", "admin_context"]
