"""``python3 -m tests.chaos`` (what scripts/chaos runs)."""

from tests.chaos.soak import main

raise SystemExit(main())
