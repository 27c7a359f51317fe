"""The OVN Southbound database (ovn-sb.ovsschema, OVN 22.03) as an `ovsdb.Database`."""

from ovnlab.sb.schema import SB_SCHEMA, SB_SCHEMA_VERSION, new_sb

__all__ = ["SB_SCHEMA", "SB_SCHEMA_VERSION", "new_sb"]
