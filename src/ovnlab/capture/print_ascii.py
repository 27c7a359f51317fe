"""tcpdump's print-ascii.c: payload bytes as printable text, hex words (-x) or hex and
ASCII (-X)."""

from __future__ import annotations


def printable(data: bytes) -> str:
    """tcpdump's fn_print_char: M- for 8-bit bytes, ^X for control characters."""
    out = []
    for b in data:
        prefix = ""
        if b & 0x80:
            prefix, b = "M-", b & 0x7F
        out.append(prefix + (chr(b) if 0x20 <= b < 0x7F else "^" + chr(b ^ 0x40)))
    return "".join(out)


def hexwords(data: bytes) -> str:
    """tcpdump's hex_print (-x): 16 bytes a line in 2-byte words, no ASCII column."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        words = "".join(" " + chunk[i:i + 2].hex() for i in range(0, len(chunk), 2))
        lines.append(f"\n\t0x{off:04x}: {words}")
    return "".join(lines)


def hexdump(data: bytes) -> str:
    """tcpdump's hex_and_ascii_print: 16 bytes a line, hex words then printable ASCII."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        words = "".join(" " + chunk[i:i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(b) if 0x20 < b < 0x7F else "." for b in chunk)  # isgraph()
        lines.append(f"\n\t0x{off:04x}: {words:<40}  {text}")
    return "".join(lines)
