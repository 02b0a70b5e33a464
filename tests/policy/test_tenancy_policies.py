"""Who owns what, through the pack's analyzer: app stacks stay in their namespace, the platform sizes its namespaces."""

from __future__ import annotations

from typing import Any

import pytest

from policy.gate import PolicyPackServer

from .conftest import DEFAULT_PROVIDER, NS, as_resource, compliant_app, stack_config

APP_STACKS = ["dev", "staging", "prod"]


def compliant_for(stack: str) -> list[dict[str, Any]]:
    objects = compliant_app()
    frontend = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "frontend")
    frontend["spec"]["type"] = "NodePort" if stack == "dev" else "LoadBalancer"
    return objects


def namespace(name: str = NS) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def quota(ns: str = NS) -> dict[str, Any]:
    return {"kind": "ResourceQuota", "metadata": {"name": "q", "namespace": ns}, "spec": {"hard": {"pods": "10"}}}


def limit_range(ns: str = NS) -> dict[str, Any]:
    return {
        "kind": "LimitRange",
        "metadata": {"name": "l", "namespace": ns},
        "spec": {"limits": [{"type": "Container"}]},
    }


def cluster_role() -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": {"name": "reader"}, "rules": [{"verbs": ["get"], "resources": ["*"]}]}


def cluster_role_binding() -> dict[str, Any]:
    return {"kind": "ClusterRoleBinding", "metadata": {"name": "reader"}, "roleRef": {"kind": "ClusterRole"}}


def found(report: Any) -> set[tuple[str, str, str]]:
    return report.summary()  # type: ignore[no-any-return]


@pytest.mark.parametrize("stack", APP_STACKS)
def test_an_app_stack_creating_a_namespace_is_refused(pack: PolicyPackServer, stack: str) -> None:
    report = pack.analyze([as_resource(o) for o in [*compliant_for(stack), namespace()]], stack_config(stack))
    assert found(report) == {
        ("no-namespaces", "mandatory", f"kubernetes:core/v1:Namespace: {NS}-namespace"),
        # (advisory in app stacks: a namespace without a quota is the platform's business)
        ("namespaces-have-quota-and-limits", "advisory", f"kubernetes:core/v1:Namespace: {NS}-namespace"),
    }
    [violation] = [v for v in report.violations if v.policy == "no-namespaces"]
    assert violation.message.startswith(f"Namespace {NS}: an app stack does not create namespaces")


@pytest.mark.parametrize("stack", APP_STACKS)
@pytest.mark.parametrize("make", [cluster_role, cluster_role_binding], ids=["ClusterRole", "ClusterRoleBinding"])
def test_an_app_stack_creating_a_cluster_scoped_object_is_refused(
    pack: PolicyPackServer, stack: str, make: Any
) -> None:
    obj = make()
    report = pack.analyze([as_resource(o) for o in [*compliant_for(stack), obj]], stack_config(stack))
    kind = obj["kind"]
    resource = f"kubernetes:rbac.authorization.k8s.io/v1:{kind}: reader-{kind.lower()}"
    assert found(report) == {("no-cluster-scoped-resources", "mandatory", resource)}
    assert report.violations[0].message.startswith(f"{kind} reader is cluster-scoped")


@pytest.mark.parametrize("stack", APP_STACKS)
@pytest.mark.parametrize("provider", [DEFAULT_PROVIDER, None], ids=["default provider", "no provider"])
def test_an_app_object_without_the_explicit_provider_is_refused(
    pack: PolicyPackServer, stack: str, provider: Any
) -> None:
    objects = compliant_for(stack)
    resources = [as_resource(o) for o in objects[1:]] + [as_resource(objects[0], provider=provider)]
    report = pack.analyze(resources, stack_config(stack))
    assert found(report) == {("explicit-provider", "mandatory", "kubernetes:apps/v1:Deployment: frontend-deployment")}
    used = provider.name if provider else "none"
    assert f"is registered with the default provider ({used})" in report.violations[0].message


def test_a_namespaced_role_is_fine_in_an_app_stack(pack: PolicyPackServer) -> None:
    role = {"kind": "Role", "metadata": {"name": "reader", "namespace": NS}, "rules": []}
    assert pack.analyze([as_resource(o) for o in [*compliant_for("dev"), role]], stack_config("dev")).violations == []


def test_the_platform_stack_may_create_a_sized_namespace(pack: PolicyPackServer) -> None:
    objects = [namespace(), quota(), limit_range()]
    # the platform deploys with the admin (default) provider: allowed there
    report = pack.analyze([as_resource(o, provider=DEFAULT_PROVIDER) for o in objects], stack_config("platform"))
    assert report.violations == []


@pytest.mark.parametrize(
    ("objects", "missing"),
    [
        ([namespace(), quota()], "LimitRange"),
        ([namespace(), limit_range()], "ResourceQuota"),
        ([namespace(), quota("other"), limit_range("other")], "ResourceQuota and no LimitRange"),
    ],
    ids=["no limit range", "no quota", "both in another namespace"],
)
def test_a_platform_namespace_without_quota_or_limit_range_is_refused(
    pack: PolicyPackServer, objects: list[dict[str, Any]], missing: str
) -> None:
    report = pack.analyze([as_resource(o, provider=DEFAULT_PROVIDER) for o in objects], stack_config("platform"))
    assert found(report) == {
        ("namespaces-have-quota-and-limits", "mandatory", f"kubernetes:core/v1:Namespace: {NS}-namespace")
    }
    assert report.violations[0].message.startswith(f"Namespace {NS} has no {missing}:")
