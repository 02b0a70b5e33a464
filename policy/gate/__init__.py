"""The offline policy gate: the pack judged through its own gRPC analyzer service.

:func:`run_gate` starts the pack exactly as the Pulumi engine does (``policy/__main__.py``
serving the policy SDK's analyzer on a loopback port), configures it from a
``--policy-pack-config`` file the way the engine does, and sends every resource through
``Analyze`` and the whole stack through ``AnalyzeStack``; :class:`StreamingGate` does the same
while the resources are still being produced.
"""

from .analyzer import GateProvider, GateResource, PolicyPackServer, StreamingGate, run_gate
from .config import PolicyConfigError
from .report import GateReport, Violation, format_report, gate_exit_status

__all__ = [
    "GateProvider",
    "GateReport",
    "GateResource",
    "PolicyConfigError",
    "PolicyPackServer",
    "StreamingGate",
    "Violation",
    "format_report",
    "gate_exit_status",
    "run_gate",
]
