"""Evaluate the stack's Pulumi program with no cluster and no Pulumi CLI.

The same program that ``pulumi up`` runs is evaluated under Pulumi mocks that behave like
the Kubernetes API server (:mod:`offline.apiserver_mocks`). Three consumers share it:
the unit tests, ``make render`` (:mod:`offline.render`) and ``make policy``
(:mod:`offline.policy_check`).
"""

from .apiserver_mocks import ApiServerMocks, ApiServerRejectionError
from .evaluate import Evaluation, RegisteredResource, evaluate_program, evaluate_stack, stack_config

__all__ = [
    "ApiServerMocks",
    "ApiServerRejectionError",
    "Evaluation",
    "RegisteredResource",
    "evaluate_program",
    "evaluate_stack",
    "stack_config",
]
