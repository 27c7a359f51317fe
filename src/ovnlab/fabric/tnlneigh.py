"""ovs-vswitchd's tunnel neighbour cache (lib/tnl-neigh-cache.c), as the userspace
datapath's native tunnelling uses it (the real lab's `datapath_type=netdev`).

A Geneve packet to a remote whose MAC the cache lacks is dropped, and ovs-vswitchd sends an
ARP request for it instead (xlate's tnl_send_arp_request); the reply is snooped on its way
through (tnl_neigh_snoop) and the next packet goes. The cache lives in ovs-vswitchd: a
restarted one starts empty, so its first packet to each chassis (its first BFD message
among them) is lost. A switch that has run since the lab was built knows every neighbour
(`warm`), as one long running would.
"""

from __future__ import annotations

from ovnlab.packet import ARP_REPLY, ARP_REQUEST, BROADCAST, ETH_ARP, Packet


class TunnelNeighbours:
    def __init__(self) -> None:
        self.entries: dict[int, int] = {}  # remote IP -> MAC
        self.warm = True  # never restarted: every neighbour known

    def flush(self) -> None:
        """ovs-vswitchd (re)started: nothing learnt yet."""
        self.entries.clear()
        self.warm = False

    def known(self, ip: int) -> bool:
        return self.warm or ip in self.entries

    def snoop(self, packet: Packet) -> None:
        """tnl_neigh_snoop: an ARP reply, or a gratuitous ARP, teaches its sender."""
        if packet.eth_type != ETH_ARP or not packet.arp_spa:
            return
        if packet.arp_op == ARP_REPLY or packet.arp_spa == packet.arp_tpa:
            self.entries[packet.arp_spa] = packet.arp_sha

    @staticmethod
    def request(mac: int, src: int, dst: int) -> Packet:
        """tnl_send_arp_request: who-has `dst`, from the tunnel's local address."""
        return Packet(eth_src=mac, eth_dst=BROADCAST, eth_type=ETH_ARP, arp_op=ARP_REQUEST,
                      arp_sha=mac, arp_spa=src, arp_tha=0, arp_tpa=dst)
