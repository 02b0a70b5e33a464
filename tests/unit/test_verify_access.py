"""The verifier's access group: asked as the deployer, what it may and may not do, against a fake API server.

:class:`FakeReviewer` answers SelfSubjectAccessReviews from a set of grants, as RBAC would for a
Role with those rules; each test starts from the deployer the platform creates and changes one grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from verify import CheckResult, StackOutputs, Status, VerifyOptions, verify
from verify.__main__ import deployer_identity
from verify.access import Access
from verify.cluster import RecordedCluster

from .verify_fixtures import NS, recording, stack_outputs

#: A grant: (verb, group, resource, namespace); "*" matches anything, as in an RBAC rule.
Grant = tuple[str, str, str, str]
#: The platform's deployer, as components.environment.DEPLOYER_RULES grants it (the create verbs).
DEPLOYER_GRANTS: set[Grant] = {
    ("create", group, resource, NS)
    for group, resource in [
        ("apps", "deployments"),
        ("", "services"),
        ("", "secrets"),
        ("networking.k8s.io", "networkpolicies"),
        ("policy", "poddisruptionbudgets"),
    ]
} | {("get", "", "secrets", NS), ("list", "", "secrets", NS)}
CLUSTER_ADMIN: set[Grant] = {("*", "*", "*", "*")}


class FakeReviewer:
    """Answers like the API server's RBAC authorizer for an identity holding ``grants``; records the questions."""

    identity = "threetier-dev-deployer"

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = set(grants)
        self.asked: list[Access] = []

    def can_i(self, access: Access) -> tuple[bool, str]:
        self.asked.append(access)
        asked = (access.verb, access.group, access.resource, access.namespace)
        for grant in self.grants:
            if all(want in ("*", have) for want, have in zip(grant, asked, strict=True)):
                return True, 'RBAC: allowed by RoleBinding "deployer"'
        return False, ""


def namespace(name: str, part_of: str | None = None) -> dict[str, Any]:
    labels = {"app.kubernetes.io/part-of": part_of} if part_of else {}
    return {"metadata": {"name": name, "labels": labels}}


def cluster() -> RecordedCluster:
    objects = recording()
    objects["namespaces"] = [
        namespace(NS, "threetier"),
        namespace("threetier-staging", "threetier"),
        namespace("threetier-prod", "threetier"),
        namespace("kube-system"),
        namespace("default"),
        namespace("smoke-1a2b3c4d"),
    ]
    return RecordedCluster(objects)


def access_results(
    reviewer: FakeReviewer | None, platform_stack: str | None = "organization/p/dev"
) -> list[CheckResult]:
    outputs = stack_outputs()
    if platform_stack:
        outputs["platformStack"] = platform_stack
    results = verify(
        StackOutputs.from_json("dev", outputs),
        cluster(),
        VerifyOptions(settle_timeout=0.1),
        deployer=reviewer,
        deployer_unavailable=None if reviewer else "cannot read the deployer's kubeconfig: no such stack",
    )
    return [r for r in results if r.check.startswith("access.")]


def failed(results: list[CheckResult]) -> list[str]:
    return [r.check for r in results if r.status is not Status.PASSED]


def test_the_platforms_deployer_passes_every_access_check() -> None:
    reviewer = FakeReviewer(DEPLOYER_GRANTS)
    results = access_results(reviewer)
    assert failed(results) == []
    checks = {r.check for r in results}
    assert {
        f"access.allowed[create apps/deployments in {NS}]",
        f"access.allowed[create services in {NS}]",
        "access.denied[get secrets in threetier-staging]",
        "access.denied[list secrets in threetier-prod]",
        "access.denied[get secrets in kube-system]",
        "access.denied[create namespaces cluster-wide]",
        "access.denied[create rbac.authorization.k8s.io/clusterroles cluster-wide]",
        "access.denied[create rbac.authorization.k8s.io/clusterrolebindings cluster-wide]",
        f"access.denied[bind rbac.authorization.k8s.io/clusterroles cluster-admin in {NS}]",
        f"access.denied[escalate rbac.authorization.k8s.io/roles in {NS}]",
    } <= checks
    # Its own namespace's Secrets are its own; unrelated namespaces are not another environment.
    assert not any(NS in check and "secrets" in check and "denied" in check for check in checks)
    assert not any("smoke-" in check for check in checks)
    assert all(r.tier == "*" for r in results)
    [create] = [r for r in results if r.check == f"access.allowed[create apps/deployments in {NS}]"]
    assert create.detail == 'threetier-dev-deployer: allowed, as it must (RBAC: allowed by RoleBinding "deployer")'


def test_a_deployer_that_can_read_kube_system_secrets_fails_exactly_that_check() -> None:
    results = access_results(FakeReviewer(DEPLOYER_GRANTS | {("get", "", "secrets", "kube-system")}))
    assert failed(results) == ["access.denied[get secrets in kube-system]"]
    [result] = [r for r in results if r.status is Status.FAILED]
    assert result.detail.startswith("threetier-dev-deployer: allowed, which it must not be")


def test_a_deployer_that_can_read_another_environments_secrets_fails() -> None:
    results = access_results(FakeReviewer(DEPLOYER_GRANTS | {("list", "", "secrets", "threetier-prod")}))
    assert failed(results) == ["access.denied[list secrets in threetier-prod]"]


def test_a_deployer_that_cannot_create_deployments_fails() -> None:
    grants = DEPLOYER_GRANTS - {("create", "apps", "deployments", NS)}
    results = access_results(FakeReviewer(grants))
    assert failed(results) == [f"access.allowed[create apps/deployments in {NS}]"]
    [result] = [r for r in results if r.status is Status.FAILED]
    assert result.detail == "threetier-dev-deployer: denied, but the app needs it"


def test_a_cluster_admin_deployer_fails_every_denied_check() -> None:
    results = access_results(FakeReviewer(CLUSTER_ADMIN))
    denied = [r.check for r in results if r.check.startswith("access.denied")]
    assert denied
    assert failed(results) == denied


def test_a_stack_of_a_platform_whose_deployer_cannot_be_read_fails_the_identity_check() -> None:
    [result] = access_results(None)
    assert (result.check, result.status) == ("access.identity", Status.FAILED)
    assert result.detail == "cannot read the deployer's kubeconfig: no such stack"


def test_a_stack_without_a_platform_skips_the_access_checks_with_the_reason() -> None:
    outputs = StackOutputs.from_json("dev", stack_outputs())
    reviewer, reason = deployer_identity(outputs, None)
    assert reviewer is None
    assert reason == "the stack names no platform stack (platformStack) and no --deployer-kubeconfig was given"
    results = verify(outputs, cluster(), VerifyOptions(settle_timeout=0.1), deployer_unavailable=reason)
    [result] = [r for r in results if r.check.startswith("access.")]
    assert (result.check, result.status, result.detail) == ("access.identity", Status.SKIPPED, reason)


def test_an_unreadable_deployer_kubeconfig_file_is_the_reason(tmp_path: Path) -> None:
    reviewer, reason = deployer_identity(StackOutputs.from_json("dev", stack_outputs()), tmp_path / "missing.yaml")
    assert reviewer is None
    assert reason is not None and reason.startswith("cannot read the deployer's kubeconfig: [Errno 2]")


@pytest.mark.parametrize(
    ("access", "said"),
    [
        (Access("create", "", "namespaces"), "create namespaces cluster-wide"),
        (
            Access("bind", "rbac.authorization.k8s.io", "clusterroles", "ns", "admin"),
            "bind rbac.authorization.k8s.io/clusterroles admin in ns",
        ),
    ],
)
def test_questions_read_like_kubectl_auth_can_i(access: Access, said: str) -> None:
    assert access.describe() == said
