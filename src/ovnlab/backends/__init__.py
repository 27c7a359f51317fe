"""What runs a lab's OVN and Open vSwitch. The emulated backend is the rest of ovnlab
(northd/, controller/, datapath/, fabric/); `ovn` runs the real programs in network
namespaces behind the same cloud, driver and commands."""
