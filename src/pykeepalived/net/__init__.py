"""The only package that touches the kernel for VRRP.

- ``vrrp_socket``: raw VRRP/AH sockets, one per (interface, family), received through the
  event loop (``VrrpSocket``, ``ReceivedPacket``).
- ``interfaces``: index, state, MAC and primary address of an interface.
- ``addresses``: VIPs (batched rtnetlink), virtual routes and rules (``AddressManager``,
  ``VipSpec``); ``routes`` puts the parsed virtual_routes/virtual_rules in netlink terms.
- ``gratuitous``: gratuitous ARP and unsolicited neighbour advertisements.
- ``vmac``: use_vmac macvlans with keepalived's sysctls.
- ``reflector``: link and address events (``NetlinkReflector``).
- ``firewall``: the no_accept / vrrp_strict nftables table (``NftFirewall``).
- ``netns``: run in a named network namespace.
"""
