"""Read the live cluster through the Kubernetes API, as plain JSON-like dicts.

Checks work on dicts (camelCase, exactly as ``kubectl get -o json`` shows them), so unit
tests can replay recorded API objects through :class:`RecordedCluster` and the live
:class:`LiveCluster` goes through the official ``kubernetes`` Python client.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Optional, Protocol

from kubernetes.client.exceptions import ApiException

Obj = dict[str, Any]

#: kwok marks the nodes it simulates with this annotation; their pods run no process.
SIMULATED_NODE_ANNOTATION = "kwok.x-k8s.io/node"


class ClusterView(Protocol):
    """What the checks need to know about the cluster."""

    def service(self, namespace: str, name: str) -> Optional[Obj]:
        """The Service, or None when it does not exist."""

    def deployment(self, namespace: str, name: str) -> Optional[Obj]:
        """The Deployment, or None."""

    def endpoint_slices(self, namespace: str, service: str) -> list[Obj]:
        """EndpointSlices of a Service (label ``kubernetes.io/service-name``)."""

    def pods(self, namespace: str, selector: dict[str, str]) -> list[Obj]:
        """Pods matching a label selector."""

    def nodes(self) -> list[Obj]:
        """Every Node."""

    def run_probe(self, namespace: str, command: list[str], image: str, timeout: float) -> tuple[Optional[bool], str]:
        """Run ``command`` in a probe pod of ``namespace``; (exit 0, output), or (None, reason) when no pod can run."""

    def exec_in_pod(self, namespace: str, pod: str, command: list[str]) -> tuple[Optional[bool], str]:
        """Run ``command`` in a pod's first container; (ok, output) or (None, reason)."""

    def network_policies(self, namespace: str) -> list[Obj]:
        """The NetworkPolicies of ``namespace``."""

    def namespaces(self) -> list[Obj]:
        """Every Namespace."""

    def close(self) -> None:
        """Remove what the checks created (probe pods)."""


def is_simulated(node: Obj) -> bool:
    """True for a node kwok simulates (no kubelet, no kube-proxy, pods without processes)."""
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return annotations.get(SIMULATED_NODE_ANNOTATION) == "fake"


def internal_ip(node: Obj) -> Optional[str]:
    """The node's InternalIP address."""
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address["address"])
    return None


def _ready_condition(obj: Obj) -> bool:
    """The object's (a node's, a pod's) condition Ready is True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_is_ready(node: Obj) -> bool:
    """The node's Ready condition is True."""
    return _ready_condition(node)


def pod_is_ready(pod: Obj) -> bool:
    """Running with condition Ready=True."""
    return (pod.get("status") or {}).get("phase") == "Running" and _ready_condition(pod)


class LiveCluster:
    """The live API server, through the ``kubernetes`` client and a kubeconfig."""

    def __init__(self, kubeconfig: Optional[str] = None, context: Optional[str] = None) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()  # type: ignore[no-untyped-call]
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)  # type: ignore[no-untyped-call]
        # Checks run concurrently: one connection per worker thread.
        configuration.connection_pool_maxsize = 16
        self._configuration = configuration
        api_client: Any = client.ApiClient(configuration)  # type: ignore[no-untyped-call]
        self._serialize = api_client.sanitize_for_serialization
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._discovery = client.DiscoveryV1Api(api_client)
        self._networking = client.NetworkingV1Api(api_client)
        self._api_exception = client.ApiException
        #: One probe pod per namespace for the whole verification (created on first use).
        self._probe_pods: dict[str, tuple[Optional[str], str]] = {}
        self._probe_lock = threading.Lock()
        self._namespace_locks: dict[str, threading.Lock] = {}

    def _get(self, read: Any, *args: str) -> Optional[Obj]:
        try:
            result: Obj = self._serialize(read(*args))
            return result
        except self._api_exception as error:
            if error.status == 404:
                return None
            raise

    def service(self, namespace: str, name: str) -> Optional[Obj]:
        """The Service, or None."""
        return self._get(self._core.read_namespaced_service, name, namespace)

    def deployment(self, namespace: str, name: str) -> Optional[Obj]:
        """The Deployment, or None."""
        return self._get(self._apps.read_namespaced_deployment, name, namespace)

    def endpoint_slices(self, namespace: str, service: str) -> list[Obj]:
        """EndpointSlices of the Service."""
        found = self._discovery.list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}"
        )
        return [self._serialize(item) for item in found.items]

    def pods(self, namespace: str, selector: dict[str, str]) -> list[Obj]:
        """Pods matching ``selector``."""
        label_selector = ",".join(f"{key}={value}" for key, value in sorted(selector.items()))
        found = self._core.list_namespaced_pod(namespace, label_selector=label_selector)
        return [self._serialize(item) for item in found.items]

    def nodes(self) -> list[Obj]:
        """Every Node."""
        return [self._serialize(item) for item in self._core.list_node().items]

    def network_policies(self, namespace: str) -> list[Obj]:
        """The NetworkPolicies of ``namespace``."""
        found = self._networking.list_namespaced_network_policy(namespace)
        return [self._serialize(item) for item in found.items]

    def namespaces(self) -> list[Obj]:
        """Every Namespace."""
        return [self._serialize(item) for item in self._core.list_namespace().items]

    def run_probe(self, namespace: str, command: list[str], image: str, timeout: float) -> tuple[Optional[bool], str]:
        """Run ``command`` in this verification's probe pod of ``namespace`` (one pod, reused by every check)."""
        pod, reason = self._probe_pod(namespace, image, timeout)
        if pod is None:
            return None if reason.startswith("every node is simulated") else False, reason
        return self.exec_in_pod(namespace, pod, command)

    def _probe_pod(self, namespace: str, image: str, timeout: float) -> tuple[Optional[str], str]:
        """The namespace's probe pod, created and started on first use; (None, why) when it cannot run."""
        with self._probe_lock:
            lock = self._namespace_locks.setdefault(namespace, threading.Lock())
        with lock:
            if namespace not in self._probe_pods:
                self._probe_pods[namespace] = self._start_probe_pod(namespace, image, timeout)
            return self._probe_pods[namespace]

    def _start_probe_pod(self, namespace: str, image: str, timeout: float) -> tuple[Optional[str], str]:
        if not any(not is_simulated(node) for node in self.nodes()):
            return None, "every node is simulated (kwok): a probe pod would run no process"
        name = f"verify-probe-{uuid.uuid4().hex[:8]}"
        self._core.create_namespaced_pod(namespace, _probe_pod(name, image))  # type: ignore[arg-type]  # plain dicts work
        deadline = time.monotonic() + timeout
        phase: Optional[str] = "Pending"
        while time.monotonic() < deadline:
            status = self._core.read_namespaced_pod(name, namespace).status
            phase = status.phase if status else None
            if phase == "Running":
                return name, f"probe pod {name}"
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(0.2)
        return None, f"probe pod {namespace}/{name} is {phase} after {timeout:.0f}s, not Running"

    def close(self) -> None:
        """Delete the probe pods (without waiting for them to go)."""
        for namespace, (pod, _) in self._probe_pods.items():
            if pod is not None:
                try:
                    self._core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
                except self._api_exception as error:
                    if error.status != 404:
                        raise
        self._probe_pods.clear()

    def exec_in_pod(self, namespace: str, pod: str, command: list[str]) -> tuple[Optional[bool], str]:
        """``kubectl exec`` through the API's websocket stream: (exit status 0, stdout + stderr)."""
        from kubernetes import client
        from kubernetes.stream import stream

        # stream() swaps the client's request function for a websocket one while it runs: an exec
        # gets a client of its own, so concurrent checks' plain API calls are not turned into
        # websocket handshakes.
        exec_core = client.CoreV1Api(client.ApiClient(self._configuration))  # type: ignore[no-untyped-call]
        try:
            session = stream(
                exec_core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=command,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
            )
        except ApiException as error:
            return False, f"exec in {namespace}/{pod} failed: {error.reason or error.status}"
        try:
            session.run_forever(timeout=60)
            # The error channel carries the exit status; read it before read_all() drains it.
            try:
                code = session.returncode
            except (ValueError, KeyError, IndexError, TypeError):  # not a status: the exec never ran
                return False, f"exec in {namespace}/{pod} failed: {session.read_channel(3)[-300:]}"
            output = session.read_all()
        finally:
            session.close()
        return code == 0, str(output)


#: A probe pod outlives no verification: it stops itself after this long (if ``close`` never ran).
PROBE_POD_LIFETIME_SECONDS = 600


def _probe_pod(name: str, image: str) -> Obj:
    """A pod the ``restricted`` Pod Security level admits, idling until the checks exec into it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "verify-probe"}},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": PROBE_POD_LIFETIME_SECONDS,
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", str(PROBE_POD_LIFETIME_SECONDS)],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "16Mi"},
                        "limits": {"cpu": "100m", "memory": "32Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsNonRoot": True,
                    },
                }
            ],
        },
    }


class RecordedCluster:
    """API objects recorded from a live cluster (a JSON file), for unit tests of the checks.

    Format: ``{"services": [...], "deployments": [...], "endpointSlices": [...], "pods": [...],
    "nodes": [...], "networkPolicies": [...], "namespaces": [...]}``, each a list of objects as the API
    returns them.
    """

    def __init__(self, recording: Obj) -> None:
        self.recording = recording

    @classmethod
    def load(cls, path: Path) -> RecordedCluster:
        """Read a recording from ``path``."""
        return cls(json.loads(path.read_text()))

    def _find(self, kind: str, namespace: str, name: str) -> Optional[Obj]:
        for obj in self.recording.get(kind, []):
            meta = obj["metadata"]
            if meta["name"] == name and meta.get("namespace") == namespace:
                return dict(obj)
        return None

    def service(self, namespace: str, name: str) -> Optional[Obj]:
        """The recorded Service."""
        return self._find("services", namespace, name)

    def deployment(self, namespace: str, name: str) -> Optional[Obj]:
        """The recorded Deployment."""
        return self._find("deployments", namespace, name)

    def endpoint_slices(self, namespace: str, service: str) -> list[Obj]:
        """The recorded EndpointSlices of ``service``."""
        return [
            obj
            for obj in self.recording.get("endpointSlices", [])
            if obj["metadata"].get("namespace") == namespace
            and (obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == service
        ]

    def pods(self, namespace: str, selector: dict[str, str]) -> list[Obj]:
        """The recorded pods matching ``selector``."""
        return [
            obj
            for obj in self.recording.get("pods", [])
            if obj["metadata"].get("namespace") == namespace
            and selector.items() <= (obj["metadata"].get("labels") or {}).items()
        ]

    def nodes(self) -> list[Obj]:
        """The recorded nodes."""
        return list(self.recording.get("nodes", []))

    def network_policies(self, namespace: str) -> list[Obj]:
        """The recorded NetworkPolicies of ``namespace``."""
        return [
            obj for obj in self.recording.get("networkPolicies", []) if obj["metadata"].get("namespace") == namespace
        ]

    def namespaces(self) -> list[Obj]:
        """The recorded Namespaces."""
        return list(self.recording.get("namespaces", []))

    def run_probe(self, namespace: str, command: list[str], image: str, timeout: float) -> tuple[Optional[bool], str]:
        """Recordings run no pods."""
        return None, "recorded cluster: no probe pod can run"

    def close(self) -> None:
        """Nothing to remove."""

    def exec_in_pod(self, namespace: str, pod: str, command: list[str]) -> tuple[Optional[bool], str]:
        """Recordings run no commands."""
        return None, "recorded cluster: no exec"
