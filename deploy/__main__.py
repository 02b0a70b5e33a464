"""``python -m deploy``: report the Pulumi engine on this machine (exit 2 when a part is missing)."""

import sys

from .engine import main

sys.exit(main())
