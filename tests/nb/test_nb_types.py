"""The NB enums spell exactly what OVN 22.03's own schema allows."""

from __future__ import annotations

import json
from importlib import resources

from ovnlab.nb.types import LspType, NatType


def _column(table: str, column: str) -> dict:
    schema = json.loads(resources.files("ovnlab.schemas").joinpath("ovn-nb.ovsschema").read_text())
    return schema["tables"][table]["columns"][column]["type"]


def test_nat_types_are_the_schemas_enum() -> None:
    kind, values = _column("NAT", "type")["key"]["enum"]
    assert kind == "set" and sorted(NatType) == sorted(values)


def test_lsp_types_are_strings_with_vif_empty() -> None:
    assert _column("Logical_Switch_Port", "type") == "string"
    assert LspType.VIF == "" and LspType.ROUTER == "router" and LspType.LOCALNET == "localnet"
