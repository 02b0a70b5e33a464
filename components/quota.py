"""An environment's resource budget (ResourceQuota, LimitRange) and whether an app fits in it.

The platform stack sizes each environment's namespace; the app stack checks its tiers against that
budget before it registers anything: a tier of N replicas runs N + :data:`ROLLOUT_SURGE` pods
during a rollout, and each pod's requests and limits count against the quota. An app that does not
fit would otherwise be accepted by ``pulumi up`` and stall there, its pods refused by the API server
("exceeded quota") while the Deployment waits for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import validation as v
from .args import ResourceSpec, ThreeTierAppArgs
from .errors import Problem
from .quantity import format_quantity, parse_quantity
from .tier import ROLLOUT_SURGE

#: The ResourceQuota keys (``spec.hard``) an environment may set, with what they count.
QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods")
#: Quota key -> (the ResourceSpec field each pod's container adds, the tier setting that sets it).
_CONTAINER_DEMAND = {
    "requests.cpu": ("cpu_request", "resources.requests.cpu"),
    "requests.memory": ("memory_request", "resources.requests.memory"),
    "limits.cpu": ("cpu_limit", "resources.limits.cpu"),
    "limits.memory": ("memory_limit", "resources.limits.memory"),
}


@dataclass(frozen=True)
class EnvironmentQuota:
    """The hard limits of an environment's ResourceQuota: any of :data:`QUOTA_KEYS` -> a quantity."""

    hard: Mapping[str, str | int] = field(default_factory=dict)

    def validate(self, key: str) -> list[Problem]:
        """Problems of these limits, named ``<key>.<quota key>``."""
        problems = v.check_known_keys(key, self.hard, QUOTA_KEYS)
        for name, value in self.hard.items():
            if name == "pods":
                if not (v.is_int(value) and int(value) >= 1):
                    problems.append(Problem(f"{key}.pods", f"{value!r} is not valid; allowed values: an integer >= 1"))
            elif name in QUOTA_KEYS:
                problems += v.check_quantity(f"{key}.{name}", value)
        return problems

    def to_kubernetes(self) -> dict[str, str]:
        """``spec.hard`` of the ResourceQuota (every value a string, as the API returns it)."""
        return {name: str(int(value)) if name == "pods" else str(value) for name, value in self.hard.items()}


@dataclass(frozen=True)
class ContainerLimits:
    """The LimitRange of an environment: per-container defaults and the largest limits allowed."""

    default_request: ResourceSpec = field(default_factory=ResourceSpec)
    max_cpu: str = "2"
    max_memory: str = "1Gi"

    def validate(self, key: str) -> list[Problem]:
        """Problems of these quantities, named ``<key>.defaultRequest.cpu`` etc."""
        spec = self.default_request
        return [
            *v.check_quantity(f"{key}.defaultRequest.cpu", spec.cpu_request),
            *v.check_quantity(f"{key}.defaultRequest.memory", spec.memory_request),
            *v.check_quantity(f"{key}.default.cpu", spec.cpu_limit),
            *v.check_quantity(f"{key}.default.memory", spec.memory_limit),
            *v.check_quantity(f"{key}.max.cpu", self.max_cpu),
            *v.check_quantity(f"{key}.max.memory", self.max_memory),
        ]

    def to_kubernetes(self) -> dict[str, Any]:
        """The LimitRange's one ``Container`` item."""
        spec = self.default_request
        return {
            "type": "Container",
            "defaultRequest": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "default": {"cpu": spec.cpu_limit, "memory": spec.memory_limit},
            "max": {"cpu": self.max_cpu, "memory": self.max_memory},
        }

    @classmethod
    def from_kubernetes(cls, item: Mapping[str, Any]) -> ContainerLimits:
        """Read the ``Container`` item back (e.g. from the platform stack's outputs)."""
        default_request, default, maximum = (item.get(part) or {} for part in ("defaultRequest", "default", "max"))
        base = cls()
        return cls(
            default_request=ResourceSpec(
                cpu_request=str(default_request.get("cpu", base.default_request.cpu_request)),
                memory_request=str(default_request.get("memory", base.default_request.memory_request)),
                cpu_limit=str(default.get("cpu", base.default_request.cpu_limit)),
                memory_limit=str(default.get("memory", base.default_request.memory_limit)),
            ),
            max_cpu=str(maximum.get("cpu", base.max_cpu)),
            max_memory=str(maximum.get("memory", base.max_memory)),
        )


def rollout_pods(replicas: int) -> int:
    """The most pods a tier of ``replicas`` runs at once: during a rollout, ``replicas`` + the surge."""
    return replicas + ROLLOUT_SURGE if replicas > 0 else 0


def fit_problems(
    app: ThreeTierAppArgs,
    quota: EnvironmentQuota,
    limits: ContainerLimits | None = None,
    *,
    key_prefix: str = "",
    environment: str = "",
) -> list[Problem]:
    """Why ``app`` does not fit its environment: one problem per quota key it exceeds, and per tier limit above max.

    For each quota key: the sum over tiers of (the tier's quantity x its pods during a rollout,
    :func:`rollout_pods`). A problem names the tier setting that contributes most (e.g.
    ``threetier:frontend.replicas`` for ``pods``) and spells out the sum.
    """
    where = f" of {environment}" if environment else ""
    tiers = app.tiers()
    problems: list[Problem] = []
    for name in QUOTA_KEYS:
        if name not in quota.hard:
            continue
        hard = parse_quantity(quota.hard[name])
        memory = name.endswith("memory")
        terms: list[tuple[str, Decimal, int, str]] = []  # (tier, per pod, pods, its setting)
        for tier_key, tier in tiers.items():
            pods = rollout_pods(tier.replicas)
            if name == "pods":
                terms.append((tier_key, Decimal(1), pods, "replicas"))
            else:
                attribute, setting = _CONTAINER_DEMAND[name]
                terms.append((tier_key, parse_quantity(getattr(tier.resources, attribute)), pods, setting))
        total = sum((per_pod * pods for _, per_pod, pods, _ in terms), Decimal(0))
        if total <= hard:
            continue
        tier_key, _, _, setting = max(terms, key=lambda term: term[1] * term[2])

        def shown(value: Decimal, memory: bool = memory, count: bool = name == "pods") -> str:
            return str(int(value)) if count else format_quantity(value, memory=memory)

        sum_text = " + ".join(f"{t} {shown(per_pod)} x {pods}" for t, per_pod, pods, _ in terms)
        problems.append(
            Problem(
                f"{key_prefix}{tier_key}.{setting}",
                f"the tiers need {name} {sum_text} = {shown(total)} during a rollout (replicas + {ROLLOUT_SURGE} "
                f"surge pod each), over the ResourceQuota{where} ({name}: {shown(hard)}); allowed: a total of at "
                f"most {shown(hard)}: lower replicas or resources, or raise the platform stack's quota",
            )
        )
    if limits is not None:
        problems += _limit_problems(app, limits, key_prefix=key_prefix, where=where)
    return problems


def _limit_problems(app: ThreeTierAppArgs, limits: ContainerLimits, *, key_prefix: str, where: str) -> list[Problem]:
    """A problem for every tier whose container limit is above the LimitRange's max (its pods would be refused)."""
    problems: list[Problem] = []
    for tier_key, tier in app.tiers().items():
        for resource, value, maximum in (
            ("cpu", tier.resources.cpu_limit, limits.max_cpu),
            ("memory", tier.resources.memory_limit, limits.max_memory),
        ):
            if parse_quantity(value) > parse_quantity(maximum):
                problems.append(
                    Problem(
                        f"{key_prefix}{tier_key}.resources.limits.{resource}",
                        f"{value!r} is above the LimitRange{where} (max {resource} per container: {maximum}); "
                        f"allowed values: at most {maximum}",
                    )
                )
    return problems
