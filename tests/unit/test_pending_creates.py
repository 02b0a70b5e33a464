"""An interrupted ``up``'s pending creates, adopted so that the next ``up`` converges (deploy/pending.py).

The state here is shaped as ``pulumi stack export`` writes it (CLI v3.259.0); the integration
suite proves the same on a real state with the engine (test_engine.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from deploy.pending import adopt_pending_creates, kubernetes_object_id, pending_creates

ROOT = Path(__file__).resolve().parents[2]
STACK_URN = "urn:pulumi:dev::threetier::pulumi:pulumi:Stack::threetier-dev"
TIER_URN = "urn:pulumi:dev::threetier::threetier:components:ThreeTierApp$threetier:components:Tier::threetier-backend"
DEPLOYMENT_URN = (
    "urn:pulumi:dev::threetier::threetier:components:ThreeTierApp$threetier:components:Tier"
    "$kubernetes:apps/v1:Deployment::threetier-backend"
)
NAMESPACE_URN = "urn:pulumi:dev::threetier::threetier:components:ThreeTierApp$kubernetes:core/v1:Namespace::ns"
PASSWORD_URN = "urn:pulumi:dev::threetier::random:index/randomPassword:RandomPassword::password"
SERVICE_URN = "urn:pulumi:dev::threetier::kubernetes:core/v1:Service::threetier-frontend"


def resource(urn: str, resource_type: str, inputs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"urn": urn, "custom": True, "type": resource_type, "inputs": inputs, "parent": TIER_URN, **fields}


def interrupted_state() -> dict[str, Any]:
    """Two resources done; a Deployment, a Namespace and a password pending; a Service being updated."""
    deployment_inputs = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "backend", "namespace": "threetier-dev", "labels": {"app": "backend"}},
        "spec": {"replicas": 1},
    }
    return {
        "manifest": {"time": "2026-11-24T00:00:00Z"},
        "resources": [
            {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"},
            {"urn": TIER_URN, "custom": False, "type": "threetier:components:Tier", "parent": STACK_URN},
        ],
        "pending_operations": [
            {
                "resource": resource(DEPLOYMENT_URN, "kubernetes:apps/v1:Deployment", deployment_inputs),
                "type": "creating",
            },
            {
                "resource": resource(NAMESPACE_URN, "kubernetes:core/v1:Namespace", {"metadata": {"name": "tt"}}),
                "type": "creating",
            },
            {
                "resource": resource(PASSWORD_URN, "random:index/randomPassword:RandomPassword", {"length": 24}),
                "type": "creating",
            },
            {
                "resource": resource(SERVICE_URN, "kubernetes:core/v1:Service", {}, id="threetier-dev/frontend"),
                "type": "updating",
            },
        ],
    }


def test_kubernetes_objects_are_identified_as_the_provider_does() -> None:
    assert (
        kubernetes_object_id({"metadata": {"name": "backend", "namespace": "threetier-dev"}}) == "threetier-dev/backend"
    )
    assert kubernetes_object_id({"metadata": {"name": "threetier-dev"}}) == "threetier-dev"
    assert kubernetes_object_id({"metadata": {"namespace": "threetier-dev"}}) is None
    assert kubernetes_object_id({}) is None


def test_only_creates_are_pending_creates_and_only_kubernetes_ones_have_an_object() -> None:
    found = {create.urn: create.object_id for create in pending_creates(interrupted_state())}
    assert found == {DEPLOYMENT_URN: "threetier-dev/backend", NAMESPACE_URN: "tt", PASSWORD_URN: None}


def test_kubernetes_pending_creates_become_resources_with_their_object_ids() -> None:
    state = interrupted_state()
    original = copy.deepcopy(state)

    adopted_state, adopted = adopt_pending_creates(state)

    assert state == original, "the given state is left as it was"
    assert [(create.urn, create.object_id) for create in adopted] == [
        (DEPLOYMENT_URN, "threetier-dev/backend"),
        (NAMESPACE_URN, "tt"),
    ]
    resources = {r["urn"]: r for r in adopted_state["resources"]}
    assert list(resources) == [STACK_URN, TIER_URN, DEPLOYMENT_URN, NAMESPACE_URN], "appended after what completed"
    backend = resources[DEPLOYMENT_URN]
    assert backend["id"] == "threetier-dev/backend"
    assert backend["type"] == "kubernetes:apps/v1:Deployment"
    assert backend["parent"] == TIER_URN, "the same place in the tree, so the program's URN matches"
    assert backend["inputs"] == original["pending_operations"][0]["resource"]["inputs"]
    assert backend["outputs"] == backend["inputs"], "until the refresh reads the live object"
    assert PASSWORD_URN not in resources, "nothing to adopt: the up creates it anew"
    assert [op["type"] for op in adopted_state["pending_operations"]] == ["updating"]


def test_a_pending_create_already_among_the_resources_is_not_added_twice() -> None:
    state = interrupted_state()
    state["resources"].append(resource(DEPLOYMENT_URN, "kubernetes:apps/v1:Deployment", {}, id="threetier-dev/backend"))
    adopted_state, adopted = adopt_pending_creates(state)
    assert [r["urn"] for r in adopted_state["resources"]].count(DEPLOYMENT_URN) == 1
    assert DEPLOYMENT_URN not in [create.urn for create in adopted]
