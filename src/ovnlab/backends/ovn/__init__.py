"""The real backend: real ovsdb-server, ovn-northd, ovs-vswitchd and ovn-controller, one
network namespace per node, as ../shared/ovn-22.03/lab.sh builds the article's lab by hand.

    programs  which binaries, and what is missing (preflight)
    procs     running and stopping daemons by pidfile; the record of what was created
    netns     namespaces, veths and Linux bridges
    central   the NB and SB ovsdb-servers and ovn-northd
    chassis   per chassis: ovsdb-server, ovs-vswitchd (netdev), ovn-controller, bridges
    hosts     the provider and underlay segments, external router, hosts, Nova servers
    northbound the ovsdbapp side of the driver's Northbound (and the SB chassis it reads)
    lab       OvnLab, the top object the daemon serves
"""
