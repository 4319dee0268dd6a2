"""The one error the load-balancer backends raise."""

from __future__ import annotations


class LbError(RuntimeError):
    """The kernel refused a change, or a backend cannot run here.

    The message names the service (``TCP 203.0.113.10:80``), the real server when there is
    one, the step, and the kernel's or nft's own words, so that an operator can act on it.
    """


class BackendUnavailable(LbError):
    """The kernel lacks what the backend needs (no IPVS, no nftables)."""
