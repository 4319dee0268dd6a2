"""``python -m pykeepalived.demo``: the live demonstration on network namespaces."""

from pykeepalived.demo.run import main

raise SystemExit(main())
