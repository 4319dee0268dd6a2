"""Tracking I/O: vrrp_script runs and track_file reads, reported to the VRRP engine.

The effective-priority arithmetic (weights, reverse, FAULT when an unweighted tracker fails)
lives in :mod:`pykeepalived.vrrp.tracking`; this package only runs and watches things:

- :class:`TrackedScript`: ``vrrp_script`` with interval, timeout, rise/fall, init_fail;
- :class:`TrackedFile`: ``track_file`` with inotify and ``init_file``.
"""

from pykeepalived.track.file import TrackedFile, parse_value
from pykeepalived.track.script import TrackedScript

__all__ = ["TrackedFile", "TrackedScript", "parse_value"]
