"""Each evaluation stands alone: nothing of an earlier one is kept, nothing of a failed one is logged later."""

from __future__ import annotations

import gc
import logging
import weakref

import pulumi
import pulumi_kubernetes as k8s
import pytest

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
