"""Run the pack's analyzer service and send it the stack's resources."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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


@dataclass(frozen=True)
class InFlight:
    """A resource sent to ``Analyze`` whose answer may not have come yet."""

    resource: GateResource
    properties: struct_pb2.Struct
    answer: grpc.Future


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

    def configure(self, file_config: Mapping[str, Any]) -> None:
        """Configure the pack from a ``--policy-pack-config`` file's content (raises :class:`PolicyConfigError`)."""
        self._stub.Configure(reconcile(self.info, file_config))

    def send(self, resource: GateResource) -> InFlight:
        """Send ``resource`` to ``Analyze`` without waiting for the answer (after :meth:`configure`)."""
        properties = _struct(resource.props)
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=properties,
            urn=resource.urn,
            name=resource.name,
            provider=resource.provider.message() if resource.provider else None,
        )
        return InFlight(resource, properties, self._stub.Analyze.future(request))

    def report(self, sent: Sequence[InFlight]) -> GateReport:
        """The answers to ``sent`` in their order, then ``AnalyzeStack`` over all of them: the report."""
        report = GateReport(pack=self.info.name, version=self.version, resources=len(sent))
        labels = {item.resource.urn: item.resource.label() for item in sent}
        for item in sent:
            self._collect(report, item.answer.result().diagnostics, labels, default_urn=item.resource.urn)
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=item.resource.type,
                    properties=item.properties,
                    urn=item.resource.urn,
                    name=item.resource.name,
                    parent=item.resource.parent,
                    dependencies=item.resource.dependencies,
                    provider=item.resource.provider.message() if item.resource.provider else None,
                )
                for item in sent
            ]
        )
        self._collect(report, self._stub.AnalyzeStack(stack_request).diagnostics, labels, default_urn="")
        return report

    def analyze(self, resources: Iterable[GateResource], file_config: Mapping[str, Any]) -> GateReport:
        """Configure from ``file_config``, then Analyze each resource and AnalyzeStack all of them.

        Every ``Analyze`` is sent before the first answer is read: the pack judges while this
        process builds the next requests.
        """
        self.configure(file_config)
        return self.report([self.send(resource) for resource in resources])

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


class StreamingGate:
    """:func:`run_gate` beside the code that produces the resources: each sent to the pack as it comes.

    The pack's process starts and is configured in a thread of its own; each resource :meth:`add`
    gets is sent to ``Analyze`` at once (before: buffered until the pack is up), without waiting
    for the answer, so the pack judges in its own process while the caller goes on evaluating the
    program. :meth:`verdict` reads the answers in order and runs ``AnalyzeStack``: the report is
    :func:`run_gate`'s for the same resources. :meth:`cancel` when the producer failed.
    """

    def __init__(self, config_path: Path) -> None:
        self._lock = threading.Lock()
        self._waiting: list[GateResource] = []
        self._sent: list[InFlight] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-gate")
        self._server = self._pool.submit(self._start, config_path)
        self._server.add_done_callback(lambda _: self._send_waiting())

    @staticmethod
    def _start(config_path: Path) -> PolicyPackServer:
        file_config = load_config_file(config_path)
        server = PolicyPackServer()
        try:
            server.configure(file_config)
        except BaseException:
            server.close()
            raise
        return server

    def _send_waiting(self) -> None:
        with self._lock:
            if not self._server.done() or self._server.exception() is not None:
                return
            server = self._server.result()
            self._sent.extend(server.send(resource) for resource in self._waiting)
            self._waiting.clear()

    def add(self, resource: GateResource) -> None:
        """Send ``resource`` to the pack, or queue it until the pack is up (returns at once)."""
        with self._lock:
            self._waiting.append(resource)
        self._send_waiting()

    @property
    def analyzed(self) -> int:
        """Resources whose ``Analyze`` has answered so far."""
        with self._lock:
            return sum(item.answer.done() for item in self._sent)

    def verdict(self) -> GateReport:
        """Every resource was added: the report (raises :class:`PolicyConfigError` for a bad config)."""
        self._pool.shutdown()
        server = self._server.result()
        try:
            self._send_waiting()
            return server.report(self._sent)
        finally:
            server.close()

    def cancel(self) -> None:
        """The resources will not all come: stop the pack, no verdict (a config error is dropped too)."""
        self._pool.shutdown()
        if self._server.exception() is None:
            self._server.result().close()
