"""NB enums spell exactly the values the real 22.03 schema allows."""

from __future__ import annotations

import json
from pathlib import Path

from ovnlab.nb import NatType
from ovnlab.nb.types import LspType

SCHEMA = Path(__file__).parents[2] / "src/ovnlab/schemas/ovn-nb.ovsschema"


def test_nat_types_are_the_schemas_enum() -> None:
    col = json.loads(SCHEMA.read_text())["tables"]["NAT"]["columns"]["type"]
    assert {t.value for t in NatType} == set(col["type"]["key"]["enum"][1])
    assert NatType.SNAT == "snat"  # a StrEnum: equal to the string a row stores


def test_lsp_types_include_a_vif_and_every_port_type_northd_knows() -> None:
    from ovnlab.northd.bindings import KNOWN_LSP_TYPES

    assert {t.value for t in LspType} == KNOWN_LSP_TYPES
