"""The real server's weight from its checkers' results: keepalived's arithmetic, in one place.

keepalived keeps, per checker, the amount it adds to the real server's configured weight
(``cur_weight``) and sets IPVS to the configured weight plus the sum, clamped to
0..2147483647 (keepalived/check/check_data.h ``real_weight``):

- MISC_CHECK with misc_dynamic reports the weight the real server should have (exit status
  - 2), so it adds that weight less the configured one; exit 0 (``weight`` None) adds 0;
- FILE_CHECK reports what it adds (number x weight);
- other checkers add nothing.

A failed checker adds nothing either (keepalived zeroes its cur_weight on failure).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pykeepalived.check.result import CheckResult

__all__ = ["IPVS_WEIGHT_LIMIT", "checker_weight", "real_weight"]

IPVS_WEIGHT_LIMIT: Final = 2**31 - 1


def checker_weight(kind: str, result: CheckResult, configured: int) -> int:
    """What one checker's latest result adds to a real server whose weight is ``configured``."""
    if not result.ok or result.weight is None:
        return 0
    if kind == "MISC_CHECK":
        return result.weight - configured
    if kind == "FILE_CHECK":
        return result.weight
    return 0


def real_weight(configured: int, results: Iterable[tuple[str, CheckResult]]) -> int:
    """The IPVS weight of a real server: configured + every checker's share, clamped."""
    total = configured + sum(checker_weight(kind, result, configured) for kind, result in results)
    return max(0, min(IPVS_WEIGHT_LIMIT, total))
