"""ovnlab: OpenStack Neutron + OVN with distributed floating IPs, end to end on one machine."""

__version__ = "0.1.0"
