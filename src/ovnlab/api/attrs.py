"""Typed attribute maps, in the spirit of Neutron's RESOURCE_ATTRIBUTE_MAP.

One declaration per attribute gives the request validation/conversion (400s with Neutron's
"Invalid input for X. Reason: ..." wording, instead of a 500 deep in the model) and the JSON
schema published in /openapi.json.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ovnlab.cloud.ports import INVALID_MACS
from ovnlab.cloud.secgroups import port_value
from ovnlab.errors import BadRequest

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def invalid(attr: str, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for {attr}. Reason: {reason}.", type="HTTPBadRequest")


class Kind:
    """A value type: converts a JSON value or raises `invalid`."""

    nullable: bool = False

    def convert(self, value: Any, attr: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise invalid(attr, "None is not a valid value")
        return self._convert(value, attr)

    def _convert(self, value: Any, attr: str) -> Any:
        raise NotImplementedError

    def _schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        s = self._schema()
        if self.nullable:
            return {"anyOf": [s, {"type": "null"}]}
        return s


@dataclass(frozen=True, slots=True)
class Str(Kind):
    max_len: int = 255
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        if not isinstance(value, str):
            raise invalid(attr, f"'{value}' is not a valid string")
        if len(value) > self.max_len:
            raise invalid(attr, f"'{value}' exceeds maximum length of {self.max_len}")
        return value

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_len}


@dataclass(frozen=True, slots=True)
class Bool(Kind):
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        # neutron_lib convert_to_boolean: bools, 0/1 and the usual spellings
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise invalid(attr, f"'{value}' cannot be converted to boolean")

    def _schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True)
class Int(Kind):
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        # convert_to_int: the client sends provider:segmentation_id as a string
        if isinstance(value, bool):
            raise invalid(attr, f"'{value}' is not an integer")
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
            value = int(value)
        if not isinstance(value, int):
            raise invalid(attr, f"'{value}' is not an integer")
        if self.minimum is not None and value < self.minimum:
            raise invalid(attr, f"'{value}' is too small - must be at least '{self.minimum}'")
        if self.maximum is not None and value > self.maximum:
            raise invalid(attr, f"'{value}' is too large - must be no larger than '{self.maximum}'")
        return value

    def _schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        return s


@dataclass(frozen=True, slots=True)
class Enum(Kind):
    values: tuple[Any, ...]
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        for v in self.values:
            if value == v and type(value) is type(v):
                return v
            if isinstance(v, int) and isinstance(value, str) and value == str(v):
                return v
        raise invalid(attr, f"{value!r} is not in {list(self.values)}")

    def _schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}


@dataclass(frozen=True, slots=True)
class IP(Kind):
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        if isinstance(value, str):
            try:
                return str(ipaddress.ip_address(value))
            except ValueError:
                pass
        raise invalid(attr, f"'{value}' is not a valid IP address")

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "ip"}


@dataclass(frozen=True, slots=True)
class CIDR(Kind):
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        if isinstance(value, str):
            try:
                ipaddress.ip_network(value, strict=False)
                return value  # normalisation and host-bit checks are the model's business
            except ValueError:
                pass
        raise invalid(attr, f"'{value}' is not a valid IP subnet")

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "cidr"}


@dataclass(frozen=True, slots=True)
class MAC(Kind):
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        # neutron-lib validate_mac_address: also refuses constants.INVALID_MAC_ADDRESSES
        if isinstance(value, str) and _MAC.match(value) and value.lower() not in INVALID_MACS:
            return value.lower()
        raise invalid(attr, f"'{value}' is not a valid MAC address")

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": _MAC.pattern}


@dataclass(frozen=True, slots=True)
class Protocol(Kind):
    """Security group rule protocol: a name or a number (string or int), or null for any.
    Which names and numbers are valid is the model's call (SecurityGroupRuleInvalidProtocol)."""

    nullable: bool = True

    def _convert(self, value: Any, attr: str) -> Any:
        if isinstance(value, str) and len(value) <= 32:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise invalid(attr, f"'{value}' is not a valid protocol")

    def _schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "string", "maxLength": 32}, {"type": "integer"}]}


@dataclass(frozen=True, slots=True)
class Port(Kind):
    """A security group rule's port_range_min/max: the model's validator, whose error is
    Neutron's SecurityGroupInvalidPortValue ("Invalid value for port -16")."""

    nullable: bool = True

    def _convert(self, value: Any, attr: str) -> Any:
        return port_value(value)

    def _schema(self) -> dict[str, Any]:
        return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 65535},
                          {"type": "string", "pattern": r"^\d+$"}]}


@dataclass(frozen=True, slots=True)
class ListOf(Kind):
    item: Kind
    nullable: bool = False
    none_is_empty: bool = False  # neutron-lib convert_none_to_empty_list (router routes)

    def convert(self, value: Any, attr: str) -> Any:
        if value is None and self.none_is_empty:
            return []
        return Kind.convert(self, value, attr)

    def _convert(self, value: Any, attr: str) -> Any:
        if not isinstance(value, list):
            raise invalid(attr, f"'{value}' is not a list")
        return [self.item.convert(v, attr) for v in value]

    def _schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema()}


@dataclass(frozen=True, slots=True)
class UniqueStrings(Kind):
    """neutron-lib validate_list_of_unique_strings (the tags of the standard-attr-tag API)."""

    max_len: int = 255
    nullable: bool = False

    def _convert(self, value: Any, attr: str) -> Any:
        if not isinstance(value, list):
            raise invalid(attr, f"'{value}' is not a list")
        out = [Str(self.max_len).convert(v, attr) for v in value]
        dups = sorted({v for v in out if out.count(v) > 1}) if len(set(out)) < len(out) else []
        if dups:
            raise invalid(attr, f"Duplicate items in the list: '{', '.join(dups)}'")
        return out

    def _schema(self) -> dict[str, Any]:
        return {"type": "array", "uniqueItems": True,
                "items": {"type": "string", "maxLength": self.max_len}}


@dataclass(frozen=True, slots=True)
class AddressPairs(Kind):
    """neutron-lib _validate_allowed_address_pairs: at most `max_pairs`
    (cfg max_allowed_address_pair), each an IP address or a CIDR (with an optional MAC),
    no pair twice. Its errors are bare HTTPBadRequests with the validator's message."""

    max_pairs: int = 10
    nullable: bool = True

    def _convert(self, value: Any, attr: str) -> Any:
        if not isinstance(value, list):
            raise BadRequest("Allowed address pairs must be a list.", type="HTTPBadRequest")
        if len(value) > self.max_pairs:
            raise BadRequest("The number of allowed address pair exceeds the maximum "
                             f"{self.max_pairs}.", type="AllowedAddressPairExhausted")
        out: list[dict[str, Any]] = []
        for pair in value:
            if not isinstance(pair, dict):
                raise invalid(attr, f"'{pair}' is not a dictionary")
            mac = pair.get("mac_address")
            if mac is not None:
                mac = MAC().convert(mac, attr)
            if "ip_address" not in pair:
                raise BadRequest("AllowedAddressPair must contain ip_address",
                                 type="AllowedAddressPairsMissingIP")
            ip = pair["ip_address"]
            entry = {"ip_address": ip, **({"mac_address": mac} if mac is not None else {})}
            if entry in out:
                raise BadRequest(f"Request contains duplicate address pair: mac_address {mac} "
                                 f"ip_address {ip}.", type="DuplicateAddressPairInRequest")
            extra = sorted(set(pair) - {"ip_address", "mac_address"})
            if extra:
                raise BadRequest(f"Unrecognized attribute(s) '{', '.join(extra)}'",
                                 type="HTTPBadRequest")
            _ip_or_cidr(ip)
            out.append(entry)
        return out

    def _schema(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.max_pairs, "items": {
            "type": "object", "additionalProperties": False, "required": ["ip_address"],
            "properties": {"ip_address": {"type": "string"}, "mac_address": MAC().schema()}}}


def _ip_or_cidr(value: Any) -> None:
    if isinstance(value, str) and "/" in value:
        try:
            ipaddress.ip_network(value, strict=False)
            return
        except ValueError:
            raise BadRequest(f"'{value}' is not a valid IP subnet",
                             type="HTTPBadRequest") from None
    try:
        ipaddress.ip_address(value if isinstance(value, str) else "")
    except ValueError:
        raise BadRequest(f"'{value}' is not a valid IP address", type="HTTPBadRequest") from None


@dataclass(frozen=True, slots=True)
class Obj(Kind):
    fields: Mapping[str, Kind]
    required: tuple[str, ...] = ()
    nullable: bool = False
    extra: bool = False  # free-form dict (binding:profile)
    nodata: bool = False  # neutron-lib type:dict_or_nodata: {} passes unchecked

    def _convert(self, value: Any, attr: str) -> Any:
        if not isinstance(value, dict):
            raise invalid(attr, f"'{value}' is not a dictionary")
        if self.extra or (self.nodata and not value):
            return dict(value)
        out: dict[str, Any] = {}
        for k, v in value.items():
            kind = self.fields.get(k)
            if kind is None:
                raise invalid(attr, f"Unexpected keys supplied: {k}")
            out[k] = kind.convert(v, attr)
        missing = [k for k in self.required if k not in out]
        if missing:
            raise invalid(attr, f"Validation of dictionary's keys failed. Expected keys: "
                                f"{set(self.required)} Provided keys: {set(out)}")
        return out

    def _schema(self) -> dict[str, Any]:
        if self.extra:
            return {"type": "object"}
        return {"type": "object", "additionalProperties": False,
                "properties": {k: v.schema() for k, v in self.fields.items()},
                **({"required": list(self.required)} if self.required else {})}


@dataclass(frozen=True, slots=True)
class Attr:
    kind: Kind
    post: bool = True
    put: bool = True
    required: bool = False  # on POST


@dataclass(frozen=True, slots=True)
class Resource:
    """A Neutron resource: URL collection, JSON member key, cloud method suffix, attributes."""

    collection: str
    member: str
    attrs: Mapping[str, Attr] = field(default_factory=dict)

    @property
    def plural(self) -> str:
        return self.collection.replace("-", "_")

    def validate(self, body: Any, method: str) -> dict[str, Any]:
        """Unwrap `{member: {...}}` and convert each attribute; raises BadRequest."""
        if not isinstance(body, dict) or self.member not in body:
            raise BadRequest(f"Unable to find '{self.member}' in request body",
                             type="HTTPBadRequest")
        if len(body) != 1:
            extra = ", ".join(sorted(k for k in body if k != self.member))
            raise BadRequest(f"Unrecognized attribute(s) '{extra}'", type="HTTPBadRequest")
        data = body[self.member]
        if not isinstance(data, dict):
            raise BadRequest(f"Invalid input for {self.member}. Reason: body is not a "
                             "dictionary.", type="HTTPBadRequest")
        unknown = sorted(k for k in data if k not in self.attrs)
        if unknown:
            raise BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'",
                             type="HTTPBadRequest")
        out: dict[str, Any] = {}
        for name, value in data.items():
            attr = self.attrs[name]
            if method == "POST" and not attr.post:
                raise BadRequest(f"Attribute '{name}' not allowed in POST",
                                 type="HTTPBadRequest")
            if method == "PUT" and not attr.put:
                raise BadRequest(f"Cannot update read-only attribute {name}",
                                 type="HTTPBadRequest")
            out[name] = attr.kind.convert(value, name)
        if method == "POST":
            for name, attr in self.attrs.items():
                if attr.required and name not in out:
                    raise BadRequest(f"Failed to parse request. Required attribute '{name}' "
                                     "not specified", type="HTTPBadRequest")
        return out

    def schema(self, method: str) -> dict[str, Any]:
        allowed = {k: a for k, a in self.attrs.items() if (a.post if method == "POST" else a.put)}
        inner: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                 "properties": {k: a.kind.schema() for k, a in allowed.items()}}
        req = [k for k, a in allowed.items() if a.required and method == "POST"]
        if req:
            inner["required"] = req
        return {"type": "object", "additionalProperties": False,
                "required": [self.member], "properties": {self.member: inner}}
