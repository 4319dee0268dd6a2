"""Allow ``python -m pykeepalived``."""

from pykeepalived.daemon.cli import main

raise SystemExit(main())
