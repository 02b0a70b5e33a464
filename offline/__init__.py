"""Evaluate a Pulumi program with no cluster and no Pulumi CLI, under mocks that act like the Kubernetes API server.

The testing aid of the ``threetier`` components, for this repository and for any program that
uses them:

- :class:`ApiServerMocks`: ``pulumi.runtime.Mocks`` that default, allocate and reject objects
  like a fresh API server (cluster IPs, node ports, LoadBalancer ingress, Secret data).
- :func:`evaluate_program`: run a program (any callable) under them and get an
  :class:`Evaluation` (every registered resource's inputs and state, the stack outputs).
- :class:`PulumiProject` / :func:`find_project`: a project on disk (``Pulumi.yaml``, stack
  files, ``__main__.py``), evaluated per stack; :func:`evaluate_stack` for the current one.
- :class:`ReferencedStack`: the outputs a ``pulumi.StackReference`` reads under the mocks
  (``ApiServerMocks(stacks=...)``; a project's neighbours fill them, :meth:`PulumiProject.mocks`).
- :func:`manifests`: an evaluation's Kubernetes objects as manifests, secrets redacted
  (``python -m offline.render --stack dev`` writes them).
"""

from .apiserver_mocks import ApiServerMocks, ApiServerRejectionError
from .evaluate import evaluate_stack, stack_config
from .manifests import REDACTED, manifest_of, manifests, write_manifests
from .project import PulumiProject, find_project
from .recording import Evaluation, RecordingMonitor, RegisteredResource, evaluate_program
from .stack_references import ReferencedStack, UnknownStackError, diy_stack_name

__all__ = [
    "REDACTED",
    "ApiServerMocks",
    "ApiServerRejectionError",
    "Evaluation",
    "PulumiProject",
    "RecordingMonitor",
    "ReferencedStack",
    "RegisteredResource",
    "UnknownStackError",
    "diy_stack_name",
    "evaluate_program",
    "evaluate_stack",
    "find_project",
    "manifest_of",
    "manifests",
    "stack_config",
    "write_manifests",
]
