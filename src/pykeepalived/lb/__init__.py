"""Virtual/real server model and load-balancer backends (IPVS, nftables)."""
