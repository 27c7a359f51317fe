"""Nova's request schema checks shared by its v2.1 modules (nova/api/validation/
parameter_types.py), with Nova's error texts."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ovnlab.errors import BadRequest


def _bad(message: str) -> BadRequest:
    return BadRequest(message)


def _validate_string(value: Any, what: str, *, min_len: int = 0, max_len: int = 255) -> str:
    if not isinstance(value, str):
        raise _bad(f"Invalid input for field/attribute {what}. Value: {value}. "
                   f"{value!r} is not of type 'string'")
    if not min_len <= len(value) <= max_len:
        raise _bad(f"Invalid input for field/attribute {what}. Value: {value}. "
                   f"{value!r} is too {'short' if len(value) < min_len else 'long'}")
    return value


def _printable(char: str) -> bool:
    """Nova's parameter_types._is_printable, over the code points its name regex is built
    from (the Basic Multilingual Plane)."""
    category = unicodedata.category(char)
    return (ord(char) < 0xFFFF and not category.startswith("C")
            and (not category.startswith("Z") or category == "Zs"))


def _validate_name(name: str) -> str:
    """Nova's `name` format (valid_name_regex): printable characters, none of them a space
    separator at either end. Control characters never reach a listing or a terminal."""
    if not all(map(_printable, name)) or any(
            unicodedata.category(c) == "Zs" for c in (name[:1], name[-1:]) if c):
        raise _bad("An invalid 'name' value was provided. The name must be: printable "
                   "characters. Can not start or end with whitespace.")
    return name


_METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def _validate_metadata(metadata: Any) -> None:
    """Nova's parameter_types.metadata: keys of `[a-zA-Z0-9-_:. ]{1,255}`, string values of
    at most 255 characters."""
    what = f"Invalid input for field/attribute metadata. Value: {metadata}."
    if not isinstance(metadata, dict):
        raise _bad(f"{what} {metadata!r} is not of type 'object'")
    extra = [k for k in metadata if not _METADATA_KEY.match(k)]
    if extra:
        raise _bad(f"{what} Additional properties are not allowed "
                   f"({', '.join(map(repr, extra))} {'was' if len(extra) == 1 else 'were'} "
                   "unexpected)")
    for value in metadata.values():
        if not isinstance(value, str):
            raise _bad(f"{what} {value!r} is not of type 'string'")
        if len(value) > 255:
            raise _bad(f"{what} {value!r} is too long")
