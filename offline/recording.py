"""Run any Pulumi program under mocks (by default :class:`ApiServerMocks`) and record what it registered.

Generic: nothing here knows about a project's files. :mod:`offline.project` adds a project's
``Pulumi.yaml``, stack files and main program on top.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import Stack, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .apiserver_mocks import ApiServerMocks
from .exports import resolve_export


@dataclass(frozen=True)
class RegisteredResource:
    """One resource the program registered: what it asked for and what the mocks returned."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    #: Inputs as the provider receives them (camelCase; secret values wrapped).
    inputs: dict[str, Any]
    #: State returned by the emulated API server.
    state: dict[str, Any]
    #: The provider it was registered with (``<provider URN>::<id>``); empty: the package's default provider.
    provider: str = ""


@dataclass
class Evaluation:
    """The result of one evaluation: registered resources and resolved stack outputs."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    #: Names of the stack outputs Pulumi marks secret.
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, typ: str) -> list[RegisteredResource]:
        """Registered resources of Pulumi type token ``typ``."""
        return [resource for resource in self.resources if resource.type == typ]

    def kubernetes_objects(self) -> list[RegisteredResource]:
        """Registered Kubernetes objects (no providers, no components), in registration order."""
        return [
            r
            for r in self.resources
            if r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:")
        ]


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also recording each registration's inputs, parent and URN.

    The inputs recorded are the ones the SDK deserialized for the mocks (deserializing them a
    second time cost a few percent of an evaluation); mocks that change them in place change
    the record too (:class:`ApiServerMocks` works on a copy).
    """

    def __init__(
        self, mocks: pulumi.runtime.Mocks, on_registered: Optional[Callable[[RegisteredResource], None]] = None
    ) -> None:
        self._tap = _InputsTap(mocks)
        super().__init__(self._tap)
        self.registrations: list[RegisteredResource] = []
        self._on_registered = on_registered
        self._recording = threading.Lock()  # the SDK registers from several threads: one order for both

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """Register as the SDK's mock monitor does, then record the registration."""
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            registered = self.resources[response.urn]
            recorded = RegisteredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                inputs=self._tap.last_inputs(),
                state=dict(registered.state),
                provider=request.provider,
            )
            with self._recording:
                self.registrations.append(recorded)
                if self._on_registered is not None:
                    self._on_registered(recorded)
        return response


class _InputsTap(pulumi.runtime.Mocks):
    """Passes every call to ``mocks``, keeping the inputs of this thread's latest ``new_resource``.

    The SDK registers resources from a thread pool and calls ``new_resource`` on the registering
    thread, so the inputs a registration saw are this thread's latest.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        self.mocks = mocks
        self._latest = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[Any, Any]]:
        self._latest.inputs = args.inputs
        return self.mocks.new_resource(args)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return self.mocks.call(args)

    def last_inputs(self) -> dict[str, Any]:
        """The inputs of the latest ``new_resource`` on this thread."""
        inputs: dict[str, Any] = self._latest.inputs
        return inputs


def evaluate_program(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, str],
    project: str = "threetier",
    mocks: Optional[pulumi.runtime.Mocks] = None,
    on_registered: Optional[Callable[[RegisteredResource], None]] = None,
) -> Evaluation:
    """Run ``program`` against a fresh emulated cluster and return what it registered.

    ``config`` is the flat Pulumi config (``"<project>:<key>" -> string``, objects as JSON);
    ``project`` is the project name the program's ``pulumi.Config()`` reads under. ``mocks``
    defaults to a fresh :class:`ApiServerMocks` (any ``pulumi.runtime.Mocks`` works; one with a
    ``preview`` attribute sets the dry-run flag). Any exception of the program (e.g.
    :class:`components.ConfigError`) or of the emulated API server
    (:class:`ApiServerRejectionError`) propagates to the caller. An entrypoint the program
    registered with ``pulumi.run`` runs after its code and its result is exported, as under the engine.
    ``on_registered`` is called with each resource as it is recorded, in the order of the record.
    """
    mocks = mocks or ApiServerMocks()
    preview = bool(getattr(mocks, "preview", False))
    monitor = RecordingMonitor(mocks, on_registered)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    evaluation = Evaluation(resources=monitor.registrations)

    # A fresh root Stack, opened by run(): the process's earlier one (kept by set_mocks, and finished)
    # would pile its exports, and through them every resource graph evaluated since, into this one.
    ROOT.set(None)

    async def run() -> None:
        # As the SDK's run_in_stack does under the engine: a root Stack, the program, then the
        # entrypoint it registered with pulumi.run (its result exported). The stack's outputs are
        # resolved here, not registered (the mocks keep none).
        root = Stack()
        program()
        if (entrypoint := root._take_async_program()) is not None:
            root._add_program_outputs(await entrypoint())
        exported: dict[str, Any] = dict(root.outputs)
        for name, value in exported.items():
            evaluation.outputs[name], secret = await resolve_export(value)
            if secret:
                evaluation.secret_outputs.add(name)

    try:
        _sync_await(run_pulumi_func(lambda: run()))
    except BaseException:
        _retrieve_failed_futures()
        raise
    return evaluation


def _retrieve_failed_futures() -> None:
    """Mark the futures a failed evaluation left failed as seen; the caller gets the error itself.

    The SDK fails every output of a rejected resource; asyncio would log each of them as
    "Future exception was never retrieved" whenever it is collected, long after the test.
    """
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()
