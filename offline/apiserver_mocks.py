"""Pulumi mocks that do what the Kubernetes API server (and pulumi-random) would do.

What a real create returns beyond the inputs: default namespace, uid, resourceVersion;
a Service's cluster IP from the service CIDR, node ports allocated from 30000-32767 (and a
pinned one rejected when out of range or already taken), LoadBalancer ingress; a
Deployment's defaults and ready status; a Secret's ``stringData`` folded into ``data``; a
service-account-token Secret filled as the token controller does (refused when its ServiceAccount
does not exist); ``RandomPassword.result``; and, for the engine, the outputs of the stacks a
``pulumi.StackReference`` reads (``stacks``). Each mocks instance is one fresh cluster.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import itertools
import secrets
import string
import threading
import uuid
from typing import Any, Optional, TypeAlias, TypeVar

import pulumi

from .allocators import FirstFreeAllocator, RangeExhaustedError
from .secret_values import is_secret_value, unwrap_secret, wrap_secret
from .stack_references import STACK_REFERENCE_TYPE, ReferencedStack, stack_reference_state

__all__ = [
    "ApiServerMocks",
    "ApiServerRejectionError",
    "ReferencedStack",
    "is_secret_value",
    "unwrap_secret",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
AllocatedT = TypeVar("AllocatedT", IPAddress, int)

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
#: Reserved by convention: 10.96.0.1 (kubernetes Service) and 10.96.0.10 (kube-dns).
RESERVED_CLUSTER_IPS = {SERVICE_CIDR[1], SERVICE_CIDR[10]}
NODE_PORT_RANGE = (30000, 32767)
#: TEST-NET-2 (RFC 5737): documentation addresses, never routed anywhere.
LOAD_BALANCER_POOL = ipaddress.ip_network("198.51.100.0/24")

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
#: The CA a token Secret carries under the mocks (an emulated cluster has no real one).
EMULATED_CA_PEM = "-----BEGIN CERTIFICATE-----\nZW11bGF0ZWQgY2x1c3RlciBDQQ==\n-----END CERTIFICATE-----\n"

_CLUSTER_SCOPED_KINDS = {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass"}


class ApiServerRejectionError(Exception):
    """The emulated API server refused an object (e.g. ``422 Invalid``: port already allocated)."""


class ApiServerMocks(pulumi.runtime.Mocks):
    """Mocks for ``pulumi.runtime.set_mocks`` emulating a fresh Kubernetes API server."""

    def __init__(
        self,
        *,
        node_port_range: tuple[int, int] = NODE_PORT_RANGE,
        preview: bool = False,
        stacks: Optional[dict[str, ReferencedStack]] = None,
    ) -> None:
        self.node_port_range = node_port_range
        #: Stacks a ``pulumi.StackReference`` may read, by name (see :mod:`offline.stack_references`).
        self.stacks: dict[str, ReferencedStack] = dict(stacks or {})
        #: Preview (dry run): objects are validated and defaulted but pinned node ports are not
        #: reserved, as nothing is created yet (policy packs judge a stack at this stage).
        self.preview = preview
        self._cluster_ips: FirstFreeAllocator[IPAddress] = FirstFreeAllocator(
            SERVICE_CIDR.hosts(), reserved=RESERVED_CLUSTER_IPS
        )
        low, high = node_port_range
        # Since Kubernetes 1.27 dynamic allocation prefers the upper band and leaves the
        # lower one to pinned ports: band size min(max(16, size/32), 128).
        dynamic_band_start = low + min(max(16, (high - low + 1) // 32), 128)
        self._node_ports: FirstFreeAllocator[int] = FirstFreeAllocator(
            itertools.chain(range(dynamic_band_start, high + 1), range(low, dynamic_band_start))
        )
        self._lb_ips: FirstFreeAllocator[IPAddress] = FirstFreeAllocator(LOAD_BALANCER_POOL.hosts())
        #: (type, name) of every resource created, in order: tests assert "nothing registered".
        self.created: list[tuple[str, str]] = []
        #: (kind, object id) of every Kubernetes object created.
        self._objects: set[tuple[str, str]] = set()
        #: The SDK calls ``new_resource`` from its registration threads at once; objects are
        #: admitted one at a time (check, allocate, commit), as the API server's registry does.
        self._admission = threading.Lock()

    # -- pulumi.runtime.Mocks -------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[Any, Any]]:
        """Return the id and state the provider would report after a create (one object at a time)."""
        with self._admission:
            return self._new_resource(args)

    def _new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict[Any, Any]]:
        self.created.append((args.typ, args.name))
        if args.typ == STACK_REFERENCE_TYPE:
            name = str(args.resource_id or args.inputs.get("name"))
            return name, stack_reference_state(name, self.stacks)
        if args.typ == "random:index/randomPassword:RandomPassword":
            return f"{args.name}-id", {**args.inputs, "result": _random_password(args.inputs)}
        if not args.typ.startswith("kubernetes:") or args.typ == "pulumi:providers:kubernetes":
            return f"{args.name}-id", dict(args.inputs)
        return self._create_kubernetes_object(args.typ, args.name, copy.deepcopy(args.inputs))

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], Optional[list[tuple[str, str]]]]:
        """No function invokes are emulated; they return an empty result."""
        return {}, None

    # -- objects --------------------------------------------------------------------
    def _create_kubernetes_object(self, typ: str, name: str, obj: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = typ.rsplit(":", 1)[-1]
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("name", f"{name}-{secrets.token_hex(4)}")
        if kind not in _CLUSTER_SCOPED_KINDS:
            metadata.setdefault("namespace", "default")
        metadata["uid"] = str(uuid.uuid4())
        metadata["resourceVersion"] = "1"
        metadata["generation"] = 1
        metadata["creationTimestamp"] = "2026-01-01T00:00:00Z"
        object_id = metadata["name"] if kind in _CLUSTER_SCOPED_KINDS else f"{metadata['namespace']}/{metadata['name']}"

        if kind == "Service":
            self._create_service(object_id, obj)
        elif kind == "Deployment":
            _default_deployment(obj)
        elif kind == "Secret":
            _fold_string_data(obj)
            if obj.get("type") == SERVICE_ACCOUNT_TOKEN:
                self._fill_token(object_id, obj)
        elif kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        self._objects.add((kind, object_id))
        return object_id, obj

    def _fill_token(self, object_id: str, obj: dict[str, Any]) -> None:
        """What the token controller does to a service-account-token Secret: a token, the cluster CA, the namespace."""
        metadata = obj["metadata"]
        account = (metadata.get("annotations") or {}).get("kubernetes.io/service-account.name")
        if ("ServiceAccount", f"{metadata['namespace']}/{account}") not in self._objects:
            raise ApiServerRejectionError(
                f'Secret "{object_id}" names ServiceAccount "{account}", which does not exist in namespace '
                f'"{metadata["namespace"]}": the token controller deletes such a Secret instead of filling it'
            )
        data = {
            "token": f"emulated.{secrets.token_urlsafe(24)}.token",
            "ca.crt": EMULATED_CA_PEM,
            "namespace": metadata["namespace"],
        }
        # pulumi-kubernetes marks every Secret's data secret.
        obj["data"] = wrap_secret({key: base64.b64encode(value.encode()).decode() for key, value in data.items()})

    def _create_service(self, object_id: str, obj: dict[str, Any]) -> None:
        spec = obj.setdefault("spec", {})
        service_type = spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        if service_type in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")

        pinned_ip = spec.get("clusterIP")
        if pinned_ip and pinned_ip != "None":  # "None": a headless Service, no address
            self._check_cluster_ip(object_id, pinned_ip)

        wanted: list[int] = []
        for index, port in enumerate(spec.get("ports", [])):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            node_port = port.get("nodePort")
            if service_type == "ClusterIP":
                if node_port:
                    raise ApiServerRejectionError(
                        f'Service "{object_id}" is invalid: spec.ports[{index}].nodePort: Forbidden: '
                        "may not be used when `type` is 'ClusterIP'"
                    )
                continue
            if node_port:
                wanted.append(self._check_node_port(object_id, index, int(node_port)))
        # Only commit allocations once the whole object is valid, as the API server does.
        if not self.preview:
            for node_port in wanted:
                self._node_ports.reserve(node_port, object_id)
            if pinned_ip and pinned_ip != "None":
                self._cluster_ips.reserve(ipaddress.ip_address(pinned_ip), object_id)
        cluster_ip = pinned_ip or str(self._allocate(self._cluster_ips, object_id, "a serviceIP"))
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
        if service_type in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports", []):
                if not port.get("nodePort"):
                    port["nodePort"] = self._allocate(self._node_ports, object_id, "a nodePort")
        if service_type == "LoadBalancer":
            ingress_ip = self._allocate(self._lb_ips, object_id, "a load-balancer address")
            obj["status"] = {"loadBalancer": {"ingress": [{"ip": str(ingress_ip), "ipMode": "VIP"}]}}
        else:
            obj["status"] = {"loadBalancer": {}}

    def _check_node_port(self, object_id: str, index: int, node_port: int) -> int:
        low, high = self.node_port_range
        if not low <= node_port <= high:
            raise ApiServerRejectionError(
                f'Service "{object_id}" is invalid: spec.ports[{index}].nodePort: Invalid value: {node_port}: '
                f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
            )
        if self._node_ports.owner(node_port) is not None:
            raise ApiServerRejectionError(
                f'Service "{object_id}" is invalid: spec.ports[{index}].nodePort: Invalid value: {node_port}: '
                "provided port is already allocated"
            )
        return node_port

    def _check_cluster_ip(self, object_id: str, pinned: str) -> None:
        invalid = f'Service "{object_id}" is invalid: spec.clusterIPs: Invalid value: ["{pinned}"]: '
        invalid += "failed to allocate IP"
        try:
            address = ipaddress.ip_address(pinned)
        except ValueError:
            raise ApiServerRejectionError(f"{invalid} {pinned}: not a valid IP address") from None
        if address not in SERVICE_CIDR:
            raise ApiServerRejectionError(
                f"{invalid} {pinned}: the provided IP ({pinned}) is not in the valid range. "
                f"The range of valid IPs is {SERVICE_CIDR}"
            )
        if self._cluster_ips.owner(address) is not None:
            raise ApiServerRejectionError(f"{invalid} {pinned}: provided IP is already allocated")

    @staticmethod
    def _allocate(allocator: FirstFreeAllocator[AllocatedT], object_id: str, what: str) -> AllocatedT:
        try:
            return allocator.allocate(object_id)
        except RangeExhaustedError:
            raise ApiServerRejectionError(f'Service "{object_id}": failed to allocate {what}: range is full') from None


def _default_deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    replicas = spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault(
        "strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    )
    pod_spec = spec.setdefault("template", {}).setdefault("spec", {})
    pod_spec.setdefault("restartPolicy", "Always")
    pod_spec.setdefault("dnsPolicy", "ClusterFirst")
    pod_spec.setdefault("terminationGracePeriodSeconds", 30)
    pod_spec.setdefault("schedulerName", "default-scheduler")
    obj["status"] = {
        "observedGeneration": 1,
        "replicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "updatedReplicas": replicas,
    }


def _fold_string_data(obj: dict[str, Any]) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if not string_data:
        return
    secret = is_secret_value(string_data)
    plain = unwrap_secret(string_data)
    data = {key: base64.b64encode(str(unwrap_secret(value)).encode()).decode() for key, value in plain.items()}
    obj["data"] = wrap_secret(data) if secret else data


def _random_password(inputs: dict[str, Any]) -> str:
    length = int(inputs.get("length", 16))
    alphabet = ""
    if inputs.get("upper", True):
        alphabet += string.ascii_uppercase
    if inputs.get("lower", True):
        alphabet += string.ascii_lowercase
    if inputs.get("numeric", True):
        alphabet += string.digits
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    return "".join(secrets.choice(alphabet) for _ in range(length))
