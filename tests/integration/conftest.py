"""Integration fixtures: a client for a live cluster, the node mode it was started in, the engine.

The cluster is the local one (``make cluster-up`` writes ``.toolchain/kubeconfig``) or your own
(``KUBECONFIG=...``). ``make integration`` asks for one (``THREETIER_REQUIRE_CLUSTER=1``): then a
missing or silent cluster fails the run. Run by hand without it, no configured cluster skips the
tests with that reason; a configured cluster that does not answer is a failure either way.
``make cluster-up`` records the node mode it was asked for (``.toolchain/node-mode``): when that
is ``real``, a real node that did not join fails the tests instead of turning traffic into skips.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config

from verify.checks import placement
from verify.cluster import internal_ip, is_simulated

ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN = ROOT / ".toolchain"
LOCAL_KUBECONFIG = TOOLCHAIN / "kubeconfig"
NODE_MODE_RECORD = TOOLCHAIN / "node-mode"
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "disruptive: restarts cluster components or tears a shared deployment down; runs last"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Disruptive tests run after every other one, in their file order."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def kubeconfig_path() -> Path:
    """$KUBECONFIG (its first file), else the local cluster's .toolchain/kubeconfig."""
    configured = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(configured) if configured else LOCAL_KUBECONFIG


def is_local_cluster() -> bool:
    """True when the tests run against the cluster hack/cluster-up.sh started."""
    return kubeconfig_path().resolve() == LOCAL_KUBECONFIG.resolve()


def cluster_required() -> bool:
    """``make integration`` sets THREETIER_REQUIRE_CLUSTER=1: no cluster is then a failure, not a skip."""
    return os.environ.get("THREETIER_REQUIRE_CLUSTER") == "1"


def requested_node_mode() -> str | None:
    """The node mode ``make cluster-up`` was asked for (real or kwok), for the local cluster."""
    if is_local_cluster() and NODE_MODE_RECORD.exists():
        return NODE_MODE_RECORD.read_text().strip()
    return None


@pytest.fixture(scope="session")
def api_client() -> client.ApiClient:
    """A kubernetes client for the configured cluster (see the module docstring for skip/fail)."""
    path = kubeconfig_path()
    if not path.exists():
        message = (
            f"no cluster configured: {path} does not exist "
            "(run `make cluster-up`, or export KUBECONFIG for your own cluster)"
        )
        if cluster_required():
            pytest.fail(message)
        pytest.skip(message)
    api = config.new_client_from_config(config_file=str(path))
    try:
        response = api.call_api("GET", f"{api.configuration.host}/readyz", _request_timeout=10)
        response.read()
        ready = response.data.decode()
    except Exception as error:  # any failure to connect means the same thing here
        pytest.fail(f"the cluster in {path} does not answer: {error} (is it up? `make cluster-up`)")
    if ready != "ok":
        pytest.fail(f"the cluster in {path} is not ready: /readyz says {ready!r}")
    return api


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture(scope="session")
def discovery(api_client: client.ApiClient) -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(api_client)


@pytest.fixture(scope="session")
def networking(api_client: client.ApiClient) -> client.NetworkingV1Api:
    return client.NetworkingV1Api(api_client)


@pytest.fixture(scope="session")
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


def unexpected_skips(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Skipped results of a verification report, except placement on a cluster of one usable node
    and the node ports of simulated nodes.

    On one node a tier's replicas cannot spread: the verifier skips ``placement.spread`` with that
    reason (``verify.checks.placement``); with two nodes or more it must pass like any other check.
    The simulated nodes `make integration` adds beside the real ones for the fleet
    (``KWOK_NODES``) run no kube-proxy: their node ports are skipped naming them.
    """
    one_node = [item for item in results if item["check"] == placement.CHECK and placement.ONE_NODE in item["detail"]]
    simulated = [
        item
        for item in results
        if item["check"].startswith("reach.nodePort[kwok-") and "is simulated (kwok), no kube-proxy" in item["detail"]
    ]
    return [item for item in results if item["status"] == "skipped" and item not in one_node + simulated]


@pytest.fixture(scope="session")
def real_traffic(core: client.CoreV1Api) -> bool:
    """True when a node runs real pods; with ``make cluster-up`` asked for one, it must be there and Ready."""
    serialize = core.api_client.sanitize_for_serialization
    nodes = [serialize(node) for node in core.list_node().items]
    real = [node for node in nodes if not is_simulated(node)]
    if requested_node_mode() == "real":
        ready = [
            node
            for node in real
            if any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions") or [])
        ]
        if not ready:
            pytest.fail(
                "make cluster-up was asked for a real node (.toolchain/node-mode = real) but no real node is "
                f"Ready (nodes: {[node['metadata']['name'] for node in nodes]}); "
                "see .toolchain/logs/threetier-node-*/kubelet.log"
            )
    return bool(real)


@pytest.fixture(scope="session")
def dns_server() -> tuple[str, int]:
    """The cluster DNS server reachable from this host, as (loopback address, port).

    $THREETIER_DNS_SERVER (host:port), else .toolchain/dns-server written by make cluster-up.
    """
    recorded = os.environ.get("THREETIER_DNS_SERVER")
    record = TOOLCHAIN / "dns-server"
    if not recorded:
        if not record.exists():
            message = (
                f"no cluster DNS server known: set THREETIER_DNS_SERVER=host:port or run `make cluster-up` ({record})"
            )
            if cluster_required():
                pytest.fail(message)
            pytest.skip(message)
        recorded = record.read_text().strip()
    host, _, port = recorded.rpartition(":")
    return host, int(port)


@pytest.fixture(scope="session")
def namespaces_to_reap(core: client.CoreV1Api) -> Iterator[list[str]]:
    """Namespaces deleted during the session without waiting: the session waits for all of them at its end."""
    deleted: list[str] = []
    yield deleted
    wait_until(
        f"namespaces {deleted} to be gone",
        lambda: all(namespace_gone(core, name) for name in deleted),
        timeout=180,
    )


@pytest.fixture
def namespace(core: client.CoreV1Api, namespaces_to_reap: list[str]) -> Iterator[str]:
    """A fresh namespace enforcing the restricted Pod Security level; deleted afterwards.

    Its deletion is not waited for here (its pods drain in the background while the next tests
    run, each in a namespace of its own); the session waits for every such namespace at its end.
    """
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    yield name
    delete_namespace(name, core, wait=False)
    namespaces_to_reap.append(name)


def delete_namespace(namespace: str, core: client.CoreV1Api, wait: bool = True) -> None:
    """Delete ``namespace`` (if it exists); with ``wait``, until it is gone."""
    try:
        core.delete_namespace(namespace)
    except client.ApiException as error:
        if error.status != 404:
            raise
    if wait:
        wait_until(f"namespace {namespace} to be deleted", lambda: namespace_gone(core, namespace), timeout=120)


def namespace_gone(core: client.CoreV1Api, namespace: str) -> bool:
    """The namespace no longer exists."""
    try:
        core.read_namespace(namespace)
    except client.ApiException as error:
        return error.status == 404
    return False


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns a truthy value; fail with ``what`` (and the last value) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {value!r})")
        time.sleep(interval)


def node_addresses(core: client.CoreV1Api) -> dict[str, str]:
    """Every node's InternalIP, by node name."""
    serialize = core.api_client.sanitize_for_serialization
    return {str(node.metadata.name): internal_ip(serialize(node)) or "" for node in core.list_node().items}


def real_node_addresses(core: client.CoreV1Api) -> dict[str, str]:
    """The InternalIP of every node that is not simulated (one with a kube-proxy serving node ports)."""
    serialize = core.api_client.sanitize_for_serialization
    nodes = [serialize(node) for node in core.list_node().items]
    return {node["metadata"]["name"]: internal_ip(node) or "" for node in nodes if not is_simulated(node)}


def probe_image() -> str:
    """The busybox image pods of the tests (and the verifier's probes) run.

    $THREETIER_PROBE_IMAGE, else the one make cluster-up built and imported into the real node
    (.toolchain/probe-image), else upstream busybox for your own cluster.
    """
    record = TOOLCHAIN / "probe-image"
    default = record.read_text().strip() if record.exists() else "busybox:1.36.1"
    return os.environ.get("THREETIER_PROBE_IMAGE", default)


def restricted_pod_spec(page: str = "smoke") -> dict[str, Any]:
    """A pod the restricted Pod Security level admits: busybox httpd serving ``page`` on 8080."""
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        # httpd as PID 1 ignores SIGTERM: without this every deleted test pod holds its namespace 30 s.
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "app",
                "image": probe_image(),
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", f"echo {page} > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"],
                "readinessProbe": {"httpGet": {"path": "/index.html", "port": 8080}, "periodSeconds": 1},
                "ports": [{"containerPort": 8080, "name": "http"}],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }


# The engine and the stacks it deploys: session fixtures defined next to their helpers.
from .consumers import consumers  # noqa: E402, F401
from .fleet import fleet  # noqa: E402, F401
from .stacks import deployments, engine, state_server  # noqa: E402, F401
from .teardown import session_teardown, summary_lines  # noqa: E402, F401


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How long the session's teardown took, job by job (they run side by side)."""
    for line in summary_lines():
        terminalreporter.write_line(line)
