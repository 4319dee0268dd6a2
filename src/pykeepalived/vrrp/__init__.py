"""VRRP (RFC 3768, RFC 5798): sans-I/O packet codec and virtual-router state machines."""
