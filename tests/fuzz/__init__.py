"""Fuzzing helpers shared by the bounded tests (tests/unit, tests/netns) and ``scripts/fuzz``.

Kept under ``tests/`` so that nothing here is on the daemon's import path:

* :mod:`tests.fuzz.vrrp_inputs`: valid VRRP datagrams (v2/v3, IPv4/IPv6, no auth, PASS, AH)
  built from fields, and the mutations applied to them (bit flips, truncations, extensions,
  field rewrites with checksums and AH ICVs made right again);
* :mod:`tests.fuzz.vrrp_harness`: a VRRP process of several instances fed datagrams through
  the daemon's own receive path, with the properties every datagram must satisfy;
* :mod:`tests.fuzz.config_mutate`: seeded mutations of keepalived.conf texts;
* :mod:`tests.fuzz.config_check`: the loader run on a mutated text in a child process bounded
  in time and memory;
* :mod:`tests.fuzz.agree`: ``keepalived -t`` and ``pykeepalived -t`` side by side on a corpus
  of mutated configurations, in a network namespace;
* :mod:`tests.fuzz.run`: the long runs of ``scripts/fuzz``.
"""
