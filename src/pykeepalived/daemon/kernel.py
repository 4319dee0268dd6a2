"""The VRRP process's changes to the host, batched and kept off the event loop.

Two things here cost time that the protocol cannot spare:

* a thousand instances whose timers expire together would take turns, each one's VIPs
  waiting for the others' gratuitous ARPs: :class:`VipBatch` installs the VIPs of every
  instance that became MASTER in one event in a single netlink batch, then sends their
  gratuitous ARP / NA rounds;
* nftables (the no_accept table of vrrp_strict, and the rule that sends a VMAC's IGMP/MLD
  reports out of its base interface) runs through libnftables or the ``nft`` command,
  milliseconds each: :class:`FirewallWorker` runs those changes in order in one thread of
  their own, so the loop never waits for them (but for a VMAC's rule, needed at once).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from pykeepalived.net.addresses import AddressManager, VipSpec
from pykeepalived.net.firewall import FirewallError, NftFirewall

log = logging.getLogger("pykeepalived.vrrp")


class FirewallWorker:
    """The no_accept nftables table, changed in order by one worker thread.

    Calls return at once; a failure is logged with its cause (the VIP stays installed: the
    protocol goes on). ``aclose`` removes the table and waits for the queue to drain.
    """

    def __init__(self) -> None:
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._firewall: NftFirewall | None = None
        self._failed_once = False

    def _submit(self, what: str, call: Callable[[NftFirewall], None]
                ) -> concurrent.futures.Future[None]:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="pykeepalived-nft")
        return self._pool.submit(self._run, what, call)

    def _run(self, what: str, call: Callable[[NftFirewall], None]) -> None:
        try:
            if self._firewall is None:
                self._firewall = NftFirewall()
            call(self._firewall)
        except (FirewallError, OSError) as exc:
            level = logging.DEBUG if self._failed_once else logging.ERROR
            self._failed_once = True
            log.log(level, "firewall (no_accept, VMAC group reports): %s failed: %s", what,
                    exc)

    def add_vips(self, addresses: Sequence[str]) -> None:
        items = list(addresses)
        self._submit("adding VIPs", lambda fw: fw.add_vips(items))

    def remove_vips(self, addresses: Sequence[str]) -> None:
        items = list(addresses)
        self._submit("removing VIPs", lambda fw: fw.remove_vips(items))

    def add_vmac(self, vmac: str, base: str, family: int, *, wait: float = 2.0) -> None:
        """Send the VMAC's IGMP/MLD reports out of its base interface (keepalived's rule).

        Waits (at most ``wait`` seconds) for the rule, so that it is in place before the
        VMAC joins the VRRP group: a report leaving a backup's VMAC would carry the virtual
        MAC, and the switches would send the master's traffic to the backup until the
        master's next advert."""
        done = self._submit(f"moving {vmac}'s group reports to {base}",
                            lambda fw: fw.add_vmac(vmac, base, family))
        try:
            done.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            log.error("firewall: moving %s's group reports to %s took over %g s", vmac, base,
                      wait)

    def remove_vmac(self, vmac: str, family: int) -> None:
        self._submit(f"forgetting VMAC {vmac}", lambda fw: fw.remove_vmac(vmac, family))

    async def aclose(self) -> None:
        """Remove the tables (if they were ever made) and stop the worker."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        done = pool.submit(self._run, "removing the table", lambda fw: fw.close())
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), timeout=30)
        except TimeoutError:
            log.error("no_accept firewall: removing the table did not finish in 30 s")
        pool.shutdown(wait=False)


class Installs(Protocol):
    """What :class:`VipBatch` needs of an instance."""

    @property
    def addresses(self) -> list[VipSpec]: ...

    def install_extras(self) -> None: ...

    def gratuitous_round(self) -> None: ...


class VipBatch:
    """VIPs and gratuitous rounds queued during one event, carried out just after it.

    An advert the core ordered after an instance's VIPs (a takeover after a priority-0
    advert, where with use_vmac the advert moves the MAC) waits here too, and goes out once
    the VIPs are in, before the gratuitous rounds: the core's order holds on the wire."""

    def __init__(self, loop: asyncio.AbstractEventLoop, addresses: AddressManager) -> None:
        self.loop = loop
        self.addresses = addresses
        self._vips: dict[Installs, None] = {}
        self._after_vips: list[Callable[[], None]] = []
        self._gratuitous: list[Installs] = []
        self._scheduled = False

    def add(self, inst: Installs) -> None:
        self._vips[inst] = None
        self._schedule()

    def pending(self, inst: Installs) -> bool:
        """Whether ``inst``'s VIPs are queued and not installed yet."""
        return inst in self._vips

    def after_vips(self, send: Callable[[], None]) -> None:
        """Run ``send`` once the queued VIPs are installed (before the gratuitous rounds)."""
        self._after_vips.append(send)
        self._schedule()

    def cancel(self, inst: Installs) -> None:
        self._vips.pop(inst, None)

    def gratuitous(self, inst: Installs) -> None:
        self._gratuitous.append(inst)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Install every queued instance's VIPs in one netlink batch, then its extras
        (routes, rules, no_accept), then send the gratuitous rounds."""
        self._scheduled = False
        pending = list(self._vips)
        self._vips.clear()
        if pending:
            specs: Iterable[VipSpec] = [v for inst in pending for v in inst.addresses]
            try:
                self.addresses.add_many(specs)
            except OSError as exc:
                log.error("Adding VIPs failed: %s", exc)
            for inst in pending:
                try:
                    inst.install_extras()
                except OSError as exc:
                    log.error("installing routes/rules failed: %s", exc)
        sends, self._after_vips = self._after_vips, []
        for send in sends:
            send()
        rounds, self._gratuitous = self._gratuitous, []
        for inst in rounds:
            inst.gratuitous_round()
