"""Where a tier's pods may run, how they spread across nodes, and how long they stay on a lost node.

Every tier's pod template gets:

- a **topology spread** over ``kubernetes.io/hostname`` (``maxSkew: 1``) selecting the tier's own
  pods (its selector labels; ``matchLabelKeys: [pod-template-hash]`` so a rollout spreads the new
  ReplicaSet's pods among themselves). ``whenUnsatisfiable`` is the tier's ``spread`` setting:
  ``ScheduleAnyway`` (a preference: a one-node cluster runs every replica) or ``DoNotSchedule``
  (a rule). ``nodeTaintsPolicy: Honor``: a node whose NoSchedule/NoExecute taints the pods do not
  tolerate (cordoned: ``node.kubernetes.io/unschedulable``; NotReady or unreachable: the
  NoSchedule taints the node controller adds; a kwok node's taint) is no domain, so it cannot hold
  replicas back during a drain or a node loss. ``nodeAffinityPolicy: Honor`` (Kubernetes' default,
  written out): nodes the tier's ``nodeSelector`` excludes are no domains either;
- its ``nodeSelector`` and ``tolerations``;
- NoExecute tolerations of ``node.kubernetes.io/not-ready`` and ``node.kubernetes.io/unreachable``
  for ``evictionSeconds`` (Kubernetes' own default, 300, written out so it does not depend on the
  API server's DefaultTolerationSeconds admission plugin): how long pods stay bound to a node
  that stopped answering before they are evicted and replaced elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from . import validation as v
from .errors import Problem

WhenUnsatisfiable = Literal["ScheduleAnyway", "DoNotSchedule"]
TolerationOperator = Literal["Equal", "Exists"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
WHEN_UNSATISFIABLE = ("ScheduleAnyway", "DoNotSchedule")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

#: The topology every tier spreads over: one domain per node.
HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"
#: Taints the node controller puts on a node that stopped answering; ``evictionSeconds`` owns them.
NODE_LOSS_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
#: Kubernetes' default ``tolerationSeconds`` for the node-loss taints (DefaultTolerationSeconds).
DEFAULT_EVICTION_SECONDS = 300
EVICTION_SECONDS_RANGE = (0, 3600)
#: Keys of one toleration, as Kubernetes spells them.
TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


@dataclass(frozen=True)
class Toleration:
    """One toleration of a tier's pods (Kubernetes' ``tolerations[]``).

    ``key`` None with ``operator="Exists"`` tolerates every taint (of ``effect``, or of every
    effect when that is None too); ``toleration_seconds`` is for NoExecute taints only.
    """

    key: Optional[str] = None
    operator: TolerationOperator = "Equal"
    value: Optional[str] = None
    effect: Optional[TaintEffect] = None
    toleration_seconds: Optional[int] = None

    def validate(self, key: str) -> list[Problem]:
        """Problems of this toleration, named ``<key>.<field>``; the API server's rules, said up front."""
        problems = v.check_choice(f"{key}.operator", self.operator, TOLERATION_OPERATORS)
        if self.key is not None:
            problems += v.check_label_key(f"{key}.key", self.key)
        elif self.operator == "Equal":
            problems.append(
                Problem(f"{key}.key", "is unset but operator is Equal; allowed values: a label key, or operator Exists")
            )
        if self.operator == "Exists" and self.value:
            problems.append(
                Problem(f"{key}.value", f"{self.value!r} is set but operator is Exists; allowed values: unset")
            )
        elif self.value is not None:
            problems += v.check_label_value(f"{key}.value", self.value)
        if self.effect is not None:
            problems += v.check_choice(f"{key}.effect", self.effect, TAINT_EFFECTS)
        if self.toleration_seconds is not None:
            if self.effect != "NoExecute":
                problems.append(
                    Problem(
                        f"{key}.tolerationSeconds",
                        "is set but effect is not NoExecute; allowed values: unset, or set effect to NoExecute",
                    )
                )
            else:
                problems += v.check_int_range(f"{key}.tolerationSeconds", self.toleration_seconds, 0, 2**31 - 1)
        return problems

    def tolerates_node_loss(self) -> bool:
        """True when this toleration would also decide how long pods stay on a lost node."""
        no_execute = self.effect in (None, "NoExecute")
        return no_execute and (self.key is None or self.key in NODE_LOSS_TAINTS)

    def to_kubernetes(self) -> dict[str, Any]:
        """The pod spec's form (unset fields left out)."""
        fields = {
            "key": self.key,
            "operator": self.operator,
            "value": self.value,
            "effect": self.effect,
            "tolerationSeconds": self.toleration_seconds,
        }
        return {name: item for name, item in fields.items() if item is not None}


@dataclass(frozen=True)
class Scheduling:
    """How a tier's pods are placed: spread across nodes, node selection, tolerations, eviction timing."""

    #: ``whenUnsatisfiable`` of the spread across nodes: a preference (ScheduleAnyway) or a rule.
    spread: WhenUnsatisfiable = "ScheduleAnyway"
    #: Node labels a node must carry to run the pods.
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    #: Seconds pods stay on a NotReady or unreachable node before they are evicted (0-3600).
    eviction_seconds: int = DEFAULT_EVICTION_SECONDS

    def validate(self, key: str) -> list[Problem]:
        """Problems named ``<key>.spread``, ``<key>.nodeSelector.<label>``, ``<key>.tolerations[i].<field>``..."""
        problems = [
            *v.check_choice(f"{key}.spread", self.spread, WHEN_UNSATISFIABLE),
            *v.check_label_map(f"{key}.nodeSelector", self.node_selector),
            *v.check_int_range(f"{key}.evictionSeconds", self.eviction_seconds, *EVICTION_SECONDS_RANGE),
        ]
        for index, toleration in enumerate(self.tolerations):
            item = f"{key}.tolerations[{index}]"
            problems += toleration.validate(item)
            if toleration.tolerates_node_loss():
                problems.append(
                    Problem(
                        item,
                        "tolerates node.kubernetes.io/not-ready or /unreachable (NoExecute), which evictionSeconds "
                        "sets; allowed: evictionSeconds for those, a toleration of another key or effect",
                    )
                )
        return problems

    def pod_spec(self, selector: Mapping[str, str]) -> dict[str, Any]:
        """The pod spec's scheduling fields for pods labelled with ``selector`` (the tier's own)."""
        spec: dict[str, Any] = {
            "topologySpreadConstraints": [
                {
                    "topologyKey": HOSTNAME_TOPOLOGY_KEY,
                    "maxSkew": 1,
                    "whenUnsatisfiable": self.spread,
                    "labelSelector": {"matchLabels": dict(selector)},
                    "matchLabelKeys": ["pod-template-hash"],
                    "nodeAffinityPolicy": "Honor",
                    "nodeTaintsPolicy": "Honor",
                }
            ],
            "tolerations": [
                *(toleration.to_kubernetes() for toleration in self.tolerations),
                *(
                    {
                        "key": taint,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": self.eviction_seconds,
                    }
                    for taint in NODE_LOSS_TAINTS
                ),
            ],
        }
        if self.node_selector:
            spec["nodeSelector"] = dict(self.node_selector)
        return spec


def parse_scheduling(key: str, settings: Mapping[str, Any]) -> tuple[Scheduling, list[Problem]]:
    """The ``spread``, ``nodeSelector``, ``tolerations`` and ``evictionSeconds`` of a tier's config object.

    Shapes are checked here (a list of objects with known keys); values by :meth:`Scheduling.validate`.
    """
    default = Scheduling()
    tolerations: list[Toleration] = []
    problems: list[Problem] = []
    raw_tolerations = settings.get("tolerations", [])
    if not isinstance(raw_tolerations, list):
        problems.append(
            Problem(
                f"{key}.tolerations",
                f"{raw_tolerations!r} is not valid; allowed values: a list of objects with keys "
                f"{', '.join(TOLERATION_KEYS)}",
            )
        )
        raw_tolerations = []
    for index, item in enumerate(raw_tolerations):
        item_key = f"{key}.tolerations[{index}]"
        if not isinstance(item, Mapping):
            problems.append(
                Problem(
                    item_key, f"{item!r} is not valid; allowed values: an object with keys {', '.join(TOLERATION_KEYS)}"
                )
            )
            continue
        problems += v.check_known_keys(item_key, item, TOLERATION_KEYS)
        tolerations.append(
            Toleration(
                key=item.get("key"),
                operator=item.get("operator", "Equal"),
                value=item.get("value"),
                effect=item.get("effect"),
                toleration_seconds=v.as_int(item.get("tolerationSeconds")),
            )
        )
    node_selector = settings.get("nodeSelector", {})
    scheduling = Scheduling(
        spread=settings.get("spread", default.spread),
        node_selector=dict(node_selector) if isinstance(node_selector, Mapping) else node_selector,
        tolerations=tuple(tolerations),
        eviction_seconds=v.as_int(settings.get("evictionSeconds", default.eviction_seconds)),
    )
    return scheduling, problems
