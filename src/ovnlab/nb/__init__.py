"""The OVN Northbound database: schema and helpers shared by ml2ovn, northd and ovn-nbctl."""

from __future__ import annotations

from ovnlab.nb.schema import NB_SCHEMA

__all__ = ["NB_SCHEMA"]
