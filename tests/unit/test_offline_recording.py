"""Each evaluation stands alone: nothing of an earlier one is kept, nothing of a failed one is logged later."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.sync_await import _sync_await

from components.args import Manifest
from offline import ApiServerMocks, ApiServerRejectionError, evaluate_program


def test_each_evaluation_starts_from_a_fresh_stack() -> None:
    first = evaluate_program(lambda: pulumi.export("first", 1), stack="test", config={})
    second = evaluate_program(lambda: pulumi.export("second", 2), stack="test", config={})
    assert first.outputs == {"first": 1}
    assert second.outputs == {"second": 2}


def test_an_earlier_evaluations_resources_are_not_kept_alive() -> None:
    created: list[k8s.core.v1.Namespace] = []

    def program() -> None:
        created.append(k8s.core.v1.Namespace("scale", metadata={"name": "scale"}))
        pulumi.export("namespace", created[0].metadata.name)

    evaluate_program(program, stack="test", config={})
    kept = weakref.ref(created.pop())
    evaluate_program(lambda: None, stack="test", config={})
    gc.collect()
    assert kept() is None, "the first evaluation's resources outlived it (referenced from the root stack)"


def test_a_rejected_evaluation_leaves_no_unretrieved_failures(caplog: pytest.LogCaptureFixture) -> None:
    def clash() -> None:
        for name in ("first", "second"):
            spec: Manifest = {"type": "NodePort", "selector": {"app": name}, "ports": [{"port": 80, "nodePort": 30500}]}
            service = k8s.core.v1.Service(name, spec=spec)
            pulumi.export(name, service.spec.cluster_ip)

    with pytest.raises(ApiServerRejectionError, match="30500: provided port is already allocated"):
        evaluate_program(clash, stack="test", config={}, mocks=ApiServerMocks())
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        evaluate_program(lambda: None, stack="test", config={})  # drops the failed one's root stack
        gc.collect()
    assert [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()] == []


@dataclass
class Address:
    host: str


def export_shapes() -> dict[str, Any]:
    """Every shape of value a stack exports, with secrets and Outputs at several depths."""
    secret = pulumi.Output.secret("s3cr3t")
    five = pulumi.Output.from_input(5)

    async def later() -> str:
        return "awaited"

    return {
        "scalar": 1,
        "none": None,
        "empty": {},
        "nested": {"a": [five, {"b": secret}], "t": (1, five), "e": []},
        "list": [secret, 2],
        "output_of_dict": five.apply(lambda v: {"v": v, "inner": pulumi.Output.from_input("x")}),
        "secret_map": pulumi.Output.secret({"k": "v"}),
        "output_key": {pulumi.Output.from_input("key"): five},
        "awaitable": asyncio.ensure_future(later()),
        "object": Address("db"),
    }


def test_exports_resolve_as_output_from_input_would() -> None:
    values: dict[str, Any] = {}

    def program() -> None:
        values.update(export_shapes())
        for name, value in values.items():
            pulumi.export(name, value)

    evaluation = evaluate_program(program, stack="test", config={})
    assert evaluation.secret_outputs == {"nested", "list", "secret_map"}
    for name, value in values.items():
        reference = pulumi.Output.from_input(value)
        expected = (_sync_await(reference.future()), _sync_await(reference.is_secret()))
        assert (evaluation.outputs[name], name in evaluation.secret_outputs) == expected, name


def test_recorded_inputs_are_what_the_program_asked_for() -> None:
    def program() -> None:
        k8s.core.v1.Service("svc", metadata={"name": "svc"}, spec={"ports": [{"port": 80}]})

    [service] = evaluate_program(program, stack="test", config={}).resources
    assert service.inputs == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"ports": [{"port": 80}]},
    }
    assert service.state["spec"]["clusterIP"].startswith("10.96.")  # the mocks' answer, kept apart
