"""Post-deploy verification: checks that what a stack exports is true on the live cluster.

Knows nothing of the components that produced the stack: it trusts only the stack's
exported outputs (``pulumi stack output --json``) and the live API server.
"""

from .model import CheckResult, StackOutputs, Status, TierExport
from .runner import VerifyOptions, verify

__all__ = ["CheckResult", "StackOutputs", "Status", "TierExport", "VerifyOptions", "verify"]
