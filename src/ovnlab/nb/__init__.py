"""The OVN Northbound database: schema and helpers shared by ml2ovn, northd and ovn-nbctl."""

from __future__ import annotations

from ovnlab.nb.schema import NB_SCHEMA
from ovnlab.nb.types import NatType

__all__ = ["NB_SCHEMA", "NatType"]
