"""Unit tests of the cache app under the ``offline`` mocks: no cluster, no Pulumi CLI, no credentials.

They run the real program (``__main__.py``) per stack, against a fresh emulated API server
that allocates cluster IPs and node ports and rejects what a real one would. The README's
"Using the components in your own program" quotes them.
"""

from pathlib import Path

import pytest

from offline import ApiServerMocks, ApiServerRejectionError, PulumiProject, manifests

APP = PulumiProject.load(Path(__file__).resolve().parents[1])  # the directory of Pulumi.yaml


def test_dev_runs_one_api_pod_behind_its_node_port() -> None:
    evaluation = APP.evaluate("dev")  # or APP.evaluate("dev", {"apiReplicas": 5}) to override config
    api = evaluation.outputs["api"]  # stack outputs, resolved
    assert (api["replicas"], api["nodePort"]) == (1, 31080)
    assert api["clusterIP"].startswith("10.")  # allocated by the emulated API server
    kinds = [m["kind"] for m in manifests(evaluation)]  # what the program asks for, secrets redacted
    assert kinds.count("Deployment") == 2


def test_a_second_copy_on_the_same_cluster_is_refused_its_node_port() -> None:
    cluster = ApiServerMocks()  # one instance is one cluster
    APP.evaluate("dev", mocks=cluster)
    with pytest.raises(ApiServerRejectionError, match="provided port is already allocated"):
        APP.evaluate("dev", mocks=cluster)


def test_each_stack_and_override_sets_the_api_replicas() -> None:
    assert APP.evaluate("prod").outputs["api"]["replicas"] == 3
    assert APP.evaluate("dev", {"apiReplicas": 5}).outputs["api"]["replicas"] == 5


def test_the_api_finds_the_cache_by_its_dns_name() -> None:
    evaluation = APP.evaluate("dev")
    cache_url = evaluation.outputs["cache"]["urls"]["inCluster"]
    assert cache_url == "redis://cache.cache-app.svc.cluster.local:6379"
    [deployment] = [m for m in manifests(evaluation) if m["kind"] == "Deployment" and m["metadata"]["name"] == "api"]
    assert {"name": "CACHE_URL", "value": cache_url} in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
