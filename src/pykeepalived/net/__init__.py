"""The only package that touches the kernel: VRRP sockets, VIPs, VMACs, GARP/NA, link events."""
