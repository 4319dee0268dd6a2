"""pykeepalived: keepalived's VRRP stack, health checkers and load-balancer rules in Python."""

__version__ = "0.1.0"
