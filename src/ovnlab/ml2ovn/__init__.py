"""ML2/OVN: what Neutron's OVN mechanism driver and L3 plugin write into the OVN NB."""

from __future__ import annotations

from ovnlab.ml2ovn.driver import OVNMechanismDriver, new_nb

__all__ = ["OVNMechanismDriver", "new_nb"]
