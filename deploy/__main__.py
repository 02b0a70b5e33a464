"""``python -m deploy``: report the Pulumi engine on this machine (exit 2 when a part is missing).

``python -m deploy --path`` prints the PATH the engine runs with (for ``hack/stack.sh``).
``python -m deploy has-pending EXPORT.json`` exits 0 when a ``pulumi stack export`` file has
pending creates (an interrupted ``up``); ``python -m deploy adopt-pending STACK`` makes the state
of STACK (in ``$PULUMI_BACKEND_URL``, passphrase ``$PULUMI_CONFIG_PASSPHRASE``) whole again: see
:mod:`deploy.pending`.
"""

import os
import sys
from pathlib import Path

from .engine import find_engine, main
from .pending import report_pending_creates
from .stack import DEFAULT_PASSPHRASE, Backend, open_stack

if sys.argv[1:] == ["--path"]:
    print(find_engine().path())
    sys.exit(0)
if len(sys.argv) == 3 and sys.argv[1] == "has-pending":
    sys.exit(report_pending_creates(Path(sys.argv[2])))
if len(sys.argv) == 3 and sys.argv[1] == "adopt-pending":
    backend = Backend(
        url=os.environ["PULUMI_BACKEND_URL"],
        passphrase=os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEFAULT_PASSPHRASE),
    )
    stack = open_stack(sys.argv[2], find_engine(), backend, on_output=print)
    for create in stack.adopt_pending_creates():
        print(f"adopted the pending create of {create.urn} as {create.object_id} (kept if the refresh finds it)")
    sys.exit(0)
sys.exit(main())
