"""Neutron's and Nova's resources with their real semantics, stored in SQLite.

    from ovnlab.cloud import Cloud, Context
    cloud = Cloud(None, topology.load("seed"), driver)
    admin = cloud.admin_context()
    net = cloud.create_network(admin, {"name": "n1"})

The REST API sees it through `ovnlab.cloud.services`: one Protocol per resource family
(networks, subnets, ports, routers, floating IPs, security groups, tags, agents, servers,
images, identity) that `Cloud` implements, checked by mypy. The driver below it is the
`Driver` protocol of `ovnlab.cloud.driver`.
"""

from ovnlab.cloud.api import Cloud
from ovnlab.cloud.context import Context, admin_context
from ovnlab.cloud.driver import Driver, NullDriver
from ovnlab.cloud.store import Store

__all__ = ["Cloud", "Context", "Driver", "NullDriver", "Store", "admin_context"]
