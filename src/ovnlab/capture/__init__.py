"""Packet captures as tcpdump shows them: line format, pcap-filter expressions, pcap files."""
