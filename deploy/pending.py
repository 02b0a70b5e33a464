"""Pending creates left by an interrupted ``pulumi up``, adopted so that the next ``up`` converges.

When an ``up`` dies between sending a create to the Kubernetes API server and recording its
result (the API server killed, the CLI interrupted), the state keeps a *pending create*: the engine
does not know whether the object exists. The next ``up`` drops the pending create and creates the
object again, which the API server refuses: ``deployments.apps "backend" already exists``.

Pulumi's own remedy, ``pulumi refresh --import-pending-creates URN ID``, drops the operation in the
CLI this project pins (v3.259.0: checked by hand, the refreshed state lacks the resource and the
next ``up`` fails the same way). So this module does what that flag is meant to do: every pending
create of a Kubernetes object becomes a resource of the state with the object's ID
(``namespace/name``, or ``name`` for a cluster-scoped object) and its checked inputs; a refresh then
reads each one from the cluster, keeping those that exist (with their live outputs) and dropping
those that do not, which the ``up`` creates. Pending creates of other providers (a
``RandomPassword`` never finished) are dropped: the ``up`` creates them anew.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KUBERNETES_TYPE_PREFIX = "kubernetes:"


@dataclass(frozen=True)
class PendingCreate:
    """One pending create of a state, and the ID its object has in the cluster if it was created."""

    urn: str
    type: str
    #: ``namespace/name`` (``name`` when cluster-scoped) for a Kubernetes object; None otherwise.
    object_id: str | None


def kubernetes_object_id(inputs: Mapping[str, Any]) -> str | None:
    """The provider's ID of the object these (checked) inputs describe, or None without a name."""
    metadata = inputs.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        return None
    namespace = metadata.get("namespace")
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name


def as_pending_create(operation: Mapping[str, Any]) -> PendingCreate | None:
    """The pending create an exported pending operation records, or None for another operation."""
    if operation.get("type") != "creating":
        return None
    resource = operation["resource"]
    resource_type = str(resource["type"])
    object_id = None
    if resource_type.startswith(KUBERNETES_TYPE_PREFIX):
        object_id = kubernetes_object_id(resource.get("inputs") or {})
    return PendingCreate(str(resource["urn"]), resource_type, object_id)


def pending_creates(deployment: Mapping[str, Any]) -> list[PendingCreate]:
    """The pending creates of a ``pulumi stack export`` deployment, in their recorded order."""
    operations = deployment.get("pending_operations") or []
    return [create for create in map(as_pending_create, operations) if create is not None]


def adopt_pending_creates(deployment: Mapping[str, Any]) -> tuple[dict[str, Any], list[PendingCreate]]:
    """A copy of ``deployment`` whose Kubernetes pending creates are resources with their object IDs.

    Returns the new deployment (no pending create left; other pending operations kept) and the
    pending creates adopted. An adopted resource's outputs are its inputs until a refresh reads the
    live object (or drops the resource when the object does not exist). Appending keeps the
    resources in dependency order: nothing that completed can depend on an unfinished create.
    """
    adopted_deployment = copy.deepcopy(dict(deployment))
    resources = adopted_deployment.setdefault("resources", [])
    known = {str(resource["urn"]) for resource in resources}
    adopted: list[PendingCreate] = []
    kept_operations = []
    for operation in adopted_deployment.get("pending_operations") or []:
        create = as_pending_create(operation)
        if create is None:
            kept_operations.append(operation)
            continue
        if create.object_id is None or create.urn in known:
            continue
        resource = operation["resource"]
        resources.append({**resource, "id": create.object_id, "outputs": copy.deepcopy(resource.get("inputs") or {})})
        known.add(create.urn)
        adopted.append(create)
    adopted_deployment["pending_operations"] = kept_operations
    return adopted_deployment, adopted
