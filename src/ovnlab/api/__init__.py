"""OpenStack REST API (Keystone v3, Neutron v2.0, Nova v2.1, Glance v2) over a `Cloud`,
for the real `openstack` client."""

from .app import App, Timing, make_app
from .config import clouds_yaml, env_lines
from .server import ApiServer, Limits, serve

__all__ = ["ApiServer", "App", "Limits", "Timing", "clouds_yaml", "env_lines", "make_app", "serve"]
