"""Importing the components loads the pulumi_kubernetes modules they use: inline programs may start in threads.

pulumi_kubernetes loads its API modules lazily (importlib.util.LazyLoader); in Python 3.11 two
threads touching one such module first at once can see it half-loaded (the integration session
deploying two platform stacks side by side from one process failed with "module
'pulumi_kubernetes.core.v1' has no attribute 'Namespace'").
"""

from __future__ import annotations

import subprocess
import sys

MODULES = ["meta.v1", "core.v1", "apps.v1", "networking.v1", "policy.v1", "rbac.v1"]


def test_importing_the_components_leaves_no_kubernetes_module_half_loaded() -> None:
    probe = (
        "import sys, components\n"
        f"for name in {MODULES!r}:\n"
        "    print(name, type(sys.modules['pulumi_kubernetes.' + name]).__name__)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.split("\n")[:-1] == [f"{name} module" for name in MODULES]
