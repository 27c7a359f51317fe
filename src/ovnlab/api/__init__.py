"""OpenStack REST API (Keystone v3, Neutron v2.0, Nova v2.1, Glance v2) over a `Cloud`,
for the real `openstack` client.

Each service module declares the cloud families it calls (`ovnlab.cloud.services`) and
calls their methods: `network` (+ `network_crud`, the plugin methods per collection,
`attrs` the attribute validation), `compute` (servers; `compute_metadata`,
`compute_interfaces`, `compute_hypervisors`, `compute_fips`, `compute_secgroups`,
`compute_schema`), `identity`, `image`; `app` is the WSGI application, `http` routing."""

from .app import App, Timing, make_app
from .config import clouds_yaml, env_lines
from .server import ApiServer, Limits, serve

__all__ = ["ApiServer", "App", "Limits", "Timing", "clouds_yaml", "env_lines", "make_app", "serve"]
