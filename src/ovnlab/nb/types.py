"""Enumerated NB column values shared by every NB writer and reader (ml2ovn, ovn-nbctl,
northd): the strings the OVN_Northbound schema allows, as enums, so that no layer spells
them itself."""

from __future__ import annotations

from enum import StrEnum


class NatType(StrEnum):
    """NAT.type (ovn-nb.ovsschema: "dnat", "snat", "dnat_and_snat"). A StrEnum: it equals
    the string stored in the row, so `row["type"] == NatType.SNAT` reads as it should."""

    DNAT = "dnat"
    SNAT = "snat"
    DNAT_AND_SNAT = "dnat_and_snat"

    @property
    def translates_source(self) -> bool:
        """Whether the rule rewrites the source address (snat, dnat_and_snat)."""
        return self is not NatType.DNAT

    @property
    def translates_destination(self) -> bool:
        """Whether the rule rewrites the destination address (dnat, dnat_and_snat)."""
        return self is not NatType.SNAT

    @classmethod
    def of(cls, text: str) -> NatType | None:
        """The type a NAT row's `type` names, or None for a value the schema refuses."""
        try:
            return cls(text)
        except ValueError:
            return None
