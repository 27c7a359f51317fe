"""The lab's web view (`ovnlab web`): topology, traces drawn over it, flows, databases and
captures, served by the lab's daemon. The page is plain HTML/JS over Cytoscape.js
(vendored in `static/vendor`, MIT); no build step and nothing fetched at run time."""

from ovnlab.web.app import web_app
from ovnlab.web.auth import Sessions, is_loopback

__all__ = ["Sessions", "is_loopback", "web_app"]
