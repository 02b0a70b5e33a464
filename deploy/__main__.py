"""``python -m deploy``: report the Pulumi engine on this machine (exit 2 when a part is missing).

``python -m deploy --path`` prints the PATH the engine runs with (for ``hack/stack.sh``).
"""

import sys

from .engine import find_engine, main

if sys.argv[1:] == ["--path"]:
    print(find_engine().path())
    sys.exit(0)
sys.exit(main())
