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
import errno
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from pykeepalived.net.addresses import AddressError, AddressManager, VipSpec
from pykeepalived.net.firewall import FirewallError, NftFirewall

log = logging.getLogger("pykeepalived.vrrp")


class FirewallWorker:
    """The no_accept nftables table, changed in order by one worker thread.

    Calls return at once. A failure (no nft command nor libnftables, nf_tables refusing)
    is logged once with its cause, then at debug level while the cause stays the same; the
    VIP stays installed and the protocol goes on; the first change that works again is
    logged too. ``error`` says, for status, why the table is not as wanted (None: it is).
    ``aclose`` removes the table and waits for the queue to drain.
    """

    def __init__(self) -> None:
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._firewall: NftFirewall | None = None
        self.error: str | None = None  # written by the worker thread, read for status
        self.in_use = False

    def _submit(self, what: str, call: Callable[[NftFirewall], None]
                ) -> concurrent.futures.Future[None]:
        self.in_use = True
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="pykeepalived-nft")
        return self._pool.submit(self._run, what, call)

    def _run(self, what: str, call: Callable[[NftFirewall], None]) -> None:
        done = -1
        try:
            if self._firewall is None:
                self._firewall = NftFirewall()
            done = self._firewall.done
            call(self._firewall)
        except (FirewallError, OSError) as exc:
            cause = _cause(exc)
            log.log(logging.DEBUG if cause == self.error else logging.ERROR,
                    "no_accept firewall: %s failed: %s - VRRP goes on; the VIPs are not "
                    "filtered", what, cause)
            self.error = cause
            return
        if self.error is not None and self._firewall.done != done:  # nft took a change
            log.info("no_accept firewall: %s worked again (it had failed: %s)", what,
                     self.error)
            self.error = None

    def status(self) -> dict[str, object]:
        """For --status: whether no_accept is in use and why its table is not right."""
        return {"in_use": self.in_use, "error": self.error}

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


#: A VIP the kernel refused: (errno, the kernel's words).
Refusal = tuple[int, str]


def describe_refusal(refusal: Refusal) -> str:
    """``Permission denied (errno 13, EACCES)``: the words and the number, for the log."""
    code, text = refusal
    return f"{text} (errno {code}, {errno.errorcode.get(code, '?')})"


def _cause(exc: BaseException) -> str:
    """``No such file or directory: 'nft'`` rather than ``[Errno 2] ...``."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}" if exc.filename else exc.strerror
    return str(exc)


class Installs(Protocol):
    """What :class:`VipBatch` needs of an instance."""

    @property
    def addresses(self) -> Sequence[VipSpec]: ...

    def vips_added(self, refused: Mapping[VipSpec, Refusal]) -> None: ...

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
        """Install every queued instance's VIPs in one netlink batch, tell each instance
        which ones the kernel refused (it says so, once, and reports only what is there),
        then its extras (routes, rules, no_accept), then send the gratuitous rounds."""
        self._scheduled = False
        pending = list(self._vips)
        self._vips.clear()
        if pending:
            specs = [v for inst in pending for v in inst.addresses]
            refused: dict[VipSpec, Refusal] = {}
            try:
                self.addresses.add_many(specs)
            except AddressError as exc:
                refused = {spec: (code, text) for spec, code, text in exc.failures
                           if isinstance(spec, VipSpec)}
            except OSError as exc:  # the batch itself failed: none of them is known to be in
                refused = dict.fromkeys(specs, (exc.errno or 0, exc.strerror or str(exc)))
            for inst in pending:
                inst.vips_added({v: refused[v] for v in inst.addresses if v in refused})
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
