"""tcpdump's print-bfd.c: a BFD control packet (RFC 5880) on UDP port 3784."""

from __future__ import annotations

import struct

BFD_CONTROL_PORT = 3784
_BFD_STATES = ("AdminDown", "Down", "Init", "Up")
_BFD_DIAGS = {0: "No Diagnostic", 1: "Control Detection Time Expired",
              2: "Echo Function Failed", 3: "Neighbor Signaled Session Down",
              4: "Forwarding Plane Reset", 5: "Path Down", 6: "Concatenated Path Down",
              7: "Administratively Down", 8: "Reverse Concatenated Path Down"}
_BFD_FLAGS = ((0x20, "Poll"), (0x10, "Final"), (0x08, "Control Plane Independent"),
              (0x04, "Authentication Present"), (0x02, "Demand"), (0x01, "Multipoint"))


def bfd_control(payload: bytes, verbose: bool) -> str:
    """print-bfd.c's forms of a BFD v1 Control message (checked against tcpdump 4.99)."""
    vd, flags, mult, length, my, your, tx, rx, echo = struct.unpack("!BBBBIIIII", payload[:24])
    names = ", ".join(n for bit, n in _BFD_FLAGS if flags & bit) or "none"
    state = f"State {_BFD_STATES[flags >> 6]}, Flags: [{names}]"
    if not verbose:
        return f"BFDv{vd >> 5}, Control, {state}, length: {len(payload)}"
    diag = vd & 0x1F
    return (f"BFDv{vd >> 5}, length: {len(payload)}\n"
            f"\tControl, {state}, Diagnostic: {_BFD_DIAGS.get(diag, 'unknown')} (0x{diag:02x})\n"
            f"\tDetection Timer Multiplier: {mult} ({mult * tx // 1000} ms Detection time), "
            f"BFD Length: {length}\n"
            f"\tMy Discriminator: 0x{my:08x}, Your Discriminator: 0x{your:08x}\n"
            f"\t  Desired min Tx Interval:    {tx // 1000:4d} ms\n"
            f"\t  Required min Rx Interval:   {rx // 1000:4d} ms\n"
            f"\t  Required min Echo Interval: {echo // 1000:4d} ms")
