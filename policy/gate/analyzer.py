"""Run the pack's analyzer service and send it the stack's resources."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Optional

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .config import load_config_file, reconcile
from .report import LEVEL_NAMES, GateReport, Violation

PACK_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GateProvider:
    """The provider a resource is registered with, as the engine describes it to analyzers."""

    type: str
    urn: str
    name: str

    def message(self) -> analyzer_pb2.AnalyzerProviderResource:
        """The analyzer protocol's form (properties left out: a provider's may hold credentials)."""
        return analyzer_pb2.AnalyzerProviderResource(type=self.type, urn=self.urn, name=self.name)


@dataclass(frozen=True)
class GateResource:
    """A resource as the engine describes it to analyzers."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    provider: Optional[GateProvider] = None

    def label(self) -> str:
        """``kubernetes:core/v1:Service: threetier-frontend``, as pulumi preview names resources."""
        return f"{self.type}: {self.name}"


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(props), message)
    return message


class PolicyPackServer:
    """The pack's own process (``policy/__main__.py``) serving the analyzer on a loopback port.

    Use as a context manager; one server can analyze many stacks (each ``analyze`` call
    configures it afresh).
    """

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable) -> None:
        self._process = subprocess.Popen(
            [python, "-u", str(pack_dir / "__main__.py")],
            cwd=pack_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self._process.kill()
            _, stderr = self._process.communicate()
            raise RuntimeError(f"policy pack failed to start: {line} {stderr}".strip())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.info: analyzer_pb2.AnalyzerInfo = self._stub.GetAnalyzerInfo(empty_pb2.Empty())
        # The Python SDK always answers 0.0.1; the CLI takes the version from PulumiPolicy.yaml.
        self.version = str(
            yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()).get("version", self.info.version)
        )

    def __enter__(self) -> PolicyPackServer:
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the pack process."""
        self._channel.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def analyze(self, resources: Iterable[GateResource], file_config: Mapping[str, Any]) -> GateReport:
        """Configure from ``file_config``, then Analyze each resource and AnalyzeStack all of them."""
        self._stub.Configure(reconcile(self.info, file_config))
        resources = list(resources)
        report = GateReport(pack=self.info.name, version=self.version, resources=len(resources))
        labels = {r.urn: r.label() for r in resources}
        for resource in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                properties=_struct(resource.props),
                urn=resource.urn,
                name=resource.name,
                provider=resource.provider.message() if resource.provider else None,
            )
            self._collect(report, self._stub.Analyze(request).diagnostics, labels, default_urn=resource.urn)
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.props),
                    urn=r.urn,
                    name=r.name,
                    parent=r.parent,
                    dependencies=r.dependencies,
                    provider=r.provider.message() if r.provider else None,
                )
                for r in resources
            ]
        )
        self._collect(report, self._stub.AnalyzeStack(stack_request).diagnostics, labels, default_urn="")
        return report

    @staticmethod
    def _collect(
        report: GateReport,
        diagnostics: Iterable[analyzer_pb2.AnalyzeDiagnostic],
        labels: Mapping[str, str],
        default_urn: str,
    ) -> None:
        for diagnostic in diagnostics:
            urn = diagnostic.urn or default_urn
            description, _, detail = diagnostic.message.partition("\n")
            report.violations.append(
                Violation(
                    policy=diagnostic.policyName,
                    level=LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory"),
                    urn=urn,
                    resource=labels.get(urn, urn or "stack"),
                    message=detail or description,
                )
            )


def run_gate(resources: Iterable[GateResource], config_path: Path) -> GateReport:
    """Judge ``resources`` with the pack configured by ``config_path`` (a ``--policy-pack-config`` file)."""
    file_config = load_config_file(config_path)
    with PolicyPackServer() as server:
        return server.analyze(resources, file_config)
