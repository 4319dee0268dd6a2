"""A chaos soak: two pykeepalived nodes and Debian's keepalived in one VRRP network.

Three nodes in namespaces on two bridges run several VRRP instances together (VRRPv2 and v3,
IPv4 and IPv6, a sync group spanning both segments, a use_vmac instance). Faults are injected at
random from a seed (links cut and flapped, partitions, kill -9 of a daemon's parent or of its VRRP
child, reloads with edited configurations, stops and restarts), while the invariants of a VRRP
network are checked every few tens of milliseconds from outside the daemons: the addresses in
every namespace and what each daemon says of its own state.

``scripts/chaos`` runs it for as long as asked and prints the report; a short run is part of the
test suite (tests/interop/test_chaos.py). Modules:

- :mod:`topology`: the nodes, instances and configuration files, the lab and the daemons;
- :mod:`observe`: what the soak sees (addresses, processes, each daemon's own state);
- :mod:`invariants`: what must hold, and the violations and convergence times found;
- :mod:`faults`: the faults, each a function of the seeded random generator;
- :mod:`soak`: the loop that ties them together, and the report.
"""
