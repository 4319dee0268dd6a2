"""The load-balancer table and the backends that make it real.

``model``      Service / Destination values and the Backend protocol (apply, clear, read)
``ipvs``       IPVS over generic netlink; ``ipvs_codec`` builds and reads its messages
``nftables``   a table of pykeepalived's own; ``nft_plan`` (what runs as what, warnings),
               ``nft_script`` (the ruleset) and ``nft_delta`` (a change made in place) hold
               the logic, with no I/O
``select``     ``lb_backend ipvs | nftables | auto`` and IPVS detection
``status``     the table in ``ipvsadm -Ln`` form
``errors``     LbError, BackendUnavailable
"""
