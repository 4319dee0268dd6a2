"""The LVS keyword-effect tests' tools (test_lvs_keywords*.py): keepalived.conf text to the
health state machine on a fake clock, and to the bytes an IPVS kernel receives."""

from __future__ import annotations

from collections.abc import Callable

from pykeepalived.check.health import (
    CheckerHealth,
    CheckFailed,
    Event,
    HealthCore,
    QuorumChanged,
    RealServerChanged,
    WeightChanged,
)
from pykeepalived.check.result import CheckResult
from pykeepalived.check.table import group_services
from pykeepalived.config import Category, KeepalivedConfig, load_config_text
from pykeepalived.config.sysinfo import SystemInfo
from pykeepalived.lb.ipvs import IpvsBackend
from tests.unit.daemon.keyword_helpers import ME
from tests.unit.lb.fake_ipvs import FakeIpvs, KernelService

__all__ = ["KO", "OK", "Outcome", "core", "drive", "kernel", "load", "words"]

OK = CheckResult(True, "connected")
KO = CheckResult(False, "connection refused")

Outcome = Callable[[CheckerHealth, float], CheckResult]

HOST = SystemInfo(interfaces={"eth0": 1, "eth1": 1}, users={"root", ME, "nobody"},
                  groups={"root"}, probe_files=False)


def load(text: str) -> KeepalivedConfig:
    """The configuration, which must load without errors or warnings (aside: keepalived's
    notes on what it defaults (no scheduler, no forwarding method), notes that leave the exit
    status alone, and the SECURITY VIOLATION for scripts without enable_script_security:
    keepalived runs them anyway, and so do we)."""
    result = load_config_text(text, system=HOST)
    defaulted = ("no scheduler set", "no forwarding method set")
    problems = [str(d) for d in result.diagnostics if d.category != Category.SECURITY_ERROR
                and not any(words in d.message for words in defaulted)
                and not (d.category == Category.OK and d.severity == "warning")]
    assert result.runnable and not problems, problems
    return result.config


def core(config: KeepalivedConfig) -> HealthCore:
    """The state machine over ``config``: the random part of warmup is always one half,
    the bootstrap delay 1 s."""
    return HealthCore(config.virtual_servers, rand=lambda: 0.5, bootstrap=1.0)


def words(events: list[Event]) -> list[str]:
    """Events as short words: "198.51.100.1 DOWN", "quorum UP", "... weight 1->3", ..."""
    out = []
    for e in events:
        if isinstance(e, RealServerChanged):
            out.append(f"{e.rs.address} {'UP' if e.alive else 'DOWN'}")
        elif isinstance(e, QuorumChanged):
            out.append(f"quorum {'UP' if e.up else 'DOWN'}")
        elif isinstance(e, WeightChanged):
            out.append(f"{e.rs.address} weight {e.old}->{e.new}")
        elif isinstance(e, CheckFailed):
            out.append(f"{e.check.rs.address} failed{' retrying' if e.retrying else ''}")
    return out


def drive(c: HealthCore, until: float, outcome: Outcome,
          attempts: list[tuple[float, str]] | None = None) -> list[tuple[float, str]]:
    """Run every check that falls due up to ``until`` (a fake clock), each answered by
    ``outcome(check, now)``; the events, with their time. ``attempts`` collects (time,
    real server address) of every attempt."""
    out: list[tuple[float, str]] = []
    for _ in range(10_000):  # bounded
        when = c.next_time()
        if when is None or when > until:
            return out
        for ck in c.due(when):
            if attempts is not None:
                attempts.append((when, str(ck.rs.address)))
            out += [(when, w) for w in words(c.result(ck, outcome(ck, when), when))]
    raise AssertionError("the checks never stopped falling due")


def kernel(config: KeepalivedConfig, c: HealthCore) -> dict[tuple[object, ...], KernelService]:
    """What an IPVS kernel holds after the backend applied ``c``'s table (services by key)."""
    fake = FakeIpvs()
    IpvsBackend(fake).apply(c.services(group_services(config)))
    return fake.services
