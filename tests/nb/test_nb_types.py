"""NB enums: NatType spells exactly the NAT.type values the real 22.03 schema allows."""

from __future__ import annotations

import json
from pathlib import Path

from ovnlab.nb import NatType

SCHEMA = Path(__file__).parents[2] / "src/ovnlab/schemas/ovn-nb.ovsschema"


def test_nat_types_are_the_schemas_enum() -> None:
    col = json.loads(SCHEMA.read_text())["tables"]["NAT"]["columns"]["type"]
    assert {t.value for t in NatType} == set(col["type"]["key"]["enum"][1])


def test_nat_type_compares_with_the_stored_string_and_refuses_others() -> None:
    assert NatType.of("dnat_and_snat") is NatType.DNAT_AND_SNAT
    assert NatType.SNAT == "snat"
    assert NatType.of("masquerade") is None
    assert [t for t in NatType if t.translates_source] == [NatType.SNAT, NatType.DNAT_AND_SNAT]
    assert [t for t in NatType if t.translates_destination] == [NatType.DNAT,
                                                                NatType.DNAT_AND_SNAT]
