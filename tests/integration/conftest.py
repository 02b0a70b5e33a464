"""Integration fixtures: a client for the live local cluster (make cluster-up)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN = ROOT / ".toolchain"
T = TypeVar("T")


def kubeconfig_path() -> Path:
    """$KUBECONFIG, else the local cluster's .toolchain/kubeconfig."""
    return Path(os.environ.get("KUBECONFIG") or TOOLCHAIN / "kubeconfig")


@pytest.fixture(scope="session")
def api_client() -> client.ApiClient:
    path = kubeconfig_path()
    if not path.exists():
        pytest.fail(f"no cluster: {path} does not exist; run `make cluster-up` first")
    return config.new_client_from_config(config_file=str(path))


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
def dns_server() -> tuple[str, int]:
    """The local cluster's CoreDNS address (.toolchain/dns-server, host:port)."""
    record = TOOLCHAIN / "dns-server"
    if not record.exists():
        pytest.fail(f"{record} missing: the local cluster records its DNS server there (make cluster-up)")
    host, _, port = record.read_text().strip().rpartition(":")
    return host, int(port)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace enforcing the restricted Pod Security level, deleted afterwards."""
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    yield name
    core.delete_namespace(name)


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns a truthy value; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def restricted_pod_spec(image: str = "registry.local/smoke/app:1.0.0") -> dict[str, Any]:
    """A pod spec the restricted Pod Security level admits."""
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "app",
                "image": image,
                "ports": [{"containerPort": 8080, "name": "http"}],
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }
