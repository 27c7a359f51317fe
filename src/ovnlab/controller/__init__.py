"""ovn-controller: per chassis, Southbound → OpenFlow for br-int (OVN 22.03 layout).

Public API: `Controller(sb, vswitch)` with `.flows()`, `.dump_flows()`, `.run()`,
`.recompute()`, `.set_chassis_alive(name, alive)`, `.packet_in(event)`, `.periodic(now)`;
`PacketOut`; the pure compiler `compile_lflow(...)` and `OFFlow`.
"""

from ovnlab.controller.controller import Controller, PacketOut
from ovnlab.controller.lflow import LflowEnv, OFFlow, compile_lflow, cookie_of

__all__ = ["Controller", "LflowEnv", "OFFlow", "PacketOut", "compile_lflow", "cookie_of"]
