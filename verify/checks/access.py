"""7. Access: the environment's deployer may do what the app needs in its namespace, and nothing beyond.

Asked as the deployer (its kubeconfig from the platform stack), through SelfSubjectAccessReviews,
as ``kubectl auth can-i`` does: it may create the app's kinds in its namespace; it may not read
Secrets in kube-system, ``default`` or the namespace of another environment of the same app, create
Namespaces, ClusterRoles or ClusterRoleBindings, nor escalate (bind a role it does not hold, edit
roles, bind roles, impersonate). One result per question, e.g. ``access.denied[get secrets in
kube-system]``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..access import Access, AccessReviewer
from ..context import CheckContext
from ..model import CheckResult, Status

#: What the app's components create, in their namespace.
APP_KINDS = (
    ("apps", "deployments"),
    ("", "services"),
    ("", "secrets"),
    ("networking.k8s.io", "networkpolicies"),
    ("policy", "poddisruptionbudgets"),
)
RBAC = "rbac.authorization.k8s.io"
PART_OF = "app.kubernetes.io/part-of"
TIER = "*"


def allowed_questions(namespace: str) -> list[Access]:
    """What the deployer must be allowed: create each of the app's kinds in its namespace."""
    return [Access("create", group, resource, namespace) for group, resource in APP_KINDS]


def denied_questions(namespace: str, foreign_namespaces: list[str]) -> list[Access]:
    """What the deployer must be refused: other namespaces' Secrets, cluster-scoped objects, escalation."""
    questions = [Access(verb, "", "secrets", other) for other in foreign_namespaces for verb in ("get", "list")]
    questions += [
        Access("create", "", "namespaces"),
        Access("create", RBAC, "clusterroles"),
        Access("create", RBAC, "clusterrolebindings"),
        Access("bind", RBAC, "clusterroles", namespace, "cluster-admin"),
        Access("escalate", RBAC, "roles", namespace),
        Access("create", RBAC, "rolebindings", namespace),
        Access("create", RBAC, "roles", namespace),
        Access("impersonate", "", "serviceaccounts", namespace),
    ]
    return questions


def foreign_namespaces(ctx: CheckContext, namespace: str) -> list[str]:
    """kube-system, default, and every other namespace of the same app (its other environments)."""
    namespaces = {str(n["metadata"]["name"]): (n["metadata"].get("labels") or {}) for n in ctx.cluster.namespaces()}
    app = namespaces.get(namespace, {}).get(PART_OF)
    siblings = sorted(name for name, labels in namespaces.items() if app and labels.get(PART_OF) == app)
    return ["kube-system", "default", *(name for name in siblings if name != namespace)]


def check_access(ctx: CheckContext) -> list[CheckResult]:
    """Every allowed question allowed, every denied one refused, asked as the deployer."""
    namespace = next(iter(ctx.outputs.tiers.values())).namespace
    if ctx.deployer is None:
        reason = ctx.deployer_unavailable or "no deployer identity to ask as"
        # A stack deployed by a platform's deployer must be checkable as that deployer.
        status = Status.FAILED if ctx.outputs.platform_stack else Status.SKIPPED
        return [CheckResult(TIER, "access.identity", status, reason)]
    reviewer: AccessReviewer = ctx.deployer
    questions = [(q, True) for q in allowed_questions(namespace)]
    questions += [(q, False) for q in denied_questions(namespace, foreign_namespaces(ctx, namespace))]
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="access") as pool:
        answers = list(pool.map(lambda item: reviewer.can_i(item[0]), questions))
    results = []
    for (question, expected), (allowed, reason) in zip(questions, answers, strict=True):
        verdict = "allowed" if allowed else "denied"
        why = f" ({reason})" if reason else ""
        ok = allowed == expected
        tail = ", as it must" if ok else (", but the app needs it" if expected else ", which it must not be")
        results.append(
            CheckResult(
                TIER,
                f"access.{'allowed' if expected else 'denied'}[{question.describe()}]",
                Status.PASSED if ok else Status.FAILED,
                f"{reviewer.identity}: {verdict}{tail}{why}",
            )
        )
    return results
